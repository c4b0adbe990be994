/**
 * `skiff demo`: starts two sample upstream services (v1, v2) and skiff in front of them on
 * the embedded default config, sends traffic through skiff with a live progress line, stops
 * v2 half-way to show retries keeping requests successful, and prints a summary.
 * @module
 */
import { defaultConfig } from "../config/mod.ts";
import { formatSummary } from "./summary.ts";

/** Demo settings. */
export interface DemoOptions {
  /** How long to send traffic, in seconds. */
  seconds: number;
  /** Concurrent client loops. */
  concurrency: number;
  /** Where progress and the summary go. */
  write: (text: string) => void;
  /**
   * Whether `write` goes to a terminal: then progress is one line rewritten in place five
   * times a second; otherwise (a pipe, a log file) a line of its own each second.
   */
  live?: boolean;
}

interface Child {
  name: string;
  proc: Deno.ChildProcess;
}

const here = new URL(".", import.meta.url);

function spawn(name: string, script: URL, args: string[], perms: string[]): Child {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, script.pathname, ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return { name, proc };
}

async function waitReady(url: string, child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.proc.status.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) {
      const err = await new Response(child.proc.stderr).text();
      throw new Error(`${child.name} exited before it was ready:\n${err.trim()}`);
    }
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${child.name} did not become ready at ${url} within ${timeoutMs} ms`);
}

function stop(c: Child): Promise<Deno.CommandStatus> {
  try {
    c.proc.kill("SIGTERM");
  } catch { /* already gone */ }
  return c.proc.status;
}

/** Runs the demo; returns the process exit code (0 when every request succeeded). */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const cfg = defaultConfig();
  const listener = cfg.listeners[0];
  const front = `http://${listener.address.hostname}:${listener.address.port}`;
  const admin = cfg.admin ? `http://${cfg.admin.address.hostname}:${cfg.admin.address.port}` : "";
  const eps = cfg.clusters[0].endpoints;
  const w = opts.write;
  const children: Child[] = [];
  try {
    w(
      `skiff demo: upstreams v1 and v2 on ${eps.map((e) => e.address.port).join(" and ")}, ` +
        `skiff on ${listener.address.port} (admin ${cfg.admin?.address.port})\n`,
    );
    for (const ep of eps) {
      const version = ep.labels.version ?? String(ep.address.port);
      children.push(spawn(version, new URL("upstream.ts", here), [
        "--port",
        String(ep.address.port),
        "--name",
        version,
      ], ["--allow-net"]));
    }
    for (const [i, ep] of eps.entries()) {
      await waitReady(`http://${ep.address.hostname}:${ep.address.port}/`, children[i], 15_000);
    }
    const skiff = spawn("skiff", new URL("../main.ts", here), ["run", "--log-level", "error"], [
      "--v8-flags=--max-semi-space-size=2",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--unstable-net",
    ]);
    children.push(skiff);
    await waitReady(`${admin}/ready`, skiff, 20_000);
    w("all three are up; sending traffic through skiff …\n");

    const results = {
      requests: 0,
      seconds: 0,
      statuses: new Map<string, number>(),
      byUpstream: new Map<string, number>(),
      latenciesMs: [] as number[],
    };
    const started = performance.now();
    const end = started + opts.seconds * 1000;
    let v2Stopped = false;
    const worker = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        let status = "error";
        try {
          const r = await fetch(`${front}/hello`);
          await r.arrayBuffer();
          status = String(r.status);
          const who = r.headers.get("x-demo-upstream") ??
            `skiff (${r.headers.get("x-skiff-error") ?? "?"})`;
          results.byUpstream.set(who, (results.byUpstream.get(who) ?? 0) + 1);
        } catch { /* counted as "error" */ }
        results.latenciesMs.push(performance.now() - t0);
        results.statuses.set(status, (results.statuses.get(status) ?? 0) + 1);
        results.requests++;
      }
    };
    const live = opts.live ?? true;
    let ticks = 0;
    const progress = setInterval(() => {
      const s = (performance.now() - started) / 1000;
      if (!v2Stopped && s >= opts.seconds / 2 && children.length > 1) {
        v2Stopped = true;
        stop(children[1]);
      }
      if (!live && ++ticks % 5 !== 0) return;
      const ok = results.statuses.get("200") ?? 0;
      const line = `  ${s.toFixed(1)} s  ${results.requests} requests  ${ok} ok  ` +
        `${Math.round(results.requests / Math.max(s, 0.001))}/s` +
        (v2Stopped ? "  (v2 stopped: its requests retried on v1, then v2 ejected)" : "");
      w(live ? `\r${line}   ` : `${line}\n`);
    }, 200);
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    clearInterval(progress);
    results.seconds = (performance.now() - started) / 1000;
    w((live ? "\n\n" : "\n") + formatSummary(results) + "\n");
    if (admin) {
      const clusters = await (await fetch(`${admin}/clusters`)).json();
      const c = clusters[0];
      const ejected = (c.endpoints as { address: string; ejections: number }[])
        .filter((e) => e.ejections > 0).map((e) => e.address);
      w(
        `skiff      ${c.requests} upstream attempts, ${c.retries} retries, ` +
          `${ejected.length > 0 ? `ejected ${ejected.join(", ")}` : "no ejection"} ` +
          `(cluster "${c.name}", ${c.lb_policy}); metrics at ${admin}/metrics\n`,
      );
    }
    const failed = results.requests - (results.statuses.get("200") ?? 0);
    return failed === 0 ? 0 : 1;
  } finally {
    await Promise.all(children.map(stop));
  }
}
