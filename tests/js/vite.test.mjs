// The package in a browser: a tiny Vite project (no plugins) built with `vite build`, and the plain
// ESM file loaded through an import map with no bundler; both run in headless Chromium and must
// produce validation results (the wasm is compiled synchronously on the main thread).

import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { NODE_MODULES, installPackage, launchChromium, validConnector } from './helpers.mjs';

const pkg = installPackage();

// The page script: runs the API and publishes a summary for the test to read.
const pageScript = (importLine) => `
${importLine}
const out = {};
try {
  const ok = kc.validateCreate(${JSON.stringify(validConnector())});
  const bad = kc.validateCreateJson('{\\n  "type": "aws-kinesis",\\n  "shards": 1.5,\\n}');
  const upd = kc.validateUpdate({ shards: 8 }, { current: ${JSON.stringify(validConnector())} });
  const d = kc.diff(${JSON.stringify(validConnector())}, { ...${JSON.stringify(validConnector())}, region: 'eu-west-1', shards: 2 });
  out.valid = ok.valid;
  out.value = ok.value;
  out.bad = bad.errors.map((i) => i.code);
  out.badLine = bad.errors[0] && bad.errors[0].params.line;
  out.reshard = upd.warnings.map((i) => i.code);
  out.effects = d.changes.map((c) => c.effect.kind).sort();
  out.regions = kc.regions().length;
  out.schema = typeof kc.createSchema().properties;
  out.cycle = (() => { const c = { a: 1 }; c.c = c; return kc.validateCreate(c).valid; })();
} catch (error) {
  out.error = String(error && error.stack || error);
}
window.__result = out;
document.getElementById('out').textContent = JSON.stringify(out);
`;

function checkPageResult(out) {
  assert.equal(out.error, undefined, out.error);
  assert.equal(out.valid, true);
  assert.deepEqual(out.value, validConnector());
  assert.ok(out.bad.includes('input.syntax'), JSON.stringify(out.bad));
  assert.equal(out.badLine, 4);
  assert.ok(out.reshard.includes('shards.reshard'), JSON.stringify(out.reshard));
  assert.deepEqual(out.effects, ['reconnect', 'reshard']);
  assert.equal(out.regions, 20);
  assert.equal(out.schema, 'object');
  assert.equal(out.cycle, false);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.cjs': 'text/javascript', '.json': 'application/json' };

/** Serves `root` on 127.0.0.1 (random port). */
async function serve(root) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const file = normalize(join(root, decodeURIComponent(url.pathname)));
    const target = url.pathname.endsWith('/') ? join(file, 'index.html') : file;
    if (!target.startsWith(root + sep) || !existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream' });
    createReadStream(target).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () =>
      new Promise((r) => {
        server.close(r);
        server.closeAllConnections(); // the browser keeps connections alive
      }),
  };
}

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

async function runPage(url) {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 }).catch(() => {});
    const out = await page.evaluate(() => window.__result);
    assert.ok(out, `no result from the page; errors: ${errors.join('\n')}`);
    assert.deepEqual(errors, []);
    return out;
  } finally {
    await page.close();
  }
}

test('vite build with no plugin succeeds and the built page validates in Chromium', async () => {
  const app = join(pkg.dir, 'vite-app');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(
    join(app, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>kc</title></head><body><pre id="out"></pre><script type="module" src="/src/main.js"></script></body></html>\n',
  );
  writeFileSync(join(app, 'src', 'main.js'), pageScript("import * as kc from 'kinesis-connector';"));
  const vite = await import(pathToFileURL(join(NODE_MODULES, 'vite', 'dist', 'node', 'index.js')).href);
  const output = await vite.build({
    root: app,
    configFile: false,
    logLevel: 'warn',
    build: { outDir: join(app, 'dist'), emptyOutDir: true, chunkSizeWarningLimit: 4096 },
  });
  const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => o.output ?? []);
  assert.ok(chunks.some((c) => c.type === 'chunk' && c.isEntry), 'no entry chunk');
  const assets = readdirSync(join(app, 'dist', 'assets'));
  assert.ok(assets.some((f) => f.endsWith('.js')), assets.join());
  const bundle = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(app, 'dist', 'assets', f), 'utf8')).join('\n');
  assert.ok(bundle.includes('__wbindgen_malloc'), "wasm-bindgen's bindings are not in the bundle");
  const server = await serve(join(app, 'dist'));
  try {
    checkPageResult(await runPage(`${server.url}/`));
  } finally {
    await server.close();
  }
});

test('the plain ESM file works in Chromium with no bundler (import map), atob and fromBase64 paths', async () => {
  // `default` and `atob` call at once (the synchronous unpack and compile); `warm` waits for the
  // warm-up (DecompressionStream + WebAssembly.compile) and must then never compile synchronously.
  const counting = `
window.__syncCompiles = 0;
let compileCalled;
window.__compiled = new Promise((resolve) => { compileCalled = resolve; });
const SyncModule = WebAssembly.Module;
WebAssembly.Module = new Proxy(SyncModule, { construct(target, args) { window.__syncCompiles++; return Reflect.construct(target, args); } });
const asyncCompile = WebAssembly.compile;
WebAssembly.compile = (bytes) => { const compiling = asyncCompile(bytes); compileCalled(compiling); return compiling; };`;
  const waitForWarmUp = `
await Promise.race([
  window.__compiled,
  new Promise((_, reject) => setTimeout(() => reject(new Error('the warm-up never compiled')), 10000)),
]);
await new Promise((resolve) => setTimeout(resolve, 0));`;
  const pages = [
    ['default', '', ''],
    ['atob', 'delete Uint8Array.fromBase64;', ''],
    ['warm', counting, waitForWarmUp],
  ];
  for (const [name, prelude, wait] of pages) {
    writeFileSync(
      join(pkg.dir, `plain-${name}.html`),
      `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="importmap">{"imports": {"kinesis-connector": "/node_modules/kinesis-connector/index.mjs"}}</script>
</head><body><pre id="out"></pre>
<script>${prelude}</script>
<script type="module">${wait}
${pageScript("import * as kc from 'kinesis-connector';")}
window.__result.syncCompiles = window.__syncCompiles;</script>
</body></html>\n`,
    );
  }
  const server = await serve(pkg.dir);
  try {
    for (const [name] of pages) {
      const out = await runPage(`${server.url}/plain-${name}.html`);
      checkPageResult(out);
      if (name === 'warm') assert.equal(out.syncCompiles, 0, 'the warmed-up module was not used');
    }
  } finally {
    await server.close();
  }
});
