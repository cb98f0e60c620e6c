// Hostile inputs against the installed package: every one gives a result with issues (never a
// throw), nothing is polluted, and the module keeps working afterwards. The secret never leaks
// into messages, params or diff changes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SECRET, installPackage, validConnector, withoutSecretCarriers } from './helpers.mjs';

const kc = await installPackage().load();

function stillWorks() {
  const r = kc.validateCreate(validConnector());
  assert.equal(r.valid, true, `a valid call failed afterwards: ${JSON.stringify(r.errors)}`);
  assert.equal(r.value.id, 'dc.kinesis.1');
}

function paths(result) {
  return result.errors.map((i) => i.path);
}

function assertIssueResult(result, what) {
  assert.equal(typeof result, 'object', what);
  assert.equal(result.valid, false, `${what}: expected invalid, got ${JSON.stringify(result)}`);
  assert.ok(Array.isArray(result.errors) && result.errors.length > 0, `${what}: no errors`);
  assert.ok(Array.isArray(result.warnings), what);
  for (const issue of [...result.errors, ...result.warnings]) {
    assert.equal(typeof issue.code, 'string', what);
    assert.equal(typeof issue.path, 'string', what);
    assert.equal(typeof issue.message, 'string', what);
    assert.ok(issue.message.length > 0, what);
    assert.equal(typeof issue.params, 'object', what);
    assert.notEqual(issue.code, 'input.internal', `${what}: ${issue.message}`);
  }
}

/** Calls every object-taking function with `value` in every position; none may throw. */
function everyFunctionSurvives(value, what) {
  const saved = validConnector();
  const results = [
    kc.validateCreate(value),
    kc.validateUpdate(value),
    kc.validateUpdate(value, { current: saved }),
    kc.validateCreate(saved, value), // as the context
    kc.validateCreateJson('{}', value),
    kc.normalizeCreate(value),
    kc.normalizeUpdate(value),
    kc.diff(saved, value),
    kc.diff(value, saved),
    kc.applyUpdate(saved, value),
    kc.applyUpdate(value, { shards: 2 }),
  ];
  for (const r of results) assert.equal(typeof r, 'object', `${what}: ${r}`);
  return results;
}

function withField(path, value) {
  const c = validConnector();
  if (path.length === 1) c[path[0]] = value;
  else c[path[0]][path[1]] = value;
  return c;
}

const nonObjects = [
  ['number', 42, 'number'],
  ['string', 'aws-kinesis', 'string'],
  ['boolean', true, 'boolean'],
  ['null', null, 'null'],
  ['array', [validConnector()], 'array'],
  ['empty array', [], 'array'],
  ['undefined', undefined, 'undefined'],
  ['NaN', NaN, 'NaN'],
  ['BigInt', 12n, 'bigint'],
  ['symbol', Symbol('x'), 'symbol'],
  ['function', () => validConnector(), 'function'],
];

for (const [name, value, actual] of nonObjects) {
  test(`non-object input: ${name} gives input.type`, () => {
    for (const r of [kc.validateCreate(value), kc.validateUpdate(value)]) {
      assertIssueResult(r, name);
      const issue = r.errors.find((i) => i.code === 'input.type');
      assert.ok(issue, `${name}: ${JSON.stringify(r.errors)}`);
      assert.equal(issue.path, '');
      assert.equal(issue.params.expected, 'object');
      assert.equal(issue.params.actual, actual);
    }
    everyFunctionSurvives(value, name);
    stillWorks();
  });
}

test('validate*Json with a non-string text gives an issue, not a throw', () => {
  for (const text of [undefined, null, 42, {}, [], Symbol('s'), 5n, () => '{}', new String('{}')]) {
    for (const r of [kc.validateCreateJson(text), kc.validateUpdateJson(text)]) {
      assertIssueResult(r, String(typeof text));
      assert.equal(r.errors[0].code, 'input.type');
      assert.equal(r.errors[0].params.expected, 'string');
    }
  }
  stillWorks();
});

