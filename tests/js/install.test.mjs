// The package as a user gets it: npm pack + npm install into a fresh project, then `import` (ESM)
// and `require` (CJS) by name, in this process and in child processes.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
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

test('the tarball holds the entry points, the module Node reads and the declarations, not the sources', () => {
  const files = [...pkg.files].sort();
  for (const f of ['index.mjs', 'index.cjs', 'index.node.mjs', 'index.node.cjs', 'kinesis_connector.wasm',
    'index.d.ts', 'index.d.cts', 'types.d.ts', 'package.json', 'README.md']) {
    assert.ok(files.includes(f), `${f} missing from the tarball: ${files.join(', ')}`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith('.wasm')), ['kinesis_connector.wasm']);
  assert.ok(!files.some((f) => f.startsWith('src/') || f === 'build.mjs' || f.endsWith('_bg.js')), files.join(', '));
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

test('Node resolves the entries that read the module from its file; the inlined ones answer the same', () => {
  const script = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const esm = import.meta.resolve('kinesis-connector');
const cjs = require.resolve('kinesis-connector');
const node = await import('kinesis-connector');
const inlined = await import(new URL('./index.mjs', esm).href);
const inlinedCjs = require(new URL('./index.cjs', esm).pathname);
const inputs = [${JSON.stringify(validConnector())}, { type: 'aws-kinesis', shards: 0, regoin: 'us-west-2' }, 'not an object'];
const same = inputs.every((i) => {
  const a = JSON.stringify([node.validateCreate(i), node.normalizeCreate(i), node.diff(inputs[0], i)]);
  return a === JSON.stringify([inlined.validateCreate(i), inlined.normalizeCreate(i), inlined.diff(inputs[0], i)]) &&
    a === JSON.stringify([inlinedCjs.validateCreate(i), inlinedCjs.normalizeCreate(i), inlinedCjs.diff(inputs[0], i)]);
});
console.log(JSON.stringify({ esm: esm.split('/').pop(), cjs: cjs.split('/').pop(), same }));
`;
  writeFileSync(join(pkg.dir, 'resolve-child.mjs'), script);
  const out = JSON.parse(runNode(pkg.dir, 'resolve-child.mjs'));
  assert.deepEqual(out, { esm: 'index.node.mjs', cjs: 'index.node.cjs', same: true });
});

test("Node's entry without its .wasm file beside it: every call answers input.internal, saying why", () => {
  const installed = join(pkg.dir, 'node_modules', 'kinesis-connector');
  const lonely = mkdtempSync(join(os.tmpdir(), 'kc-lonely-'));
  try {
    for (const f of ['index.node.mjs', 'index.node.cjs']) copyFileSync(join(installed, f), join(lonely, f));
    writeFileSync(join(lonely, 'package.json'), '{"type": "module"}');
    const script = `
import { createRequire } from 'node:module';
const esm = await import('./index.node.mjs');
const cjs = createRequire(import.meta.url)('./index.node.cjs');
const out = [esm, cjs].map((kc) => kc.validateCreate({ type: 'aws-kinesis' }));
out.push(esm.validateCreateJson('{}'));
console.log(JSON.stringify(out));
`;
    writeFileSync(join(lonely, 'child.mjs'), script);
    const out = JSON.parse(runNode(lonely, 'child.mjs'));
    for (const r of out) {
      assert.equal(r.valid, false);
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0].code, 'input.internal');
      assert.match(r.errors[0].message, /cannot read kinesis_connector\.wasm beside the package entry \(ENOENT\)/);
    }
  } finally {
    rmSync(lonely, { recursive: true, force: true });
  }
});
