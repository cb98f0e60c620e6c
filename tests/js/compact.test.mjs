// The compact results (src/compact.rs, expanded by pkg/src/api.js): the value built from slices
// of the caller's text and the issues from slices of the module's string must be exactly what
// the JSON path gives, whatever the text holds. The JSON path is reached here through
// normalizeCreate (always JSON) and through results the table cannot carry.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installPackage, validConnector } from './helpers.mjs';

const kc = await installPackage().load();

test('a valid value from the text equals the normalized connector, key order included', () => {
  const variants = [
    validConnector(),
    { ...validConnector(), disabled: true, dataProcessingMethodId: '_mtd_7' },
    { ...validConnector(), dataProcessingMethod: 'transform_v1' },
    // keys out of order, whitespace, an exponent: the value is canonical all the same
    { shards: 1e2, ...validConnector(), maxBytesPerShardPerSecond: 2.0e3 },
  ];
  for (const input of variants) {
    for (const text of [JSON.stringify(input), JSON.stringify(input, null, 2)]) {
      const viaText = kc.validateCreateJson(text);
      const viaObject = kc.validateCreate(input);
      const normalized = kc.normalizeCreate(input).value;
      assert.equal(viaText.valid, true, JSON.stringify(viaText.errors));
      assert.equal(JSON.stringify(viaText.value), JSON.stringify(normalized));
      assert.equal(JSON.stringify(viaObject), JSON.stringify(viaText));
    }
  }
});

test('issues quoting text beyond ASCII keep every character and offset', () => {
  const keys = ['😀x', 'ñ', 'a"b\\c', '\u2028', 'e\u0301'];
  const input = { ...validConnector(), region: 'ü-west-2' };
  for (const k of keys) input[k] = 1;
  const r = kc.validateCreateJson(JSON.stringify(input));
  assert.equal(r.valid, false);
  const unknown = r.errors.filter((i) => i.code === 'field.unknown');
  assert.deepEqual(unknown.map((i) => i.path), keys.map((k) => '/' + k.replace(/~/g, '~0').replace(/\//g, '~1')));
  assert.deepEqual(unknown.map((i) => i.params.field), keys);
  for (const [i, k] of keys.entries()) assert.ok(unknown[i].message.includes(k), unknown[i].message);
  const region = r.errors.find((i) => i.code === 'region.unknown');
  assert.ok(region.message.startsWith('"ü-west-2" is not a supported region'), region.message);
  assert.deepEqual(Object.keys(region), ['severity', 'code', 'path', 'message', 'params']);
});

test('a valid value with escapes or beyond ASCII comes back whole (the JSON path)', () => {
  const escaped = JSON.stringify(validConnector()).replace('"dc.kinesis.1"', '"dc.kinesis.\\u0031"');
  const r = kc.validateCreateJson(escaped);
  assert.equal(r.valid, true);
  assert.equal(r.value.id, 'dc.kinesis.1');
  const secret = { ...validConnector(), credentials: { ...validConnector().credentials, password: 'ß'.repeat(40) } };
  const w = kc.validateCreate(secret);
  assert.equal(w.valid, true);
  assert.equal(w.value.credentials.password, 'ß'.repeat(40));
  assert.ok(w.warnings.some((i) => i.code === 'credentials.password.shape'));
});

test('warnings and numeric params, negative ones included, come through', () => {
  const r = kc.validateCreate({ ...validConnector(), shards: 600, maxRecordsPerShardPerSecond: -5 });
  assert.equal(r.valid, false);
  const range = r.errors.find((i) => i.code === 'maxRecordsPerShardPerSecond.range');
  assert.equal(typeof range.params.min, 'number');
  const quota = r.warnings.find((i) => i.code === 'shards.quota');
  assert.equal(quota.severity, 'warning');
  const big = kc.validateCreate({ ...validConnector(), shards: -(2 ** 60) });
  assert.ok(big.errors.length > 0);
  for (const i of big.errors) for (const v of Object.values(i.params)) assert.notEqual(v, undefined);
});
