// A small synchronous DEFLATE (RFC 1951) decoder, after zlib's "puff". The package inlines the
// wasm deflated (base64 of deflated bytes gzips to about the deflated size, where base64 of the
// raw bytes gzips a third larger), and browsers have no synchronous inflate of their own.
// In Node the glue prefers zlib.inflateRawSync; this runs in browsers.

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

const FAST_BITS = 9;

/**
 * Canonical Huffman code from code lengths: counts per length and symbols in code order (for
 * the bit-by-bit decoder), and a table of the codes up to FAST_BITS long, indexed by the next
 * FAST_BITS input bits (entry = symbol << 4 | length, or -1 for longer codes).
 */
function huffman(lengths, n) {
  const count = new Uint16Array(16);
  const symbol = new Uint16Array(n);
  for (let i = 0; i < n; i++) count[lengths[i]]++;
  count[0] = 0;
  const offset = new Uint16Array(16);
  for (let len = 1; len < 16; len++) offset[len] = offset[len - 1] + count[len - 1];
  for (let i = 0; i < n; i++) if (lengths[i] !== 0) symbol[offset[lengths[i]]++] = i;
  const fast = new Int32Array(1 << FAST_BITS).fill(-1);
  const next = new Uint16Array(16);
  for (let len = 1, code = 0; len < 16; len++) {
    code = (code + count[len - 1]) << 1;
    next[len] = code;
  }
  for (let i = 0; i < n; i++) {
    const len = lengths[i];
    if (len === 0) continue;
    const code = next[len]++;
    if (len > FAST_BITS) continue;
    let reversed = 0;
    for (let b = 0; b < len; b++) reversed |= ((code >> b) & 1) << (len - 1 - b);
    for (let j = reversed; j < 1 << FAST_BITS; j += 1 << len) fast[j] = (i << 4) | len;
  }
  return { count, symbol, fast };
}

/** Inflates raw DEFLATE data into exactly `size` bytes; throws on malformed input. */
function inflateRaw(input, size) {
  const out = new Uint8Array(size);
  let op = 0;
  let ip = 0;
  let bitBuffer = 0;
  let bitCount = 0;

  function bits(n) {
    while (bitCount < n) {
      if (ip >= input.length) throw new Error('inflate: input ends early');
      bitBuffer |= input[ip++] << bitCount;
      bitCount += 8;
    }
    const value = bitBuffer & ((1 << n) - 1);
    bitBuffer >>>= n;
    bitCount -= n;
    return value;
  }

  function decode(h) {
    // Fast path: peek FAST_BITS (zero-padded past the end of the input) and look the code up.
    while (bitCount < FAST_BITS && ip < input.length) {
      bitBuffer |= input[ip++] << bitCount;
      bitCount += 8;
    }
    const entry = h.fast[bitBuffer & ((1 << FAST_BITS) - 1)];
    if (entry >= 0 && (entry & 15) <= bitCount) {
      bitBuffer >>>= entry & 15;
      bitCount -= entry & 15;
      return entry >> 4;
    }
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len < 16; len++) {
      code |= bits(1);
      const count = h.count[len];
      if (code - count < first) return h.symbol[index + (code - first)];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('inflate: bad code');
  }

  function codes(lencode, distcode) {
    for (;;) {
      let symbol = decode(lencode);
      if (symbol < 256) {
        if (op >= size) throw new Error('inflate: output too long');
        out[op++] = symbol;
      } else if (symbol === 256) {
        return;
      } else {
        symbol -= 257;
        if (symbol >= 29) throw new Error('inflate: bad length');
        const len = LENGTH_BASE[symbol] + bits(LENGTH_EXTRA[symbol]);
        const d = decode(distcode);
        if (d >= 30) throw new Error('inflate: bad distance');
        const dist = DIST_BASE[d] + bits(DIST_EXTRA[d]);
        if (dist > op || op + len > size) throw new Error('inflate: bad back-reference');
        if (dist >= len) {
          out.copyWithin(op, op - dist, op - dist + len);
          op += len;
        } else {
          for (let i = 0; i < len; i++, op++) out[op] = out[op - dist];
        }
      }
    }
  }

  let fixed = null;
  let last;
  do {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      bitBuffer = 0;
      bitCount = 0;
      if (ip + 4 > input.length) throw new Error('inflate: input ends early');
      const len = input[ip] | (input[ip + 1] << 8);
      ip += 4;
      if (ip + len > input.length || op + len > size) throw new Error('inflate: bad stored block');
      out.set(input.subarray(ip, ip + len), op);
      ip += len;
      op += len;
    } else if (type === 1) {
      if (fixed === null) {
        const lengths = new Uint8Array(288 + 30);
        lengths.fill(8, 0, 144);
        lengths.fill(9, 144, 256);
        lengths.fill(7, 256, 280);
        lengths.fill(8, 280, 288);
        lengths.fill(5, 288);
        fixed = [huffman(lengths, 288), huffman(lengths.subarray(288), 30)];
      }
      codes(fixed[0], fixed[1]);
    } else if (type === 2) {
      const nlen = bits(5) + 257;
      const ndist = bits(5) + 1;
      const ncode = bits(4) + 4;
      const lengths = new Uint8Array(320);
      for (let i = 0; i < ncode; i++) lengths[CODE_LENGTH_ORDER[i]] = bits(3);
      const lencode = huffman(lengths, 19);
      lengths.fill(0);
      let i = 0;
      while (i < nlen + ndist) {
        const symbol = decode(lencode);
        if (symbol < 16) {
          lengths[i++] = symbol;
          continue;
        }
        let repeat;
        let value = 0;
        if (symbol === 16) {
          if (i === 0) throw new Error('inflate: repeat with no previous length');
          value = lengths[i - 1];
          repeat = 3 + bits(2);
        } else if (symbol === 17) {
          repeat = 3 + bits(3);
        } else {
          repeat = 11 + bits(7);
        }
        if (i + repeat > nlen + ndist) throw new Error('inflate: too many lengths');
        while (repeat--) lengths[i++] = value;
      }
      codes(huffman(lengths, nlen), huffman(lengths.subarray(nlen), ndist));
    } else {
      throw new Error('inflate: bad block type');
    }
  } while (!last);
  if (op !== size) throw new Error('inflate: output too short');
  return out;
}

export { inflateRaw };
