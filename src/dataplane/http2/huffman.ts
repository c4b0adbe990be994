import { HpackError } from "./hpack_error.ts";

// The Huffman code of RFC 7541 Appendix B: `code, bit length` for symbols 0–255 and EOS
// (256), in symbol order. It is canonical (codes ascend with (length, symbol)).
// deno-fmt-ignore
const CODE_TABLE = [
  0x1ff8, 13, 0x7fffd8, 23, 0xfffffe2, 28, 0xfffffe3, 28, // 0–3
  0xfffffe4, 28, 0xfffffe5, 28, 0xfffffe6, 28, 0xfffffe7, 28, // 4–7
  0xfffffe8, 28, 0xffffea, 24, 0x3ffffffc, 30, 0xfffffe9, 28, // 8–11
  0xfffffea, 28, 0x3ffffffd, 30, 0xfffffeb, 28, 0xfffffec, 28, // 12–15
  0xfffffed, 28, 0xfffffee, 28, 0xfffffef, 28, 0xffffff0, 28, // 16–19
  0xffffff1, 28, 0xffffff2, 28, 0x3ffffffe, 30, 0xffffff3, 28, // 20–23
  0xffffff4, 28, 0xffffff5, 28, 0xffffff6, 28, 0xffffff7, 28, // 24–27
  0xffffff8, 28, 0xffffff9, 28, 0xffffffa, 28, 0xffffffb, 28, // 28–31
  0x14, 6, 0x3f8, 10, 0x3f9, 10, 0xffa, 12, // 32–'#'
  0x1ff9, 13, 0x15, 6, 0xf8, 8, 0x7fa, 11, // '$'–39
  0x3fa, 10, 0x3fb, 10, 0xf9, 8, 0x7fb, 11, // '('–'+'
  0xfa, 8, 0x16, 6, 0x17, 6, 0x18, 6, // ','–'/'
  0x0, 5, 0x1, 5, 0x2, 5, 0x19, 6, // '0'–'3'
  0x1a, 6, 0x1b, 6, 0x1c, 6, 0x1d, 6, // '4'–'7'
  0x1e, 6, 0x1f, 6, 0x5c, 7, 0xfb, 8, // '8'–';'
  0x7ffc, 15, 0x20, 6, 0xffb, 12, 0x3fc, 10, // '<'–'?'
  0x1ffa, 13, 0x21, 6, 0x5d, 7, 0x5e, 7, // '@'–'C'
  0x5f, 7, 0x60, 7, 0x61, 7, 0x62, 7, // 'D'–'G'
  0x63, 7, 0x64, 7, 0x65, 7, 0x66, 7, // 'H'–'K'
  0x67, 7, 0x68, 7, 0x69, 7, 0x6a, 7, // 'L'–'O'
  0x6b, 7, 0x6c, 7, 0x6d, 7, 0x6e, 7, // 'P'–'S'
  0x6f, 7, 0x70, 7, 0x71, 7, 0x72, 7, // 'T'–'W'
  0xfc, 8, 0x73, 7, 0xfd, 8, 0x1ffb, 13, // 'X'–'['
  0x7fff0, 19, 0x1ffc, 13, 0x3ffc, 14, 0x22, 6, // 92–'_'
  0x7ffd, 15, 0x3, 5, 0x23, 6, 0x4, 5, // '`'–'c'
  0x24, 6, 0x5, 5, 0x25, 6, 0x26, 6, // 'd'–'g'
  0x27, 6, 0x6, 5, 0x74, 7, 0x75, 7, // 'h'–'k'
  0x28, 6, 0x29, 6, 0x2a, 6, 0x7, 5, // 'l'–'o'
  0x2b, 6, 0x76, 7, 0x2c, 6, 0x8, 5, // 'p'–'s'
  0x9, 5, 0x2d, 6, 0x77, 7, 0x78, 7, // 't'–'w'
  0x79, 7, 0x7a, 7, 0x7b, 7, 0x7ffe, 15, // 'x'–'{'
  0x7fc, 11, 0x3ffd, 14, 0x1ffd, 13, 0xffffffc, 28, // '|'–127
  0xfffe6, 20, 0x3fffd2, 22, 0xfffe7, 20, 0xfffe8, 20, // 128–131
  0x3fffd3, 22, 0x3fffd4, 22, 0x3fffd5, 22, 0x7fffd9, 23, // 132–135
  0x3fffd6, 22, 0x7fffda, 23, 0x7fffdb, 23, 0x7fffdc, 23, // 136–139
  0x7fffdd, 23, 0x7fffde, 23, 0xffffeb, 24, 0x7fffdf, 23, // 140–143
  0xffffec, 24, 0xffffed, 24, 0x3fffd7, 22, 0x7fffe0, 23, // 144–147
  0xffffee, 24, 0x7fffe1, 23, 0x7fffe2, 23, 0x7fffe3, 23, // 148–151
  0x7fffe4, 23, 0x1fffdc, 21, 0x3fffd8, 22, 0x7fffe5, 23, // 152–155
  0x3fffd9, 22, 0x7fffe6, 23, 0x7fffe7, 23, 0xffffef, 24, // 156–159
  0x3fffda, 22, 0x1fffdd, 21, 0xfffe9, 20, 0x3fffdb, 22, // 160–163
  0x3fffdc, 22, 0x7fffe8, 23, 0x7fffe9, 23, 0x1fffde, 21, // 164–167
  0x7fffea, 23, 0x3fffdd, 22, 0x3fffde, 22, 0xfffff0, 24, // 168–171
  0x1fffdf, 21, 0x3fffdf, 22, 0x7fffeb, 23, 0x7fffec, 23, // 172–175
  0x1fffe0, 21, 0x1fffe1, 21, 0x3fffe0, 22, 0x1fffe2, 21, // 176–179
  0x7fffed, 23, 0x3fffe1, 22, 0x7fffee, 23, 0x7fffef, 23, // 180–183
  0xfffea, 20, 0x3fffe2, 22, 0x3fffe3, 22, 0x3fffe4, 22, // 184–187
  0x7ffff0, 23, 0x3fffe5, 22, 0x3fffe6, 22, 0x7ffff1, 23, // 188–191
  0x3ffffe0, 26, 0x3ffffe1, 26, 0xfffeb, 20, 0x7fff1, 19, // 192–195
  0x3fffe7, 22, 0x7ffff2, 23, 0x3fffe8, 22, 0x1ffffec, 25, // 196–199
  0x3ffffe2, 26, 0x3ffffe3, 26, 0x3ffffe4, 26, 0x7ffffde, 27, // 200–203
  0x7ffffdf, 27, 0x3ffffe5, 26, 0xfffff1, 24, 0x1ffffed, 25, // 204–207
  0x7fff2, 19, 0x1fffe3, 21, 0x3ffffe6, 26, 0x7ffffe0, 27, // 208–211
  0x7ffffe1, 27, 0x3ffffe7, 26, 0x7ffffe2, 27, 0xfffff2, 24, // 212–215
  0x1fffe4, 21, 0x1fffe5, 21, 0x3ffffe8, 26, 0x3ffffe9, 26, // 216–219
  0xffffffd, 28, 0x7ffffe3, 27, 0x7ffffe4, 27, 0x7ffffe5, 27, // 220–223
  0xfffec, 20, 0xfffff3, 24, 0xfffed, 20, 0x1fffe6, 21, // 224–227
  0x3fffe9, 22, 0x1fffe7, 21, 0x1fffe8, 21, 0x7ffff3, 23, // 228–231
  0x3fffea, 22, 0x3fffeb, 22, 0x1ffffee, 25, 0x1ffffef, 25, // 232–235
  0xfffff4, 24, 0xfffff5, 24, 0x3ffffea, 26, 0x7ffff4, 23, // 236–239
  0x3ffffeb, 26, 0x7ffffe6, 27, 0x3ffffec, 26, 0x3ffffed, 26, // 240–243
  0x7ffffe7, 27, 0x7ffffe8, 27, 0x7ffffe9, 27, 0x7ffffea, 27, // 244–247
  0x7ffffeb, 27, 0xffffffe, 28, 0x7ffffec, 27, 0x7ffffed, 27, // 248–251
  0x7ffffee, 27, 0x7ffffef, 27, 0x7fffff0, 27, 0x3ffffee, 26, // 252–255
  0x3fffffff, 30, // EOS
];

