/** What happened, in a `TraceRecord`. */
export type TraceKind =
  | "send" // a node sent a packet
  | "deliver" // a packet reached a node's handler
  | "lost" // dropped by link loss (independent or bursty)
  | "blocked" // dropped by a partition
  | "dead" // dropped because the sender or receiver was killed or closed
  | "duplicate" // a second copy of a packet was put on the wire
  | "call" // a timer or stream callback ran
  | "defer"; // a stalled node's event was put off until the stall ends

const KINDS: readonly TraceKind[] = [
  "send",
  "deliver",
  "lost",
  "blocked",
  "dead",
  "duplicate",
  "call",
  "defer",
];

/** Numeric codes of `TraceKind`s, as `SimTrace.record` takes them. */
export const TK = {
  send: 0,
  deliver: 1,
  lost: 2,
  blocked: 3,
  dead: 4,
  duplicate: 5,
  call: 6,
  defer: 7,
} as const;

/** One compact trace entry: at virtual time `t`, `kind` happened at `node` (with `peer`). */
export interface TraceRecord {
  /** Virtual time in ms. */
  t: number;
  kind: TraceKind;
  /** The node concerned (receiver for deliveries, sender for sends), or "" for none. */
  node: string;
  /** The other end of a packet, or "" for none. */
  peer: string;
  /** Packet size in bytes, 0 for non-packets. */
  bytes: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/**
 * The simulator's event trace: always a running 64-bit hash of every record (two FNV-1a
 * style lanes over the record's numbers and packet bytes), and, when asked for, the
 * records themselves. Two runs agree exactly when their hashes agree.
 */
export class SimTrace {
  #h1 = 0x811c9dc5;
  #h2 = 0x01000193;
  #count = 0;
  readonly #keep: boolean;
  readonly #rows: number[] = [];

  /** `keep` retains every record for `records()` (memory grows with the run). */
  constructor(keep: boolean) {
    this.#keep = keep;
  }

  /** Number of records so far. */
  get count(): number {
    return this.#count;
  }

  /** Adds a record; `bytes` (a packet) is hashed by content. */
  record(t: number, kind: number, node: number, peer: number, bytes: Uint8Array | null): void {
    this.#count++;
    f64[0] = t;
    this.#mix(u32[0]);
    this.#mix(u32[1]);
    this.#mix(kind | (node << 4));
    this.#mix(peer);
    if (bytes) {
      this.#mix(bytes.length);
      for (let i = 0; i < bytes.length; i++) this.#mix(bytes[i]);
    }
    if (this.#keep) this.#rows.push(t, kind, node, peer, bytes ? bytes.length : 0);
  }

  /** The hash of everything recorded so far, as 16 hex digits. */
  hash(): string {
    return (this.#h1 >>> 0).toString(16).padStart(8, "0") +
      (this.#h2 >>> 0).toString(16).padStart(8, "0");
  }

  /**
   * The kept records with node names resolved by `names`.
   *
   * @throws {TypeError} when the network was made without `keepTrace: true`
   */
  records(names: readonly string[]): TraceRecord[] {
    if (!this.#keep) {
      throw new TypeError(
        "Trace records were not kept; create the SimNetwork with keepTrace: true",
      );
    }
    const out: TraceRecord[] = [];
    const r = this.#rows;
    for (let i = 0; i < r.length; i += 5) {
      out.push({
        t: r[i],
        kind: KINDS[r[i + 1]],
        node: names[r[i + 2]] ?? "",
        peer: names[r[i + 3]] ?? "",
        bytes: r[i + 4],
      });
    }
    return out;
  }

  #mix(x: number): void {
    this.#h1 = Math.imul(this.#h1 ^ x, 0x01000193);
    this.#h2 = Math.imul(this.#h2 ^ (x + 0x9e3779b9), 0x85ebca6b) ^ (this.#h2 >>> 13);
  }
}
