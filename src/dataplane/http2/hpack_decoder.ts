import { DynamicTable, ENTRY_OVERHEAD } from "./_dynamic_table.ts";
import { HpackError } from "./hpack_error.ts";
import { STATIC_TABLE } from "./hpack_static_table.ts";
import { huffmanDecode, huffmanMaxDecodedLength } from "./huffman.ts";

const STATIC_LENGTH = STATIC_TABLE.length;
/** Largest Huffman scratch buffer a decoder keeps between strings. */
const MAX_SCRATCH = 16 * 1024;
/** Largest integer accepted (RFC 7541 §5.1 leaves the limit to the implementation). */
const MAX_INT = 0x7fffffff;
/**
 * Strings shorter than this are built char by char (V8 concatenates them into flat strings,
 * cheaper than a `subarray` and an `apply`), longer ones with one call per 8 KiB.
 */
const SHORT_STRING = 13;

/**
 * An HPACK (RFC 7541) header block decoder for one direction of one HTTP/2 connection.
 * Strict: any deviation from the RFC throws {@link HpackError}.
 *
 * Names and values come out as Latin-1 strings, one char per octet, names as received (the
 * caller checks HTTP/2's rules on them, such as lower case).
 *
 * @example
 * ```ts
 * const decoder = new HpackDecoder();
 * const fields = decoder.decode(block); // [":method", "GET", ":path", "/", …]
 * ```
 */
export class HpackDecoder {
  readonly #table: DynamicTable;
  readonly #maxHeaderListSize: number;
  /** Largest table size the peer's encoder may pick (our SETTINGS_HEADER_TABLE_SIZE). */
  #limit: number;
  /** When ≥ 0, the next block must start with a size update to at most this. */
  #required = -1;
  #pos = 0;
  /** Scratch space for Huffman-decoded octets; grows up to {@link MAX_SCRATCH}. */
  #scratch = new Uint8Array(256);

  /**
   * @param maxTableSize the dynamic table size both ends start with, and the most the
   *   peer's encoder may use until {@link setMaxTableSize}: in HTTP/2 the default 4096; when
   *   we advertise another SETTINGS_HEADER_TABLE_SIZE, pass it to `setMaxTableSize` once the
   *   peer acknowledges it
   * @param maxHeaderListSize the largest header list accepted: the sum over fields of name
   *   and value length plus 32 (SETTINGS_MAX_HEADER_LIST_SIZE); `Infinity` for no limit
   * @throws {RangeError} when a size is not an integer in 0..2^31-1
   */
  constructor(maxTableSize = 4096, maxHeaderListSize = 64 * 1024) {
    checkSize("maxTableSize", maxTableSize);
    if (maxHeaderListSize !== Infinity) checkSize("maxHeaderListSize", maxHeaderListSize);
    this.#table = new DynamicTable(maxTableSize);
    this.#limit = maxTableSize;
    this.#maxHeaderListSize = maxHeaderListSize;
  }

  /** Current size of the dynamic table in octets (RFC 7541 §4.1). */
  get tableSize(): number {
    return this.#table.size;
  }

  /** Current maximum size of the dynamic table, as last set by the peer's encoder. */
  get tableCapacity(): number {
    return this.#table.capacity;
  }

  /**
   * Sets the largest dynamic table the peer's encoder may use: call it when the peer
   * acknowledges a SETTINGS frame that changed our SETTINGS_HEADER_TABLE_SIZE. When `size`
   * is below the table's current maximum, the next block must start with a dynamic table
   * size update to at most the smallest size set since the last block (RFC 7541 §4.2).
   *
   * @throws {RangeError} when `size` is not an integer in 0..2^31-1
   */
  setMaxTableSize(size: number): void {
    checkSize("size", size);
    this.#limit = size;
    if (size < this.#table.capacity && (this.#required < 0 || size < this.#required)) {
      this.#required = size;
    }
  }

  /**
   * Decodes one complete header block (the fragments of a HEADERS or PUSH_PROMISE frame and
   * its CONTINUATION frames, joined), updating the dynamic table.
   *
   * @param block the encoded block
   * @param start offset of the first octet in `block`
   * @param end offset after the last octet in `block`
   * @returns the fields in order as a flat list `[name, value, name, value, …]`
   * @throws {HpackError} with `tooLarge: true` when the header list exceeds
   *   `maxHeaderListSize`: the block was still decoded to its end, so the table is in step
   *   and the connection may go on. Any other `HpackError` means a malformed block, after
   *   which the table is unusable: a connection error COMPRESSION_ERROR.
   * @throws {RangeError} when `start` and `end` do not delimit a range of `block`
   */
  decode(block: Uint8Array, start = 0, end: number = block.length): string[] {
    if (!(0 <= start && start <= end && end <= block.length)) {
      throw new RangeError(
        `Block range ${start}..${end} is outside the block of ${block.length} octets`,
      );
    }
    const table = this.#table;
    const fields: string[] = [];
    let listSize = 0;
    let tooLarge = false;
    this.#pos = start;
    this.#sizeUpdates(block, end);

    while (this.#pos < end) {
      const b = block[this.#pos];
      let name: string;
      let value: string;
      if (b >= 0x80) {
        // Indexed field (§6.1).
        const index = this.#int(block, end, 7);
        if (index === 0) throw new HpackError("Indexed field with index 0, which is not used");
        if (index <= STATIC_LENGTH) {
          name = STATIC_TABLE[index - 1][0];
          value = STATIC_TABLE[index - 1][1];
        } else {
          this.#checkIndex(index);
          name = table.name(index - STATIC_LENGTH);
          value = table.value(index - STATIC_LENGTH);
        }
      } else if (b >= 0x40) {
        // Literal with incremental indexing (§6.2.1).
        name = this.#literalName(block, end, 6);
        value = this.#string(block, end);
        table.insert(name, value);
      } else if (b >= 0x20) {
        throw new HpackError(
          "Dynamic table size update after the first field of a header block; it may only " +
            "start a block (RFC 7541 §4.2)",
        );
      } else {
        // Literal without indexing (0000) or never indexed (0001) (§6.2.2, §6.2.3).
        name = this.#literalName(block, end, 4);
        value = this.#string(block, end);
      }
      if (tooLarge) continue;
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.#maxHeaderListSize) {
        tooLarge = true;
        continue;
      }
      fields.push(name, value);
    }
    if (tooLarge) {
      throw new HpackError(
        `Header list is larger than the ${this.#maxHeaderListSize} octets allowed ` +
          "(SETTINGS_MAX_HEADER_LIST_SIZE); answer 431",
        true,
      );
    }
    return fields;
  }

