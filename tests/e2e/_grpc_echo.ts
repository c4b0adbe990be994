/**
import { Buffer } from "node:buffer";
 * The gRPC side of the end-to-end tests: a real `@grpc/grpc-js` server implementing
 * `skiff.test.Echo` (testdata/echo.proto) and a typed client for it.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** A request message of `skiff.test.Echo`. */
export interface EchoRequest {
  text: string;
  count?: number;
  /** How long the server waits before answering a unary call, in milliseconds. */
  delay_ms?: number;
}

/** A reply message of `skiff.test.Echo`. */
export interface EchoReply {
  text: string;
  index: number;
}

/** The generated client of `skiff.test.Echo`. */
export interface EchoClient extends grpc.Client {
  Unary(
    req: EchoRequest,
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: grpc.requestCallback<EchoReply>,
  ): grpc.ClientUnaryCall;
  ServerStream(
    req: EchoRequest,
    md: grpc.Metadata,
    opts?: grpc.CallOptions,
  ): grpc.ClientReadableStream<EchoReply>;
  ClientStream(
    md: grpc.Metadata,
    opts: grpc.CallOptions,
    cb: grpc.requestCallback<EchoReply>,
  ): grpc.ClientWritableStream<EchoRequest>;
  Bidi(md: grpc.Metadata, opts?: grpc.CallOptions): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
}

type EchoClientConstructor = new (
  address: string,
  creds: grpc.ChannelCredentials,
  options?: grpc.ClientOptions,
) => EchoClient;

const definition = protoLoader.loadSync(
  new URL("./testdata/echo.proto", import.meta.url).pathname,
  { keepCase: true, defaults: true },
);
/** The test Echo service (client constructor and service definition). */
export const Echo = (grpc.loadPackageDefinition(definition) as unknown as {
  skiff: { test: { Echo: EchoClientConstructor & { service: grpc.ServiceDefinition } } };
}).skiff.test.Echo;

/** Unary texts with special meaning to the test server. */
export const NOT_FOUND = "not-found";
/** Fails with NOT_FOUND after having sent response headers (headers, then trailers). */
export const NOT_FOUND_AFTER_HEADERS = "not-found-after-headers";

