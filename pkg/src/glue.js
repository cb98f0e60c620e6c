// The JavaScript side of kinesis-connector: one factory shared by the ESM and CJS builds.
//
// pkg/build.mjs copies this file (minus its final `export` line) into index.mjs and index.cjs,
// next to the .wasm inlined as base64. The wasm module has no imports and no wasm-bindgen: every
// call is "UTF-8 text in, UTF-8 JSON text out" (ARCHITECTURE.md, "The wasm ABI").
//
// Invariants kept here:
// - no exported function throws on any input; odd JS values reach the Rust validator as JS-mode
//   marker tokens (`@nan`, `@cycle`, ...) so it can report them precisely;
// - nothing here ever builds an object from user keys, so `__proto__` stays an ordinary key in the
//   text and no prototype can be polluted (results come back through JSON.parse, which defines own
//   properties);
// - a wasm trap rebuilds the instance and becomes an `input.internal` issue: the module keeps working.

/* eslint-disable no-restricted-globals */

// The op codes (`OP_VALIDATE_CREATE`, ...) and `OP_NAMES` are not written here: pkg/build.mjs
// generates them from the built module's own list (src/ops.rs, `kc_call` op 0) and puts them
// before this file; it fails when an op has no function here or a function names no op.

/** `len` value telling kc_call that an argument is absent (u32::MAX as an i32). */
const ABSENT = -1;
/** Deepest nesting the Rust parser accepts; deeper values are written as `@depth`. */
const MAX_DEPTH = 64;
/** Nodes the fast pre-scan looks at before handing over to the precise serializer. */
const SCAN_BUDGET = 4096;
/** Nodes the precise serializer writes before the rest becomes `@depth` (guards shared-reference blow-up). */
const SLOW_BUDGET = 1 << 16;

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const isArray = Array.isArray;
const getProto = Object.getPrototypeOf;
const objectKeys = Object.keys;
const stringify = JSON.stringify;
const parse = JSON.parse;

// ---------------------------------------------------------------------------------------------
// JS value -> JSON text in "JS mode"

let scanBudget = 0;

/**
 * True when `JSON.stringify(o)` writes exactly what JS mode needs: plain objects and arrays only,
 * finite numbers, no cycles, no functions/symbols/BigInts, no `undefined` in arrays, not too deep.
 * May throw (getters, proxies): the caller falls back to the precise path.
 */
