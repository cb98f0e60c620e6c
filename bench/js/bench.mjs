#!/usr/bin/env node
// Benchmarks the npm package against the usual JS validators, in one Node process, interleaved
// rounds, medians:
//   - validateCreate(object)        vs zod 4 (a strict schema written to match SPEC §1) and
//                                      ajv 8 (compiled from our own createSchema(), allErrors)
//   - validateCreateJson(text)      vs ajv(JSON.parse(text))
//   - cold start (fresh processes)  import + instantiate + first validation
//   - size                          gzip of the package entry (glue + inlined wasm), of the raw wasm,
//                                      and of minified ajv / zod bundles
// Usage: node bench/js/bench.mjs [--quick] [--dump-corpus FILE]
//   --dump-corpus FILE  writes the corpus's texts (valid, then invalid, one a line) and stops: the
//                       input of the core's native timing (`src/bench.rs`)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = join(ROOT, 'pkg');
const NM = join(ROOT, 'node_modules');
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 5 : 15;
const COLD_RUNS = QUICK ? 5 : 15;
const ROUND_MS = QUICK ? 40 : 80; // time per contender per round

// --- build and load -----------------------------------------------------------------------------

{
  const r = spawnSync(process.execPath, [join(PKG, 'build.mjs')], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stderr || r.stdout);
    process.exit(1);
  }
}
// ENTRY: what browsers and bundlers get (the wasm inlined); NODE_ENTRY: what Node resolves by
// name (package.json's "node" condition: the same code, reading the .wasm file beside it).
const ENTRY = join(PKG, 'index.mjs');
const NODE_ENTRY = join(PKG, 'index.node.mjs');
const kc = await import(pathToFileURL(NODE_ENTRY).href);
const { z } = await import(pathToFileURL(join(NM, 'zod', 'index.js')).href);
const Ajv2020 = (await import(pathToFileURL(join(NM, 'ajv', 'dist', '2020.js')).href)).default.default;

const schema = kc.createSchema();
const ajv = new Ajv2020({ allErrors: true, strict: false });
const ajvValidate = ajv.compile(schema);

// --- zod: SPEC §1 as a strict schema --------------------------------------------------------------

const REGIONS = kc.regions().map((r) => r.code);
const zodSchema = z.strictObject({
  type: z.literal('aws-kinesis'),
  id: z.string().min(1).max(64).regex(/^[A-Za-z][A-Za-z0-9._-]*$/),
  credentials: z.strictObject({
    user: z.string().regex(/^[A-Za-z0-9_]{16,128}$/),
    password: z.string().min(1),
  }),
  region: z.enum(REGIONS),
  stream: z.string().min(1).max(128).regex(/^[a-zA-Z0-9_.-]+$/),
  shards: z.int().min(1).max(100000),
  maxRecordsPerShardPerSecond: z.int().min(1),
  maxBytesPerShardPerSecond: z.int().min(1),
  dataProcessingMethodId: z
    .string()
    .max(64)
    .regex(/^(_mtd_[0-9]+|[A-Za-z][A-Za-z0-9_-]*)$/)
    .optional(),
  disabled: z.boolean().optional(),
});

// --- corpus ---------------------------------------------------------------------------------------

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = (list) => list[Math.floor(rand() * list.length)];
const KEY_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+';
const randomText = (chars, n) => Array.from({ length: n }, () => pick(chars)).join('');

function validPayload(i) {
  const p = {
    type: 'aws-kinesis',
    id: `dc.kinesis.${i}`,
    credentials: { user: 'AKIA' + randomText(KEY_CHARS, 16), password: randomText(SECRET_CHARS, 40) },
    region: pick(REGIONS),
    stream: pick(['test', 'orders', 'iot-events', 'telemetry_v2', 'a.b.c']),
    shards: 1 + Math.floor(rand() * 150),
    maxRecordsPerShardPerSecond: 1 + Math.floor(rand() * 1000),
    maxBytesPerShardPerSecond: 1024 + Math.floor(rand() * 1000000),
  };
  if (rand() < 0.4) p.dataProcessingMethodId = rand() < 0.5 ? `_mtd_${i}` : 'transform_v1';
  if (rand() < 0.5) p.disabled = rand() < 0.3;
  return p;
}

const MUTATIONS = [
  (p) => { p.region = 'us-west2'; },
  (p) => { p.shards = 0; },
  (p) => { p.shards = '2'; },
  (p) => { p.shards = 1.5; },
  (p) => { p.regoin = p.region; delete p.region; },
  (p) => { delete p.stream; },
  (p) => { p.id = '1abc'; },
  (p) => { p.id = 'has space'; },
  (p) => { p.credentials.user = 'short'; },
  (p) => { delete p.credentials.password; },
  (p) => { p.type = 'aws-kinesis2'; },
  (p) => { p.stream = 'bad/stream'; },
  (p) => { p.maxRecordsPerShardPerSecond = -5; },
  (p) => { p.disabled = 'yes'; },
  (p) => { p.dataProcessingMethodId = 'bad.name'; },
  (p) => { p.extra = true; },
];

