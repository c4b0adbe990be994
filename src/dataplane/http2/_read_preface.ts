import type { ConnReader } from "../../net/conn_reader.ts";
import { ErrorCode, H2ConnectionError, PREFACE } from "./frame.ts";

/**
 * Server: reads and consumes the client connection preface (RFC 9113 §3.4). A client
 * speaking anything else is told at its first wrong byte, not after 24.
 *
 * @throws {H2ConnectionError} PROTOCOL_ERROR on a wrong byte or an early end (as a rejection)
 */
export async function readPreface(r: ConnReader): Promise<void> {
  while (r.available < PREFACE.length && prefaceSoFar(r)) {
    if ((await r.fill()) === 0) {
      throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "no preface");
    }
  }
  if (!prefaceSoFar(r)) {
    throw new H2ConnectionError(ErrorCode.PROTOCOL_ERROR, "bad connection preface");
  }
  r.consume(PREFACE.length);
}

/** True while the buffered bytes match the preface as far as they go. */
function prefaceSoFar(r: ConnReader): boolean {
  const n = Math.min(r.available, PREFACE.length);
  for (let i = 0; i < n; i++) if (r.buf[r.start + i] !== PREFACE[i]) return false;
  return true;
}
