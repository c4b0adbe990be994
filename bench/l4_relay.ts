/**
 * The runtime's floor for a proxy: a bare TCP relay over `Deno.Conn` (one upstream
 * connection per client connection, bytes copied both ways, no HTTP parsing). The proxy
 * benchmark runs it next to skiff to show how much of skiff's cost is the runtime's async
 * socket operations rather than skiff's own work.
 *
 * ```
 * deno run --allow-net bench/l4_relay.ts LISTEN_PORT UPSTREAM_PORT
 * ```
 * @module
 */
const [listenPort, upstreamPort] = Deno.args.map(Number);

async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    await to.closeWrite();
  } catch {
    for (const c of [from, to]) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
  }
}

for await (const client of Deno.listen({ hostname: "127.0.0.1", port: listenPort })) {
  Deno.connect({ hostname: "127.0.0.1", port: upstreamPort }).then((up) => {
    client.setNoDelay(true);
    up.setNoDelay(true);
    pump(client, up);
    pump(up, client);
  }, () => client.close());
}
