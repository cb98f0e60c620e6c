// Runs every case of tests/fixtures/*.json against the installed package, comparing exactly as
// ARCHITECTURE.md ("Fixture corpus format") says, so the wasm face is held to the same answers as
// the Rust one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureFiles, installPackage } from './helpers.mjs';

const kc = await installPackage().load();
const files = fixtureFiles();

test('the fixture corpus is present', () => {
  assert.ok(files.length > 0, 'no tests/fixtures/*.json');
  const total = files.reduce((n, f) => n + f.cases.length, 0);
  assert.ok(total > 0, 'the fixture files hold no cases');
  const names = new Set();
  for (const { file, cases } of files) {
    for (const c of cases) {
      assert.ok(!names.has(c.name), `duplicate case name ${JSON.stringify(c.name)} (${file})`);
      names.add(c.name);
    }
  }
});

function run(c) {
  switch (c.op) {
    case 'validateCreate':
      return 'context' in c ? kc.validateCreate(c.input, c.context) : kc.validateCreate(c.input);
    case 'validateUpdate':
      return 'context' in c ? kc.validateUpdate(c.input, c.context) : kc.validateUpdate(c.input);
    case 'validateCreateJson':
      return 'context' in c ? kc.validateCreateJson(c.text, c.context) : kc.validateCreateJson(c.text);
    case 'validateUpdateJson':
      return 'context' in c ? kc.validateUpdateJson(c.text, c.context) : kc.validateUpdateJson(c.text);
    case 'normalizeCreate':
      return kc.normalizeCreate(c.input);
    case 'normalizeUpdate':
      return kc.normalizeUpdate(c.input);
    case 'diff':
      return 'context' in c ? kc.diff(c.saved, c.desired, c.context) : kc.diff(c.saved, c.desired);
    case 'applyUpdate':
      return kc.applyUpdate(c.saved, c.update);
    default:
      throw new Error(`unknown op ${JSON.stringify(c.op)}`);
  }
}

/** Multiset difference of string keys: what is in `a` and not matched in `b`. */
function missing(a, b) {
  const left = [...b];
  const out = [];
  for (const x of a) {
    const i = left.indexOf(x);
    if (i === -1) out.push(x);
    else left.splice(i, 1);
  }
  return out;
}

/** Deep equality that also requires the same key order in every object. */
function orderedEqual(actual, expected) {
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** True when every key of `subset` deep-equals the same key of `params`. */
function paramsMatch(params, subset) {
  try {
    for (const k of Object.keys(subset)) assert.deepStrictEqual(params?.[k], subset[k]);
    return true;
  } catch {
    return false;
  }
}

function checkIssues(kind, actual, expected) {
  assert.ok(Array.isArray(actual), `${kind}: not an array: ${JSON.stringify(actual)}`);
  const key = (path, code) => JSON.stringify([path, code]);
  const got = actual.map((i) => key(i.path, i.code));
  const want = expected.map(([path, code]) => key(path, code));
  const extra = missing(got, want);
  const absent = missing(want, got);
  assert.ok(
    extra.length === 0 && absent.length === 0,
    `${kind} differ\n  missing: ${absent.join(' ')}\n  extra:   ${extra.join(' ')}\n  actual:  ${JSON.stringify(actual)}`,
  );
  for (const [path, code, params] of expected) {
    if (params === undefined) continue;
    const candidates = actual.filter((i) => i.path === path && i.code === code);
    assert.ok(
      candidates.some((i) => paramsMatch(i.params, params)),
      `${kind}: ${code} at ${JSON.stringify(path)}: params ${JSON.stringify(candidates.map((i) => i.params))} do not contain ${JSON.stringify(params)}`,
    );
  }
}

function checkValidation(result, expect) {
  assert.equal(result.valid, expect.valid, `valid: ${JSON.stringify(result)}`);
  checkIssues('errors', result.errors, expect.errors ?? []);
  checkIssues('warnings', result.warnings, expect.warnings ?? []);
  if ('value' in expect) {
    assert.ok(
      orderedEqual(result.value, expect.value),
      `value (key order included)\n  actual:   ${JSON.stringify(result.value)}\n  expected: ${JSON.stringify(expect.value)}`,
    );
  }
}

function checkNormalize(result, expect) {
  assert.deepStrictEqual(result.value, expect.value, 'value');
  const got = [...new Set(result.changes.map((c) => c.path))].sort();
  const want = [...new Set(expect.changes)].sort();
  assert.deepStrictEqual(got, want, `changes (as a set of paths): ${JSON.stringify(result.changes)}`);
}

function checkDiff(result, expect) {
  assert.equal(result.action, expect.action, `action: ${JSON.stringify(result)}`);
  if ('update' in expect) assert.deepStrictEqual(result.update, expect.update, 'update');
  if ('create' in expect) assert.deepStrictEqual(result.create, expect.create, 'create');
  assert.ok(Array.isArray(result.requests), `requests: ${JSON.stringify(result)}`);
  if ('requests' in expect) {
    assert.ok(
      orderedEqual(result.requests, expect.requests),
      `requests (key order included)\n  actual:   ${JSON.stringify(result.requests)}\n  expected: ${JSON.stringify(expect.requests)}`,
    );
  }
  if (expect.action === 'replace') assert.ok(result.create && typeof result.create === 'object', 'replace without create');
  const got = result.changes.map((c) => {
    const effect = c.effect && typeof c.effect === 'object' ? c.effect.kind : c.effect;
    return { key: JSON.stringify([c.path, c.kind, effect]), steps: c.effect?.steps };
  });
  const want = expect.changes.map(([path, kind, effect, steps]) => ({ key: JSON.stringify([path, kind, effect]), steps }));
  const extra = missing(got.map((g) => g.key), want.map((w) => w.key));
  const absent = missing(want.map((w) => w.key), got.map((g) => g.key));
  assert.ok(
    extra.length === 0 && absent.length === 0,
    `changes differ\n  missing: ${absent.join(' ')}\n  extra:   ${extra.join(' ')}\n  actual:  ${JSON.stringify(result.changes)}`,
  );
  for (const w of want) {
    if (w.steps === undefined) continue;
    assert.ok(
      got.some((g) => g.key === w.key && g.steps === w.steps),
      `${w.key}: steps ${JSON.stringify(got.filter((g) => g.key === w.key).map((g) => g.steps))}, expected ${w.steps}`,
    );
  }
  for (const [kind, list] of [['errors', expect.errors], ['warnings', expect.warnings]]) {
    if (list !== undefined) checkIssues(kind, result[kind], list);
  }
  if ('valid' in expect) assert.equal(result.valid, expect.valid, 'valid');
}

for (const { file, cases } of files) {
  for (const c of cases) {
    test(`${file}: ${c.name}`, () => {
      const result = run(c);
      assert.equal(typeof result, 'object');
      switch (c.op) {
        case 'normalizeCreate':
        case 'normalizeUpdate':
          return checkNormalize(result, c.expect);
        case 'diff':
          return checkDiff(result, c.expect);
        default:
          return checkValidation(result, c.expect);
      }
    });
  }
}
