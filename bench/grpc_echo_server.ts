/**
 * A gRPC echo server for benchmarks: `bench.Echo/Say` returns the request message
 * unchanged (raw bytes, no protobuf decoding), so the measurement is about the transport.
 *
 * ```
 * deno run --allow-net --allow-read --allow-env bench/grpc_echo_server.ts 18705
 * ```
 * @module
 */
import grpc from "@grpc/grpc-js";

const port = Number(Deno.args[0] ?? 50051);
const identity = (b: Buffer) => b;
const service = {
  Say: {
    path: "/bench.Echo/Say",
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
const server = new grpc.Server();
server.addService(service, {
  Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
    cb(null, call.request),
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(err.message);
    Deno.exit(1);
  }
  console.error(`grpc echo on ${port}`);
});
