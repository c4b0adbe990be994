/**
 * Where a running Deno process allocates its JavaScript heap: connects to its inspector,
 * samples allocations (including objects the young-generation GC already collected, which is
 * what a proxy's per-request garbage is) while a load runs, and prints the sites that
 * allocated most, in bytes per request.
 *
 *   deno run --inspect=127.0.0.1:9239 ... src/main.ts run -c skiff.yaml &
 *   deno run -A bench/alloc_profile.ts 127.0.0.1:9239 "wrk -t1 -c50 -d5s http://127.0.0.1:PORT/"
 *
 * The load command's output must contain wrk's "N requests in" line (or pass the request
 * count as a third argument).
 */

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: Node[];
}

const [inspector, load, countArg] = Deno.args;
if (!inspector || !load) {
  console.error('usage: alloc_profile.ts HOST:PORT "LOAD COMMAND" [REQUESTS]');
  Deno.exit(2);
}
const targets = await (await fetch(`http://${inspector}/json`)).json();
const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((resolve) => ws.onopen = resolve);
let nextId = 1;
const pending = new Map<number, (v: unknown) => void>();
// A profile too large for one WebSocket frame (or the process ending) closes the socket
// before the profile arrived: fail instead of waiting for answers that cannot come.
let done = false;
ws.onclose = (e) => {
  if (done) return;
  console.error(
    `inspector connection closed (${e.code} ${e.reason}) before the profile arrived: try a ` +
      "shorter load",
  );
  Deno.exit(1);
};
ws.onerror = (e) => console.error("inspector connection:", (e as ErrorEvent).message);
ws.onmessage = (e) => {
  const msg = JSON.parse(e.data);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)!(msg.result ?? msg.error);
    pending.delete(msg.id);
  }
};
function send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve) => pending.set(id, resolve));
}

await send("HeapProfiler.enable");
await send("HeapProfiler.startSampling", {
  // Bytes between samples (Poisson): the estimate per site stays unbiased, and a coarser
  // interval keeps the profile of a long load within one WebSocket frame.
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
const [cmd, ...args] = load.split(" ");
const out = await new Deno.Command(cmd, { args, stdout: "piped" }).output();
const text = new TextDecoder().decode(out.stdout);
const requests = Number(countArg ?? /(\d+) requests in/.exec(text)?.[1] ?? NaN);
const { profile } = await send("HeapProfiler.stopSampling") as { profile: { head: Node } };
done = true;
ws.close();

const bySite = new Map<string, number>();
let total = 0;
function walk(n: Node, stack: string): void {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(src|ext:)/, "$1");
  const site = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
  if (n.selfSize > 0) {
    const key = `${site}  <- ${stack}`;
    bySite.set(key, (bySite.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
  }
  for (const c of n.children) walk(c, f.functionName ? `${f.functionName || "?"}` : stack);
}
walk(profile.head, "");
console.log(`${requests} requests, ${(total / requests).toFixed(0)} bytes sampled per request`);
for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log(`${(bytes / requests).toFixed(0).padStart(6)}  ${site}`);
}
