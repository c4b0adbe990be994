import { TimeoutError } from "../core/abort.ts";
import { type Clock, systemClock, type Timer } from "../core/clock.ts";
import { FramedStream } from "./_framed_stream.ts";
import { formatHostPort, parseHostPort } from "./_host_port.ts";
import type { MessageStream, Transport } from "./transport.ts";

/** Options of `UdpTransport.listen`. */
export interface UdpTransportOptions {
  /** Interface to bind (default "127.0.0.1"). */
  hostname?: string;
  /** Port for both UDP and TCP; 0 picks a free one (default 0). */
  port?: number;
  /**
   * The address peers reach this node at (`host:port`), when it differs from the bound one
   * (bound to all interfaces, or behind NAT); a function gets the bound address (its port
   * is the one picked for port 0). Default: the bound address.
   */
  advertise?: string | ((bound: { hostname: string; port: number }) => string);
  /** Largest packet sent or accepted (default 1400, at most 65507). */
  maxPacketBytes?: number;
  /** Largest stream message sent or accepted (default 8 MiB). */
  maxMessageBytes?: number;
  /** How long an accepted connection may take to name itself (default 5000 ms). */
  helloTimeoutMs?: number;
  /** Time source for deadlines (default the system clock). */
  clock?: Clock;
  /** Told about a packet or stream handler that threw (default: ignored, but counted). */
  onHandlerError?: (err: unknown) => void;
}

/** Counters of a `UdpTransport`. */
export interface UdpTransportStats {
  packetsSent: number;
  packetsReceived: number;
  /** Sends that failed or were refused (closed transport, bad address, socket error). */
  sendDrops: number;
  /** Arriving packets above `maxPacketBytes` or with no handler set. */
  receiveDrops: number;
  /** Packet and stream handlers that threw. */
  handlerErrors: number;
  /** Accepted connections closed for a missing or bad hello frame. */
  badHellos: number;
}

/** The longest hello (the connecting node's `host:port`) an accepted stream may start with. */
const MAX_HELLO_BYTES = 300;
const enc = new TextEncoder();
const dec = new TextDecoder();
const BIND_ATTEMPTS = 20;

/**
 * The real gossip `Transport`: packets are UDP datagrams (`Deno.listenDatagram`, needs
 * `--unstable-net`), streams are TCP connections with length-prefixed frames. UDP and TCP
 * share one port, so a node has one address `host:port`. A stream's first frame is the
 * opening node's own address, which becomes `from` in `onStream` (claimed, not verified:
 * authenticate above this layer).
 *
 * @example
 * ```ts
 * const t = await UdpTransport.listen({ hostname: "127.0.0.1", port: 0 });
 * t.onPacket((from, p) => console.log(from, p.length));
 * t.send("127.0.0.1:7946", new Uint8Array([1, 2, 3]));
 * await t.close();
 * ```
 */
export class UdpTransport implements Transport {
  readonly address: string;
  /** The bound port (the one picked for port 0), whatever address is advertised. */
  readonly port: number;
  readonly maxPacketBytes: number;
  /** Counters since the transport was opened. */
  readonly stats: UdpTransportStats = {
    packetsSent: 0,
    packetsReceived: 0,
    sendDrops: 0,
    receiveDrops: 0,
    handlerErrors: 0,
    badHellos: 0,
  };
  readonly #udp: Deno.DatagramConn;
  readonly #tcp: Deno.TcpListener;
  readonly #opts: Required<
    Omit<UdpTransportOptions, "hostname" | "port" | "maxPacketBytes" | "advertise">
  >;
  /** Datagrams handed to the socket and not yet sent; `close` lets them go out first. */
  readonly #sending = new Set<Promise<unknown>>();
  readonly #streams = new Set<FramedStream>();
  readonly #loops: Promise<void>[];
  #onPacket: ((from: string, packet: Uint8Array) => void) | null = null;
  #onStream: ((from: string, stream: MessageStream) => void) | null = null;
  #closing: Promise<void> | null = null;