  /** Applies the size updates that start a block and checks those it had to have. */
  #sizeUpdates(block: Uint8Array, end: number): void {
    let updates = 0;
    let smallest = Infinity;
    while (this.#pos < end && (block[this.#pos] & 0xe0) === 0x20) {
      if (++updates > 2) {
        throw new HpackError(
          "Header block starts with more than two dynamic table size updates (RFC 7541 §4.2)",
        );
      }
      const size = this.#int(block, end, 5);
      if (size > this.#limit) {
        throw new HpackError(
          `Dynamic table size update to ${size} octets exceeds the ${this.#limit} allowed ` +
            "by SETTINGS_HEADER_TABLE_SIZE",
        );
      }
      this.#table.setCapacity(size);
      if (size < smallest) smallest = size;
    }
    if (this.#required >= 0) {
      if (smallest > this.#required) {
        throw new HpackError(
          `Header block lacks the dynamic table size update to at most ${this.#required} ` +
            "octets owed since SETTINGS_HEADER_TABLE_SIZE was lowered (RFC 7541 §4.2)",
        );
      }
      this.#required = -1;
    }
  }

  /** Reads the name of a literal field whose first octet has an `n`-bit name index. */
  #literalName(block: Uint8Array, end: number, n: number): string {
    const index = this.#int(block, end, n);
    if (index === 0) return this.#string(block, end);
    if (index <= STATIC_LENGTH) return STATIC_TABLE[index - 1][0];
    this.#checkIndex(index);
    return this.#table.name(index - STATIC_LENGTH);
  }

  #checkIndex(index: number): void {
    if (index - STATIC_LENGTH > this.#table.length) {
      throw new HpackError(
        `Index ${index} is beyond the ${STATIC_LENGTH} static and ${this.#table.length} ` +
          "dynamic table entries",
      );
    }
  }

  /** Reads an integer with an `n`-bit prefix at the cursor (RFC 7541 §5.1). */
  #int(block: Uint8Array, end: number, n: number): number {
    const mask = (1 << n) - 1;
    let value = block[this.#pos++] & mask;
    if (value < mask) return value;
    for (let shift = 0;; shift += 7) {
      if (this.#pos >= end) throw new HpackError("Header block ends inside an integer");
      const b = block[this.#pos++];
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INT || (b >= 0x80 && shift === 28)) {
        throw new HpackError(`Integer in header block exceeds ${MAX_INT}`);
      }
      if (b < 0x80) return value;
    }
  }

  /** Reads a string literal at the cursor (RFC 7541 §5.2). */
  #string(block: Uint8Array, end: number): string {
    if (this.#pos >= end) throw new HpackError("Header block ends before a string literal");
    const huffman = block[this.#pos] >= 0x80;
    const length = this.#int(block, end, 7);
    const start = this.#pos;
    if (length > end - start) {
      throw new HpackError(
        `String literal of ${length} octets runs past the end of the header block`,
      );
    }
    this.#pos = start + length;
    if (!huffman) return latin1(block, start, start + length);
    const max = huffmanMaxDecodedLength(length);
    let scratch = this.#scratch;
    if (scratch.length < max) {
      scratch = new Uint8Array(Math.max(max, 2 * scratch.length));
      // Keep it for the next strings unless one huge string asked for it.
      if (scratch.length <= MAX_SCRATCH) this.#scratch = scratch;
    }
    return latin1(scratch, 0, huffmanDecode(block, start, start + length, scratch));
  }
}

/** `buf[start..end)` as a string of one char per octet. */
function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end - start < SHORT_STRING) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
    return s;
  }
  let s = "";
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode.apply(null, buf.subarray(i, Math.min(end, i + 8192)) as never);
  }
  return s;
}

function checkSize(what: string, size: number): void {
  if (!Number.isInteger(size) || size < 0 || size > MAX_INT) {
    throw new RangeError(`HPACK ${what} ${size} is not an integer in 0..${MAX_INT}`);
  }
}
