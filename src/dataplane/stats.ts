import type {
  AccessLogSink,
  CallbackSeries,
  Counter,
  CounterFamily,
  GaugeFamily,
  Histogram,
  HistogramFamily,
  MetricsRegistry,
} from "../telemetry/mod.ts";
import type { ClusterCounters } from "./cluster.ts";
import type { ClusterView } from "./cluster_view.ts";
import type { Detected } from "./detect.ts";
import type { Exchange, ExchangeSink } from "./exchange.ts";
import type { ListenerEvents } from "./listener.ts";

const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

interface RouteSeries {
  byClass: Counter[];
  duration: Histogram;
}

interface ListenerSeries {
  bytesIn: Counter;
  bytesOut: Counter;
}

interface ClusterSeries {
  connect: Histogram;
  firstByte: Histogram;
}

/**
 * The data plane's metrics and access log: turns finished exchanges and listener events
 * into Prometheus series and JSON access-log lines. Label children are cached so that a
 * request costs one map lookup and a few additions.
 */
export class DataplaneStats implements ExchangeSink {
  readonly #requests: CounterFamily<readonly ["listener", "route", "cluster", "code_class"]>;
  readonly #duration: HistogramFamily<readonly ["listener", "route", "cluster"]>;
  readonly #connect: HistogramFamily<readonly ["cluster"]>;
  readonly #firstByte: HistogramFamily<readonly ["cluster"]>;
  readonly #errors: CounterFamily<readonly ["listener", "reason"]>;
  readonly #malformed: CounterFamily<readonly ["listener", "reason"]>;
  readonly #timeouts: CounterFamily<readonly ["listener", "kind"]>;
  readonly #connActive: GaugeFamily<readonly string[]>;
  readonly #connTotal: CounterFamily<readonly ["listener"]>;
  readonly #detected: CounterFamily<readonly ["listener", "protocol"]>;
  readonly #bytesIn: CounterFamily<readonly ["listener"]>;
  readonly #bytesOut: CounterFamily<readonly ["listener"]>;
  readonly #tcp: CounterFamily<readonly ["listener", "cluster"]>;
  readonly #retries: CounterFamily<readonly ["cluster"]>;
  readonly #retryBudgetExhausted: CounterFamily<readonly ["cluster"]>;
  readonly #ejections: CounterFamily<readonly ["cluster", "reason"]>;
  readonly #healthChecks: CounterFamily<readonly ["cluster", "result"]>;
  readonly #routes = new Map<string, RouteSeries>();
  readonly #listeners = new Map<string, ListenerSeries>();
  readonly #clusters = new Map<string, ClusterSeries>();
  // The route series found last, by identity of its three names (the common case: one
  // route under load) — no key string built per request.
  #lastListener = "";
  #lastRoute = "";
  #lastCluster = "";
  #lastRouteSeries: RouteSeries | null = null;
  readonly #log: AccessLogSink;
  readonly #worker: string | undefined;

