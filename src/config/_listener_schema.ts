import { z } from "zod";
import { BindAddress, Duration, Name, Port } from "./_common_schema.ts";
import { Authz } from "./_authz_schema.ts";
import { RateLimit, Route } from "./_route_schema.ts";

const ListenerTls = z.strictObject({
  mode: z.enum(["disable", "mtls"]).default("disable").describe(
    "mtls: mutual TLS 1.3 with this workload's SVID; clients must present a valid SVID.",
  ),
});

const ListenerLimits = z.strictObject({
  max_connections: z.number().int().min(1).default(10_000),
  max_request_header_bytes: z.number().int().min(1024).max(1 << 20).default(64 * 1024),
  max_request_headers: z.number().int().min(1).max(1000).default(100),
});

const ListenerTimeouts = z.strictObject({
  idle: Duration.prefault("60s").describe("Keep-alive idle time between requests."),
  request_headers: Duration.prefault("10s").describe("Time to receive a full request head."),
  request: Duration.prefault("5m").describe("Time to receive a full request body."),
});

const TcpProxy = z.strictObject({
  cluster: Name,
  idle_timeout: Duration.prefault("1h"),
});

const Detection = z.strictObject({
  timeout: Duration.prefault("100ms").describe("How long to wait for the client's first bytes."),
  server_first_ports: z.array(Port).default([21, 22, 25, 110, 143, 3306, 5432]),
});

export const Listener = z.strictObject({
  name: Name.describe("Unique name of the listener."),
  address: BindAddress,
  protocol: z.enum(["http", "tcp", "auto"]).default("http").describe(
    "http serves routes, tcp forwards connections to tcp.cluster, auto detects HTTP and " +
      "forwards the rest.",
  ),
  routes: z.array(Route).default([]).describe("HTTP routes (protocols http and auto)."),
  tcp: TcpProxy.optional().describe("Where to forward TCP (protocols tcp and auto)."),
  detection: Detection.prefault({}).describe("Protocol detection (protocol auto)."),
  limits: ListenerLimits.prefault({}),
  timeouts: ListenerTimeouts.prefault({}),
  tls: ListenerTls.prefault({}).describe("Transport security of accepted connections."),
  authz: Authz.optional().describe(
    "Who may do what, by the peer's SPIFFE ID, method and path; absent: everyone.",
  ),
  rate_limit: RateLimit.optional().describe(
    "Local rate limit of the whole listener (HTTP requests; TCP: connections).",
  ),
});
