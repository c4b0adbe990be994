/** One request an HTTP test upstream received. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  /** The body as UTF-8 text. */
  body: string;
  /** The body as received, byte for byte. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The address the request came from, `ip:port`: one value per upstream connection. */
  remote: string;
}

/** A test server on loopback. */
export interface TestServer {
  port: number;
  /** Requests seen (HTTP servers only). */
  requests: RecordedRequest[];
  /** Connections accepted so far (TCP servers only; 0 for HTTP servers). */
  readonly accepted: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A real HTTP upstream (`Deno.serve`) on a free loopback port. The default handler answers
 * `name` as text and records each request; a handler gets the request, its body as text
 * and the full record (raw bytes, client address).
 */
export function startHttpUpstream(
  name: string,
  handler?: (req: Request, body: string, rec: RecordedRequest) => Response | Promise<Response>,
): TestServer {
  const requests: RecordedRequest[] = [];
  const decoder = new TextDecoder();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req, info) => {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = new Uint8Array(await req.arrayBuffer());
      } catch {
        // The proxy gave up on the request body (a test of a failing client): not recorded.
        return new Response("the request body was cut off", { status: 400 });
      }
      const rec: RecordedRequest = {
        method: req.method,
        url: req.url,
        headers: new Headers(req.headers), // a copy: the live one dies with the request
        body: decoder.decode(bytes),
        bytes,
        remote: `${info.remoteAddr.hostname}:${info.remoteAddr.port}`,
      };
      requests.push(rec);
      return handler ? await handler(req, rec.body, rec) : new Response(name);
    },
  );
  const close = async () => {
    // Graceful: waits for responses in flight. One that never ends means the proxy left its
    // connection open; fail with that instead of hanging the test run.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise<"stuck">((r) => timer = setTimeout(() => r("stuck"), 5_000));
    const result = await Promise.race([server.shutdown(), stuck]);
    clearTimeout(timer);
    if (result === "stuck") {
      throw new Error(
        `Upstream "${name}" still had a response in flight 5 s into its shutdown: ` +
          "the proxy never finished reading it nor closed the connection",
      );
    }
  };
  return {
    port: server.addr.port,
    requests,
    accepted: 0,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A raw TCP server on a free loopback port: `onConn` runs for each accepted connection
 * (which is closed when it returns or throws). `close()` stops accepting, closes open
 * connections and waits for the handlers to end.
 */
export function startTcpServer(onConn: (conn: Deno.TcpConn) => Promise<void>): TestServer {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const handlers = new Set<Promise<void>>();
  let accepted = 0;
  const loop = (async () => {
    for await (const c of l) {
      accepted++;
      conns.add(c);
      const h = onConn(c).catch(() => {/* reset by the peer or closed by close() */}).finally(
        () => {
          conns.delete(c);
          handlers.delete(h);
          try {
            c.close();
          } catch { /* closed */ }
        },
      );
      handlers.add(h);
    }
  })().catch(() => {});
  const close = async () => {
    l.close();
    for (const c of conns) {
      try {
        c.close();
      } catch { /* closed */ }
    }
    await loop;
    await Promise.all(handlers);
  };
  return {
    port: (l.addr as Deno.NetAddr).port,
    requests: [],
    get accepted() {
      return accepted;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A TCP echo server that half-closes its side after the client half-closes. */
export function startTcpEcho(): TestServer {
  return startTcpServer(async (c) => {
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await c.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await c.write(buf.subarray(off, n));
    }
    await c.closeWrite();
  });
}

/**
 * A loopback port where TCP connects hang (never complete nor fail), for connect-timeout
 * tests: a listener that never accepts, with its accept queue filled so that the kernel
 * drops further SYNs. Filling takes one connection per queue slot (512 with Deno's
 * default backlog), at most `maxFill`.
 *
 * @throws {Error} when the queue did not fill up within `maxFill` connections
 */
export async function startBlackhole(maxFill = 4096): Promise<TestServer> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  const fillers: Deno.Conn[] = [];
  const close = () => {
    for (const c of fillers) c.close();
    fillers.length = 0;
    l.close();
    return Promise.resolve();
  };
  for (let i = 0; i < maxFill; i++) {
    const pending = Deno.connect({ hostname: "127.0.0.1", port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const full = new Promise<"full">((r) => timer = setTimeout(() => r("full"), 1000));
    const r = await Promise.race([pending, full]);
    clearTimeout(timer);
    if (r !== "full") {
      fillers.push(r);
      continue;
    }
    // This connect hangs: the queue is full. It fails once the listener closes.
    pending.then((c) => c.close(), () => {});
    return { port, requests: [], accepted: 0, close, [Symbol.asyncDispose]: close };
  }
  await close();
  throw new Error(`The accept queue of port ${port} did not fill with ${maxFill} connections`);
}