const fieldCases = [
  ['NaN', ['shards'], NaN],
  ['Infinity', ['shards'], Infinity],
  ['-Infinity', ['maxRecordsPerShardPerSecond'], -Infinity],
  ['BigInt', ['shards'], 2n],
  ['symbol', ['stream'], Symbol('stream')],
  ['function', ['region'], () => 'us-west-2'],
  ['number past 2^53', ['maxBytesPerShardPerSecond'], 2 ** 53 + 2],
  ['huge number', ['maxRecordsPerShardPerSecond'], 1e300],
  ['Date', ['disabled'], new Date(0)],
  ['Map', ['credentials'], new Map([['user', 'AKIAIOSFODNN7EXAMPLE'], ['password', SECRET]])],
  ['Set', ['stream'], new Set(['a'])],
  ['class instance', ['credentials', 'user'], new (class Key { constructor() { this.id = 1; } })()],
  ['typed array', ['shards'], new Uint8Array([1, 2])],
  ['boxed number', ['stream'], Object(5)],
  ['array with holes', ['stream'], [1, , 3]], // eslint-disable-line no-sparse-arrays
  ['RegExp', ['region'], /us-west-2/],
  ['Error', ['stream'], new Error('boom')],
];

for (const [name, path, value] of fieldCases) {
  test(`field value ${name} at /${path.join('/')} is reported there`, () => {
    const r = kc.validateCreate(withField(path, value));
    assertIssueResult(r, name);
    const pointer = '/' + path.join('/');
    assert.ok(
      paths(r).some((p) => p === pointer || p.startsWith(pointer + '/')),
      `${name}: no error at ${pointer}: ${JSON.stringify(r.errors)}`,
    );
    everyFunctionSurvives(withField(path, value), name);
    stillWorks();
  });
}

test('undefined for a required field is a missing field (as in JSON.stringify)', () => {
  const r = kc.validateCreate(withField(['shards'], undefined));
  assertIssueResult(r, 'undefined field');
  assert.ok(r.errors.some((i) => i.code === 'field.required' && i.path === '/shards'), JSON.stringify(r.errors));
  stillWorks();
});

test('numbers past 2^53 are field.unsafe_integer, from objects and from text', () => {
  const r = kc.validateCreate(withField(['maxBytesPerShardPerSecond'], 2 ** 60));
  assert.ok(r.errors.some((i) => i.code === 'field.unsafe_integer' && i.path === '/maxBytesPerShardPerSecond'), JSON.stringify(r.errors));
  const text = JSON.stringify(validConnector()).replace('"maxBytesPerShardPerSecond":1000000', '"maxBytesPerShardPerSecond":9007199254740993');
  const t = kc.validateCreateJson(text);
  assert.ok(t.errors.some((i) => i.code === 'field.unsafe_integer' && i.path === '/maxBytesPerShardPerSecond'), JSON.stringify(t.errors));
  stillWorks();
});

test('cyclic objects', () => {
  const c = validConnector();
  c.credentials.user = c;
  const r = kc.validateCreate(c);
  assertIssueResult(r, 'cycle');
  assert.ok(paths(r).includes('/credentials/user'), JSON.stringify(r.errors));
  const top = validConnector();
  top.self = top;
  assertIssueResult(kc.validateCreate(top), 'self cycle');
  const arr = [];
  arr.push(arr);
  assertIssueResult(kc.validateCreate({ ...validConnector(), stream: arr }), 'array cycle');
  everyFunctionSurvives(c, 'cycle');
  everyFunctionSurvives(top, 'self cycle');
  // the same object twice (not a cycle) is fine
  const creds = { user: 'AKIAIOSFODNN7EXAMPLE', password: SECRET };
  const ctx = { existingIds: ['a'], methods: ['m1'] };
  const shared = kc.validateCreate({ ...validConnector(), credentials: creds }, { ...ctx, current: { credentials: creds } });
  assert.equal(shared.valid, true, JSON.stringify(shared.errors));
  stillWorks();
});

test('5,000-deep nesting (objects and arrays), as values and as the whole input', () => {
  let deepObject = {};
  let cursor = deepObject;
  for (let i = 0; i < 5000; i++) cursor = cursor.x = {};
  let deepArray = [];
  for (let i = 0; i < 5000; i++) deepArray = [deepArray];
  const texts = { object: '{"x":'.repeat(5000) + '{}' + '}'.repeat(5000), array: '['.repeat(5001) + ']'.repeat(5001) };
  for (const [name, value] of [['object', deepObject], ['array', deepArray]]) {
    const r = kc.validateCreate({ ...validConnector(), stream: value });
    assertIssueResult(r, name);
    assert.ok(paths(r).some((p) => p === '/stream' || p.startsWith('/stream/')), JSON.stringify(r.errors));
    assertIssueResult(kc.validateCreate(value), `whole ${name}`);
    everyFunctionSurvives(value, name);
    const text = texts[name];
    for (const t of [kc.validateCreateJson(text), kc.validateUpdateJson(text)]) assertIssueResult(t, `${name} text`);
  }
  // unbalanced deep text
  assertIssueResult(kc.validateCreateJson('['.repeat(100000)), 'unbalanced');
  assertIssueResult(kc.validateCreateJson('{"a":'.repeat(100000)), 'unbalanced object');
  stillWorks();
});

