import { TimeoutError } from "../core/abort.ts";
import type { Timer } from "../core/clock.ts";
import type { TimerWheel } from "../core/timer_wheel.ts";
import { useDirectWrite } from "./direct_ops.ts";

/** A TCP connect function (injectable for tests). */
export type Connector = (addr: { hostname: string; port: number }) => Promise<Deno.TcpConn>;

/** Connects with `Deno.connect`. */
export const denoConnect: Connector = (a) => Deno.connect({ hostname: a.hostname, port: a.port });

/**
 * Opens a TCP connection with a deadline and TCP_NODELAY set. A connection that completes
 * after the deadline is closed.
 *
 * @throws {TimeoutError} when the deadline passes first; the connect error otherwise
 */
export async function connectWithTimeout(
  addr: { hostname: string; port: number },
  timeoutMs: number,
  wheel: TimerWheel,
  connect: Connector = denoConnect,
): Promise<Deno.TcpConn> {
  let timer: Timer | undefined;
  let late = false;
  const pending = connect(addr);
  pending.then((c) => late && c.close(), () => {});
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = wheel.schedule(timeoutMs, () => {
        late = true;
        reject(new TimeoutError("connect timeout", timeoutMs));
      });
    });
    const conn = await Promise.race([pending, timeout]);
    conn.setNoDelay(true);
    useDirectWrite(conn);
    return conn;
  } finally {
    timer?.cancel();
  }
}
