import { type Body, bufferBody, BufferedBody } from "./body.ts";
import { ReplayBody } from "./replay_body.ts";

/** Largest request body buffered in memory so that the request can be retried. */
export const MAX_RETRY_BODY = 64 * 1024;

/**
 * A body that a retry can send again: a known length up to `MAX_RETRY_BODY` is buffered
 * first; a body of unknown length (chunked, HTTP/2, gRPC streams) is forwarded as it
 * arrives and recorded while it stays within the limit.
 */
export async function replayable(body: Body): Promise<BufferedBody | ReplayBody | null> {
  if (body instanceof BufferedBody) return body;
  if (body.length > MAX_RETRY_BODY) return null;
  if (body.length < 0) return ReplayBody.record(body, MAX_RETRY_BODY);
  return await bufferBody(body, MAX_RETRY_BODY);
}

/** False once a recorded body has grown past what was kept for a retry. */
export function stillReplayable(replay: BufferedBody | ReplayBody | null): boolean {
  return !(replay instanceof ReplayBody) || replay.replayable;
}
