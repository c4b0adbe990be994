const EMPTY = new Uint8Array(0);

/**
 * Hands out views of byte ranges, and the same view again when the range is the one asked
 * for last time. A place on the request path that views the same range of a reused buffer
 * for every request (the head written from a connection's output buffer, a response body
 * read from the start of an input buffer) then makes no typed-array object per request.
 * A view is only a window: the bytes in it are the buffer's, whoever else holds the view.
 *
 * @example
 * ```ts
 * const views = new ViewCache();
 * await conn.write(views.view(out, 0, n));
 * ```
 */
export class ViewCache {
  #of: Uint8Array = EMPTY;
  #start = 0;
  #view: Uint8Array = EMPTY;

  /** `of[start, end)` as a view: the one returned last time when it is the same range. */
  view(of: Uint8Array, start: number, end: number): Uint8Array {
    const v = this.#view;
    if (of === this.#of && start === this.#start && end - start === v.length) return v;
    this.#of = of;
    this.#start = start;
    return (this.#view = of.subarray(start, end));
  }
}
