/**
 * Deno's socket read and write operations, called without `Deno.Conn`'s wrappers.
 *
 * `Deno.Conn.read` is an async function around the runtime's read operation that also keeps
 * the read in a Set (for `unref()`), and `Deno.Conn.write` wraps the write operation in two
 * async functions: together several promises, resumptions and Set updates per request on
 * top of the operations themselves. Calling the operations directly raised skiff's HTTP/1.1
 * requests/s by ≈ 4 % (`bash bench/skiff_ab.sh` against the tree before; see the README).
 *
 * The operations are reached through `Deno[Deno.internal].core`, which is not a public API:
 * skiff pins Deno 2.9.6, `tests/net/direct_ops_test.ts` fails if that Deno stops offering
 * them, and without them every connection simply keeps `Deno.Conn`'s own methods. skiff never
 * `unref()`s a connection it reads this way (the one thing the wrappers add).
 * @module
 */

interface CoreOps {
  read(rid: number, p: Uint8Array): Promise<number>;
  write(rid: number, p: Uint8Array): Promise<number>;
  internalRidSymbol: symbol;
}

function findCore(): CoreOps | null {
  try {
    const internal = (Deno as unknown as { internal?: symbol }).internal;
    if (typeof internal !== "symbol") return null;
    const ns = (Deno as unknown as Record<symbol, { core?: Partial<CoreOps> } | undefined>)[
      internal
    ];
    const core = ns?.core;
    if (
      typeof core?.read !== "function" || typeof core.write !== "function" ||
      typeof core.internalRidSymbol !== "symbol"
    ) return null;
    return core as CoreOps;
  } catch {
    return null;
  }
}

const CORE = findCore();

/** True when the runtime's socket operations are used directly (see the module doc). */
export const directOps: boolean = CORE !== null;

function ridOf(conn: object): number | undefined {
  const rid = (conn as Record<symbol, unknown>)[CORE!.internalRidSymbol];
  return typeof rid === "number" ? rid : undefined;
}

/**
 * The runtime's read operation on `conn`'s socket: resolves with the number of bytes read,
 * 0 at end of stream (never with null). Null when `conn` is not a Deno socket (e.g. a TLS
 * socket from `node:tls`) or the operations are not available.
 */
export function directRead(conn: object): ((p: Uint8Array) => Promise<number>) | null {
  if (CORE === null) return null;
  const rid = ridOf(conn);
  if (rid === undefined) return null;
  const core = CORE;
  return (p) => core.read(rid, p);
}

/**
 * Makes `conn.write` the runtime's write operation itself (same results and errors as
 * `Deno.Conn.write`, fewer promises). Leaves `conn` alone when that is not possible.
 */
export function useDirectWrite(conn: Deno.Conn): void {
  if (CORE === null) return;
  const rid = ridOf(conn);
  if (rid === undefined) return;
  const core = CORE;
  conn.write = (p) => core.write(rid, p);
}
