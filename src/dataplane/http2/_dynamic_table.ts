/** Octets that RFC 7541 §4.1 adds to an entry's name and value for its size. */
export const ENTRY_OVERHEAD = 32;

/** Where an encoder finds the entries with one name (see {@link DynamicTable.find}). */
interface NameSlot {
  /** Insertion number of the newest entry with this name. */
  newest: number;
  /** Insertion number of the newest entry for each value. */
  values: Map<string, number>;
}

/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of `[name, value]` entries, newest
 * first, whose size — the sum over entries of name and value length plus 32, in octets —
 * never exceeds its capacity. Names and values are Latin-1 strings, so `length` counts
 * octets. Entries live in a ring buffer that doubles when full and never shrinks.
 *
 * An encoder's table is `searchable`: it keeps a name → value → entry index so that
 * {@link find} costs two map look-ups.
 */
export class DynamicTable {
  #names: string[];
  #values: string[];
  #mask: number;
  /** Ring slot of the newest entry. */
  #newest = 0;
  #length = 0;
  #size = 0;
  #capacity: number;
  /** Entries inserted so far; entry k (0-based) has index `#inserted - k` while present. */
  #inserted = 0;
  readonly #index: Map<string, NameSlot> | null;

  /**
   * @param capacity the maximum size in octets
   * @param searchable keep the index that {@link find} needs (encoders)
   */
  constructor(capacity: number, searchable = false) {
    this.#capacity = capacity;
    this.#names = new Array(16).fill("");
    this.#values = new Array(16).fill("");
    this.#mask = 15;
    this.#index = searchable ? new Map() : null;
  }

  /** Number of entries. */
  get length(): number {
    return this.#length;
  }

  /** Sum of the entries' sizes, in octets. */
  get size(): number {
    return this.#size;
  }

  /** Maximum size in octets. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Name of the entry at 1-based `index` (1 = newest); `index` must be in 1..length. */
  name(index: number): string {
    return this.#names[(this.#newest - index + 1) & this.#mask];
  }

  /** Value of the entry at 1-based `index` (1 = newest); `index` must be in 1..length. */
  value(index: number): string {
    return this.#values[(this.#newest - index + 1) & this.#mask];
  }

  /**
   * Adds an entry as the newest, first evicting the oldest ones until it fits. An entry
   * larger than the capacity empties the table and is not added (RFC 7541 §4.4).
   */
  insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.#capacity) {
      this.#evictTo(0);
      return;
    }
    this.#evictTo(this.#capacity - size);
    if (this.#length > this.#mask) this.#grow();
    const slot = (this.#newest + 1) & this.#mask;
    this.#names[slot] = name;
    this.#values[slot] = value;
    this.#newest = slot;
    this.#length++;
    this.#size += size;
    const number = this.#inserted++;
    if (this.#index !== null) {
      let named = this.#index.get(name);
      if (named === undefined) {
        named = { newest: number, values: new Map() };
        this.#index.set(name, named);
      }
      named.newest = number;
      named.values.set(value, number);
    }
  }

  /** Sets the maximum size (a dynamic table size update), evicting entries to fit. */
  setCapacity(capacity: number): void {
    this.#capacity = capacity;
    this.#evictTo(capacity);
  }

  /**
   * Looks `name` and `value` up in a searchable table.
   *
   * @returns the 1-based index of the newest entry equal to both; else minus the index of
   *   the newest entry with that name; else 0
   */
  find(name: string, value: string): number {
    const named = this.#index!.get(name);
    if (named === undefined) return 0;
    const exact = named.values.get(value);
    if (exact !== undefined) return this.#inserted - exact;
    return named.newest - this.#inserted;
  }

  #evictTo(size: number): void {
    while (this.#size > size) {
      const slot = (this.#newest - this.#length + 1) & this.#mask;
      const name = this.#names[slot];
      const value = this.#values[slot];
      this.#names[slot] = "";
      this.#values[slot] = "";
      this.#length--;
      this.#size -= name.length + value.length + ENTRY_OVERHEAD;
      if (this.#index !== null) {
        const number = this.#inserted - this.#length - 1;
        const named = this.#index.get(name)!;
        // Older entries leave first: when the newest with this name goes, none is left.
        if (named.newest === number) this.#index.delete(name);
        else if (named.values.get(value) === number) named.values.delete(value);
      }
    }
  }

  #grow(): void {
    const n = this.#mask + 1;
    const names = new Array<string>(2 * n).fill("");
    const values = new Array<string>(2 * n).fill("");
    // Oldest first into slots 0..length-1, so the newest lands at length - 1.
    for (let i = 0; i < this.#length; i++) {
      const slot = (this.#newest - this.#length + 1 + i) & this.#mask;
      names[i] = this.#names[slot];
      values[i] = this.#values[slot];
    }
    this.#names = names;
    this.#values = values;
    this.#mask = 2 * n - 1;
    this.#newest = this.#length - 1;
  }
}
