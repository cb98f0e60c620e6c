// The npm bin (`kinesis-connector` from the installed package) against the native CLI (the
// stream crate's binary) on the example files and on the fixture corpus written out as files:
// the same stdout, stderr and exit code for validate, normalize and diff, human and --format json.
// The native binary: $KC_NATIVE_BIN, else target/release/kinesis-connector (`make native`).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import { ROOT, fixtureFiles, installPackage, validConnector } from './helpers.mjs';

const pkg = installPackage();
const NPM_BIN = join(pkg.dir, 'node_modules', '.bin', 'kinesis-connector');
const NATIVE =
  process.env.KC_NATIVE_BIN ?? join(resolve(ROOT, process.env.CARGO_TARGET_DIR ?? 'target'), 'release', 'kinesis-connector');
const WORK = join(pkg.dir, 'cli');
mkdirSync(WORK, { recursive: true });

function run(bin, args, input) {
  const r = spawnSync(bin, args, { cwd: WORK, encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs both with `args`; a difference is an assertion failure, or is collected in `into`. */
function same(args, what, input, into = null) {
  const native = run(NATIVE, args, input);
  const npm = run(NPM_BIN, args, input);
  if (into === null) assert.deepEqual(npm, native, `${what}: kinesis-connector ${args.join(' ')}`);
  else if (!isDeepStrictEqual(npm, native)) into.push({ what: `${what}: kinesis-connector ${args.join(' ')}`, npm, native });
  return native;
}

/** Fails with every difference found (the first few in full). */
function noDifferences(found) {
  assert.equal(found.length, 0, found.length + ' differences:\n' + found.slice(0, 5).map((d) => `${d.what}\n  npm:    ${JSON.stringify(d.npm)}\n  native: ${JSON.stringify(d.native)}`).join('\n') + '\n' + found.slice(5).map((d) => d.what).join('\n'));
}

let n = 0;
/** A new file holding `value` as pretty JSON (or `text` as is). */
function file(value, text = JSON.stringify(value, null, 2) + '\n') {
  const name = `f${++n}.json`;
  writeFileSync(join(WORK, name), text);
  return name;
}
const textFile = (text) => file(undefined, text);

/**
 * Runs the native CLI on each file alone and the npm bin once on all of them: the npm bin's
 * output must be the native outputs one after the other, its exit code the worst of theirs.
 */
function sameForEach(args, files, what, into) {
  const native = files.map((f) => run(NATIVE, [...args, f]));
  const expected = {
    status: Math.max(...native.map((r) => r.status)),
    stdout: native.map((r) => r.stdout).join(''),
    stderr: native.map((r) => r.stderr).join(''),
  };
  const npm = run(NPM_BIN, [...args, ...files]);
  if (!isDeepStrictEqual(npm, expected)) {
    // Name the first file whose output differs.
    for (let i = 0; i < files.length; i++) {
      const alone = run(NPM_BIN, [...args, files[i]]);
      if (!isDeepStrictEqual(alone, native[i])) {
        into.push({ what: `${what[i]}: kinesis-connector ${[...args, files[i]].join(' ')}`, npm: alone, native: native[i] });
      }
    }
    if (into.length === 0) into.push({ what: `kinesis-connector ${args.join(' ')} FILE...`, npm, native: expected });
  }
}

const FORMATS = [[], ['--format', 'json']];

test('the native CLI is built', () => {
  assert.ok(existsSync(NATIVE), `${NATIVE} is missing: run \`make native\` (or set KC_NATIVE_BIN)`);
});

test('the examples: validate, normalize, diff', () => {
  const examples = ['connector.json', 'connector-invalid.json'].map((f) => join(ROOT, 'examples', f));
  for (const format of FORMATS) {
    for (const example of examples) {
      same(['validate', ...format, example], 'validate');
      same(['normalize', ...format, example], 'normalize');
    }
    const r = same(['diff', ...format, ...examples], 'diff');
    assert.equal(r.status, 1, 'the invalid example makes the diff invalid');
    same(['validate', ...format, '-'], 'stdin', JSON.stringify(validConnector()));
  }
  // exit codes: ok, invalid, usage, unreadable
  assert.equal(same(['validate', examples[0]], 'ok').status, 0);
  assert.equal(same(['validate', examples[1]], 'invalid').status, 1);
  assert.equal(run(NPM_BIN, ['validate', '--bogus', examples[0]]).status, 2);
  assert.equal(run(NATIVE, ['validate', '--bogus', examples[0]]).status, 2);
  assert.equal(run(NPM_BIN, ['frobnicate']).status, 2);
  assert.equal(run(NPM_BIN, ['validate', '--format', 'xml', examples[0]]).status, 2);
  for (const bin of [NPM_BIN, NATIVE]) {
    const missing = run(bin, ['validate', 'no-such-file.json']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /^error: cannot read no-such-file\.json/);
  }
});

test('several files at once: each reported as the native CLI reports it alone; exit 1 if any is invalid', () => {
  const files = [file(validConnector()), file({ ...validConnector(), region: 'eu-west9' }), textFile('{"type": "aws-kinesis",\n  oops}')];
  for (const format of FORMATS) {
    const native = files.map((f) => run(NATIVE, ['validate', ...format, f]));
    const npm = run(NPM_BIN, ['validate', ...format, ...files]);
    assert.equal(npm.stdout, native.map((r) => r.stdout).join(''));
    assert.equal(npm.stderr, native.map((r) => r.stderr).join(''));
    assert.equal(npm.status, 1);
  }
});

/** `--existing-ids` / `--methods` / `--current` for a fixture case's context. */
function contextArgs(context) {
  const args = [];
  if (context?.existingIds) args.push(`--existing-ids=${context.existingIds.join(',')}`);
  if (context?.methods) args.push(`--methods=${context.methods.join(',')}`);
  if (context?.current !== undefined) args.push('--current', file(context.current));
  return args;
}

const corpus = fixtureFiles().flatMap(({ file: f, cases }) => cases.map((c) => ({ ...c, file: f })));
// Lists that fit the CLI's flags (comma-separated ids without commas or empty ones).
const idList = (list) => list === undefined || (Array.isArray(list) && list.every((id) => typeof id === 'string' && id !== '' && !id.includes(',')));
const expressible = (c) =>
  c.context === undefined ||
  (typeof c.context === 'object' && c.context !== null && !Array.isArray(c.context) &&
    Object.keys(c.context).every((k) => ['current', 'existingIds', 'methods'].includes(k)) &&
    idList(c.context.existingIds) && idList(c.context.methods));

test('the fixture corpus: validate (create and update, with context), same reports', () => {
  const validates = corpus.filter((c) => c.op.startsWith('validate') && expressible(c));
  assert.ok(validates.length > 300, `${validates.length} validate cases`);
  const found = [];
  // One npm run per group of cases with the same flags.
  const groups = new Map();
  for (const c of validates) {
    const key = JSON.stringify([c.op.startsWith('validateUpdate'), c.context ?? null]);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(c);
  }
  for (const cases of groups.values()) {
    const update = cases[0].op.startsWith('validateUpdate') ? ['--update'] : [];
    const flags = [...update, ...contextArgs(cases[0].context)];
    const files = cases.map((c) => (c.op.endsWith('Json') ? textFile(c.text) : file(c.input)));
    const names = cases.map((c) => `${c.file}: ${c.name}`);
    for (const format of FORMATS) sameForEach(['validate', ...flags, ...format], files, names, found);
  }
  noDifferences(found);
});

/**
 * The one known difference: the native CLI reads payloads into a `serde_json::Value`, whose map
 * orders keys alphabetically, so its `normalize` prints unknown fields sorted where the package
 * keeps them in input order (as the corpus expects). Those outputs must still agree as JSON.
 */
const UNKNOWN_FIELDS_ORDER = 'normalize.json: normalize create: unknown fields are kept untouched after the known ones, in input order';
const sortedKeys = (v) =>
  Array.isArray(v) ? v.map(sortedKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortedKeys(v[k])])) : v;

test('the fixture corpus: normalize and diff, same output', () => {
  const normalizes = corpus.filter((c) => c.op.startsWith('normalize'));
  const diffs = corpus.filter((c) => c.op === 'diff');
  assert.ok(normalizes.length > 40 && diffs.length > 40);
  let found = [];
  for (const op of ['normalizeCreate', 'normalizeUpdate']) {
    const cases = normalizes.filter((c) => c.op === op);
    const files = cases.map((c) => file(c.input));
    const names = cases.map((c) => `${c.file}: ${c.name}`);
    const update = op === 'normalizeUpdate' ? ['--update'] : [];
    for (const format of FORMATS) sameForEach(['normalize', ...update, ...format], files, names, found);
  }
  const orderOnly = found.filter((d) => d.what.startsWith(UNKNOWN_FIELDS_ORDER + ':'));
  assert.ok(orderOnly.length <= 2, 'the known difference is that one case, in two formats');
  for (const d of orderOnly) {
    assert.equal(d.npm.status, d.native.status);
    assert.equal(d.npm.stderr, d.native.stderr);
    assert.deepEqual(sortedKeys(JSON.parse(d.npm.stdout)), sortedKeys(JSON.parse(d.native.stdout)));
    assert.notEqual(d.npm.stdout, d.native.stdout);
  }
  found = found.filter((d) => !orderOnly.includes(d));
  for (const c of diffs) {
    const saved = file(c.saved);
    const desired = file(c.desired);
    for (const format of FORMATS) same(['diff', ...format, saved, desired], `${c.file}: ${c.name}`, undefined, found);
  }
  noDifferences(found);
});
