/**
 * A small sample upstream service for the demo: answers every request with a short JSON
 * body naming itself, after a little simulated work.
 *
 * ```
 * deno run --allow-net src/demo/upstream.ts --port 10001 --name v1
 * ```
 * @module
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { port: { type: "string" }, name: { type: "string" }, "work-ms": { type: "string" } },
});
const port = Number(values.port ?? 10001);
const name = values.name ?? `upstream-${port}`;
const workMs = Number(values["work-ms"] ?? 1);

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => console.log(`${name} listening on ${port}`),
}, async (req) => {
  if (workMs > 0) await new Promise((r) => setTimeout(r, Math.random() * workMs * 2));
  return Response.json(
    { service: "demo", version: name, path: new URL(req.url).pathname },
    { headers: { "x-demo-upstream": name } },
  );
});
