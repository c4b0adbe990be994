import { createCipheriv, createDecipheriv, type KeyObject, timingSafeEqual } from "node:crypto";

/**
 * AES-GCM with a 96-bit nonce and a 16-byte tag, synchronous, through node:crypto (private to
 * wire/). Packets are encoded and decoded inside the protocol's callbacks, which must not wait
 * for WebCrypto's promises (a simulator would resume them at the wrong virtual time).
 *
 * Deno's node:crypto offers `aes-128-gcm` and `aes-256-gcm` but not `aes-192-gcm`, so 24-byte
 * keys run GCM as NIST SP 800-38D defines it on top of `aes-192-ctr` (the keystream) and
 * `aes-192-ecb` (the hash key H and the tag mask), with GHASH below. The output is the same as
 * WebCrypto's AES-GCM for every key size (tests/discovery/gossip/wire/codec_test.ts).
 * @module
 */

/** Bytes of the authentication tag. */
const TAG = 16;

/**
 * Encrypts `plaintext` and writes ciphertext then tag into `out` (its length must be
 * `plaintext.length + 16`).
 *
 * @param key a 16-, 24- or 32-byte AES key
 * @param nonce 12 bytes, never repeated under one key
 * @param aad authenticated, not encrypted
 */
export function seal(
  key: KeyObject,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
): void {
  const bits = keyBits(key);
  if (bits === 192) {
    const [h, mask] = hashKeyAndMask(key, nonce);
    const ct = ctr192(key, nonce, plaintext);
    out.set(ct);
    out.set(tag(h, mask, aad, ct), ct.length);
    return;
  }
  const cipher = createCipheriv(`aes-${bits}-gcm`, key, nonce, { authTagLength: TAG });
  cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  out.set(head);
  out.set(cipher.final(), head.length);
  out.set(cipher.getAuthTag(), plaintext.length);
}

/**
 * Authenticates and decrypts what {@linkcode seal} made.
 *
 * @param sealed ciphertext then the 16-byte tag (at least 16 bytes)
 * @returns the plaintext, or undefined when the tag does not verify (another key, forged or
 *   corrupted data); no plaintext is returned unless it is authentic
 */
export function open(
  key: KeyObject,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | undefined {
  const bits = keyBits(key);
  const ct = sealed.subarray(0, sealed.length - TAG);
  const expected = sealed.subarray(sealed.length - TAG);
  if (bits === 192) {
    const [h, mask] = hashKeyAndMask(key, nonce);
    if (!timingSafeEqual(tag(h, mask, aad, ct), expected)) return undefined;
    return ctr192(key, nonce, ct);
  }
  const decipher = createDecipheriv(`aes-${bits}-gcm`, key, nonce, { authTagLength: TAG });
  decipher.setAAD(aad);
  decipher.setAuthTag(expected);
  const head = decipher.update(ct);
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : new Uint8Array([...head, ...tail]);
  } catch (err) {
    // node:crypto reports a tag mismatch as ERR_CRYPTO_DECIPHER ("unable to authenticate").
    if ((err as { code?: string }).code === "ERR_CRYPTO_DECIPHER") return undefined;
    throw err;
  }
}

function keyBits(key: KeyObject): 128 | 192 | 256 {
  const bits = (key.symmetricKeySize ?? 0) * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256) {
    throw new RangeError(`AES keys are 16, 24 or 32 bytes, got ${bits / 8}`);
  }
  return bits;
}

/** H = E_K(0^128) and E_K(J0), where J0 = nonce ‖ 0x00000001. */
function hashKeyAndMask(key: KeyObject, nonce: Uint8Array): [Uint8Array, Uint8Array] {
  const blocks = new Uint8Array(32);
  blocks.set(nonce, 16);
  blocks[31] = 1;
  const ecb = createCipheriv("aes-192-ecb", key, null);
  ecb.setAutoPadding(false);
  const out = ecb.update(blocks);
  return [out.subarray(0, 16), out.subarray(16, 32)];
}

/**
 * GCTR from inc32(J0): AES-CTR whose first counter block is nonce ‖ 0x00000002. OpenSSL's CTR
 * increments all 128 bits and GCM only the low 32, which differ only past 2^32 - 2 blocks
 * (64 GiB), far beyond any packet.
 */
function ctr192(key: KeyObject, nonce: Uint8Array, data: Uint8Array): Uint8Array {
  const counter = new Uint8Array(16);
  counter.set(nonce);
  counter[15] = 2;
  const ctr = createCipheriv("aes-192-ctr", key, counter);
  const head = ctr.update(data);
  const tail = ctr.final();
  return tail.length === 0 ? head : new Uint8Array([...head, ...tail]);
}

/** GHASH_H(aad ‖ pad ‖ ct ‖ pad ‖ [len(aad)]64 ‖ [len(ct)]64) XOR E_K(J0). */
function tag(h: Uint8Array, mask: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array {
  const hw = words(h, 0);
  const y = new Uint32Array(4);
  absorb(y, hw, aad);
  absorb(y, hw, ct);
  const lengths = new Uint8Array(16);
  const view = new DataView(lengths.buffer);
  view.setUint32(0, Math.floor(aad.length / 2 ** 29));
  view.setUint32(4, (aad.length * 8) >>> 0);
  view.setUint32(8, Math.floor(ct.length / 2 ** 29));
  view.setUint32(12, (ct.length * 8) >>> 0);
  absorb(y, hw, lengths);
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  const mw = words(mask, 0);
  for (let i = 0; i < 4; i++) ov.setUint32(4 * i, (y[i] ^ mw[i]) >>> 0);
  return out;
}

/** Four big-endian words of the 16 bytes at `at` of `bytes` (zero past the end). */
function words(bytes: Uint8Array, at: number): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 16; i++) {
    const b = at + i < bytes.length ? bytes[at + i] : 0;
    w[i >>> 2] |= b << (24 - 8 * (i & 3));
  }
  return w;
}

/** y = (y XOR block) · H for each 16-byte block of `data`, the last one zero-padded. */
function absorb(y: Uint32Array, h: Uint32Array, data: Uint8Array): void {
  for (let at = 0; at < data.length; at += 16) {
    const x = words(data, at);
    for (let i = 0; i < 4; i++) y[i] ^= x[i];
    multiply(y, h);
  }
}

/**
 * y = y · h in GF(2^128) with GCM's bit order (SP 800-38D, algorithm 1), one bit at a time with
 * masks instead of branches, so the time taken does not depend on the key or the data.
 */
function multiply(y: Uint32Array, h: Uint32Array): void {
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  let v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3];
  for (let i = 0; i < 128; i++) {
    const m = -((y[i >>> 5] >>> (31 - (i & 31))) & 1);
    z0 ^= v0 & m;
    z1 ^= v1 & m;
    z2 ^= v2 & m;
    z3 ^= v3 & m;
    const r = -(v3 & 1);
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (0xe1000000 & r);
  }
  y[0] = z0;
  y[1] = z1;
  y[2] = z2;
  y[3] = z3;
}