function plainObject(o, depth) {
  if (depth > MAX_DEPTH || --scanBudget < 0) return false;
  const proto = getProto(o);
  if (proto !== objectProto && proto !== null) return false;
  for (const key in o) {
    const v = o[key];
    switch (typeof v) {
      case 'string':
      case 'boolean':
      case 'undefined': // omitted, as JSON.stringify does
        break;
      case 'number':
        if (v - v !== 0) return false;
        break;
      case 'object':
        if (v === null) break;
        if (isArray(v) ? !plainArray(v, depth + 1) : !plainObject(v, depth + 1)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function plainArray(a, depth) {
  if (depth > MAX_DEPTH || --scanBudget < 0) return false;
  if (getProto(a) !== arrayProto) return false;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    switch (typeof v) {
      case 'string':
      case 'boolean':
        break;
      case 'number':
        if (v - v !== 0) return false;
        break;
      case 'object':
        if (v === null) break;
        if (isArray(v) ? !plainArray(v, depth + 1) : !plainObject(v, depth + 1)) return false;
        break;
      default:
        return false; // undefined / holes, functions, symbols, bigints
    }
  }
  return true;
}

/** Serializes any JS value to JS-mode JSON text. Never throws. */
function toText(value) {
  if (typeof value === 'object' && value !== null) {
    try {
      scanBudget = SCAN_BUDGET;
      if (isArray(value) ? plainArray(value, 1) : plainObject(value, 1)) {
        const text = stringify(value);
        if (typeof text === 'string') return text;
      }
    } catch {
      // a getter or proxy threw, or the text is too long for a string: the precise path decides
    }
  }
  return preciseText(value);
}

let slowBudget = 0;

function preciseText(value) {
  slowBudget = SLOW_BUDGET;
  try {
    const text = writeValue(value, '', 1, []);
    return text === undefined ? '@undefined' : text;
  } catch {
    // Only reachable when the text itself cannot be built (longer than the maximum string length).
    return '@throw';
  }
}

/**
 * The JS-mode text of `value`, or `undefined` for a value an object property omits (undefined).
 * `stack` holds the containers being written (for `@cycle`). Catches everything user code throws.
 */
function writeValue(value, key, depth, stack) {
  switch (typeof value) {
    case 'string':
      return stringify(value);
    case 'number':
      if (value !== value) return '@nan';
      if (value === Infinity) return '@infinity';
      if (value === -Infinity) return '@-infinity';
      return '' + value;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return undefined;
    case 'bigint':
      return '@bigint';
    case 'function':
      return '@function';
    case 'symbol':
      return '@symbol';
    default:
      break;
  }
  if (value === null) return 'null';
  if (depth > MAX_DEPTH || --slowBudget < 0) return '@depth';
  if (stack.indexOf(value) !== -1) return '@cycle';

  let target = value;
  let array;
  let keys;
  try {
    // Mirror JSON.stringify for non-plain objects: honour toJSON (Date -> ISO string) and unwrap
    // boxed primitives; everything else is written from its own enumerable string keys.
    const toJSON = value.toJSON;
    if (typeof toJSON === 'function') {
      target = toJSON.call(value, key);
      if (typeof target !== 'object' || target === null) {
        return target === undefined ? '@undefined' : writeValue(target, key, depth, stack);
      }
      if (target !== value && stack.indexOf(target) !== -1) return '@cycle';
    }
    if (target instanceof Number || target instanceof String || target instanceof Boolean) {
      return writeValue(target.valueOf(), key, depth, stack);
    }
    if (typeof BigInt === 'function' && target instanceof BigInt) return '@bigint';
    array = isArray(target);
    if (!array) keys = objectKeys(target);
  } catch {
    return '@throw';
  }

  stack.push(value);
  try {
    const parts = [];
    if (array) {
      let length;
      try {
        length = target.length >>> 0;
      } catch {
        return '@throw';
      }
      for (let i = 0; i < length; i++) {
        let piece;
        try {
          piece = writeValue(target[i], '' + i, depth + 1, stack);
        } catch {
          piece = '@throw';
        }
        parts.push(piece === undefined ? '@undefined' : piece);
      }
      return '[' + parts.join(',') + ']';
    }
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      let piece;
      try {
        piece = writeValue(target[k], k, depth + 1, stack);
      } catch {
        piece = '@throw';
      }
      if (piece !== undefined) parts.push(stringify(k) + ':' + piece);
    }
    return '{' + parts.join(',') + '}';
  } finally {
    stack.pop();
  }
}

// ---------------------------------------------------------------------------------------------
// The instance

/**
 * Creates the API over the wasm bytes. `loadBytes` is a Uint8Array/ArrayBuffer or a function
 * returning one; it is read (and the module compiled, synchronously) on the first call.
 * `warmUp`, when given, is a function that may return a Promise of the compiled
 * `WebAssembly.Module`: if it settles before the first call, that call skips the synchronous
 * unpacking and compiling; if not, or if it fails, nothing changes.
 */
function createKinesisConnector(loadBytes, warmUp) {
  let module = null;
  if (typeof warmUp === 'function') {
    try {
      const pending = warmUp();
      if (pending !== null && typeof pending === 'object' && typeof pending.then === 'function') {
        pending.then(
          (compiled) => {
            if (module === null && compiled instanceof WebAssembly.Module) {
              module = compiled;
              loadBytes = null;
            }
          },
          () => {},
        );
      }
    } catch {
      // the first call unpacks and compiles synchronously
    }
  }
  let ex = null; // exports of the live instance
  let memory = null;
  let heap = new Uint8Array(0);
  let scratch = new Uint8Array(256);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  let argPtr = 0;
  let argLen = 0;
  const cached = new Map();

  function instantiate() {
    if (module === null) {
      let bytes = typeof loadBytes === 'function' ? loadBytes() : loadBytes;
      loadBytes = null;
      if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
      module = new WebAssembly.Module(bytes);
    }
    const instance = new WebAssembly.Instance(module, {});
    ex = instance.exports;
    memory = ex.memory;
    heap = new Uint8Array(memory.buffer);
    return ex;
  }

  function view() {
    // memory.grow detaches the old buffer (byteLength 0)
    if (heap.byteLength === 0) heap = new Uint8Array(memory.buffer);
    return heap;
  }

  /** Copies `s` as UTF-8 into a fresh kc_alloc buffer; sets argPtr/argLen. */
  function put(s) {
    const n = s.length;
    let p = ex.kc_alloc(n);
    const r = encoder.encodeInto(s, view().subarray(p, p + n));
    if (r.read === n) {
      // every character took one byte: ASCII, the common case
      argPtr = p;
      argLen = n;
      return;
    }
    ex.kc_free(p, n);
    const max = n * 3;
    if (scratch.length < max) scratch = new Uint8Array(Math.max(max, scratch.length * 2));
    const written = encoder.encodeInto(s, scratch).written;
    p = ex.kc_alloc(written);
    view().set(scratch.subarray(0, written), p);
    argPtr = p;
    argLen = written;
  }

  /** Runs one op; `a`, `b` and `c` are texts or null (absent). Returns the result JSON text. */
  function callText(op, a, b, c) {
    if (ex === null) instantiate();
    let aPtr = 0;
    let aLen = ABSENT;
    let bPtr = 0;
    let bLen = ABSENT;
    let cPtr = 0;
    let cLen = ABSENT;
    if (a !== null) {
      put(a);
      aPtr = argPtr;
      aLen = argLen;
    }
    if (b !== null) {
      put(b);
      bPtr = argPtr;
      bLen = argLen;
    }
    if (c !== null) {
      put(c);
      cPtr = argPtr;
      cLen = argLen;
    }
    const len = ex.kc_call(op, aPtr, aLen, bPtr, bLen, cPtr, cLen) >>> 0;
    const p = ex.kc_result_ptr();
    return decoder.decode(view().subarray(p, p + len));
  }

  function call(op, a, b, failure, c = null) {
    let text;
    try {
      text = callText(op, a, b, c);
    } catch (error) {
      // A trap (or an allocation failure) leaves the instance in an unknown state: start afresh.
      recover();
      return failure(internalIssue(op, error));
    }
    try {
      return parse(text);
    } catch {
      // (the parser's own message would quote the text, which may hold the password)
      return failure(internalIssue(op, 'the result is not valid JSON'));
    }
  }

  function recover() {
    ex = null;
    memory = null;
    heap = new Uint8Array(0);
    try {
      if (module !== null) instantiate();
    } catch {
      // instantiate again on the next call
      ex = null;
    }
  }

  function constant(op) {
    let text = cached.get(op);
    if (text === undefined) {
      try {
        text = callText(op, null, null, null);
      } catch (error) {
        recover();
        throw new Error('kinesis-connector: the wasm module failed (' + describe(error) + ')');
      }
      cached.set(op, text);
    }
    return parse(text);
  }

  const arg = (value) => toText(value);
  const optionalContext = (context) => (context === undefined ? null : toText(context));

  function jsonText(op, text, context) {
    if (typeof text !== 'string') return validationFailure(textTypeIssue(text));
    return call(op, text, optionalContext(context), validationFailure);
  }

  return {
    validateCreate: (input, context) =>
      call(OP_VALIDATE_CREATE, arg(input), optionalContext(context), validationFailure),
    validateUpdate: (input, context) =>
      call(OP_VALIDATE_UPDATE, arg(input), optionalContext(context), validationFailure),
    validateCreateJson: (text, context) => jsonText(OP_VALIDATE_CREATE_JSON, text, context),
    validateUpdateJson: (text, context) => jsonText(OP_VALIDATE_UPDATE_JSON, text, context),
    normalizeCreate: (input) => call(OP_NORMALIZE_CREATE, arg(input), null, normalizeFailure),
    normalizeUpdate: (input) => call(OP_NORMALIZE_UPDATE, arg(input), null, normalizeFailure),
    diff: (saved, desired, context) =>
      call(OP_DIFF, arg(saved), arg(desired), diffFailure, optionalContext(context)),
    applyUpdate: (saved, update) =>
      call(OP_APPLY_UPDATE, arg(saved), arg(update), validationFailure),
    regions: () => constant(OP_REGIONS),
    createSchema: () => constant(OP_CREATE_SCHEMA),
    updateSchema: () => constant(OP_UPDATE_SCHEMA),
  };
}

// ---------------------------------------------------------------------------------------------
// Results made on the JS side (never on the hot path)

function describe(error) {
  if (typeof error === 'string') return error;
  try {
    return error && typeof error.message === 'string' ? error.message : String(error);
  } catch {
    return 'unknown error';
  }
}

function internalIssue(op, error) {
  return {
    severity: 'error',
    code: 'input.internal',
    path: '',
    message:
      'kinesis-connector failed unexpectedly in ' + (OP_NAMES[op] || 'op ' + op) + ' (' + describe(error) +
      '); this is a bug, please report it.',
    params: {},
  };
}

function jsTypeName(value) {
  if (value === null) return 'null';
  if (isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'number' && !Number.isFinite(value)) return value !== value ? 'NaN' : 'Infinity';
  return t;
}

function textTypeIssue(text) {
  const actual = jsTypeName(text);
  return {
    severity: 'error',
    code: 'input.type',
    path: '',
    message: 'The JSON text must be a string, not ' + (actual === 'array' ? 'an array' : actual === 'object' || actual === 'undefined' ? 'an ' + actual : 'a ' + actual) + '.',
    params: { expected: 'string', actual },
  };
}

function validationFailure(issue) {
  return { valid: false, errors: [issue], warnings: [] };
}

// NormalizeResult has no issue list; the internal error rides along as an extra `errors` field.
function normalizeFailure(issue) {
  return { value: null, changes: [], errors: [issue] };
}

function diffFailure(issue) {
  return { valid: false, errors: [issue], warnings: [], action: 'none', update: {}, changes: [], requests: [] };
}

export { createKinesisConnector };
