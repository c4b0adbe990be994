/**
 * Polls `cond` until it returns a truthy value or `timeoutMs` passes.
 *
 * @returns the truthy value
 * @throws {Error} naming `what` when the deadline passes
 */
export async function waitFor<T>(
  what: string,
  cond: () => T | Promise<T>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what}` + (last ? `: ${last}` : ""),
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP port that was free a moment ago (for configs that need a fixed port). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Settles like `p`, or rejects naming `what` when `ms` of real time pass first.
 *
 * @example
 * ```ts
 * const res = await within("the response", fetch(url));
 * ```
 */
export async function within<T>(what: string, p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
