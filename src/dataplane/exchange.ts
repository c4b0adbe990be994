import type { Clock } from "../core/clock.ts";
import type { SpiffeId } from "../security/spiffe_id.ts";

/** Who is on the other side of a mutual-TLS connection, as its requests carry it. */
export interface PeerIdentity {
  /** The peer's SPIFFE ID, from its verified X.509-SVID. */
  readonly id: SpiffeId;
  /** The same ID as text, for logs and the access log. */
  readonly uri: string;
  /**
   * The `x-forwarded-client-cert` value requests from this peer carry to the local app:
   * `By=<this workload's SPIFFE ID>;URI=<the peer's>`.
   */
  readonly xfcc: string;
}

/**
 * Everything recorded about one request/response exchange (or one TCP connection), filled
 * in by the layers it passes through and handed to metrics and the access log at the end.
 * A plain mutable record: one is allocated per request.
 */
export class Exchange {
  /** Monotonic start time in milliseconds. */
  readonly start: number;
  /** Wall-clock start time in Unix milliseconds. */
  readonly startWall: number;
  readonly listener: string;
  readonly remote: string;
  protocol = "";
  method = "";
  path = "";
  authority = "";
  requestId = "";
  userAgent = "";
  forwardedFor = "";
  route = "";
  cluster = "";
  upstreamHost = "";
  /** Number of retries made (attempts - 1). */
  retries = 0;
  /** Final status sent downstream (0 when none was sent). */
  status = 0;
  /** skiff failure reason, empty on success. */
  error = "";
  grpcStatus = "";
  bytesReceived = 0;
  bytesSent = 0;
  /** Monotonic ms: upstream connect duration of the last attempt (-1 when reused). */
  connectMs = -1;
  /** Monotonic ms when the last attempt was sent upstream (0 when never). */
  upstreamStart = 0;
  /** Monotonic ms when the first upstream response byte arrived (0 when never). */
  upstreamFirstByte = 0;
  /** Monotonic ms when the exchange ended. */
  end = 0;
  /** The downstream peer's identity on a mutual-TLS listener; undefined otherwise. */
  peer: PeerIdentity | undefined = undefined;
  /** Set by the proxy core: releases the upstream host's in-flight slot when the exchange ends. */
  onEnd: ExchangeEndHook | null = null;
  /**
   * Monotonic ms when the request reached the proxy core (its deadline and the breakers' call
   * duration start here): `start`, or later after a fault delay or a first try before a
   * fallback.
   */
  forwardStart: number;
  /** The config version the request holds until it ends (see `ConfigVersion`). */
  pinned: { release(): void } | null = null;

  constructor(listener: string, remote: string, start: number, startWall: number) {
    this.listener = listener;
    this.remote = remote;
    this.start = start;
    this.forwardStart = start;
    this.startWall = startWall;
  }
}

/** Run once when an exchange ends (an object rather than a closure: one less per request). */
export interface ExchangeEndHook {
  exchangeEnded(): void;
}

/** Receives finished exchanges: metrics, access log. */
export interface ExchangeSink {
  /** Called once per exchange when its response has been sent (or it failed). */
  finish(ex: Exchange): void;
}

/**
 * Wall-clock times for monotonic ones, from an offset between the two clocks that is read
 * again at most once a second: a request's start time costs no second clock read.
 */
export class WallClock {
  readonly #clock: Clock;
  #offset = 0;
  #readAt = -Infinity;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Unix milliseconds at monotonic time `monotonic` (a recent one). */
  at(monotonic: number): number {
    if (monotonic - this.#readAt > 1000 || monotonic < this.#readAt) {
      this.#offset = this.#clock.now() - monotonic;
      this.#readAt = monotonic;
    }
    return monotonic + this.#offset;
  }
}
