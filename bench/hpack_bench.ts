// Cost of skiff's HPACK codec per header block, on the blocks a gRPC proxy sees for every
// call: ns per encode and per decode of a request block and a response block once the
// dynamic table is warm (every field after the first call is a one-octet index), of the
// trailers block, and of a request whose `grpc-timeout` differs every time (one literal
// added to the table and one entry evicted per call, as under real deadlines).
// Run: deno bench bench/hpack_bench.ts
import { HpackDecoder } from "../src/dataplane/http2/hpack_decoder.ts";
import { HpackEncoder } from "../src/dataplane/http2/hpack_encoder.ts";

const REQUEST = [
  ":method",
  "POST",
  ":scheme",
  "http",
  ":path",
  "/pkg.Svc/Method",
  ":authority",
  "backend.default.svc.cluster.local:50051",
  "content-type",
  "application/grpc",
  "te",
  "trailers",
  "grpc-timeout",
  "4999m",
  "user-agent",
  "grpc-node-js/1.14.7",
  "x-request-id",
  "3f2b8c1e-7a4d-4e0b-9f6a-2c5d8e1b7a90",
  "tenant",
  "acme",
];
const RESPONSE = [
  ":status",
  "200",
  "content-type",
  "application/grpc",
  "grpc-accept-encoding",
  "identity,deflate,gzip",
  "grpc-encoding",
  "identity",
];
const TRAILERS = ["grpc-status", "0", "grpc-message", ""];

/** An encoder and decoder pair that has seen `headers` once, and the block it sends next. */
function warm(
  headers: string[],
): { encoder: HpackEncoder; decoder: HpackDecoder; block: Uint8Array } {
  const encoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  decoder.decode(encoder.encode(headers));
  const block = encoder.encode(headers).slice();
  decoder.decode(block);
  return { encoder, decoder, block };
}

let sink = 0;

for (
  const [name, headers] of [["request", REQUEST], ["response", RESPONSE], [
    "trailers",
    TRAILERS,
  ]] as const
) {
  const { encoder, decoder, block } = warm([...headers]);
  const input = [...headers];
  Deno.bench(
    `encode gRPC ${name} (${headers.length / 2} fields, warm table)`,
    { group: "encode" },
    () => {
      sink += encoder.encode(input).length;
    },
  );
  Deno.bench(
    `decode gRPC ${name} (${block.length} octets, warm table)`,
    { group: "decode" },
    () => {
      sink += decoder.decode(block).length;
    },
  );
}

{
  const { encoder, decoder } = warm(REQUEST);
  const input = [...REQUEST];
  const timeout = input.indexOf("grpc-timeout") + 1;
  let n = 0;
  Deno.bench("encode + decode gRPC request, new grpc-timeout each call", { group: "churn" }, () => {
    input[timeout] = `${4000 + (n++ % 1000)}m`;
    sink += decoder.decode(encoder.encode(input)).length;
  });
}

{
  // A new connection: a new encoder or decoder (with its buffers) and a first block in which
  // every field is a literal, most of them Huffman-coded.
  const first = new HpackEncoder().encode(REQUEST).slice();
  Deno.bench(`new decoder + first gRPC request block (${first.length} octets)`, {
    group: "cold",
  }, () => {
    sink += new HpackDecoder().decode(first).length;
  });
  Deno.bench("new encoder + first gRPC request block", { group: "cold" }, () => {
    sink += new HpackEncoder().encode(REQUEST).length;
  });
}

globalThis.addEventListener("unload", () => {
  if (sink === 0) console.log(sink);
});
