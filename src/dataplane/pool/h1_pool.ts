import { type Cancel, TimeoutError, type Timer, type TimerWheel } from "../../core/mod.ts";
import { type Connector, connectWithTimeout } from "../../net/connect.ts";
import type { SocketAddress } from "../../config/address.ts";
import { UpstreamError } from "../upstream_error.ts";
import type { ProxyRequest, ProxyResponse } from "../http/message.ts";
import { type ExchangeTiming, H1Connection } from "./h1_connection.ts";
import type { ConnectionBudget } from "./connection_budget.ts";
import { formatAddress } from "../../config/address.ts";

/** Limits of one endpoint's connection pool. */
export interface PoolLimits {
  maxConnections: number;
  maxPendingRequests: number;
  /** 0 for unlimited. */
  maxRequestsPerConnection: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
}

/** What a pool needs from its surroundings. */
export interface PoolDeps {
  wheel: TimerWheel;
  /** Monotonic milliseconds. */
  now: () => number;
  /** Opens a TCP connection; defaults to `Deno.connect`. */
  connect?: Connector;
  /** Called with the duration of each successful connect, in milliseconds. */
  onConnect?: (ms: number) => void;
  /** Called when the number of open connections changes (+1 / -1). */
  onConnections?: (delta: number) => void;
  /** The cluster's limits on connections and pending requests (`limits`), shared by its pools. */
  budget?: ConnectionBudget;
}

interface Waiter {
  resolve: (c: H1Connection) => void;
  reject: (e: unknown) => void;
  cancel?: Cancel;
}

/** A connection's idle-time state: made once per connection and reused at every release. */
interface Idle {
  conn: H1Connection;
  /** The idle timeout; rescheduled, not re-created, at every release. */
  timer: Timer | null;
  /** Still in the idle list (cleared when taken or evicted; O(1) instead of a list search). */
  idle: boolean;
  /** Evicts this connection if it is still idle. */
  evict: () => void;
  /** Takes the result of the read kept armed while idle. */
  onRead: (n: number) => void;
}

/**
 * Keep-alive HTTP/1.1 connections to one endpoint: reuses the most recently idle
 * connection, opens new ones up to `maxConnections`, queues up to `maxPendingRequests`
 * beyond that and refuses more (`overflow`). An idle connection the upstream closes is
 * noticed at once (a read stays armed while idle) and dropped.
 */
export class H1Pool {
  readonly #addr: SocketAddress;
  readonly #limits: PoolLimits;
  readonly #deps: PoolDeps;
  readonly #idle: Idle[] = [];
  readonly #waiters: Waiter[] = [];
  #open = 0;
  #closed = false;

  constructor(addr: SocketAddress, limits: PoolLimits, deps: PoolDeps) {
    this.#addr = addr;
    this.#limits = limits;
    this.#deps = deps;
    deps.budget?.register(this.#evictOneIdle);
  }

  /** Closes the longest-idle connection for another pool of the cluster; false when none. */
  readonly #evictOneIdle = (): boolean => {
    const e = this.#idle.shift();
    if (!e) return false;
    e.idle = false;
    e.timer!.cancel();
    this.#drop(e.conn);
    return true;
  };

  /** Open connections (busy and idle). */
  get open(): number {
    return this.#open;
  }

  /** Idle connections. */
  get idle(): number {
    return this.#idle.length;
  }

  /** Requests waiting for a connection. */
  get pending(): number {
    return this.#waiters.length;
  }

