#!/usr/bin/env node
// Builds the npm entry points from the compiled core:
//   pkg/kinesis_connector.wasm + pkg/kinesis_connector_bg.js (wasm-bindgen's bindings) +
//   pkg/src/api.js -> pkg/index.mjs (ESM), pkg/index.cjs (CJS), the wasm inlined: browsers, bundlers;
//   the same without the inlined wasm -> pkg/index.node.mjs, pkg/index.node.cjs: Node, which reads
//   pkg/kinesis_connector.wasm beside them;
//   pkg/index.d.ts -> pkg/index.d.cts (the same declarations, seen from `require`).
// The .wasm is inlined (deflated, base64) so the package needs no fetch, no top-level await and
// no bundler plugin; it is unpacked and compiled synchronously on the first call (browsers warm
// it up asynchronously while the page starts).
//
// The exported functions follow the module itself: its `operations()` lists the operations of
// src/ops.rs, and the build fails when wasm-bindgen's bindings or src/api.js disagree with it.
//
// Usage: node pkg/build.mjs [path/to/kinesis_connector.wasm]

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wasmPath = resolve(process.argv[2] ?? join(here, 'kinesis_connector.wasm'));

let wasm;
try {
  wasm = readFileSync(wasmPath);
} catch (error) {
  console.error(`build.mjs: cannot read ${wasmPath} (${error.code ?? error.message}); run \`make wasm\` first`);
  process.exit(1);
}
if (!WebAssembly.validate(wasm)) {
  console.error(`build.mjs: ${wasmPath} is not a valid WebAssembly module`);
  process.exit(1);
}

function fail(message) {
  console.error(`build.mjs: ${message}`);
  process.exit(1);
}

// wasm-bindgen's generated bindings (`--target web`), used as generated: only its `export`
// keywords and its asynchronous loader (fetch, `import.meta.url`) are left out, and the rest is
// wrapped in a function so each call makes a fresh instance with its own state (after a trap).
const bindgenPath = join(dirname(wasmPath), 'kinesis_connector_bg.js');
let bindgen;
try {
  bindgen = readFileSync(bindgenPath, 'utf8');
} catch (error) {
  fail(`cannot read ${bindgenPath} (${error.code ?? error.message}); run \`make wasm\` first`);
}
function cut(text, from, to, what) {
  const start = text.indexOf(from);
  const end = to === null ? text.length : text.indexOf(to, start);
  if (start === -1 || end === -1) fail(`wasm-bindgen's output has no ${what} (${JSON.stringify(from)}); was it generated with --target web?`);
  return text.slice(0, start) + text.slice(end);
}
bindgen = bindgen.replace(/^\/\* @ts-self-types=.*\*\/\n/m, '');
bindgen = cut(bindgen, 'async function __wbg_load(', 'function initSync(', 'asynchronous loader');
bindgen = cut(bindgen, 'let __wbg_init_promise;', null, 'asynchronous init');
/** Puts `lines` before the one place `at` is in the generated glue; fails when it is not there once. */
function patch(at, lines, what) {
  if (bindgen.split(at).length !== 2) fail(`wasm-bindgen's ${what} is not where pkg/build.mjs patches it (a new version?)`);
  bindgen = bindgen.replace(at, lines.map((line) => '\n    ' + line).join('') + at);
}
// Two changes to the generated code, measured (ARCHITECTURE.md, "The wasm binding"). Its string
// copy writes an ASCII string into memory one char at a time in JS (459 ns for a 262-char
// connector in Node 20, a fifth of a validation); one native encodeInto does it in 75 ns. An
// ASCII string is all read with as many bytes written (one byte a char, into a view of its
// length), and anything else takes the generated path from the start. Node's entries copy in
// with Buffer's latin1Write and read the module's strings with its utf8Slice (154 vs 287 ns for
// TextDecoder on a 200-byte result); the browser entries keep TextDecoder (`nodeStrings` is null).
patch(
  '\n    for (; offset < len; offset++) {\n        const code = arg.charCodeAt(offset);',
  [
    '// pkg/build.mjs: the ASCII copy in one native call (ARCHITECTURE.md, "The wasm binding").',
    'if (nodeStrings !== null ? nodeStrings.ascii(arg, mem, ptr, len)',
    '    : cachedTextEncoder.encodeInto(arg, mem.subarray(ptr, ptr + len)).read === len) offset = len;',
  ],
  "passStringToWasm0's ASCII copy loop",
);
patch(
  '\n    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));',
  [
    '// pkg/build.mjs: Node reads the UTF-8 with Buffer (ARCHITECTURE.md, "The wasm binding").',
    'if (nodeStrings !== null) return nodeStrings.utf8(getUint8ArrayMemory0(), ptr, ptr + len);',
  ],
  "getStringFromWasm0's decodeText call",
);
const generated = [...bindgen.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1]);
bindgen = bindgen.replace(/^export function /gm, 'function ');
if (/\bexport\b|import\.meta/.test(bindgen.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''))) {
  fail('wasm-bindgen\'s output still has an export or import.meta after the loader was taken out');
}
const factory =
  '// wasm-bindgen\'s bindings for src/wasm.rs. GENERATED by wasm-bindgen (--target web, via\n' +
  '// scripts/build-wasm.sh); pkg/build.mjs left out its async loader and wrapped it in this function.\n' +
  'function wasmBindings(module) {\n' +
  bindgen.trim() +
  '\n  initSync({ module });\n' +
  // readString: the generated UTF-8 reader, for the strings a compact answer points at.
  `  return { ${generated.join(', ')}, memory: wasm.memory, readString: getStringFromWasm0 };\n` +
  '}\n';