const EOS = 256;
/** Bit length of each octet's code. */
const LENGTHS = new Uint8Array(257);
/** Each octet's code, right-aligned. */
const CODES = new Uint32Array(257);
for (let s = 0; s <= EOS; s++) {
  CODES[s] = CODE_TABLE[2 * s];
  LENGTHS[s] = CODE_TABLE[2 * s + 1];
}

// Decoding runs a finite-state machine four bits at a time (as nghttp2 does). A state is an
// internal node of the code tree: the bits read since the last complete symbol. With codes
// at least 5 bits long, a nibble completes at most one symbol. TRANSITIONS[state << 4 | nibble]
// packs the next state (bits 0–7), the symbol completed on the way (bits 8–15, with EMIT set)
// and FAIL when the nibble completes EOS, which must never appear in a string (§5.2).
const EMIT = 1 << 16;
const FAIL = 1 << 17;
const TRANSITIONS = new Uint32Array(256 * 16);
/**
 * For each state, the number of 1 bits read since the last symbol when all of them are 1,
 * else 0xff. A string may end only in a state where it is 0–7: padding is the most
 * significant bits of EOS, so all ones, and shorter than 8 bits (§5.2).
 */
const ONES = new Uint8Array(256).fill(0xff);

{
  // children[2 * node + bit]: an internal node (≥ 0) or a leaf, -(symbol + 1).
  const children: number[] = [0, 0];
  let internal = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    let node = 0;
    for (let bit = LENGTHS[sym] - 1; bit >= 0; bit--) {
      const slot = 2 * node + ((CODES[sym] >>> bit) & 1);
      if (bit === 0) {
        children[slot] = -(sym + 1);
      } else {
        if (children[slot] === 0) {
          children[slot] = internal++;
          children.push(0, 0);
        }
        node = children[slot];
      }
    }
  }
  // 257 leaves of a full binary tree hang from 256 internal nodes, so a state fits a byte;
  // a child left at 0 (the root, nobody's child) would mean a gap in the code.
  if (internal !== 256 || children.includes(0)) {
    throw new Error("Huffman table is not a complete prefix code: it was mistyped");
  }

  for (let state = 0; state < 256; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let entry = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = children[2 * node + ((nibble >>> bit) & 1)];
        if (child >= 0) {
          node = child;
        } else if (child === -(EOS + 1)) {
          entry = FAIL;
          node = 0;
          break;
        } else {
          entry = EMIT | ((-child - 1) << 8);
          node = 0;
        }
      }
      TRANSITIONS[(state << 4) | nibble] = entry | node;
    }
  }
  let node = 0;
  for (let ones = 0; node >= 0; ones++) {
    ONES[node] = ones;
    node = children[2 * node + 1];
  }
}