  /**
   * @param registry where the families are registered
   * @param accessLog where finished exchanges are logged
   * @param options `worker`: in node mode (data-plane Workers), the Worker's index — gauges
   *   that go up and down get a `worker` label so that a restarted Worker starts its own
   *   from zero instead of inheriting a dead Worker's open connections
   */
  constructor(
    registry: MetricsRegistry,
    accessLog: AccessLogSink,
    options: { worker?: string } = {},
  ) {
    const r = registry;
    this.#log = accessLog;
    this.#worker = options.worker;
    this.#requests = r.counter(
      "skiff_requests",
      "HTTP requests completed, by listener, route, cluster and status class.",
      ["listener", "route", "cluster", "code_class"] as const,
    );
    this.#duration = r.histogram(
      "skiff_request_duration_seconds",
      "Time from the first request byte to the last response byte.",
      ["listener", "route", "cluster"] as const,
    );
    this.#connect = r.histogram(
      "skiff_upstream_connect_duration_seconds",
      "Time to establish a new upstream connection.",
      ["cluster"] as const,
    );
    this.#firstByte = r.histogram(
      "skiff_upstream_first_byte_seconds",
      "Time from sending a request upstream to the first byte of its response.",
      ["cluster"] as const,
    );
    this.#errors = r.counter(
      "skiff_errors",
      "Requests or connections skiff failed, by reason (the x-skiff-error value).",
      ["listener", "reason"] as const,
    );
    this.#malformed = r.counter(
      "skiff_malformed_requests",
      "Requests rejected as malformed, by reason.",
      ["listener", "reason"] as const,
    );
    this.#timeouts = r.counter(
      "skiff_downstream_timeouts",
      "Downstream connections closed by a timeout (idle, request_headers, request).",
      ["listener", "kind"] as const,
    );
    this.#connActive = r.gauge(
      "skiff_downstream_connections_active",
      "Open downstream connections.",
      (this.#worker === undefined ? ["listener"] : ["listener", "worker"]) as readonly string[],
    );
    this.#connTotal = r.counter(
      "skiff_downstream_connections",
      "Downstream connections accepted.",
      ["listener"] as const,
    );
    this.#detected = r.counter(
      "skiff_downstream_protocol_detected",
      "Downstream connections by detected protocol.",
      ["listener", "protocol"] as const,
    );
    this.#bytesIn = r.counter(
      "skiff_downstream_received_bytes",
      "Body bytes received from downstream (TCP: all bytes).",
      ["listener"] as const,
    );
    this.#bytesOut = r.counter(
      "skiff_downstream_sent_bytes",
      "Body bytes sent downstream (TCP: all bytes).",
      ["listener"] as const,
    );
    this.#tcp = r.counter(
      "skiff_tcp_connections",
      "TCP connections proxied, by listener and cluster.",
      ["listener", "cluster"] as const,
    );
    this.#retries = r.counter("skiff_retries", "Retries sent upstream.", ["cluster"] as const);
    this.#retryBudgetExhausted = r.counter(
      "skiff_retry_budget_exhausted",
      "Retries not made because the cluster's retry budget was used up.",
      ["cluster"] as const,
    );
    this.#ejections = r.counter(
      "skiff_outlier_ejections",
      "Endpoints ejected by outlier detection, by cluster and reason.",
      ["cluster", "reason"] as const,
    );
    this.#healthChecks = r.counter(
      "skiff_health_checks",
      "Active health checks finished, by cluster and result (success, failure, timeout).",
      ["cluster", "result"] as const,
    );
  }

  /** The counters a cluster updates itself (its series start at zero now). */
  clusterCounters(cluster: string): ClusterCounters {
    return {
      retries: this.#retries.labels(cluster),
      retryBudgetExhausted: this.#retryBudgetExhausted.labels(cluster),
      outlierEjections: (reason) => this.#ejections.labels(cluster, reason),
      healthChecks: (result) => this.#healthChecks.labels(cluster, result),
    };
  }

  /**
   * Registers the series read from the clusters at each scrape, without changing anything:
   * how many clusters there are, and per cluster the requests in flight, the open
   * upstream connections, and the endpoints ejected and healthy.
   */
  watchClusters(registry: MetricsRegistry, clusters: () => Iterable<ClusterView>): void {
    registry.gaugeFn("skiff_clusters", "Clusters configured.", () => {
      let n = 0;
      for (const _ of clusters()) n++;
      return n;
    });
    registry.gaugeFamilyFn(
      "skiff_upstream_requests_active",
      "Requests in flight to the cluster.",
      ["cluster"] as const,
      () => perCluster(clusters(), (c) => c.active_requests),
    );
    registry.gaugeFamilyFn(
      "skiff_upstream_connections_active",
      "Open upstream connections (pooled and busy).",
      ["cluster"] as const,
      () => perCluster(clusters(), openConnections),
    );
    registry.gaugeFamilyFn(
      "skiff_endpoints_ejected",
      "Endpoints ejected by outlier detection now.",
      ["cluster"] as const,
      () => perCluster(clusters(), (c) => c.endpoints.filter((e) => e.ejected).length),
    );
    registry.gaugeFamilyFn(
      "skiff_endpoints_healthy",
      "Endpoints neither ejected nor failing health checks (unchecked ones count as healthy).",
      ["cluster"] as const,
      () =>
        perCluster(
          clusters(),
          (c) => c.endpoints.filter((e) => !e.ejected && e.health !== "unhealthy").length,
        ),
    );
  }

  /** Listener event hooks for one listener. */
  listenerEvents(listener: string): ListenerEvents {
    const active = this.#worker === undefined
      ? this.#connActive.labels(listener)
      : this.#connActive.labels(listener, this.#worker);
    active.set(0); // a restarted Worker takes over its predecessor's series
    const total = this.#connTotal.labels(listener);
    const overflow = this.#errors.labels(listener, "overflow");
    return {
      onConnection: (delta) => {
        if (delta > 0) total.inc();
        active.inc(delta);
      },
      onOverflow: () => overflow.inc(),
      onMalformed: (reason) => this.#malformed.labels(listener, reason).inc(),
      onTimeout: (which) => this.#timeouts.labels(listener, which).inc(),
      onDetected: (p: Detected) => this.#detected.labels(listener, p).inc(),
    };
  }

  /** Records a finished exchange. */
  finish(ex: Exchange): void {
    ex.onEnd?.exchangeEnded();
    const l = this.#listener(ex.listener);
    l.bytesIn.inc(ex.bytesReceived);
    l.bytesOut.inc(ex.bytesSent);
    if (ex.error) this.#errors.labels(ex.listener, ex.error).inc();
    if (ex.cluster && (ex.connectMs >= 0 || ex.upstreamFirstByte > 0)) {
      const c = this.#cluster(ex.cluster);
      if (ex.connectMs >= 0) c.connect.observe(ex.connectMs / 1000);
      if (ex.upstreamFirstByte > 0) {
        c.firstByte.observe((ex.upstreamFirstByte - ex.upstreamStart) / 1000);
      }
    }
    if (ex.protocol === "TCP") {
      this.#tcp.labels(ex.listener, ex.cluster).inc();
    } else {
      const s = this.#route(ex);
      const cls = Math.floor(ex.status / 100) - 1;
      if (cls >= 0 && cls < 5) s.byClass[cls].inc();
      s.duration.observe((ex.end - ex.start) / 1000);
    }
    if (this.#log.enabled) this.#access(ex);
  }

  #listener(name: string): ListenerSeries {
    let s = this.#listeners.get(name);
    if (!s) {
      s = { bytesIn: this.#bytesIn.labels(name), bytesOut: this.#bytesOut.labels(name) };
      this.#listeners.set(name, s);
    }
    return s;
  }

  #cluster(name: string): ClusterSeries {
    let s = this.#clusters.get(name);
    if (!s) {
      s = { connect: this.#connect.labels(name), firstByte: this.#firstByte.labels(name) };
      this.#clusters.set(name, s);
    }
    return s;
  }

  #route(ex: Exchange): RouteSeries {
    if (
      this.#lastRouteSeries !== null && ex.route === this.#lastRoute &&
      ex.cluster === this.#lastCluster && ex.listener === this.#lastListener
    ) return this.#lastRouteSeries;
    const key = ex.listener + "\0" + ex.route + "\0" + ex.cluster;
    let s = this.#routes.get(key);
    if (!s) {
      s = {
        byClass: CLASSES.map((c) => this.#requests.labels(ex.listener, ex.route, ex.cluster, c)),
        duration: this.#duration.labels(ex.listener, ex.route, ex.cluster),
      };
      this.#routes.set(key, s);
    }
    this.#lastListener = ex.listener;
    this.#lastRoute = ex.route;
    this.#lastCluster = ex.cluster;
    this.#lastRouteSeries = s;
    return s;
  }

  #access(ex: Exchange): void {
    this.#log.write({
      start_time: new Date(ex.startWall).toISOString(),
      method: ex.method,
      path: ex.path,
      protocol: ex.protocol,
      response_code: ex.status,
      response_flags: ex.error,
      bytes_received: ex.bytesReceived,
      bytes_sent: ex.bytesSent,
      duration_ms: ex.end - ex.start,
      upstream_service_time_ms: ex.upstreamFirstByte > 0
        ? ex.upstreamFirstByte - ex.upstreamStart
        : null,
      x_forwarded_for: ex.forwardedFor || null,
      user_agent: ex.userAgent || null,
      request_id: ex.requestId || null,
      authority: ex.authority || null,
      upstream_host: ex.upstreamHost || null,
      upstream_cluster: ex.cluster || null,
      route: ex.route || null,
      listener: ex.listener,
      downstream_remote_address: ex.remote || null,
      retries: ex.retries,
      // Absent fields are left out of the line.
      grpc_status: ex.grpcStatus ? Number(ex.grpcStatus) : undefined,
      downstream_peer_uri_san: ex.peer?.uri,
    });
  }
}

/** One series per cluster, labelled with its name, with the value `read` gives. */
function perCluster(
  clusters: Iterable<ClusterView>,
  read: (c: ClusterView) => number,
): CallbackSeries<readonly ["cluster"]>[] {
  const series = [];
  for (const c of clusters) series.push({ labelValues: [c.name] as const, value: read(c) });
  return series;
}

/** Open upstream connections of a cluster, over its endpoints' pools. */
function openConnections(c: ClusterView): number {
  let open = 0;
  for (const e of c.endpoints) open += e.connections?.open ?? 0;
  return open;
}
