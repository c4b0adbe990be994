/**
 * Samples a running skiff's CPU with the V8 inspector and prints the functions with the most
 * self time. Start skiff with `--inspect=127.0.0.1:9229`, put it under load, then:
 *
 * ```
 * deno run --allow-net bench/cpu_profile.ts [seconds=5] [inspector=127.0.0.1:9229] [top=40]
 * ```
 * @module
 */
const seconds = Number(Deno.args[0] ?? 5);
const host = Deno.args[1] ?? "127.0.0.1:9229";
const top = Number(Deno.args[2] ?? 40);

const targets = await (await fetch(`http://${host}/json/list`)).json();
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener("open", r, { once: true }));
let id = 0;
const pending = new Map<number, (v: unknown) => void>();
ws.addEventListener("message", (e) => {
  const msg = JSON.parse(e.data);
  if (msg.id && pending.has(msg.id)) pending.get(msg.id)!(msg.result);
});
// deno-lint-ignore no-explicit-any -- CDP results are untyped JSON
type Json = any;
const call = (method: string, params: unknown = {}) =>
  new Promise<Json>((resolve) => {
    pending.set(++id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 100 });
await call("Profiler.start");
await new Promise((r) => setTimeout(r, seconds * 1000));
const { profile } = await call("Profiler.stop");
ws.close();

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}
const self = new Map<string, number>();
let total = 0;
for (const n of profile.nodes as Node[]) {
  const f = n.callFrame;
  const file = f.url.split("/").slice(-2).join("/");
  const key = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + n.hitCount);
  total += n.hitCount;
}
console.log(`${total} samples`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(100 * v / total).toFixed(1).padStart(5)} %  ${k}`);
}
