import { TimeoutError } from "../../core/abort.ts";
import type { MessageStream } from "../transport.ts";
import { sampleDelay } from "./link_conditions.ts";
import type { NodeState, SimHost } from "./_sim_host.ts";
import type { SimClock } from "./sim_clock.ts";
import { SimStream } from "./sim_stream.ts";

/**
 * Opens a simulated stream like a TCP connect: the request takes one link delay to reach
 * `dst`, which accepts it (its stream handler runs) or refuses it (no handler, transport
 * closed); the answer takes one delay back. An unknown, killed or partitioned `dst` never
 * answers, so the connect rejects with a `TimeoutError` after `timeoutMs` on `from`'s clock.
 * A stalled `dst` answers when its stall ends.
 */
export function simConnect(
  host: SimHost,
  from: NodeState,
  gen: number,
  to: string,
  dst: NodeState | undefined,
  timeoutMs: number,
  clockOf: (n: NodeState) => SimClock,
): Promise<MessageStream> {
  const { promise, resolve, reject } = Promise.withResolvers<MessageStream>();
  let done = false;
  const timer = host.callAt(from, gen, host.now + Math.max(0, timeoutMs), () => {
    done = true;
    reject(new TimeoutError(`connect timeout to "${to}"`, timeoutMs));
  });
  if (!dst || !dst.alive || !host.reachable(from, dst)) return promise;
  const dstGen = dst.gen;
  const delay = (a: NodeState, b: NodeState) => sampleDelay(host.conditions(a, b), host.rng);
  const answer = (fn: (late: boolean) => void) =>
    host.callAt(from, gen, host.now + delay(dst, from), () => {
      const late = done;
      done = true;
      timer.cancel();
      fn(late);
    });
  host.callAt(dst, dstGen, host.now + delay(from, dst), () => {
    if (!host.reachable(from, dst)) return;
    const handler = dst.onStream;
    if (!dst.live(dstGen) || !handler) {
      answer((late) => {
        if (!late) {
          reject(new Error(`Node "${to}" refused the stream: it is not accepting streams`));
        }
      });
      return;
    }
    const near = new SimStream(host, from, gen, clockOf(from));
    const far = new SimStream(host, dst, dstGen, clockOf(dst));
    near.peer = far;
    far.peer = near;
    handler(from.name, far);
    answer((late) => {
      if (late || !from.live(gen)) near.close();
      else resolve(near);
    });
  });
  return promise;
}
