import type { Timer, TimerWheel } from "../../core/mod.ts";
import { writeAll } from "../../net/conn_reader.ts";

/** A byte stream with half-close: a `Deno.Conn` or an upgraded upstream connection. */
export interface Duplex {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
}

/** One end of a tunnel and the bytes already read from it that the other end must get. */
export interface TunnelEnd {
  conn: Duplex;
  leftover: Uint8Array;
}

/** Bytes moved in each direction. */
export interface TunnelResult {
  downstreamToUpstream: number;
  upstreamToDownstream: number;
}

const BUFFER = 32 * 1024;

/**
 * Copies bytes both ways between two connections until both directions have ended. End of
 * stream on one side is passed on as a half-close (`closeWrite`) to the other, so protocols
 * that half-close keep working. A read or write error ends both directions; so does no
 * traffic in either direction for `idleTimeoutMs` (0 disables it). Closes both ends.
 */
export async function tunnel(
  downstream: TunnelEnd,
  upstream: TunnelEnd,
  opts: { wheel: TimerWheel; idleTimeoutMs: number },
): Promise<TunnelResult> {
  let timer: Timer | undefined;
  const closeBoth = () => {
    safeClose(downstream.conn);
    safeClose(upstream.conn);
  };
  const touch = opts.idleTimeoutMs > 0
    ? () => {
      if (timer) opts.wheel.reschedule(timer, opts.idleTimeoutMs);
    }
    : () => {};
  if (opts.idleTimeoutMs > 0) timer = opts.wheel.schedule(opts.idleTimeoutMs, closeBoth);
  const result: TunnelResult = { downstreamToUpstream: 0, upstreamToDownstream: 0 };
  try {
    await Promise.all([
      pump(
        downstream.conn,
        upstream.conn,
        downstream.leftover,
        touch,
        (n) => result.downstreamToUpstream += n,
      )
        .catch((e) => {
          closeBoth();
          throw e;
        }),
      pump(
        upstream.conn,
        downstream.conn,
        upstream.leftover,
        touch,
        (n) => result.upstreamToDownstream += n,
      )
        .catch((e) => {
          closeBoth();
          throw e;
        }),
    ]);
  } catch {
    // One direction failed; both ends are closed.
  } finally {
    timer?.cancel();
    closeBoth();
  }
  return result;
}

async function pump(
  from: Duplex,
  to: Duplex,
  leftover: Uint8Array,
  touch: () => void,
  count: (n: number) => void,
): Promise<void> {
  if (leftover.length > 0) {
    await writeAll(to, leftover);
    count(leftover.length);
  }
  const buf = new Uint8Array(BUFFER);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) break;
    touch();
    await writeAll(to, buf.subarray(0, n));
    count(n);
  }
  try {
    await to.closeWrite();
  } catch { /* the other side is already gone; its own direction will notice */ }
}

function safeClose(c: Duplex): void {
  try {
    c.close();
  } catch { /* already closed */ }
}