test('exactly 64 levels are read; the 65th is too deep', () => {
  const nest = (levels) => {
    let v = 'leaf';
    for (let i = 0; i < levels; i++) v = { k: v };
    return v;
  };
  // the connector itself is level 1, so `stream: nest(63)` reaches level 64
  const at64 = kc.validateCreate({ ...validConnector(), stream: nest(63) });
  assert.ok(!at64.errors.some((i) => i.code === 'input.too_deep'), JSON.stringify(at64.errors));
  const at65 = kc.validateCreate({ ...validConnector(), stream: nest(64) });
  assert.ok(at65.errors.some((i) => i.code === 'input.too_deep'), JSON.stringify(at65.errors));
  // JSON text gives the same verdict as the object
  const t65 = kc.validateCreateJson(JSON.stringify({ ...validConnector(), stream: nest(64) }));
  assert.ok(t65.errors.some((i) => i.code === 'input.too_deep'), JSON.stringify(t65.errors));
  stillWorks();
});

test('multi-megabyte strings, as values, keys and text', () => {
  const big = 'x'.repeat(4 << 20);
  const r = kc.validateCreate({ ...validConnector(), stream: big });
  assertIssueResult(r, 'big stream');
  assert.ok(r.errors.some((i) => i.code === 'stream.length'), JSON.stringify(r.errors).slice(0, 2000));
  assert.ok(JSON.stringify(r).length < 100000, 'the result echoes the huge value');
  const key = kc.validateCreate({ ...validConnector(), [big]: 1 });
  assertIssueResult(key, 'big key');
  const multibyte = kc.validateCreate({ ...validConnector(), id: 'é😀'.repeat(1 << 20) });
  assertIssueResult(multibyte, 'big non-ASCII id');
  assert.ok(multibyte.errors.some((i) => i.path === '/id'), JSON.stringify(multibyte.errors).slice(0, 2000));
  const text = kc.validateCreateJson(JSON.stringify({ ...validConnector(), stream: big }));
  assert.ok(text.errors.some((i) => i.code === 'stream.length'));
  assertIssueResult(kc.validateCreateJson(' '.repeat(3 << 20)), 'whitespace');
  stillWorks();
});

test('non-ASCII and lone surrogates round-trip', () => {
  const r = kc.validateCreate({ ...validConnector(), id: 'Ünïcødé-\ud800' });
  assertIssueResult(r, 'unicode id');
  assert.ok(r.errors.some((i) => i.code === 'id.characters'), JSON.stringify(r.errors));
  const n = kc.normalizeCreate({ ...validConnector(), stream: '  ström 😀 ' });
  assert.equal(n.value.stream, 'ström 😀');
  const empty = kc.validateCreateJson('');
  assertIssueResult(empty, 'empty text');
  assert.equal(empty.errors[0].code, 'input.syntax');
  stillWorks();
});

test('__proto__ keys stay ordinary keys and pollute nothing', () => {
  const fromJson = JSON.parse(`{"__proto__": {"polluted": "yes"}, ${JSON.stringify(validConnector()).slice(1)}`);
  const defined = validConnector();
  Object.defineProperty(defined, '__proto__', { value: { polluted: 'yes' }, enumerable: true });
  const nested = JSON.parse(`{"credentials": {"__proto__": {"polluted": "yes"}, "user": "AKIAIOSFODNN7EXAMPLE", "password": "${SECRET}"}}`);
  for (const [name, input] of [['top', fromJson], ['defineProperty', defined]]) {
    const r = kc.validateCreate(input);
    assertIssueResult(r, name);
    const issue = r.errors.find((i) => i.path === '/__proto__');
    assert.ok(issue, `${name}: ${JSON.stringify(r.errors)}`);
    assert.equal(issue.code, 'field.unknown');
    everyFunctionSurvives(input, name);
    const n = kc.normalizeCreate(input);
    assert.equal(Object.getPrototypeOf(n.value), Object.prototype);
  }
  const u = kc.validateUpdate(nested, { current: validConnector() });
  assert.ok(u.errors.some((i) => i.path === '/credentials/__proto__'), JSON.stringify(u.errors));
  const t = kc.validateCreateJson('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
  assert.ok(t.errors.some((i) => i.path === '/__proto__'), JSON.stringify(t.errors));
  assert.equal({}.polluted, undefined);
  assert.equal(Object.prototype.polluted, undefined);
  assert.equal([].polluted, undefined);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false);
  stillWorks();
});

