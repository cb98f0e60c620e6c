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

/** Reads `n` bits (careful path: checks the end of the input). */
function bits(s, n) {
  const input = s.input;
  while (s.bitCount < n) {
    if (s.ip >= input.length) throw new Error('inflate: input ends early');
    s.bitBuffer |= input[s.ip++] << s.bitCount;
    s.bitCount += 8;
  }
  const value = s.bitBuffer & ((1 << n) - 1);
  s.bitBuffer >>>= n;
  s.bitCount -= n;
  return value;
}

/** Decodes one symbol of `h` (careful path: near the end of the input, or a long code). */
function decode(s, h) {
  const input = s.input;
  // Peek FAST_BITS (zero-padded past the end of the input) and look the code up.
  while (s.bitCount < FAST_BITS && s.ip < input.length) {
    s.bitBuffer |= input[s.ip++] << s.bitCount;
    s.bitCount += 8;
  }
  const entry = h.fast[s.bitBuffer & ((1 << FAST_BITS) - 1)];
  if (entry >= 0 && (entry & 15) <= s.bitCount) {
    s.bitBuffer >>>= entry & 15;
    s.bitCount -= entry & 15;
    return entry >> 4;
  }
  let code = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len < 16; len++) {
    code |= bits(s, 1);
    const count = h.count[len];
    if (code - count < first) return h.symbol[index + (code - first)];
    index += count;
    first = (first + count) << 1;
    code <<= 1;
  }
  throw new Error('inflate: bad code');
}

/**
 * Decodes one block's literals and back-references. The hot loop keeps the bit buffer in local
 * variables (no closures: a browser runs this once, cold, so every interpreted step counts) and
 * takes codes of up to FAST_BITS from the tables while at least 4 input bytes remain; anything
 * else goes through the careful `decode` / `bits` with the state written back to `s`.
 */
function codes(s, lencode, distcode) {
  const input = s.input;
  const inLength = input.length;
  const out = s.out;
  const size = out.length;
  const lengthFast = lencode.fast;
  const distFast = distcode.fast;
  const mask = (1 << FAST_BITS) - 1;
  let ip = s.ip;
  let op = s.op;
  let buffer = s.bitBuffer;
  let count = s.bitCount;
  for (;;) {
    let symbol;
    let entry = -1;
    if (ip + 4 <= inLength) {
      while (count < 24) {
        buffer |= input[ip++] << count;
        count += 8;
      }
      entry = lengthFast[buffer & mask];
    }
    if (entry >= 0) {
      buffer >>>= entry & 15;
      count -= entry & 15;
      symbol = entry >> 4;
    } else {
      s.ip = ip; s.bitBuffer = buffer; s.bitCount = count;
      symbol = decode(s, lencode);
      ip = s.ip; buffer = s.bitBuffer; count = s.bitCount;
    }
    if (symbol < 256) {
      if (op >= size) throw new Error('inflate: output too long');
      out[op++] = symbol;
      continue;
    }
    if (symbol === 256) break;
    symbol -= 257;
    if (symbol >= 29) throw new Error('inflate: bad length');
    const lengthExtra = LENGTH_EXTRA[symbol];
    let len = LENGTH_BASE[symbol];
    if (count >= lengthExtra) {
      len += buffer & ((1 << lengthExtra) - 1);
      buffer >>>= lengthExtra;
      count -= lengthExtra;
    } else {
      s.ip = ip; s.bitBuffer = buffer; s.bitCount = count;
      len += bits(s, lengthExtra);
      ip = s.ip; buffer = s.bitBuffer; count = s.bitCount;
    }
    let d;
    entry = -1;
    if (ip + 4 <= inLength) {
      while (count < 24) {
        buffer |= input[ip++] << count;
        count += 8;
      }
      entry = distFast[buffer & mask];
    }
    if (entry >= 0) {
      buffer >>>= entry & 15;
      count -= entry & 15;
      d = entry >> 4;
    } else {
      s.ip = ip; s.bitBuffer = buffer; s.bitCount = count;
      d = decode(s, distcode);
      ip = s.ip; buffer = s.bitBuffer; count = s.bitCount;
    }
    if (d >= 30) throw new Error('inflate: bad distance');
    const distExtra = DIST_EXTRA[d];
    let dist = DIST_BASE[d];
    if (count >= distExtra) {
      dist += buffer & ((1 << distExtra) - 1);
      buffer >>>= distExtra;
      count -= distExtra;
    } else {
      s.ip = ip; s.bitBuffer = buffer; s.bitCount = count;
      dist += bits(s, distExtra);
      ip = s.ip; buffer = s.bitBuffer; count = s.bitCount;
    }
    if (dist > op || op + len > size) throw new Error('inflate: bad back-reference');
    if (dist >= len) {
      out.copyWithin(op, op - dist, op - dist + len);
      op += len;
    } else {
      for (let i = 0; i < len; i++, op++) out[op] = out[op - dist];
    }
  }
  s.ip = ip;
  s.op = op;
  s.bitBuffer = buffer;
  s.bitCount = count;
}

/** Inflates raw DEFLATE data into exactly `size` bytes; throws on malformed input. */
function inflateRaw(input, size) {
  const s = { input, out: new Uint8Array(size), ip: 0, op: 0, bitBuffer: 0, bitCount: 0 };
  let fixed = null;
  let last;
  do {
    last = bits(s, 1);
    const type = bits(s, 2);
    if (type === 0) {
      // A stored block starts at a byte boundary: drop the partial byte, and give back whole
      // bytes the bit buffer had already taken from the input.
      s.ip -= s.bitCount >> 3;
      s.bitBuffer = 0;
      s.bitCount = 0;
      const ip = s.ip;
      if (ip + 4 > input.length) throw new Error('inflate: input ends early');
      const len = input[ip] | (input[ip + 1] << 8);
      s.ip = ip + 4;
      if (s.ip + len > input.length || s.op + len > size) throw new Error('inflate: bad stored block');
      s.out.set(input.subarray(s.ip, s.ip + len), s.op);
      s.ip += len;
      s.op += len;
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
      codes(s, fixed[0], fixed[1]);
    } else if (type === 2) {
      const nlen = bits(s, 5) + 257;
      const ndist = bits(s, 5) + 1;
      const ncode = bits(s, 4) + 4;
      const lengths = new Uint8Array(320);
      for (let i = 0; i < ncode; i++) lengths[CODE_LENGTH_ORDER[i]] = bits(s, 3);
      const lencode = huffman(lengths, 19);
      lengths.fill(0);
      let i = 0;
      while (i < nlen + ndist) {
        const symbol = decode(s, lencode);
        if (symbol < 16) {
          lengths[i++] = symbol;
          continue;
        }
        let repeat;
        let value = 0;
        if (symbol === 16) {
          if (i === 0) throw new Error('inflate: repeat with no previous length');
          value = lengths[i - 1];
          repeat = 3 + bits(s, 2);
        } else if (symbol === 17) {
          repeat = 3 + bits(s, 3);
        } else {
          repeat = 11 + bits(s, 7);
        }
        if (i + repeat > nlen + ndist) throw new Error('inflate: too many lengths');
        while (repeat--) lengths[i++] = value;
      }
      codes(s, huffman(lengths, nlen), huffman(lengths.subarray(nlen), ndist));
    } else {
      throw new Error('inflate: bad block type');
    }
  } while (!last);
  if (s.op !== size) throw new Error('inflate: output too short');
  return s.out;
}

export { inflateRaw };
