/** One request head kept by a {@linkcode HeadRing}, as `heads()` returns it. */
export interface RecordedHead {
  /** The listener that received the request. */
  listener: string;
  method: string;
  authority: string;
  /** The path without the query string: what routing looks at. */
  path: string;
  /** The request's header fields as routing saw them, as a flat name/value list. */
  headers: readonly string[];
  /** The route that took the request, or `undefined` when none matched (404). */
  route: string | undefined;
}

/**
 * The last `capacity` request heads of all listeners together, for the reload shadow check
 * (`reload.shadow`, `reload.shadow_requests`). The newest head overwrites the oldest.
 *
 * `record` runs on the request path, so the ring is column arrays allocated once: a call
 * stores string references (strings are immutable, nothing is copied) and copies the header
 * list into the slot's own array, which is reused from one lap to the next. The copy is
 * needed because the proxy edits `headers` in place after routing (hop-by-hop fields,
 * `request_headers_to_add`); all fields are kept, not only the ones today's routes test,
 * since the new version's routes may test others. The cost is therefore a few stores and
 * one header-list copy per request, and memory holds `capacity` request heads (their
 * header values included) alive. The query string is dropped: routing never sees it, and
 * it is where secrets in URLs usually sit.
 *
 * @example
 * ```ts
 * const ring = new HeadRing(1000);
 * ring.record("ingress", "GET", "api.local", "/v1/users?id=1", ["accept", "text/html"], "api");
 * ring.heads()[0].path; // "/v1/users"
 * ```
 */
export class HeadRing {
  readonly #capacity: number;
  readonly #listeners: string[];
  readonly #methods: string[];
  readonly #authorities: string[];
  readonly #paths: string[];
  readonly #headers: string[][];
  readonly #routes: (string | undefined)[];
  /** The slot the next record goes to. */
  #next = 0;
  #size = 0;

  /**
   * @param capacity how many heads to keep (`reload.shadow_requests`)
   * @throws {RangeError} when `capacity` is not a positive integer
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `A head ring needs a positive integer capacity, got ${capacity}: ` +
          "set reload.shadow_requests to 1 or more",
      );
    }
    this.#capacity = capacity;
    this.#listeners = new Array<string>(capacity).fill("");
    this.#methods = new Array<string>(capacity).fill("");
    this.#authorities = new Array<string>(capacity).fill("");
    this.#paths = new Array<string>(capacity).fill("");
    this.#headers = Array.from({ length: capacity }, () => []);
    this.#routes = new Array<string | undefined>(capacity).fill(undefined);
  }

  /** How many heads the ring keeps at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many heads the ring holds now (up to `capacity`). */
  get size(): number {
    return this.#size;
  }

  /**
   * Keeps one request head, overwriting the oldest when the ring is full.
   *
   * @param listener the listener's name
   * @param path the request target; a query string is dropped
   * @param headers the flat name/value list routing saw; copied, so later edits don't show
   * @param route the name of the route that matched, `undefined` for a 404
   */
  record(
    listener: string,
    method: string,
    authority: string,
    path: string,
    headers: readonly string[],
    route: string | undefined,
  ): void {
    const i = this.#next;
    const q = path.indexOf("?");
    this.#listeners[i] = listener;
    this.#methods[i] = method;
    this.#authorities[i] = authority;
    this.#paths[i] = q >= 0 ? path.slice(0, q) : path;
    this.#routes[i] = route;
    const slot = this.#headers[i];
    slot.length = headers.length;
    for (let j = 0; j < headers.length; j++) slot[j] = headers[j];
    this.#next = i + 1 === this.#capacity ? 0 : i + 1;
    if (this.#size < this.#capacity) this.#size++;
  }

  /** The heads held, oldest first, as a snapshot that later records don't change. */
  heads(): RecordedHead[] {
    const out: RecordedHead[] = [];
    let i = this.#size < this.#capacity ? 0 : this.#next;
    for (let n = 0; n < this.#size; n++) {
      out.push({
        listener: this.#listeners[i],
        method: this.#methods[i],
        authority: this.#authorities[i],
        path: this.#paths[i],
        headers: this.#headers[i].slice(),
        route: this.#routes[i],
      });
      i = i + 1 === this.#capacity ? 0 : i + 1;
    }
    return out;
  }

  /** Forgets every head (their strings are released; the slots stay allocated). */
  clear(): void {
    this.#listeners.fill("");
    this.#methods.fill("");
    this.#authorities.fill("");
    this.#paths.fill("");
    this.#routes.fill(undefined);
    for (const h of this.#headers) h.length = 0;
    this.#next = 0;
    this.#size = 0;
  }
}
