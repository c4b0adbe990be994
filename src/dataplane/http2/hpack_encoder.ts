import { DynamicTable, ENTRY_OVERHEAD } from "./_dynamic_table.ts";
import { STATIC_TABLE } from "./hpack_static_table.ts";
import { huffmanEncode, huffmanEncodedLength } from "./huffman.ts";

const STATIC_LENGTH = STATIC_TABLE.length;
const MAX_INT = 0x7fffffff;
/** Octets a field can take beyond its name and value: 3 integers of at most 6 octets. */
const FIELD_OVERHEAD = 18;
/** Octets two dynamic table size updates can take. */
const UPDATES_OVERHEAD = 12;
/** `cookie` values shorter than this are never indexed: short ones are easy to guess. */
const SHORT_COOKIE = 20;

/** A name in the static table: its first index and the indexes of its non-empty values. */
interface StaticName {
  index: number;
  values: Map<string, number>;
}

const STATIC_NAMES = new Map<string, StaticName>();
for (let i = STATIC_LENGTH; i >= 1; i--) {
  const [name, value] = STATIC_TABLE[i - 1];
  let entry = STATIC_NAMES.get(name);
  if (entry === undefined) {
    entry = { index: i, values: new Map() };
    STATIC_NAMES.set(name, entry);
  }
  entry.index = i;
  entry.values.set(value, i);
}

/**
 * An HPACK (RFC 7541) header block encoder for one direction of one HTTP/2 connection.
 *
 * Each field becomes, in order of preference: an index into the static or dynamic table
 * when a whole entry matches; a never-indexed literal for credentials (`authorization`,
 * `proxy-authorization`, `set-cookie`, and `cookie` values under 20 octets, which would be
 * easy to guess from compressed sizes); a literal without indexing when the entry would
 * take more than a quarter of the table; else a literal with incremental indexing, which
 * adds it to the dynamic table. Literal names use a table index when one has the name.
 * Each string is Huffman-coded when that makes it shorter.
 *
 * The encoder never uses a table larger than `maxTableSize` given to the constructor, even
 * when the peer allows more (RFC 7541 §4.2 lets it use less): a peer cannot make it hold
 * more header strings than that.
 *
 * @example
 * ```ts
 * const encoder = new HpackEncoder();
 * const block = encoder.encode([":status", "200", "content-type", "application/grpc"]);
 * writeHeadersFrame(streamId, block); // copy or send `block` before the next encode
 * ```
 */
export class HpackEncoder {
  readonly #table: DynamicTable;
  readonly #maxTableSize: number;
  /** Table size the peer's decoder knows of: the last one announced in a block sent. */
  #announced: number;
  /** Table size to announce at the start of the next block, or -1. */
  #target = -1;
  /** Smallest size set since the last block (Infinity for none). */
  #smallest = Infinity;
  #buf = new Uint8Array(4096);
  /** Set when a failed `encode` left the table ahead of what the peer has seen. */
  #broken = false;

  /**
   * @param maxTableSize the dynamic table size both ends start with (HTTP/2: 4096, the
   *   default SETTINGS_HEADER_TABLE_SIZE), which is also the largest the encoder will use
   */
  constructor(maxTableSize = 4096) {
    checkSize(maxTableSize);
    this.#maxTableSize = maxTableSize;
    this.#announced = maxTableSize;
    this.#table = new DynamicTable(maxTableSize, true);
  }

