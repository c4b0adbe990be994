import type { Connector } from "../../net/connect.ts";

/**
 * Opens a TCP connection unless `signal` aborts first (rejecting with its reason); a
 * connection that completes after the abort is closed.
 */
export async function dial(
  address: { hostname: string; port: number },
  signal: AbortSignal,
  connect: Connector,
): Promise<Deno.TcpConn> {
  signal.throwIfAborted();
  const pending = connect(address);
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([pending, aborted]);
  } catch (err) {
    pending.then((c) => c.close(), () => {});
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