test('getters that throw, at the root and nested', () => {
  const nested = validConnector();
  Object.defineProperty(nested.credentials, 'user', { enumerable: true, get() { throw new Error('no user'); } });
  const r = kc.validateCreate(nested);
  assertIssueResult(r, 'throwing getter');
  assert.ok(paths(r).includes('/credentials/user'), JSON.stringify(r.errors));
  const top = validConnector();
  Object.defineProperty(top, 'shards', { enumerable: true, get() { throw new TypeError('nope'); } });
  const t = kc.validateCreate(top);
  assert.ok(paths(t).includes('/shards'), JSON.stringify(t.errors));
  const toJsonThrows = { ...validConnector(), stream: { toJSON() { throw new Error('x'); } } };
  assert.ok(paths(kc.validateCreate(toJsonThrows)).includes('/stream'));
  everyFunctionSurvives(top, 'throwing getter');
  stillWorks();
});

test('Proxies that throw (ownKeys, get, getPrototypeOf), revoked proxies', () => {
  const ownKeys = new Proxy(validConnector(), { ownKeys() { throw new Error('ownKeys'); } });
  const get = new Proxy(validConnector(), { get() { throw new Error('get'); } });
  const proto = new Proxy(validConnector(), { getPrototypeOf() { throw new Error('proto'); } });
  const { proxy: revoked, revoke } = Proxy.revocable(validConnector(), {});
  revoke();
  for (const [name, p] of [['ownKeys', ownKeys], ['get', get], ['getPrototypeOf', proto], ['revoked', revoked]]) {
    assertIssueResult(kc.validateCreate(p), name);
    assertIssueResult(kc.validateCreate({ ...validConnector(), credentials: p }), `nested ${name}`);
    everyFunctionSurvives(p, name);
  }
  // a well-behaved Proxy is read like the object behind it
  assert.equal(kc.validateCreate(new Proxy(validConnector(), {})).valid, true);
  stillWorks();
});

test('frozen and sealed objects, null-prototype objects', () => {
  const frozen = Object.freeze({ ...validConnector(), credentials: Object.freeze({ user: 'AKIAIOSFODNN7EXAMPLE', password: SECRET }) });
  assert.equal(kc.validateCreate(frozen).valid, true);
  const frozenBad = Object.freeze({ ...validConnector(), shards: -1 });
  assertIssueResult(kc.validateCreate(frozenBad), 'frozen invalid');
  assert.equal(kc.normalizeCreate(frozen).value.id, 'dc.kinesis.1');
  assert.equal(kc.validateCreate(Object.seal(validConnector())).valid, true);
  const bare = Object.assign(Object.create(null), validConnector());
  assert.equal(kc.validateCreate(bare).valid, true);
  stillWorks();
});

test('Date and Map as the whole input', () => {
  const date = kc.validateCreate(new Date(0));
  assertIssueResult(date, 'Date');
  assert.equal(date.errors[0].code, 'input.type');
  const map = kc.validateCreate(new Map(Object.entries(validConnector())));
  assertIssueResult(map, 'Map');
  assert.ok(map.errors.some((i) => i.code === 'field.required'));
  everyFunctionSurvives(new Date(NaN), 'invalid Date');
  stillWorks();
});

test('a wide shared-reference graph does not hang', () => {
  // 2^40 paths through 40 levels of shared children: must be cut off, not walked
  let node = { leaf: 1 };
  for (let i = 0; i < 40; i++) node = { a: node, b: node };
  const t0 = performance.now();
  const r = kc.validateCreate({ ...validConnector(), stream: node });
  assertIssueResult(r, 'wide graph');
  assert.ok(performance.now() - t0 < 20000, 'took too long');
  stillWorks();
});

test('a hostile context is a context.invalid issue', () => {
  for (const ctx of [42, 'ids', [1], { existingIds: 'a' }, { existingIds: [1, 2] }, { methods: [null] }, { existingIds: [NaN] }]) {
    const r = kc.validateCreate(validConnector(), ctx);
    assertIssueResult(r, JSON.stringify(ctx));
    assert.ok(r.errors.some((i) => i.code === 'context.invalid'), `${JSON.stringify(ctx)}: ${JSON.stringify(r.errors)}`);
  }
  stillWorks();
});

