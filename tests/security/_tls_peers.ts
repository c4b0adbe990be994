import tls from "node:tls";
import {
  type IssuedSvid,
  peerSpiffeId,
  serverOptions,
  SpiffeId,
  type SvidProvider,
  type SvidSnapshot,
} from "../../src/security/mod.ts";

/**
 * A provider over any certificate and key, valid SVID or not, without the checks of
 * `loadSvidDir`: for presenting broken certificates in handshakes.
 */
export function rawProvider(
  svid: Pick<IssuedSvid, "certPem" | "keyPem" | "bundlePem">,
): SvidProvider {
  const snapshot: SvidSnapshot = {
    id: SpiffeId.parse("spiffe://unchecked.test"),
    cert: svid.certPem,
    key: svid.keyPem,
    ca: svid.bundlePem,
    notBefore: new Date(0),
    notAfter: new Date(0),
    serialNumber: "",
    secureContext: tls.createSecureContext({
      cert: svid.certPem,
      key: svid.keyPem,
      ca: svid.bundlePem,
      minVersion: "TLSv1.3",
    }),
  };
  return { current: () => snapshot };
}

/** An mTLS echo server on 127.0.0.1 that greets each identified peer. */
export interface TestMtlsServer {
  port: number;
  /** Handshake failures the server saw (`tlsClientError`). */
  tlsErrors: Error[];
  /** Connections closed because the peer's certificate is not an SVID. */
  rejected: number;
  close(): Promise<void>;
}

/**
 * Starts a server with `serverOptions(provider)`. Each connection whose peer has a SPIFFE ID
 * gets `hello <id> <client serial>\n` and then its bytes echoed; any other is destroyed.
 */
export async function startMtlsServer(provider: SvidProvider): Promise<TestMtlsServer> {
  const sockets = new Set<tls.TLSSocket>();
  const result = { port: 0, tlsErrors: [] as Error[], rejected: 0, close };
  const server = tls.createServer(serverOptions(provider, { alpn: ["skiff-test"] }), (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    const peer = peerSpiffeId(socket);
    if (!peer) {
      result.rejected++;
      socket.destroy();
      return;
    }
    const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
    socket.write(`hello ${peer} ${serial}\n`);
    socket.pipe(socket);
  });
  server.on("tlsClientError", (err) => result.tlsErrors.push(err));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  result.port = (server.address() as { port: number }).port;
  function close(): Promise<void> {
    for (const s of sockets) s.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  }
  return result;
}

/** What a client saw of one connection. */
export type Outcome =
  | {
    ok: true;
    greeting: string;
    serverSerial: string;
    alpn: string | false | null;
    socket: tls.TLSSocket;
  }
  | { ok: false; error: Error | undefined };

/**
 * Connects with `options`, waits for the server's greeting line, and reports it; a
 * handshake error, or a close before the greeting (how TLS 1.3 clients learn that the
 * server refused their certificate), is a failed outcome. Fails after `timeoutMs`.
 * A successful outcome's socket stays open: the caller destroys it.
 */
export function connect(
  port: number,
  options: tls.ConnectionOptions,
  timeoutMs = 10_000,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options });
    let error: Error | undefined;
    let buffered = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`No greeting and no close within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (outcome: Outcome) => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      resolve(outcome);
    };
    socket.on("error", (err) => error = err);
    socket.on("close", () => done({ ok: false, error }));
    socket.on("data", (chunk) => {
      buffered += chunk;
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      socket.removeAllListeners("close");
      socket.on("close", () => {});
      done({
        ok: true,
        greeting: buffered.slice(0, nl),
        serverSerial: socket.getPeerCertificate().serialNumber.toLowerCase(),
        alpn: socket.alpnProtocol,
        socket,
      });
    });
  });
}

/** Sends `text` on an open connection and waits for it to come back (the server echoes). */
export function echo(socket: tls.TLSSocket, text: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const timer = setTimeout(() => reject(new Error(`No echo within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Uint8Array) => {
      got += new TextDecoder().decode(chunk);
      if (got.length < text.length) return;
      clearTimeout(timer);
      socket.off("data", onData);
      resolve(got);
    };
    socket.on("data", onData);
    socket.write(text);
  });
}
