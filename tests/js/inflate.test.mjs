// The package's synchronous DEFLATE decoder (pkg/src/inflate.js), which browsers use to unpack
// the inlined wasm, against Node's zlib on every block type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { inflateRaw } from '../../pkg/src/inflate.js';

/** Bytes zlib cannot compress (xorshift32), so it stores them: stored blocks after coded ones. */
function noise(n, seed) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    out[i] = seed & 0xff;
  }
  return out;
}
const text = Buffer.from('{"type":"aws-kinesis","id":"dc.kinesis.1"}'.repeat(500));

const samples = {
  wasm: readFileSync(new URL('../../pkg/kinesis_connector.wasm', import.meta.url)),
  text: Buffer.from('{"type":"aws-kinesis","id":"dc.kinesis.1"}'.repeat(500)),
  random: Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 2654435761) >>> 24)),
  empty: Buffer.alloc(0),
  one: Buffer.from('x'),
  'text, noise, text, noise': Buffer.concat([text, noise(40000, 7), text, noise(3, 9), text, noise(70000, 11)]),
};
const settings = {
  'level 9 (dynamic blocks)': { level: 9 },
  'level 1': { level: 1 },
  'level 0 (stored blocks)': { level: 0 },
  'fixed Huffman codes': { strategy: zlib.constants.Z_FIXED },
  'Huffman only': { strategy: zlib.constants.Z_HUFFMAN_ONLY },
  'run-length': { strategy: zlib.constants.Z_RLE },
};

for (const [name, data] of Object.entries(samples)) {
  for (const [label, options] of Object.entries(settings)) {
    test(`inflateRaw: ${name}, ${label}`, () => {
      const deflated = zlib.deflateRawSync(data, options);
      assert.deepEqual(Buffer.from(inflateRaw(deflated, data.length)), data);
    });
  }
}

test('inflateRaw rejects truncated and corrupt input instead of returning wrong bytes', () => {
  const data = samples.wasm;
  const deflated = zlib.deflateRawSync(data, { level: 9 });
  assert.throws(() => inflateRaw(deflated.subarray(0, deflated.length >> 1), data.length));
  assert.throws(() => inflateRaw(deflated, data.length + 1), /short/);
  assert.throws(() => inflateRaw(deflated, data.length - 1));
  assert.throws(() => inflateRaw(Uint8Array.of(0xff, 0xff, 0xff), 10));
});