/**
 * The length in octets of `text` Huffman-encoded (RFC 7541 §5.2), padding included.
 *
 * @param text a Latin-1 string: one char per octet
 * @returns the encoded length, to compare with `text.length`
 * @throws {TypeError} when `text` has a char above U+00FF
 */
export function huffmanEncodedLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw notLatin1(text, i);
    bits += LENGTHS[c];
  }
  return (bits + 7) >>> 3;
}

/**
 * Huffman-encodes `text` (RFC 7541 §5.2) into `dst` from `pos`, padding the last octet with
 * the high bits of EOS (ones).
 *
 * @param text a Latin-1 string: one char per octet
 * @param dst output buffer with room for `huffmanEncodedLength(text)` octets from `pos`
 * @param pos where to start writing
 * @returns the position after the last octet written
 * @throws {TypeError} when `text` has a char above U+00FF
 */
export function huffmanEncode(text: string, dst: Uint8Array, pos: number): number {
  // `acc` holds the `n` bits (n < 8 between symbols) not yet written; adding a code of up
  // to 24 bits keeps it under 2^31, longer codes (rare control octets) go in two parts.
  let acc = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw notLatin1(text, i);
    const code = CODES[c];
    const len = LENGTHS[c];
    if (len <= 24) {
      acc = (acc << len) | code;
      n += len;
    } else {
      acc = (acc << (len - 16)) | (code >>> 16);
      n += len - 16;
      while (n >= 8) {
        n -= 8;
        dst[pos++] = acc >>> n;
      }
      acc = (acc << 16) | (code & 0xffff);
      n += 16;
    }
    while (n >= 8) {
      n -= 8;
      dst[pos++] = acc >>> n;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) dst[pos++] = (acc << (8 - n)) | (0xff >>> n);
  return pos;
}

/**
 * Decodes the Huffman-encoded octets `src[start..end)` (RFC 7541 §5.2) into `dst` from
 * offset 0, strictly: the string must not contain EOS, and must end with at most 7 padding
 * bits, all ones.
 *
 * @param dst output buffer of at least `huffmanMaxDecodedLength(end - start)` octets
 * @returns the number of octets written to `dst`
 * @throws {HpackError} on EOS in the string, padding longer than 7 bits or not all ones
 */
export function huffmanDecode(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
): number {
  let state = 0;
  let n = 0;
  for (let i = start; i < end; i++) {
    const b = src[i];
    let t = TRANSITIONS[(state << 4) | (b >>> 4)];
    if (t & EMIT) dst[n++] = t >>> 8;
    else if (t & FAIL) throw eosError();
    t = TRANSITIONS[((t & 0xff) << 4) | (b & 0x0f)];
    if (t & EMIT) dst[n++] = t >>> 8;
    else if (t & FAIL) throw eosError();
    state = t & 0xff;
  }
  const ones = ONES[state];
  if (ones > 7) {
    throw new HpackError(
      ones === 0xff
        ? "Huffman string ends inside a code or with padding that is not all ones"
        : `Huffman string ends with ${ones} bits of padding; at most 7 are allowed`,
    );
  }
  return n;
}

/**
 * The most octets that `length` octets of Huffman code can decode to (the shortest code is
 * 5 bits long).
 */
export function huffmanMaxDecodedLength(length: number): number {
  return Math.floor((length * 8) / 5);
}

function eosError(): HpackError {
  return new HpackError("Huffman string contains the EOS symbol, which the encoder must not send");
}

function notLatin1(text: string, i: number): TypeError {
  return new TypeError(
    `Header text ${JSON.stringify(text.slice(Math.max(0, i - 10), i + 10))} has ` +
      `char U+${
        text.charCodeAt(i).toString(16).toUpperCase().padStart(4, "0")
      } at ${i}, above U+00FF; ` +
      "HTTP/2 fields are octets: pass Latin-1 strings (one char per octet)",
  );
}