  /** Current size of the dynamic table in octets (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.#table.size;
  }

  /**
   * Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table's maximum becomes `size`, or
   * the constructor's `maxTableSize` if smaller, and the next block starts with the dynamic
   * table size updates that tell the peer (the smallest size set since the last block first,
   * when that is lower, as RFC 7541 §4.2 requires). Entries are evicted to fit then.
   *
   * @throws {RangeError} when `size` is not an integer in 0..2^32-1
   */
  setMaxTableSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) {
      throw new RangeError(`HPACK table size ${size} is not an integer in 0..${0xffffffff}`);
    }
    this.#target = Math.min(size, this.#maxTableSize);
    this.#smallest = Math.min(this.#smallest, this.#target);
  }

  /**
   * Encodes one header block.
   *
   * Without `out`, the block is written to a buffer that the encoder reuses: the returned
   * view is valid only until the next call to `encode`, so send or copy it before then.
   * With `out`, the block is written to `out` from `offset` and the view returned is into
   * `out`; it needs room for {@link HpackEncoder.maxEncodedLength} octets.
   *
   * @param headers the fields in order as a flat list `[name, value, name, value, …]`;
   *   names in lower case as HTTP/2 requires, names and values as Latin-1 strings (one char
   *   per octet)
   * @param out optional buffer to write the block into
   * @param offset where the block starts in `out`
   * @returns the encoded block
   * @throws {TypeError} when `headers` has an odd length or a string has a char above
   *   U+00FF. If a field before the bad one was added to the dynamic table, the encoder is
   *   out of step with the peer and every later call throws too: the connection must close.
   * @throws {RangeError} when `out` is given without enough room; nothing changes then
   */
  encode(headers: readonly string[], out?: Uint8Array, offset = 0): Uint8Array {
    if (this.#broken) {
      throw new TypeError(
        "HPACK encoder is out of step with the peer after a failed encode; close the connection",
      );
    }
    const bound = HpackEncoder.maxEncodedLength(headers);
    let buf: Uint8Array;
    if (out === undefined) {
      if (this.#buf.length < bound) {
        this.#buf = new Uint8Array(Math.max(bound, 2 * this.#buf.length));
      }
      buf = this.#buf;
      offset = 0;
    } else {
      if (!(Number.isInteger(offset) && offset >= 0 && out.length - offset >= bound)) {
        throw new RangeError(
          `Output buffer of ${out.length} octets at offset ${offset} has less room than the ` +
            `${bound} octets this header list may need; pass a larger buffer or none`,
        );
      }
      buf = out;
    }

    const table = this.#table;
    let pos = offset;
    if (this.#target >= 0) pos = this.#sizeUpdates(buf, pos);
    let added = false;
    try {
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i];
        const value = headers[i + 1];
        const known = STATIC_NAMES.get(name);
        let nameIndex = 0;
        if (known !== undefined) {
          const exact = known.values.get(value);
          if (exact !== undefined) {
            pos = writeInt(buf, pos, 0x80, 7, exact);
            continue;
          }
          nameIndex = known.index;
        }
        const found = table.find(name, value);
        if (found > 0) {
          pos = writeInt(buf, pos, 0x80, 7, STATIC_LENGTH + found);
          continue;
        }
        if (nameIndex === 0 && found < 0) nameIndex = STATIC_LENGTH - found;

        if (isSensitive(name, value)) {
          pos = writeLiteral(buf, pos, 0x10, 4, nameIndex, name, value);
        } else if (
          4 * (name.length + value.length + ENTRY_OVERHEAD) > table.capacity ||
          changesEveryTime(name)
        ) {
          pos = writeLiteral(buf, pos, 0x00, 4, nameIndex, name, value);
        } else {
          pos = writeLiteral(buf, pos, 0x40, 6, nameIndex, name, value);
          table.insert(name, value);
          added = true;
        }
      }
    } catch (err) {
      if (added) this.#broken = true;
      throw err;
    }
    this.#announced = table.capacity;
    this.#target = -1;
    this.#smallest = Infinity;
    return buf.subarray(offset, pos);
  }

  /**
   * The most octets {@link HpackEncoder.encode} can write for `headers`: each string's
   * length plus room for integers and size updates.
   *
   * @throws {TypeError} when `headers` has an odd length
   */
  static maxEncodedLength(headers: readonly string[]): number {
    if (headers.length % 2 !== 0) {
      throw new TypeError(
        `Header list has odd length ${headers.length}; pass [name, value, name, value, …]`,
      );
    }
    let bound = UPDATES_OVERHEAD;
    for (let i = 0; i < headers.length; i += 2) {
      bound += headers[i].length + headers[i + 1].length + FIELD_OVERHEAD;
    }
    return bound;
  }

  /**
   * Writes the pending dynamic table size updates and applies them to the table. Until a
   * block is returned they stay pending, so a failed `encode` does not lose them: the
   * entries it evicted are ones the peer will evict when it reads the updates.
   */
  #sizeUpdates(buf: Uint8Array, pos: number): number {
    const table = this.#table;
    const smallest = this.#smallest;
    const target = this.#target;
    let dipped = false;
    if (smallest < this.#announced && smallest < target) {
      pos = writeInt(buf, pos, 0x20, 5, smallest);
      table.setCapacity(smallest);
      dipped = true;
    }
    if (dipped || target !== this.#announced) {
      pos = writeInt(buf, pos, 0x20, 5, target);
      table.setCapacity(target);
    }
    return pos;
  }
}

/**
 * Fields whose value differs on every message (deadlines, ids, dates): indexing them would
 * only push the stable entries out of the table, so they go as plain literals.
 */
function changesEveryTime(name: string): boolean {
  switch (name.length) {
    case 4:
      return name === "date";
    case 12:
      return name === "grpc-timeout" || name === "x-request-id";
    case 11:
      return name === "traceparent";
    default:
      return false;
  }
}

/** Whether a field carries a credential that must not enter any compression table. */
function isSensitive(name: string, value: string): boolean {
  switch (name.length) {
    case 6:
      return name === "cookie" && value.length < SHORT_COOKIE;
    case 10:
      return name === "set-cookie";
    case 13:
      return name === "authorization";
    case 19:
      return name === "proxy-authorization";
    default:
      return false;
  }
}

/** Writes `value` as an integer with an `n`-bit prefix after the bits `flags` (§5.1). */
function writeInt(buf: Uint8Array, pos: number, flags: number, n: number, value: number): number {
  const max = (1 << n) - 1;
  if (value < max) {
    buf[pos++] = flags | value;
    return pos;
  }
  buf[pos++] = flags | max;
  value -= max;
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buf[pos++] = value;
  return pos;
}

/** Writes a literal field: the representation bits, the name (index or string), the value. */
function writeLiteral(
  buf: Uint8Array,
  pos: number,
  flags: number,
  n: number,
  nameIndex: number,
  name: string,
  value: string,
): number {
  pos = writeInt(buf, pos, flags, n, nameIndex);
  if (nameIndex === 0) pos = writeString(buf, pos, name);
  return writeString(buf, pos, value);
}

/** Writes a string literal, Huffman-coded when that is shorter (§5.2). */
function writeString(buf: Uint8Array, pos: number, text: string): number {
  const length = text.length;
  const coded = huffmanEncodedLength(text);
  if (coded < length) {
    pos = writeInt(buf, pos, 0x80, 7, coded);
    return huffmanEncode(text, buf, pos);
  }
  pos = writeInt(buf, pos, 0, 7, length);
  for (let i = 0; i < length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > MAX_INT) {
    throw new RangeError(`HPACK maxTableSize ${size} is not an integer in 0..${MAX_INT}`);
  }
}
