// The package under a strict Content Security Policy in headless Chromium: a page whose CSP allows
// 'wasm-unsafe-eval' (compiling WebAssembly) but not 'unsafe-eval' (eval, new Function) imports the
// built pkg/index.mjs and validates, both before and after the asynchronous warm-up.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PKG, launchChromium, validConnector } from '../js/helpers.mjs';

const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";

const page = (waitForWarmUp) => `<!doctype html><meta charset="utf-8"><title>csp</title>
<script type="module" src="/${waitForWarmUp ? 'late' : 'early'}.mjs"></script>`;

const script = (waitForWarmUp) => `
const out = {};
try { eval('1'); out.evalBlocked = false; } catch { out.evalBlocked = true; }
const kc = await import('/index.mjs');
${waitForWarmUp ? 'await new Promise((r) => setTimeout(r, 1000));' : ''}
const ok = kc.validateCreate(${JSON.stringify(validConnector())});
const bad = kc.validateCreateJson('{"type": "aws-kinesis", "region": "us-west2"}');
const standard = kc.createValidator()['~standard'].validate({ region: 'us-west2' });
out.valid = ok.valid;
out.codes = bad.errors.map((i) => i.code);
out.standardPaths = standard.issues.map((i) => (i.path ?? []).join('.'));
window.__result = out;
`;

let server;
let browser;
before(async () => {
  const entry = readFileSync(join(PKG, 'index.mjs'));
  server = http.createServer((req, res) => {
    const headers = { 'content-security-policy': CSP };
    if (req.url === '/index.mjs') res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(entry);
    else if (req.url === '/early.mjs' || req.url === '/late.mjs') {
      res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(script(req.url === '/late.mjs'));
    } else if (req.url === '/early' || req.url === '/late') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end(page(req.url === '/late'));
    } else res.writeHead(404).end();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

for (const [name, path] of [['the first call at once (synchronous compile)', '/early'], ['after the warm-up (asynchronous compile)', '/late']]) {
  test(`CSP with 'wasm-unsafe-eval' and no 'unsafe-eval': ${name}`, async () => {
    const tab = await browser.context.newPage();
    const errors = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    try {
      await tab.goto(`http://127.0.0.1:${server.address().port}${path}`);
      await tab.waitForFunction(() => window.__result !== undefined, null, { timeout: 30000 }).catch(() => {});
      const out = await tab.evaluate(() => window.__result);
      assert.ok(out, `no result; errors: ${errors.join('\n')}`);
      assert.equal(out.evalBlocked, true, 'the policy is in force (eval is refused)');
      assert.equal(out.valid, true);
      assert.ok(out.codes.includes('region.unknown'), out.codes.join());
      assert.ok(out.codes.every((c) => c === 'region.unknown' || c === 'field.required'), out.codes.join());
      assert.ok(out.standardPaths.includes('region'), out.standardPaths.join());
      assert.deepEqual(errors.filter((e) => !/eval/.test(e)), []);
    } finally {
      await tab.close();
    }
  });
}
