// The hostile-input corpus (tests/hostile/cases.json, shared with the Rust core's and the CLI's
// tests) through the installed package: every case gives its verdict and its issues, never a
// throw, and the module keeps working afterwards.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { installPackage, validConnector } from './helpers.mjs';

const kc = await installPackage().load();
const corpus = JSON.parse(readFileSync(new URL('../hostile/cases.json', import.meta.url), 'utf8'));

function bytesOf(parts) {
  const chunks = parts.map((p) =>
    p.hex !== undefined
      ? Buffer.from(p.hex.replace(/\s+/g, ''), 'hex')
      : Buffer.from(p.text.repeat(p.times ?? 1), 'utf8'),
  );
  return Buffer.concat(chunks);
}

function check(c, what, r) {
  assert.equal(typeof r, 'object', `${c.name}: ${what}`);
  const seen = [...r.errors, ...r.warnings].map((i) => i.code);
  assert.equal(r.valid, c.valid, `${c.name}: ${what}: verdict (${seen.join(', ')})`);
  for (const code of c.codes) assert.ok(seen.includes(code), `${c.name}: ${what}: no ${code} in ${seen}`);
  for (const i of [...r.errors, ...r.warnings]) {
    assert.ok(i.message.length > 0 && i.message.length < 1000, `${c.name}: ${what}: message`);
    assert.notEqual(i.code, 'input.internal', `${c.name}: ${what}: ${i.message}`);
  }
}

test('the corpus has its cases', () => assert.ok(corpus.cases.length >= 20));

for (const c of corpus.cases.filter((c) => c.faces.includes('js'))) {
  test(`hostile: ${c.name}`, () => {
    const text = new TextDecoder().decode(bytesOf(c.parts)); // drops a BOM, as fetch().text() does
    check(c, 'validateCreateJson', kc.validateCreateJson(text));
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      return; // not JSON to this parser either (or too deep for it): the text path was the test
    }
    const r = kc.validateCreate(value);
    assert.equal(r.valid, r.errors.length === 0, `${c.name}: validateCreate`);
    const after = kc.validateCreate(validConnector());
    assert.equal(after.valid, true, `${c.name}: a valid call failed afterwards`);
  });
}