function invalidPayload(i) {
  const p = validPayload(i);
  const n = 1 + Math.floor(rand() * 3);
  for (let k = 0; k < n; k++) pick(MUTATIONS)(p);
  return p;
}

const VALID = Array.from({ length: 100 }, (_, i) => validPayload(i));
const INVALID = Array.from({ length: 100 }, (_, i) => invalidPayload(i + 1000));
const MIXED = VALID.flatMap((v, i) => [v, INVALID[i]]);
const toTexts = (list) => list.map((p) => JSON.stringify(p));
const CORPUS = {
  mixed: { objects: MIXED, texts: toTexts(MIXED) },
  valid: { objects: VALID, texts: toTexts(VALID) },
  invalid: { objects: INVALID, texts: toTexts(INVALID) },
};

{
  const at = process.argv.indexOf('--dump-corpus');
  if (at > 0) {
    writeFileSync(process.argv[at + 1], [...CORPUS.valid.texts, ...CORPUS.invalid.texts].join('\n') + '\n');
    process.exit(0);
  }
}

// Sanity: the three validators agree on which payloads are valid (errors only; ours also warns).
{
  const disagree = [];
  for (const p of MIXED) {
    const ours = kc.validateCreate(p).valid;
    const viaAjv = ajvValidate(p);
    const viaZod = zodSchema.safeParse(p).success;
    if (ours !== viaAjv || ours !== viaZod) disagree.push({ ours, ajv: viaAjv, zod: viaZod, p });
  }
  if (disagree.length > 0) {
    console.log(`note: ${disagree.length} of ${MIXED.length} payloads get different verdicts, e.g.`);
    for (const d of disagree.slice(0, 3)) console.log('  ', JSON.stringify(d));
  }
}

// --- timing ---------------------------------------------------------------------------------------

let sink = 0;
/** ns per item over `items`, repeated to fill about ROUND_MS. */
function timeOnce(fn, items) {
  let reps = 0;
  let elapsed = 0;
  const start = process.hrtime.bigint();
  do {
    for (let i = 0; i < items.length; i++) sink ^= fn(items[i]) ? 1 : 0;
    reps++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  } while (elapsed < ROUND_MS);
  return (elapsed * 1e6) / (reps * items.length);
}

const median = (xs) => {
  if (xs.some((x) => Number.isNaN(x))) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs every contender once per round, rotating the order each round; returns medians (ns). */
function interleaved(contenders) {
  const samples = contenders.map(() => []);
  for (const c of contenders) timeOnce(c.fn, c.items); // warm up (JIT)
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const idx = (k + round) % contenders.length;
      samples[idx].push(timeOnce(contenders[idx].fn, contenders[idx].items));
    }
  }
  return samples.map(median);
}

const ours = (p) => kc.validateCreate(p).valid;
const oursText = (t) => kc.validateCreateJson(t).valid;
const viaZod = (p) => zodSchema.safeParse(p).success;
const viaAjv = (p) => ajvValidate(p);
const viaAjvText = (t) => ajvValidate(JSON.parse(t));

/** Targets (issue 11), each printed as met or MISSED at the end. */
const TARGETS = [];
function target(name, ok, detail) {
  TARGETS.push({ name, ok, detail });
  return ok ? 'met' : 'MISSED';
}

