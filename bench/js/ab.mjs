#!/usr/bin/env node
// A/B of two builds of the package in one Node process: the same corpus as bench.mjs, both
// builds' answers checked equal, then interleaved rounds (the order alternating), medians in
// ns per call. How each step of the package's performance work was measured (ARCHITECTURE.md,
// "Package performance"): copy pkg/ aside, change and rebuild, then
//   node bench/js/ab.mjs /tmp/before/pkg/index.node.mjs pkg/index.node.mjs
// ROUNDS (default 15) sets the rounds; B/A below 1 means B is faster.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/js/ab.mjs ENTRY_A ENTRY_B   (e.g. /tmp/before/pkg/index.node.mjs pkg/index.node.mjs)');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(os.tmpdir(), 'kc-ab-'));
const corpusFile = join(tmp, 'corpus.txt');
const dump = spawnSync(process.execPath, [join(here, 'bench.mjs'), '--dump-corpus', corpusFile], { encoding: 'utf8' });
if (dump.status !== 0) {
  console.error(`ab: bench.mjs --dump-corpus failed:\n${dump.stderr || dump.stdout}`);
  process.exit(1);
}
const lines = readFileSync(corpusFile, 'utf8').trim().split('\n');
rmSync(tmp, { recursive: true, force: true });

const A = await import(pathToFileURL(resolve(a)).href);
const B = await import(pathToFileURL(resolve(b)).href);
// bench.mjs writes the 100 valid texts, then the 100 invalid ones.
const sets = { valid: lines.slice(0, 100), invalid: lines.slice(100) };
const rounds = Number(process.env.ROUNDS || 15);
let sink = 0;

/** ns per call over `items`, repeated for about 60 ms. */
function once(fn, items) {
  const start = process.hrtime.bigint();
  let n = 0;
  let elapsed;
  do {
    for (const x of items) {
      sink ^= fn(x) ? 1 : 0;
      n++;
    }
    elapsed = Number(process.hrtime.bigint() - start);
  } while (elapsed < 60e6);
  return elapsed / n;
}

const median = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];

for (const mode of ['text', 'object']) {
  for (const [set, texts] of Object.entries(sets)) {
    const items = mode === 'text' ? texts : texts.map((t) => JSON.parse(t));
    const call = (kc) => (mode === 'text' ? (x) => kc.validateCreateJson(x) : (x) => kc.validateCreate(x));
    const [ca, cb] = [call(A), call(B)];
    for (const x of items) {
      const [ra, rb] = [JSON.stringify(ca(x)), JSON.stringify(cb(x))];
      if (ra !== rb) {
        console.error(`ab: the builds answer differently (${mode}):\n  A ${ra}\n  B ${rb}`);
        process.exit(1);
      }
    }
    const [fa, fb] = [(x) => ca(x).valid, (x) => cb(x).valid];
    once(fa, items);
    once(fb, items);
    const [sa, sb] = [[], []];
    for (let r = 0; r < rounds; r++) {
      const pair = r & 1 ? [[fa, sa], [fb, sb]] : [[fb, sb], [fa, sa]];
      for (const [f, samples] of pair) samples.push(once(f, items));
    }
    const [ma, mb] = [median(sa), median(sb)];
    console.log(`${mode} ${set}`.padEnd(16), `A ${ma.toFixed(0)} ns  B ${mb.toFixed(0)} ns  B/A ${(mb / ma).toFixed(3)}`);
  }
}
if (sink === -1) console.log(sink);