// The module's own list of operations (src/ops.rs) and its compact strings (src/compact.rs),
// through the bindings themselves.
let compactStrings;
const ops = (() => {
  let bindings;
  try {
    bindings = new Function('module', 'const nodeStrings = null;\n' + factory + '\nreturn wasmBindings(module);')(new WebAssembly.Module(wasm));
  } catch (error) {
    fail(`the bindings do not instantiate the module: ${error.message}`);
  }
  if (typeof bindings.operations !== 'function') fail('the module does not export `operations`');
  compactStrings = bindings.compactStrings().split('\n');
  return bindings.operations().split('\n').filter(Boolean);
})();
/** Functions of the package beyond the operations: the Standard Schema validators and locate. */
const EXTRA = ['createValidator', 'updateValidator', 'locate'];
const API = [...ops, ...EXTRA];

const apiSource = readFileSync(join(here, 'src', 'api.js'), 'utf8');
const exportLine = /^export \{ createKinesisConnector \};\s*$/m;
if (!exportLine.test(apiSource)) fail('src/api.js must end with `export { createKinesisConnector };`');
const api = apiSource.replace(exportLine, '').trimEnd();
{
  // Each op is generated by wasm-bindgen and wrapped in src/api.js; the API names nothing else.
  const code = api.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const name of ops) {
    if (!generated.includes(name)) fail(`wasm-bindgen generated no function ${name} for the module's op`);
    if (!new RegExp(`^\\s*${name}: `, 'm').test(code)) fail(`src/api.js has no function ${name} for the module's op`);
  }
  for (const name of EXTRA) {
    if (!new RegExp(`^\\s*(api\\.)?${name}( =|:) `, 'm').test(code)) fail(`src/api.js defines no ${name}`);
  }
  const block = code.slice(code.indexOf('const api = {'), code.indexOf('\n  };', code.indexOf('const api = {')));
  const wrapped = [...block.matchAll(/^ {4}(\w+): /gm)].map((m) => m[1]);
  for (const name of wrapped) {
    if (!API.includes(name)) fail(`src/api.js wraps ${name}, which the module does not list`);
  }
  // keyIndex's cases are the keys the module numbers: the first lines of its compact strings.
  const body = code.slice(code.indexOf('function keyIndex('), code.indexOf('\n}', code.indexOf('function keyIndex(')));
  const cases = [...body.matchAll(/case '([^']*)': return (\d+);/g)];
  if (cases.length === 0) fail('src/api.js has no keyIndex cases');
  cases.forEach(([, key, index], i) => {
    if (+index !== i || compactStrings[i] !== key) {
      fail(`src/api.js keyIndex gives '${key}' ${index}, where the module's compact strings have '${compactStrings[i]}' at ${i}`);
    }
  });
}
// Browsers that call before the warm-up has unpacked the module inflate synchronously with
// fflate's inflateSync (npm `fflate`, bundled in here with esbuild: no runtime dependency).
// Measured against the hand-written inflater it replaced: the same time for this module (medians
// of 9 fresh Node processes, 35 vs 34 ms on the loaded 2-core machine) for 0.35 KB more gzipped.
let inflate;
let esbuild;
try {
  esbuild = await import('esbuild');
  const bundled = esbuild.buildSync({
    stdin: { contents: "export { inflateSync } from 'fflate';", resolveDir: here, loader: 'js' },
    nodePaths: [join(here, '..', 'node_modules')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    globalName: 'fflate',
    platform: 'browser',
    logLevel: 'silent',
  });
  // Wrapped in a function: fflate builds its Huffman tables when its module runs, which at
  // import time cost every importer (Node too) several milliseconds of cold start.
  const code = bundled.outputFiles[0].text.trim();
  if (!/^var fflate\s*=/.test(code)) fail('esbuild did not write the fflate bundle as `var fflate = ...`');
  inflate =
    '// fflate (MIT), inflateSync only, bundled by pkg/build.mjs; run only when it is needed.\n' +
    'function loadFflate() {\n' + code.replace(/^var fflate\s*=/, 'return') + '\n}';
} catch (error) {
  fail(`cannot bundle fflate's inflateSync (${error.message}); run \`npm ci\``);
}


// Deflated, then base64: gzip takes base64 of deflated bytes back to about the deflated size,
// where base64 of the raw module gzips a third larger than the module itself. Deflated with
// zopfli (npm `@gfx/zopfli`, a build-time dependency only): plain DEFLATE that zlib, fflate and
// `DecompressionStream` unpack as before, 2.9 KB smaller than zlib's level 9 for ~1.2 s more
// per build (ARCHITECTURE.md, "Package performance"). Checked by inflating it back.
let deflated;
try {
  const zopfli = (await import('@gfx/zopfli')).default;
  deflated = Buffer.from(await zopfli.deflateAsync(wasm, { numiterations: 15 }));
} catch (error) {
  fail(`cannot deflate the module with @gfx/zopfli (${error.message}); run \`npm ci\``);
}
if (!inflateRawSync(deflated).equals(wasm)) fail('the deflated module does not inflate back to the module');
const base64 = deflated.toString('base64');
const header = (format) =>
  `// kinesis-connector ${format} entry. GENERATED by pkg/build.mjs from pkg/src/api.js, wasm-bindgen's bindings,\n` +
  `// fflate's inflateSync (MIT, Copyright (c) Arjun Barrett) and the compiled core (${wasm.length} bytes of wasm,\n` +
  '// deflated and inlined as base64), minified with esbuild. Do not edit: the sources are in the repository.\n';

const loader = `
${inflate}

// Node's faster string copies are for Node's entries only (see index.node.mjs).
const nodeStrings = null;

const WASM_SIZE = ${wasm.length};
const WASM_DEFLATED_BASE64 =
  '${base64}';

function isNode() {
  return typeof process === 'object' && process !== null && typeof process.getBuiltinModule === 'function' &&
    typeof Buffer === 'function' && typeof Buffer.from === 'function';
}

function deflatedBytes() {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(WASM_DEFLATED_BASE64);
  const s = atob(WASM_DEFLATED_BASE64);
  const deflated = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) deflated[i] = s.charCodeAt(i);
  return deflated;
}

function wasmBytes() {
  // Node: Buffer and zlib are the fastest. Browsers: Uint8Array.fromBase64 or atob, then fflate.
  if (isNode()) {
    const zlib = process.getBuiltinModule('node:zlib');
    const b = zlib.inflateRawSync(Buffer.from(WASM_DEFLATED_BASE64, 'base64'));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  return loadFflate().inflateSync(deflatedBytes(), { out: new Uint8Array(WASM_SIZE) });
}

// Browsers: unpack with the native DecompressionStream and compile off the main thread while
// the page starts, so the first call usually finds the module ready (the synchronous path above
// stays the fallback). Node unpacks with zlib on the first call instead, in about a millisecond.
function warmUp() {
  if (isNode() || typeof DecompressionStream !== 'function' || typeof Response !== 'function' ||
      typeof Blob !== 'function' || typeof WebAssembly.compile !== 'function') {
    return null;
  }
  const stream = new Blob([deflatedBytes()]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).arrayBuffer().then((bytes) => WebAssembly.compile(bytes));
}

let compiled = null;
const pending = warmUp();
if (pending !== null) {
  pending.then((module) => {
    if (compiled === null) compiled = module;
  }, () => {});
}

/** Fresh bindings over the module, compiled synchronously unless the warm-up finished first. */
function bind() {
  if (compiled === null) compiled = new WebAssembly.Module(wasmBytes());
  return wasmBindings(compiled);
}

const api = /*#__PURE__*/ createKinesisConnector(bind);
`;

// Node's entries (package.json's "node" condition): the module is the .wasm file beside the
// entry, read and compiled synchronously on the first call. Measured against the inlined entry
// in fresh Node processes (ARCHITECTURE.md, "Package performance"): no 70 KB base64 literal to
// parse at import, no base64 decoding and no inflating. A Node bundle that leaves the file
// behind gets a clear input.internal issue from every call instead of a throw.
const nodeLoader = (readFile, where) => `
let compiled = null;

// Strings in and out of the module with Buffer's native copies (ARCHITECTURE.md, "The wasm
// binding"): an ASCII string (its UTF-8 length is its length) in one latin1Write, which
// measured 195 ns against 277 for encodeInto on a 260-character connector; results with
// utf8Slice, 154 against 287 ns for TextDecoder on 200 bytes (Node 20).
const nodeStrings = (() => {
  const { byteLength, prototype } = Buffer;
  const { latin1Write, utf8Slice } = prototype;
  return {
    ascii(s, mem, ptr, len) {
      if (byteLength(s) !== len) return false;
      latin1Write.call(mem, s, ptr, len);
      return true;
    },
    utf8: (mem, start, end) => utf8Slice.call(mem, start, end),
  };
})();

function bind() {
  if (compiled === null) {
    let bytes;
    try {
      bytes = ${readFile}(${where});
    } catch (error) {
      throw new Error('cannot read kinesis_connector.wasm beside the package entry (' + (error.code ?? error.message) +
        '); a bundle for Node must copy it next to itself, or resolve the package without the "node" condition');
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return wasmBindings(compiled);
}

const api = /*#__PURE__*/ createKinesisConnector(bind);
`;

// Minified (esbuild: whitespace, syntax, local names; the exported names stay): the entry is
// what a browser downloads, and the comments and layout of the sources were 4.8 KB of it
// gzipped (measured). A bundler drops the whole entry when nothing of it is imported
// (package.json says `"sideEffects": false`).
function minify(code, format) {
  try {
    return esbuild.transformSync(code, { minify: true, format, legalComments: 'none', logLevel: 'silent' }).code;
  } catch (error) {
    fail(`esbuild could not minify the ${format} entry (${error.message})`);
  }
}

const esm =
  header('ESM') +
  minify(
    factory +
      '\n' +
      api +
      '\n' +
      loader +
      '\n' +
      API.map((name) => `export const ${name} = api.${name};`).join('\n') +
      '\n',
    'esm',
  );

const cjs =
  header('CommonJS') +
  minify(
    "'use strict';\n\n" +
      factory +
      '\n' +
      api +
      '\n' +
      loader +
      '\n' +
      API.map((name) => `exports.${name} = api.${name};`).join('\n') +
      '\n',
    'cjs',
  );

const nodeHeader = (format) =>
  `// kinesis-connector ${format} entry for Node. GENERATED by pkg/build.mjs from pkg/src/api.js and wasm-bindgen's\n` +
  '// bindings, minified with esbuild; it reads kinesis_connector.wasm beside it. Do not edit: the sources are in\n' +
  '// the repository.\n';

const nodeEsm =
  nodeHeader('ESM') +
  minify(
    // process.getBuiltinModule, not \`import ... from 'node:fs'\`: the static import of a
    // built-in costs 1.3 ms at import (Node 20; measured), getBuiltinModule 0.03 ms.
    "function readWasm(url) {\n" +
      "  if (typeof process.getBuiltinModule !== 'function') throw new Error('Node.js 20.16 or later is needed, this is ' + process.version);\n" +
      "  return process.getBuiltinModule('node:fs').readFileSync(url);\n" +
      '}\n\n' +
      factory +
      '\n' +
      api +
      '\n' +
      nodeLoader('readWasm', "new URL('./kinesis_connector.wasm', import.meta.url)") +
      '\n' +
      API.map((name) => `export const ${name} = api.${name};`).join('\n') +
      '\n',
    'esm',
  );

const nodeCjs =
  nodeHeader('CommonJS') +
  minify(
    "'use strict';\n\n" +
      factory +
      '\n' +
      api +
      '\n' +
      nodeLoader("require('node:fs').readFileSync", "require('node:path').join(__dirname, 'kinesis_connector.wasm')") +
      '\n' +
      API.map((name) => `exports.${name} = api.${name};`).join('\n') +
      '\n',
    'cjs',
  );

// Write-then-rename, so a reader (a test packing the package) never sees a half-written file.
function writeAtomic(name, text) {
  const tmp = join(here, `.${name}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, join(here, name));
}

writeAtomic('index.mjs', esm);
writeAtomic('index.cjs', cjs);
writeAtomic('index.node.mjs', nodeEsm);
writeAtomic('index.node.cjs', nodeCjs);
// Node's entries read the module beside them: the package ships the very bytes inlined above.
if (wasmPath !== join(here, 'kinesis_connector.wasm')) {
  const tmp = join(here, `.kinesis_connector.wasm.${process.pid}.tmp`);
  writeFileSync(tmp, wasm);
  renameSync(tmp, join(here, 'kinesis_connector.wasm'));
}
writeAtomic(
  'index.d.cts',
  '// GENERATED by pkg/build.mjs: a copy of index.d.ts for `require` consumers. Edit index.d.ts.\n' +
    readFileSync(join(here, 'index.d.ts'), 'utf8'),
);
console.log(
  `build.mjs: wrote index.mjs (${esm.length} B), index.cjs (${cjs.length} B), index.node.mjs (${nodeEsm.length} B), ` +
    `index.node.cjs (${nodeCjs.length} B), index.d.cts from ${wasmPath} (${wasm.length} B)`,
);