const fmt = (ns) => (ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const ratio = (theirs, mine) => `${(theirs / mine).toFixed(2)}×`;
const rows = [];

console.log(`kinesis-connector benchmark (node ${process.version}, ${ROUNDS} interleaved rounds, medians; ratio = their time / our time, >1 means we are faster)\n`);

for (const set of ['mixed', 'valid', 'invalid']) {
  const { objects, texts } = CORPUS[set];
  const [o, zd, aj] = interleaved([
    { fn: ours, items: objects },
    { fn: viaZod, items: objects },
    { fn: viaAjv, items: objects },
  ]);
  rows.push([`object (${set})`, fmt(o), `zod ${fmt(zd)}`, ratio(zd, o), `ajv ${fmt(aj)}`, ratio(aj, o),
    set === 'mixed' ? `≥ 1.2× zod: ${target('validateCreate(object) ≥ 1.2× zod 4 (mixed)', zd / o >= 1.2, ratio(zd, o))}` : '']);
  const [t, at] = interleaved([
    { fn: oursText, items: texts },
    { fn: viaAjvText, items: texts },
  ]);
  rows.push([`text (${set})`, fmt(t), `ajv+parse ${fmt(at)}`, ratio(at, t), '', '',
    set === 'mixed' ? `≥ 1.2× ajv: ${target('validateCreateJson(text) ≥ 1.2× ajv(JSON.parse) (mixed)', at / t >= 1.2, ratio(at, t))}` : '']);
}

// --- cold start -----------------------------------------------------------------------------------

const tmp = mkdtempSync(join(os.tmpdir(), 'kc-bench-'));
const sample = JSON.stringify(VALID[0]);
writeFileSync(join(tmp, 'schema.json'), JSON.stringify(schema));
for (const [file, entry] of [['cold-ours.mjs', NODE_ENTRY], ['cold-ours-inlined.mjs', ENTRY]]) writeFileSync(
  join(tmp, file),
  `const t0 = performance.now();
const kc = await import(${JSON.stringify(pathToFileURL(entry).href)});
const r = kc.validateCreate(${sample});
const t1 = performance.now();
if (!r.valid) throw new Error('invalid');
console.log(t1 - t0);
`,
);
writeFileSync(
  join(tmp, 'cold-ajv.mjs'),
  `import { readFileSync } from 'node:fs';
const schema = JSON.parse(readFileSync(${JSON.stringify(join(tmp, 'schema.json'))}, 'utf8'));
const t0 = performance.now();
const Ajv2020 = (await import(${JSON.stringify(pathToFileURL(join(NM, 'ajv', 'dist', '2020.js')).href)})).default.default;
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
const ok = validate(${sample});
const t1 = performance.now();
if (!ok) throw new Error('invalid');
console.log(t1 - t0);
`,
);
writeFileSync(
  join(tmp, 'cold-zod.mjs'),
  `const t0 = performance.now();
const { z } = await import(${JSON.stringify(pathToFileURL(join(NM, 'zod', 'index.js')).href)});
const s = z.strictObject({ type: z.literal('aws-kinesis'), id: z.string().min(1).max(64).regex(/^[A-Za-z][A-Za-z0-9._-]*$/),
  credentials: z.strictObject({ user: z.string().regex(/^[A-Za-z0-9_]{16,128}$/), password: z.string().min(1) }),
  region: z.enum(${JSON.stringify(REGIONS)}), stream: z.string().min(1).max(128).regex(/^[a-zA-Z0-9_.-]+$/),
  shards: z.int().min(1).max(100000), maxRecordsPerShardPerSecond: z.int().min(1), maxBytesPerShardPerSecond: z.int().min(1),
  dataProcessingMethodId: z.string().max(64).optional(), disabled: z.boolean().optional() });
const ok = s.safeParse(${sample}).success;
const t1 = performance.now();
if (!ok) throw new Error('invalid');
console.log(t1 - t0);
`,
);

// interleave the cold runs too
const coldSamples = { ours: [], inlined: [], ajv: [], zod: [] };
for (let i = 0; i < COLD_RUNS; i++) {
  for (const [k, f] of [['ours', 'cold-ours.mjs'], ['inlined', 'cold-ours-inlined.mjs'], ['ajv', 'cold-ajv.mjs'], ['zod', 'cold-zod.mjs']]) {
    const r = spawnSync(process.execPath, [join(tmp, f)], { encoding: 'utf8' });
    const ms = Number(r.stdout.trim());
    // A failed run counts as NaN, which makes its median print as failed: the bench goes on.
    const ok = r.status === 0 && ms >= 0;
    if (!ok) console.log(`cold start: ${f} failed (${r.status ?? r.signal}): ${String(r.stderr).split('\n')[0]}`);
    coldSamples[k].push(ok ? ms : NaN);
  }
}
const coldOurs = median(coldSamples.ours);
const coldAjv = median(coldSamples.ajv);
const coldZod = median(coldSamples.zod);
const coldInlined = median(coldSamples.inlined);
rows.push([
  `cold start, Node's entry (median of ${COLD_RUNS})`,
  `${coldOurs.toFixed(2)} ms`,
  `ajv ${coldAjv.toFixed(2)} ms`,
  ratio(coldAjv, coldOurs),
  `zod ${coldZod.toFixed(2)} ms`,
  ratio(coldZod, coldOurs),
  `≥ 15× ajv: ${target('cold start ≥ 15× faster than ajv import + compile + first', coldAjv / coldOurs >= 15, ratio(coldAjv, coldOurs))}`,
]);
rows.push(['cold start, the inlined entry in Node', `${coldInlined.toFixed(2)} ms`, '', ratio(coldAjv, coldInlined), '', ratio(coldZod, coldInlined), '']);

// --- size -----------------------------------------------------------------------------------------

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const esbuild = await import(pathToFileURL(join(NM, 'esbuild', 'lib', 'main.js')).href);
function bundleSize(contents) {
  const out = esbuild.buildSync({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    logLevel: 'silent',
  });
  return gz(Buffer.from(out.outputFiles[0].contents));
}
const wasmBytes = readFileSync(join(PKG, 'kinesis_connector.wasm'));
const entryGz = gz(readFileSync(ENTRY));
const entryMinGz = bundleSize(`export * from ${JSON.stringify(ENTRY)};`);
const wasmGz = gz(wasmBytes);
const glueGz = gz(readFileSync(join(PKG, 'src', 'api.js')));
const bindgenGz = gz(readFileSync(join(PKG, 'kinesis_connector_bg.js')));
const ajvGz = bundleSize(`import Ajv from 'ajv/dist/2020.js'; export default Ajv;`);
const zodGz = bundleSize(`export { z } from 'zod';`);
rows.push(['size: index.mjs (glue + base64 wasm), gzip', kb(entryGz), `ajv ${kb(ajvGz)}`, ratio(ajvGz, entryGz), `zod ${kb(zodGz)}`, ratio(zodGz, entryGz),
  `≤ 30 KB: ${target('index.mjs gzipped ≤ 30 KB', entryGz <= 30 * 1024, kb(entryGz))}`]);
rows.push(['size: same, minified (esbuild), gzip', kb(entryMinGz), '', '', '', '', '']);
rows.push([`size: raw .wasm (${kb(wasmBytes.length)}), gzip`, kb(wasmGz), '', '', '', '', '']);
rows.push(['size: pkg/src/api.js source, gzip', kb(glueGz), '', '', '', '', '']);
rows.push(["size: wasm-bindgen's bindings, gzip", kb(bindgenGz), '', '', '', '', '']);

rmSync(tmp, { recursive: true, force: true });

// --- first call in Chromium -------------------------------------------------------------------------
// A page imports the built entry and calls validateCreate at once (the synchronous unpack and
// compile), and again in a page that waits for the warm-up first; import start to the result.
// Median over fresh pages of one headless Chromium. A failure is printed as failed.

async function chromiumFirstCall() {
  const http = await import('node:http');
  const { chromium } = await import(pathToFileURL(join(NM, 'playwright-core', 'index.mjs')).href);
  const entry = readFileSync(ENTRY);
  const pageFor = (wait) => `<!doctype html><script type="module">
${wait ? 'const kcPromise = import("/index.mjs"); await kcPromise; await new Promise((r) => setTimeout(r, 500));' : ''}
const t0 = performance.now();
const kc = await import('/index.mjs');
const r = kc.validateCreate(${sample});
window.__ms = r.valid ? performance.now() - t0 : -1;
</script>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/index.mjs') res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(entry);
    else res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' }).end(pageFor(req.url === '/warm'));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const userDataDir = mkdtempSync(join(os.tmpdir(), 'kc-bench-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const out = {};
  try {
    for (const kind of ['cold', 'warm']) {
      const times = [];
      for (let i = 0; i < (QUICK ? 3 : 7); i++) {
        const page = await context.newPage();
        await page.goto(`http://127.0.0.1:${server.address().port}/${kind}`);
        await page.waitForFunction(() => window.__ms !== undefined, null, { timeout: 30000 });
        const ms = await page.evaluate(() => window.__ms);
        await page.close();
        if (ms < 0) throw new Error('the page got an invalid result');
        times.push(ms);
      }
      out[kind] = median(times);
    }
  } finally {
    await context.close();
    server.closeAllConnections();
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  return out;
}
try {
  const { cold, warm } = await chromiumFirstCall();
  rows.push(['Chromium: import + first validateCreate, at once', `${cold.toFixed(2)} ms`, '', '', '', '', '(printed)']);
  rows.push(['Chromium: the same after the warm-up', `${warm.toFixed(2)} ms`, '', '', '', '', '(printed)']);
} catch (error) {
  rows.push(['Chromium: first call', `failed (${String(error.message ?? error).split('\n')[0]})`, '', '', '', '', '']);
}

// --- table ----------------------------------------------------------------------------------------

const header = ['benchmark', 'kinesis-connector', 'vs', 'ratio', 'vs', 'ratio', 'target'];
const table = [header, ...rows];
const widths = header.map((_, i) => Math.max(...table.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(`\n(ajv/zod sizes: esbuild-minified bundles of 'ajv/dist/2020.js' and 'zod', gzip -9; sink ${sink & 1})`);
console.log('\ntargets (issue 11):');
for (const t of TARGETS) console.log(`  ${t.ok ? 'met   ' : 'MISSED'}  ${t.name}: ${t.detail}`);
