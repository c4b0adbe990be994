/**
 * Envoy's cluster-wide thresholds on connections and pending requests: shared by the pools of
 * every endpoint of one cluster (and by the cluster's config versions). A pool asks before it
 * opens a connection or queues a request, and reports what it opened, closed, queued and
 * dequeued. A pool that has requests waiting because the cluster is at its connection limit
 * (not its own) asks to be called when a connection anywhere in the cluster closes.
 *
 * @example
 * ```ts
 * const budget = new ConnectionBudget(1024, 1024);
 * if (budget.canOpen()) { budget.opened(); connect(); }
 * ```
 */
export class ConnectionBudget {
  #maxConnections: number;
  #maxPending: number;
  #connections = 0;
  #pending = 0;
  readonly #waiting = new Set<() => void>();
  /** Pools' ways to close one of their idle connections (true when they had one). */
  readonly #evictors = new Set<() => boolean>();

  constructor(maxConnections: number, maxPending: number) {
    this.#maxConnections = maxConnections;
    this.#maxPending = maxPending;
  }

  /** Connections open in the cluster. */
  get connections(): number {
    return this.#connections;
  }

  /** Requests waiting for a connection in the cluster. */
  get pending(): number {
    return this.#pending;
  }

  /** New limits (a reload): what is open stays; new connections and waits obey them. */
  setLimits(maxConnections: number, maxPending: number): void {
    this.#maxConnections = maxConnections;
    this.#maxPending = maxPending;
  }

  /** True when one more connection may open. */
  canOpen(): boolean {
    return this.#connections < this.#maxConnections;
  }

  /** True when one more request may wait for a connection. */
  canQueue(): boolean {
    return this.#pending < this.#maxPending;
  }

  opened(): void {
    this.#connections++;
  }

  /** A connection closed (or failed to open): a pool waiting for a slot gets its turn. */
  closed(): void {
    this.#connections--;
    for (const wake of this.#waiting) {
      if (!this.canOpen()) return;
      this.#waiting.delete(wake);
      wake();
    }
  }

  /** Requests started (+n) or stopped (−n) waiting. */
  queued(n: number): void {
    this.#pending += n;
  }

  /** True when a pool waits for a connection slot (an idle connection should give way). */
  get contended(): boolean {
    return this.#waiting.size > 0;
  }

  /** Lets the budget close one of a pool's idle connections when another pool needs a slot. */
  register(evictIdle: () => boolean): void {
    this.#evictors.add(evictIdle);
  }

  unregister(evictIdle: () => boolean): void {
    this.#evictors.delete(evictIdle);
  }

  /**
   * Makes room for one connection by closing an idle one of some pool.
   *
   * @returns true when a connection may open now
   */
  reclaim(): boolean {
    for (const evict of this.#evictors) {
      if (this.canOpen()) return true;
      evict();
    }
    return this.canOpen();
  }

  /** Calls `wake` once, when a connection of the cluster closes (idempotent per `wake`). */
  waitForSlot(wake: () => void): void {
    this.#waiting.add(wake);
  }

  /** Forgets a `waitForSlot` (the pool has nothing waiting any more). */
  cancelWait(wake: () => void): void {
    this.#waiting.delete(wake);
  }
}
