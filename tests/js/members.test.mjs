// validateCreate(object) / validateUpdate(object) read a flat object as members (src/members.rs,
// pkg/src/api.js `writeMembers`) instead of its JSON text: every answer must be exactly the one
// of the object's JSON text, whatever the object holds, and objects the members cannot carry
// (nested deeper, arrays, beyond ASCII, too many members, odd values) take the text path.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installPackage, validConnector } from './helpers.mjs';

const kc = await installPackage().load();

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (list) => list[Math.floor(rand() * list.length)];

const MUTATIONS = [
  (p) => { p.region = 'us-west2'; },
  (p) => { p.shards = 0; },
  (p) => { p.shards = '2'; },
  (p) => { p.shards = 1.5; },
  (p) => { p.shards = -0; },
  (p) => { p.shards = 1e21; },
  (p) => { p.shards = 2 ** 53 + 2; },
  (p) => { p.maxBytesPerShardPerSecond = 5e-7; },
  (p) => { p.regoin = p.region; delete p.region; },
  (p) => { delete p.stream; },
  (p) => { p.stream = null; },
  (p) => { p.disabled = undefined; },
  (p) => { p.id = ''; },
  (p) => { p.id = ' padded '; },
  (p) => { p.id = 'tab\there\n'; },
  (p) => { p.credentials = { ...p.credentials, user: 'short' }; },
  (p) => { p.credentials = { user: p.credentials?.user }; },
  (p) => { p.credentials = { ...p.credentials, extra: 'x' }; },
  (p) => { p.credentials = 'AKIA:secret'; },
  (p) => { p.credentials = null; },
  (p) => { p.credentials = {}; },
  (p) => { p.type = 'AWS-Kinesis'; },
  (p) => { p.type = true; },
  (p) => { p.dataProcessingMethod = 'm1'; },
  (p) => { p.dataProcessingMethod = 'm1'; p.dataProcessingMethodId = 'm2'; },
  (p) => { p.dataProcessingMethodId = null; },
  (p) => { p['__proto__x'] = 1; },
  (p) => { Object.defineProperty(p, '__proto__', { value: 'own', enumerable: true }); },
  (p) => { p['1'] = 'numeric key first'; },
  (p) => { p[''] = ''; },
  (p) => { p.user = 'at the top'; },
  (p) => { p.password = 'at the top'; },
  (p) => { p.field = 'a param name as a key'; },
  (p) => { p.disabled = 'yes'; },
];

function connector() {
  const p = validConnector();
  if (rand() < 0.5) p.disabled = rand() < 0.5;
  if (rand() < 0.3) p.dataProcessingMethodId = '_mtd_' + Math.floor(rand() * 100);
  const n = Math.floor(rand() * 4);
  for (let k = 0; k < n; k++) pick(MUTATIONS)(p);
  return p;
}

const same = (a, b, what) => assert.equal(JSON.stringify(a), JSON.stringify(b), what);

test('an object answers as its JSON text: create and update, with and without a context', () => {
  const contexts = [undefined, { existingIds: ['dc.kinesis.1'], methods: ['m1', '_mtd_3'] }, { current: validConnector() }];
  for (let i = 0; i < 600; i++) {
    const p = connector();
    const text = JSON.stringify(p);
    const context = pick(contexts);
    same(kc.validateCreate(p, context), kc.validateCreateJson(text, context), text);
    same(kc.validateUpdate(p, context), kc.validateUpdateJson(text, context), text);
    same(kc.createValidator(context)['~standard'].validate(p), kc.createValidator(context)['~standard'].validate(JSON.parse(text)), text);
  }
});

test('objects the members cannot carry take the text path and answer the same', () => {
  const wide = validConnector();
  for (let i = 0; i < 70; i++) wide['k' + i] = i;
  const cases = [
    wide,
    { ...validConnector(), region: 'ü-west-2' },
    { ...validConnector(), id: 'dc.😀' },
    { ...validConnector(), ['ñ']: 1 },
    { ...validConnector(), credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: { nested: true } } },
    { ...validConnector(), shards: [1] },
    { ...validConnector(), stream: { name: 'test' } },
    Object.assign(Object.create(null), validConnector()),
  ];
  for (const p of cases) {
    const text = JSON.stringify(p);
    same(kc.validateCreate(p), kc.validateCreateJson(text), text.slice(0, 200));
    same(kc.validateUpdate(p), kc.validateUpdateJson(text), text.slice(0, 200));
  }
  // values JSON cannot carry are still reported as JS values, not as what JSON.stringify writes
  for (const [value, actual] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [() => 1, 'function'], [10n, 'bigint']]) {
    const r = kc.validateCreate({ ...validConnector(), shards: value });
    const issue = r.errors.find((e) => e.path === '/shards');
    assert.ok(issue, JSON.stringify(r.errors));
    assert.equal(issue.params.actual, actual);
  }
});

test('inherited enumerable properties are not members (JSON.stringify ignores them too)', () => {
  const proto = { regoin: 'us-west-2' };
  const p = Object.assign(Object.create(proto), validConnector());
  // not a plain object: both paths see its own members only
  same(kc.validateCreate(p), kc.validateCreate({ ...p }));
  Object.prototype.polluted = 'x';
  try {
    const r = kc.validateCreate(validConnector());
    assert.equal(r.valid, true, JSON.stringify(r.errors));
  } finally {
    delete Object.prototype.polluted;
  }
});
