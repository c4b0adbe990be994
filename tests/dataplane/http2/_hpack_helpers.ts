// Helpers shared by the HPACK tests.

/** Octets from a hex dump such as RFC 7541's ("8286 8441 0f77 …"); whitespace is ignored. */
export function hex(dump: string): Uint8Array {
  const digits = dump.replace(/\s+/g, "");
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`bad hex dump: ${dump}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (byte) => parseInt(byte, 16));
}

/** Lower-case hex of `bytes`, no spaces. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * An HPACK integer (RFC 7541 §5.1) with an `n`-bit prefix after the bits `flags`, written
 * independently of the encoder so that tests can build blocks by hand.
 */
export function int(flags: number, n: number, value: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  for (value -= max; value >= 128; value = Math.floor(value / 128)) out.push(0x80 | (value % 128));
  out.push(value);
  return out;
}

/** A raw (not Huffman-coded) string literal: length, then one octet per char. */
export function str(text: string): number[] {
  return [...int(0, 7, text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

/** Concatenates octet lists into a block. */
export function block(...parts: (number | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flat());
}