/** A running Echo server and what it saw. */
export interface EchoServer {
  port: number;
  /** Metadata of every call received, in arrival order. */
  received: grpc.Metadata[];
  /** Texts of unary calls the server saw cancelled before it answered. */
  cancelled: string[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the Echo server on a free loopback port.
 *
 * - Unary answers `{text, index: 0}` after `delay_ms`, with initial metadata `x-echo-in`
 *   (the call's `x-in`) and trailing metadata `x-trail: done:<text>`; the texts
 *   `NOT_FOUND` and `NOT_FOUND_AFTER_HEADERS` fail with NOT_FOUND "nope".
 * - ServerStream sends `count` replies, `index` 0, 1, …, then trailing `x-count`.
 * - ClientStream answers the texts joined by "," with `index` = number of messages.
 * - Bidi answers each message at once with `index` = its position.
 */
export async function startEchoServer(): Promise<EchoServer> {
  const received: grpc.Metadata[] = [];
  const cancelled: string[] = [];
  const server = new grpc.Server();
  const impl: grpc.UntypedServiceImplementation = {
    Unary(
      call: grpc.ServerUnaryCall<EchoRequest, EchoReply>,
      cb: grpc.sendUnaryData<EchoReply>,
    ) {
      received.push(call.metadata);
      const { text, delay_ms } = call.request;
      if (text === NOT_FOUND) return cb({ code: grpc.status.NOT_FOUND, details: "nope" });
      const head = new grpc.Metadata();
      head.set("x-echo-in", String(call.metadata.get("x-in")[0] ?? ""));
      call.sendMetadata(head);
      if (text === NOT_FOUND_AFTER_HEADERS) {
        return cb({ code: grpc.status.NOT_FOUND, details: "nope" });
      }
      const trailer = new grpc.Metadata();
      trailer.set("x-trail", `done:${text}`);
      const answer = () => cb(null, { text, index: 0 }, trailer);
      if (!delay_ms) return answer();
      const timer = setTimeout(answer, delay_ms);
      call.once("cancelled", () => {
        clearTimeout(timer);
        cancelled.push(text);
      });
    },
    ServerStream(call: grpc.ServerWritableStream<EchoRequest, EchoReply>) {
      received.push(call.metadata);
      const { text, count = 0 } = call.request;
      for (let i = 0; i < count; i++) call.write({ text: `${text}-${i}`, index: i });
      const trailer = new grpc.Metadata();
      trailer.set("x-count", String(count));
      call.end(trailer);
    },
    ClientStream(
      call: grpc.ServerReadableStream<EchoRequest, EchoReply>,
      cb: grpc.sendUnaryData<EchoReply>,
    ) {
      received.push(call.metadata);
      const texts: string[] = [];
      call.on("data", (m: EchoRequest) => texts.push(m.text));
      call.on("end", () => cb(null, { text: texts.join(","), index: texts.length }));
    },
    Bidi(call: grpc.ServerDuplexStream<EchoRequest, EchoReply>) {
      received.push(call.metadata);
      let i = 0;
      call.on("data", (m: EchoRequest) => call.write({ text: m.text, index: i++ }));
      call.on("end", () => call.end());
    },
  };
  server.addService(Echo.service, impl);
  const port = await bindInsecure(server);
  const close = () => {
    server.forceShutdown();
    return Promise.resolve();
  };
  return { port, received, cancelled, close, [Symbol.asyncDispose]: close };
}

/** A client of `skiff.test.Echo` at `127.0.0.1:port` (plain text HTTP/2). */
export function echoClient(port: number): EchoClient & Disposable {
  const client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return Object.assign(client, { [Symbol.dispose]: () => client.close() });
}

/** The outcome of one unary call. */
export interface UnaryOutcome {
  reply: EchoReply | undefined;
  /** The final status, with the trailing metadata. */
  status: grpc.StatusObject;
  /** Initial (header) metadata, when the server sent any before its trailers. */
  headers: grpc.Metadata | undefined;
}

/** How long a test call may take at most, so that a hang fails instead of stalling. */
export const CALL_DEADLINE_MS = 10_000;

/** Call options with the test deadline. */
export function bounded(): grpc.CallOptions {
  return { deadline: Date.now() + CALL_DEADLINE_MS };
}

/**
 * Makes one unary call and resolves once its status is known (never rejects). Without a
 * deadline in `opts`, the call gets `CALL_DEADLINE_MS`.
 */
export function unary(
  client: EchoClient,
  req: EchoRequest,
  md = new grpc.Metadata(),
  opts: grpc.CallOptions = bounded(),
): Promise<UnaryOutcome> {
  return new Promise((resolve) => {
    let reply: EchoReply | undefined;
    let headers: grpc.Metadata | undefined;
    const call = client.Unary(req, md, opts, (_err, r) => (reply = r));
    call.on("metadata", (m) => (headers = m));
    // "status" is emitted after the callback has run.
    call.on("status", (status) => resolve({ reply, status, headers }));
  });
}

/** Reads a whole server stream; resolves with the messages and the final status. */
export function readAll<T>(
  stream: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<unknown, T>,
): Promise<{ messages: T[]; status: grpc.StatusObject }> {
  return new Promise((resolve) => {
    const messages: T[] = [];
    stream.on("data", (m: T) => messages.push(m));
    stream.on("error", () => {}); // the status carries the failure
    stream.on("status", (status: grpc.StatusObject) => resolve({ messages, status }));
  });
}

/** Binds `server` in cleartext on a free loopback port; resolves with the port. */
export function bindInsecure(server: grpc.Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(
      "127.0.0.1:0",
      grpc.ServerCredentials.createInsecure(),
      (err, p) => err ? reject(err) : resolve(p),
    )
  );
}

export { grpc };
