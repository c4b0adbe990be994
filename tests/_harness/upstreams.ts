/** A test server on loopback. */
export interface TestServer {
  port: number;
  /** Requests seen (HTTP servers only). */
  requests: { method: string; url: string; headers: Headers; body: string }[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A real HTTP upstream (`Deno.serve`) on a free loopback port. The default handler answers
 * `name` as text and records each request.
 */
export function startHttpUpstream(
  name: string,
  handler?: (req: Request, body: string) => Response | Promise<Response>,
): TestServer {
  const requests: TestServer["requests"] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const body = await req.text();
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      return handler ? await handler(req, body) : new Response(name);
    },
  );
  const close = () => server.shutdown();
  return { port: server.addr.port, requests, close, [Symbol.asyncDispose]: close };
}

/** A TCP echo server that half-closes its side after the client half-closes. */
export function startTcpEcho(): TestServer {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const loop = (async () => {
    for await (const c of l) {
      conns.add(c);
      (async () => {
        const buf = new Uint8Array(16 * 1024);
        try {
          for (;;) {
            const n = await c.read(buf);
            if (n === null) break;
            let off = 0;
            while (off < n) off += await c.write(buf.subarray(off, n));
          }
          await c.closeWrite();
        } catch { /* reset */ }
        conns.delete(c);
        try {
          c.close();
        } catch { /* closed */ }
      })();
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
  };
  return { port: (l.addr as Deno.NetAddr).port, requests: [], close, [Symbol.asyncDispose]: close };
}