  private constructor(udp: Deno.DatagramConn, tcp: Deno.TcpListener, opts: UdpTransportOptions) {
    this.#udp = udp;
    this.#tcp = tcp;
    const addr = udp.addr as Deno.NetAddr;
    this.port = addr.port;
    const advertise = opts.advertise;
    this.address = typeof advertise === "function"
      ? advertise({ hostname: addr.hostname, port: addr.port })
      : advertise ?? formatHostPort(addr.hostname, addr.port);
    this.maxPacketBytes = opts.maxPacketBytes ?? 1400;
    this.#opts = {
      maxMessageBytes: opts.maxMessageBytes ?? 8 * 1024 * 1024,
      helloTimeoutMs: opts.helloTimeoutMs ?? 5000,
      clock: opts.clock ?? systemClock,
      onHandlerError: opts.onHandlerError ?? (() => {}),
    };
    this.#loops = [this.#receivePackets(), this.#acceptStreams()];
  }

  /**
   * Binds UDP and TCP on `hostname:port` (with port 0, a port free for both).
   *
   * @throws {RangeError} for a `maxPacketBytes` outside 1..65507
   * @throws the bind error (e.g. `Deno.errors.AddrInUse`) when the port is taken
   */
  static listen(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
    const max = opts.maxPacketBytes ?? 1400;
    if (!Number.isInteger(max) || max < 1 || max > 65507) {
      return Promise.reject(
        new RangeError(`maxPacketBytes must be an integer in 1..65507 (a UDP payload), got ${max}`),
      );
    }
    const hostname = opts.hostname ?? "127.0.0.1";
    for (let attempt = 1;; attempt++) {
      const udp = Deno.listenDatagram({ hostname, port: opts.port ?? 0, transport: "udp" });
      const port = (udp.addr as Deno.NetAddr).port;
      try {
        const tcp = Deno.listen({ hostname, port, transport: "tcp" });
        return Promise.resolve(new UdpTransport(udp, tcp, opts));
      } catch (err) {
        udp.close();
        // With port 0 the UDP port may be taken for TCP by someone else: try another one.
        if (opts.port || attempt >= BIND_ATTEMPTS || !(err instanceof Deno.errors.AddrInUse)) {
          return Promise.reject(err);
        }
      }
    }
  }

  /**
   * Sends one datagram to `to` (`host:port`). Never throws for network trouble: a failed
   * send or a malformed address is counted in `stats.sendDrops`.
   *
   * @throws {RangeError} when `packet` is larger than `maxPacketBytes`
   */
  send(to: string, packet: Uint8Array): void {
    if (packet.length > this.maxPacketBytes) {
      throw new RangeError(
        `Packet of ${packet.length} bytes exceeds maxPacketBytes (${this.maxPacketBytes}); split it or send it over a stream`,
      );
    }
    const addr = parseHostPort(to);
    if (this.#closing || !addr) {
      this.stats.sendDrops++;
      return;
    }
    this.stats.packetsSent++;
    const sending = this.#udp.send(packet.slice(), { transport: "udp", ...addr }).catch(() => {
      this.stats.sendDrops++;
    }).finally(() => this.#sending.delete(sending));
    this.#sending.add(sending);
  }

  /** Sets the packet handler (a later call replaces it). */
  onPacket(handler: (from: string, packet: Uint8Array) => void): void {
    this.#onPacket = handler;
  }

  /** Sets the handler for streams peers open to this node. */
  onStream(handler: (from: string, stream: MessageStream) => void): void {
    this.#onStream = handler;
  }

  /**
   * Opens a TCP stream to `to` and names this node to it.
   *
   * @throws (as a rejection) `TimeoutError` after `timeoutMs`, a `TypeError` for a malformed
   *   address, or an `Error` saying why the connection failed
   */
  async connect(to: string, timeoutMs: number): Promise<MessageStream> {
    if (this.#closing) throw new Error(`Transport ${this.address} is closed; open a new one`);
    const addr = parseHostPort(to);
    if (!addr) throw new TypeError(`Address "${to}" is not host:port; use e.g. "10.0.0.7:7946"`);
    const conn = await connectWithin(addr, timeoutMs, this.#opts.clock, to);
    const stream = this.#adopt(conn);
    if (this.#closing) {
      stream.close();
      throw new Error(`Transport ${this.address} was closed while connecting to "${to}"`);
    }
    try {
      await stream.send(enc.encode(this.address));
    } catch (err) {
      stream.close();
      throw err;
    }
    return stream;
  }

  /**
   * Sends what was handed to `send`, then closes both sockets and every open stream; resolves
   * when all are released. Idempotent.
   */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      // Datagrams already handed over (a leave announcement, say) go out before the socket
      // closes; a send on loopback or to a reachable host completes at once.
      await Promise.all([...this.#sending]);
      this.#udp.close();
      this.#tcp.close();
      await Promise.all(this.#loops);
      const open = [...this.#streams];
      for (const s of open) s.close();
      await Promise.all(open.map((s) => s.closed()));
    })();
  }

  /** @param firstMax the largest first frame taken from the peer (see `FramedStream`) */
  #adopt(conn: Deno.TcpConn, firstMax?: number): FramedStream {
    conn.setNoDelay(true);
    const stream: FramedStream = new FramedStream(
      conn,
      this.#opts.clock,
      this.#opts.maxMessageBytes,
      () => this.#streams.delete(stream),
      firstMax,
    );
    this.#streams.add(stream);
    return stream;
  }

  async #receivePackets(): Promise<void> {
    const buf = new Uint8Array(65536);
    for (;;) {
      let data: Uint8Array, addr: Deno.Addr;
      try {
        [data, addr] = await this.#udp.receive(buf);
      } catch (err) {
        if (this.#closing || err instanceof Deno.errors.BadResource) return;
        this.stats.receiveDrops++; // a transient socket error: keep receiving
        continue;
      }
      const handler = this.#onPacket;
      if (data.length > this.maxPacketBytes || !handler) {
        this.stats.receiveDrops++;
        continue;
      }
      this.stats.packetsReceived++;
      const from = addr as Deno.NetAddr;
      this.#guard(() => handler(formatHostPort(from.hostname, from.port), data.slice()));
    }
  }

  async #acceptStreams(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#tcp.accept();
      } catch (err) {
        if (this.#closing || err instanceof Deno.errors.BadResource) return;
        continue; // e.g. the peer reset before accept: wait for the next one
      }
      // The first frame is the peer's hello (its host:port): nothing bigger is read first.
      this.#greet(this.#adopt(conn, MAX_HELLO_BYTES));
    }
  }

  async #greet(stream: FramedStream): Promise<void> {
    let from: string | null = null;
    try {
      const hello = await stream.receive(this.#opts.helloTimeoutMs);
      if (hello) from = dec.decode(hello);
    } catch {
      // Timed out or failed: counted below as a bad hello.
    }
    const handler = this.#onStream;
    if (!from || !parseHostPort(from) || !handler || this.#closing) {
      if (!handler || this.#closing) this.stats.receiveDrops++;
      else this.stats.badHellos++;
      stream.close();
      return;
    }
    if (!this.#guard(() => handler(from, stream))) stream.close();
  }

  /** Runs a handler; a throw is counted and reported, and false returned. */
  #guard(fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.stats.handlerErrors++;
      this.#opts.onHandlerError(err);
      return false;
    }
  }
}

async function connectWithin(
  addr: { hostname: string; port: number },
  timeoutMs: number,
  clock: Clock,
  to: string,
): Promise<Deno.TcpConn> {
  let timer: Timer | undefined;
  let late = false;
  const pending = Deno.connect({ ...addr, transport: "tcp" });
  pending.then((c) => late && c.close(), () => {});
  try {
    return await Promise.race([
      pending,
      new Promise<never>((_, reject) => {
        timer = clock.setTimer(() => {
          late = true;
          reject(new TimeoutError(`connect timeout to "${to}"`, timeoutMs));
        }, timeoutMs);
      }),
    ]);
  } catch (err) {
    if (err instanceof TimeoutError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(
      `Cannot connect to "${to}": ${msg}; check that the peer runs and listens there`,
      {
        cause: err,
      },
    );
  } finally {
    timer?.cancel();
  }
}
