// The package as a user gets it: npm pack + npm install into a fresh project, then `import` (ESM)
// and `require` (CJS) by name, in this process and in child processes.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { installPackage, runNode, validConnector } from './helpers.mjs';

const API = [
  'applyUpdate',
  'createSchema',
  'createValidator',
  'diff',
  'locate',
  'normalizeCreate',
  'normalizeUpdate',
  'regions',
  'updateSchema',
  'updateValidator',
  'validateCreate',
  'validateCreateJson',
  'validateUpdate',
  'validateUpdateJson',
];

const pkg = installPackage();

test('the tarball holds the entry points and declarations, not the raw wasm or sources', () => {
  const files = [...pkg.files].sort();
  for (const f of ['index.mjs', 'index.cjs', 'index.d.ts', 'index.d.cts', 'types.d.ts', 'package.json', 'README.md']) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files.join(', ')}`);
  }
  assert.ok(!files.some((f) => f.endsWith('.wasm') || f.startsWith('src/') || f === 'build.mjs'), files.join(', '));
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'node_modules', 'kinesis-connector', 'package.json'), 'utf8'));
  assert.equal(manifest.name, 'kinesis-connector');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.sideEffects, false);
  assert.equal(manifest.dependencies, undefined);
});

test('ESM import by name exposes exactly the API', async () => {
  const kc = await pkg.load();
  assert.deepEqual(Object.keys(kc).sort(), API);
  for (const name of API) assert.equal(typeof kc[name], 'function', name);
  const ok = kc.validateCreate(validConnector());
  assert.equal(ok.valid, true, JSON.stringify(ok));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.value.type, 'aws-kinesis');
  const bad = kc.validateCreate({ ...validConnector(), shards: 0, regoin: 'us-west-2' });
  assert.equal(bad.valid, false);
  const codes = bad.errors.map((i) => i.code);
  assert.ok(codes.includes('shards.range'), codes.join());
  assert.ok(codes.includes('field.unknown'), codes.join());
  const regions = kc.regions();
  assert.equal(regions.length, 20);
  assert.deepEqual(
    regions.find((r) => r.code === 'us-west-2'),
    { code: 'us-west-2', name: 'US West (Oregon)' },
  );
});

test('ESM in a child process (import by name from the consumer project)', () => {
  const script = `
import { validateCreateJson, normalizeCreate, diff, createSchema } from 'kinesis-connector';
const r = validateCreateJson('{"type": "aws-kinesis",\\n "id": 5}');
const n = normalizeCreate({ type: ' AWS-Kinesis ', id: 'a', shards: '2' });
const d = diff(${JSON.stringify(validConnector())}, { ...${JSON.stringify(validConnector())}, shards: 4 });
console.log(JSON.stringify({ valid: r.valid, codes: r.errors.map((i) => i.code), n: n.value, action: d.action, schema: typeof createSchema() }));
`;
  writeFileSync(join(pkg.dir, 'esm-child.mjs'), script);
  const out = JSON.parse(runNode(pkg.dir, 'esm-child.mjs'));
  assert.equal(out.valid, false);
  assert.ok(out.codes.includes('field.type'), out.codes.join());
  assert.equal(out.n.type, 'aws-kinesis');
  assert.equal(out.n.shards, 2);
  assert.equal(out.action, 'update');
  assert.equal(out.schema, 'object');
});

test('CJS require by name in a child process', () => {
  const script = `
const kc = require('kinesis-connector');
const names = Object.keys(kc).sort();
const ok = kc.validateCreate(${JSON.stringify(validConnector())});
const syntax = kc.validateCreateJson('{\\n  "type": "aws-kinesis",\\n  oops\\n}');
const upd = kc.validateUpdate({ shards: 2 }, { current: ${JSON.stringify(validConnector())} });
console.log(JSON.stringify({ names, ok: ok.valid, syntax: syntax.errors[0], upd: upd.valid, regions: kc.regions().length }));
`;
  writeFileSync(join(pkg.dir, 'cjs-child.cjs'), script);
  const out = JSON.parse(runNode(pkg.dir, 'cjs-child.cjs'));
  assert.deepEqual(out.names, API);
  assert.equal(out.ok, true);
  assert.equal(out.syntax.code, 'input.syntax');
  assert.equal(out.syntax.params.line, 3);
  assert.equal(typeof out.syntax.params.column, 'number');
  assert.equal(out.upd, true);
  assert.equal(out.regions, 20);
});

test('results are fresh objects: mutating one does not change the next', async () => {
  const kc = await pkg.load();
  const a = kc.regions();
  a[0].name = 'changed';
  a.length = 0;
  assert.equal(kc.regions().length, 20);
  assert.notEqual(kc.regions()[0].name, 'changed');
  const s = kc.createSchema();
  s.title = 'changed';
  assert.notEqual(kc.createSchema().title, 'changed');
});

test('the input object is never modified', async () => {
  const kc = await pkg.load();
  const input = { ...validConnector(), type: ' AWS-Kinesis ', shards: '3', dataProcessingMethod: 'm1' };
  const before = JSON.stringify(input);
  kc.validateCreate(input);
  kc.normalizeCreate(input);
  kc.diff(validConnector(), input);
  kc.applyUpdate(validConnector(), { shards: 2 });
  assert.equal(JSON.stringify(input), before);
});
