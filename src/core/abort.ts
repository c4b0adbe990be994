/** Thrown (as an abort reason) when an operation runs past its deadline. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  /** Which deadline expired, e.g. "route timeout" or "per-try timeout". */
  readonly what: string;
  constructor(what: string, ms: number) {
    super(`The ${what} of ${ms} ms expired`);
    this.what = what;
  }
}

/** Throws the signal's reason when it is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}