// --- the secret never leaks ---------------------------------------------------------------

function assertNoSecret(result, secret, what) {
  const visible = JSON.stringify(withoutSecretCarriers(result));
  assert.ok(!visible.includes(secret), `${what}: the password leaks: ${visible}`);
  if (result && Array.isArray(result.changes)) {
    assert.ok(!JSON.stringify(result.changes).includes(secret), `${what}: the password is in changes`);
  }
}

test('the password never appears in messages, params or diff changes', () => {
  const secrets = [
    SECRET,
    'short-secret with spaces!',
    'pässwörd-ünïcode-😀-value',
    'x'.repeat(300),
    'AKIAIOSFODNN7EXAMPLE', // same text as a user id would be
    '"quoted\\"secret',
  ];
  for (const s of secrets) {
    const c = validConnector();
    c.credentials.password = s;
    const cases = {
      create: kc.validateCreate(c),
      createInvalid: kc.validateCreate({ ...c, shards: 'two', credentials: { ...c.credentials, extra: 1 } }),
      createJson: kc.validateCreateJson(JSON.stringify(c)),
      syntaxAfterSecret: kc.validateCreateJson(`{"credentials": {"password": ${JSON.stringify(s)} oops`),
      syntaxInSecret: kc.validateCreateJson(`{"credentials": {"password": "${s}\u0001"}}`),
      duplicate: kc.validateCreateJson(`{"credentials": {"password": ${JSON.stringify(s)}, "password": ${JSON.stringify(s)}, "user": "AKIAIOSFODNN7EXAMPLE"}}`),
      passwordWrongType: kc.validateCreate({ ...c, credentials: { user: s, password: 5 } }),
      credentialsIncomplete: kc.validateUpdate({ credentials: { password: s } }, { current: validConnector() }),
      update: kc.validateUpdate({ credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: s } }, { current: validConnector() }),
      normalize: kc.normalizeCreate({ ...c, credentials: { ...c.credentials, password: `  ${s}  ` } }),
      diff: kc.diff(validConnector(), c),
      diffReplace: kc.diff(validConnector(), { ...c, id: 'other' }),
      diffRemoved: kc.diff(c, { ...c, credentials: { user: 'AKIAIOSFODNN7EXAMPLE' } }),
      apply: kc.applyUpdate(validConnector(), { credentials: c.credentials }),
      contextWithSecret: kc.validateUpdate({ shards: 2 }, { current: c }),
      // validateUpdate with the saved secret in `current`: nothing it reports may show it.
      updateInvalidWithSavedSecret: kc.validateUpdate(
        { shards: 'two', region: 'mars', credentials: { user: 'short' }, extra: 1 },
        { current: c },
      ),
      savedInvalidWithSecret: kc.validateUpdate(
        { shards: 2 },
        { current: { ...c, stream: 'bad stream', credentials: { user: 'short', password: s, extra: s } } },
      ),
      savedSecretWrongType: kc.validateUpdate({ stream: 'other' }, { current: { ...c, credentials: { user: 'AKIAIOSFODNN7EXAMPLE', password: [s] } } }),
      updateIncompleteWithSavedSecret: kc.validateUpdate({ credentials: { user: 'AKIAI44QH8DHBEXAMPLE' } }, { current: c }),
      updateJsonWithSavedSecret: kc.validateUpdateJson('{"shards": 0, "id": "other"}', { current: c }),
      applyInvalidWithSavedSecret: kc.applyUpdate(c, { shards: 'x', credentials: { password: s } }),
      diffWithContext: kc.diff(c, { ...c, shards: 2, dataProcessingMethodId: 'm2' }, { existingIds: ['dc.kinesis.1'], methods: ['m1'] }),
      diffReplaceWithContext: kc.diff(c, { ...c, id: 'other' }, { existingIds: ['other'] }),
    };
    for (const [name, r] of Object.entries(cases)) {
      assert.equal(typeof r, 'object', name);
      if (name === 'normalize') {
        assert.ok(!JSON.stringify(r.changes).includes(s.trim()), `normalize changes leak the password: ${JSON.stringify(r.changes)}`);
        continue;
      }
      assertNoSecret(r, s, `${name} (${s.slice(0, 20)})`);
    }
  }
  stillWorks();
});