  /**
   * Takes an idle connection or opens one; waits when the pool is full.
   *
   * @throws {UpstreamError} `overflow` when the wait queue is full, `connect_failure` /
   * `connect_timeout` when connecting fails; the cancel reason when cancelled
   */
  acquire(cancel?: Cancel): Promise<H1Connection> {
    const idle = this.#idle.pop();
    if (idle) {
      idle.idle = false;
      idle.timer!.cancel();
      return Promise.resolve(idle.conn);
    }
    const budget = this.#deps.budget;
    const ownRoom = this.#open < this.#limits.maxConnections;
    // At the cluster's limit, an idle connection of another endpoint gives way.
    if (ownRoom && (budget === undefined || budget.canOpen() || budget.reclaim())) {
      return this.#connect();
    }
    if (
      this.#waiters.length >= this.#limits.maxPendingRequests ||
      (budget !== undefined && !budget.canQueue())
    ) {
      return Promise.reject(
        new UpstreamError("overflow", `Connection pool of ${this.#label()} is full`),
      );
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, cancel };
      cancel?.onCancel(() => {
        const i = this.#waiters.indexOf(w);
        if (i >= 0) {
          this.#waiters.splice(i, 1);
          budget?.queued(-1);
        }
        reject(cancel.reason);
      });
      this.#waiters.push(w);
      budget?.queued(1);
      // At the cluster's connection limit, not this pool's: wait for a slot anywhere.
      if (ownRoom) budget!.waitForSlot(this.#onSlot);
    });
  }

  /** The next waiter, taken off the queue (and the cluster's pending count). */
  #nextWaiter(): Waiter | undefined {
    const w = this.#waiters.shift();
    if (w) this.#deps.budget?.queued(-1);
    return w;
  }

  /** A connection of the cluster closed: open one for the next waiter if there is room. */
  readonly #onSlot = (): void => {
    const budget = this.#deps.budget!;
    if (this.#closed || this.#waiters.length === 0) return;
    if (this.#open >= this.#limits.maxConnections) return; // our own connections will serve
    if (!budget.canOpen()) {
      budget.waitForSlot(this.#onSlot);
      return;
    }
    const waiter = this.#nextWaiter()!;
    waiter.cancel?.onCancel(null);
    this.#connect().then(waiter.resolve, waiter.reject);
    if (this.#waiters.length > 0) budget.waitForSlot(this.#onSlot);
  };

  /**
   * Sends one request on a pooled connection and returns the response head; the connection
   * goes back to the pool when the response body has been read. Cancelling before the head
   * arrives closes the connection.
   *
   * @throws {UpstreamError} as `acquire` and `H1Connection.exchange` do
   */
  request(req: ProxyRequest, timing: ExchangeTiming, cancel: Cancel): Promise<ProxyResponse> {
    const idle = this.#idle.pop();
    if (idle) {
      // Fast path: no extra promise for the common keep-alive case.
      idle.idle = false;
      idle.timer!.cancel();
      return this.#send(idle.conn, req, timing, cancel);
    }
    return this.acquire(cancel).then((conn) => {
      if (cancel.cancelled) {
        this.release(conn, true);
        throw cancel.reason;
      }
      return this.#send(conn, req, timing, cancel);
    });
  }

  #send(
    conn: H1Connection,
    req: ProxyRequest,
    timing: ExchangeTiming,
    cancel: Cancel,
  ): Promise<ProxyResponse> {
    timing.connectMs = conn.requests === 0 ? conn.connectMs : -1;
    cancel.onCancel(conn.closer);
    return conn.exchange(req, timing, this.#release);
  }

  readonly #release = (conn: H1Connection, reusable: boolean) => this.release(conn, reusable);

  /** Returns a connection after its exchange; `reusable` is false when it must close. */
  release(conn: H1Connection, reusable: boolean): void {
    const max = this.#limits.maxRequestsPerConnection;
    if (!reusable || conn.closed || this.#closed || (max > 0 && conn.requests >= max)) {
      this.#drop(conn);
      return;
    }
    const waiter = this.#nextWaiter();
    if (waiter) {
      waiter.cancel?.onCancel(null);
      waiter.resolve(conn);
      return;
    }
    // Another endpoint of the cluster waits for a connection slot: this one gives way.
    if (this.#deps.budget?.contended) {
      this.#drop(conn);
      return;
    }
    let entry = conn.poolEntry as Idle | null;
    if (entry === null) conn.poolEntry = entry = this.#idleEntry(conn);
    entry.idle = true;
    const wheel = this.#deps.wheel;
    if (entry.timer) wheel.reschedule(entry.timer, this.#limits.idleTimeoutMs);
    else entry.timer = wheel.schedule(this.#limits.idleTimeoutMs, entry.evict);
    this.#idle.push(entry);
    // Keep a read armed: the upstream closing the idle connection ends it here. (A result
    // of an earlier idle period cannot arrive late: its reactions run before the exchange
    // that awaited the same read goes on.)
    conn.reader.prefetch().then(entry.onRead, entry.evict);
  }

  #idleEntry(conn: H1Connection): Idle {
    const entry: Idle = {
      conn,
      timer: null,
      idle: false,
      evict: () => this.#evict(entry),
      onRead: (n) => {
        // Any outcome while idle ends it: 0 is the upstream closing, > 0 unexpected bytes.
        if (n >= 0 && entry.idle) this.#evict(entry);
      },
    };
    return entry;
  }

  /** Closes idle connections and refuses new work; busy connections close on release. */
  close(): void {
    this.#closed = true;
    this.#deps.budget?.unregister(this.#evictOneIdle);
    for (const e of this.#idle.splice(0)) {
      e.idle = false;
      e.timer!.cancel();
      this.#drop(e.conn);
    }
    this.#deps.budget?.cancelWait(this.#onSlot);
    for (const w of this.#waiters.splice(0)) {
      this.#deps.budget?.queued(-1);
      w.reject(new UpstreamError("no_healthy_upstream", `Endpoint ${this.#label()} was removed`));
    }
  }

  #evict(entry: Idle): void {
    if (!entry.idle) return;
    entry.idle = false;
    const i = this.#idle.indexOf(entry);
    if (i < 0) return;
    this.#idle.splice(i, 1);
    entry.timer!.cancel();
    this.#drop(entry.conn);
  }

  #drop(conn: H1Connection): void {
    conn.close();
    this.#open--;
    this.#deps.onConnections?.(-1);
    const budget = this.#deps.budget;
    budget?.closed();
    if (this.#waiters.length === 0) return;
    // A slot freed up: open a connection for the next waiter (if the cluster has room).
    if (budget !== undefined && !budget.canOpen()) {
      budget.waitForSlot(this.#onSlot);
      return;
    }
    const waiter = this.#nextWaiter()!;
    waiter.cancel?.onCancel(null);
    this.#connect().then(waiter.resolve, waiter.reject);
  }

  async #connect(): Promise<H1Connection> {
    this.#open++;
    this.#deps.onConnections?.(1);
    this.#deps.budget?.opened();
    const started = this.#deps.now();
    try {
      const conn = await connectWithTimeout(
        this.#addr,
        this.#limits.connectTimeoutMs,
        this.#deps.wheel,
        this.#deps.connect,
      );
      if (this.#closed) conn.close();
      const h1 = new H1Connection(conn, this.#deps.now);
      h1.connectMs = this.#deps.now() - started;
      this.#deps.onConnect?.(h1.connectMs);
      return h1;
    } catch (err) {
      this.#open--;
      this.#deps.onConnections?.(-1);
      this.#deps.budget?.closed();
      throw connectError(err, this.#label());
    }
  }

  #label(): string {
    return formatAddress(this.#addr);
  }
}

/** Maps a connect failure to the `UpstreamError` the proxy reports. */
export function connectError(err: unknown, label: string): UpstreamError {
  if (err instanceof TimeoutError) {
    return new UpstreamError("connect_timeout", `Connecting to ${label}: ${err.message}`, {
      cause: err,
    });
  }
  if ((err as { code?: string })?.code === "ERR_SPIFFE_PEER") {
    return new UpstreamError("upstream_identity", `${label}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return new UpstreamError(
    "connect_failure",
    `Cannot connect to ${label}: ${(err as Error).message}`,
    {
      cause: err,
    },
  );
}
