// A trap inside the wasm (here: an allocation past the module's 256 MiB memory cap, which aborts)
// becomes an `input.internal` issue, never a throw, and the package starts a fresh instance, so
// the next call works. Against the installed package, with the real module.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { installPackage, validConnector } from './helpers.mjs';

const kc = await installPackage().load();

test('a trap is an input.internal issue and the next calls work on a fresh instance', () => {
  assert.equal(kc.validateCreate(validConnector()).valid, true);
  // 300 M characters: more than the module's whole memory, so copying it in cannot succeed.
  const huge = '"' + 'a'.repeat(300_000_000) + '"';
  for (const run of [() => kc.validateCreateJson(huge), () => kc.normalizeCreate({ id: huge })]) {
    const result = run();
    assert.equal(typeof result, 'object');
    const codes = result.errors.map((i) => i.code);
    assert.deepEqual(codes, ['input.internal'], JSON.stringify(result.errors).slice(0, 300));
    assert.match(result.errors[0].message, /failed unexpectedly in (validateCreateJson|normalizeCreate)/);
    const after = kc.validateCreate(validConnector());
    assert.equal(after.valid, true, JSON.stringify(after.errors));
    assert.equal(kc.regions().length, 20);
  }
});
