import { type Clock, type Logger, Serial, type Timer } from "../core/mod.ts";
import type { MetricsRegistry } from "../telemetry/mod.ts";
import { alarmAt } from "./_expiry_alarm.ts";
import { SvidMetrics } from "./_svid_metrics.ts";
import { loadSvidDir, type SvidSnapshot } from "./load_svid_dir.ts";
import { SvidError } from "./svid.ts";

/** Options of `SvidSource.open`. */
export interface SvidSourceOptions {
  /** The directory holding `svid.pem`, `svid_key.pem` and `bundle.pem`. */
  dir: string;
  /** Time for validity checks, the debounce and the expiry alarms. */
  clock: Clock;
  /** Receives rotations, load failures and expiry warnings. */
  log: Logger;
  /** Where `skiff_svid_*` metrics are registered. */
  metrics: MetricsRegistry;
  /** Quiet time after the last file event before the files are read again; default 100 ms. */
  debounceMs?: number;
}

/** Called with the new SVID after every switch. */
export type SvidListener = (svid: SvidSnapshot) => void;

/**
 * The workload's current X.509-SVID, loaded from a SPIRE-agent style directory and, once
 * `watch()` is called, replaced when the files change. A new set of files is taken into use
 * only when all three load and agree (see `loadSvidDir`); until then the previous SVID stays
 * and the failure is logged and counted. A warning is logged when less than a third of the
 * SVID's lifetime remains and an error when it has expired.
 *
 * @example
 * ```ts
 * const source = await SvidSource.open({ dir, clock, log, metrics });
 * source.watch();
 * const server = tls.createServer(serverOptions(source, { alpn: ["h2"] }));
 * ```
 */
export class SvidSource {
  readonly #dir: string;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: SvidMetrics;
  readonly #debounceMs: number;
  readonly #listeners = new Set<SvidListener>();
  #current: SvidSnapshot;
  #alarms: Timer[] = [];
  #watcher: Deno.FsWatcher | undefined;
  #debounce: Timer | undefined;
  readonly #reloads = new Serial();
  #closed = false;

  private constructor(options: SvidSourceOptions, metrics: SvidMetrics, first: SvidSnapshot) {
    this.#dir = options.dir;
    this.#clock = options.clock;
    this.#log = options.log.child({ component: "svid", dir: options.dir });
    this.#metrics = metrics;
    this.#debounceMs = options.debounceMs ?? 100;
    this.#current = first;
    this.#use(first);
  }

  /**
   * Loads the SVID directory once.
   *
   * @throws {SvidError} when the files do not load (the failure is counted too)
   */
  static async open(options: SvidSourceOptions): Promise<SvidSource> {
    const metrics = new SvidMetrics(options.metrics);
    try {
      return new SvidSource(options, metrics, await loadSvidDir(options.dir, options.clock.now()));
    } catch (err) {
      if (err instanceof SvidError) metrics.failed(err.reason);
      throw err;
    }
  }

  /** The SVID in use now; take it at the start of each handshake. */
  current(): SvidSnapshot {
    return this.#current;
  }

  /**
   * Registers `fn` to run after every switch to a new SVID or bundle.
   *
   * @returns a function that unregisters it
   */
  onChange(fn: SvidListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Reads the files again now (reloads run one at a time, in order).
   *
   * @returns whether a new SVID or bundle was taken into use
   */
  reload(): Promise<boolean> {
    return this.#reloads.run(() => this.#reloadOnce());
  }

  /**
   * Starts watching the directory; reloads after each burst of changes. Idempotent.
   *
   * @throws {Deno.errors.NotFound} when the directory is gone
   */
  watch(): void {
    if (this.#watcher || this.#closed) return;
    const watcher = Deno.watchFs(this.#dir, { recursive: false });
    this.#watcher = watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          if (event.kind !== "access") this.#schedule();
        }
      } catch (err) {
        if (!this.#closed) this.#log.error("watching the SVID directory failed", { err });
      }
    })();
  }

  /** Stops watching and cancels timers; `current()` keeps answering. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#debounce?.cancel();
    for (const a of this.#alarms) a.cancel();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #schedule(): void {
    this.#debounce?.cancel();
    this.#debounce = this.#clock.setTimer(() => {
      this.reload().catch((err) =>
        this.#log.error("reloading the SVID files failed (bug)", { err })
      );
    }, this.#debounceMs);
  }

  async #reloadOnce(): Promise<boolean> {
    if (this.#closed) return false;
    let next: SvidSnapshot;
    try {
      next = await loadSvidDir(this.#dir, this.#clock.now());
    } catch (err) {
      if (!(err instanceof SvidError)) throw err;
      this.#metrics.failed(err.reason);
      this.#log.warn("cannot load the SVID files; keeping the current SVID", {
        reason: err.reason,
        err: err.message,
        serial: this.#current.serialNumber,
      });
      return false;
    }
    const old = this.#current;
    if (next.cert === old.cert && next.key === old.key && next.ca === old.ca) return false;
    this.#use(next);
    this.#metrics.rotations.inc();
    this.#log.info("SVID rotated", {
      spiffe_id: next.id.toString(),
      serial: next.serialNumber,
      previous_serial: old.serialNumber,
      not_after: next.notAfter.toISOString(),
    });
    for (const fn of this.#listeners) {
      try {
        fn(next);
      } catch (err) {
        this.#log.error("an SVID change listener failed (bug)", { err });
      }
    }
    return true;
  }

  #use(svid: SvidSnapshot): void {
    this.#current = svid;
    this.#metrics.expiry.set(svid.notAfter.getTime() / 1000);
    for (const a of this.#alarms) a.cancel();
    const start = svid.notBefore.getTime();
    const end = svid.notAfter.getTime();
    const fields = {
      spiffe_id: svid.id.toString(),
      serial: svid.serialNumber,
      not_after: svid.notAfter.toISOString(),
    };
    this.#alarms = [
      alarmAt(this.#clock, start + (end - start) * 2 / 3, () => {
        this.#log.warn(
          "SVID has less than a third of its lifetime left; is rotation working?",
          fields,
        );
      }),
      alarmAt(this.#clock, end, () => this.#log.error("SVID expired", fields)),
    ];
  }
}
