/**
 * Network namespaces for end-to-end tests: whether they can be made here, `ip` commands,
 * and processes run inside a namespace (`ip netns exec` execs the command: same pid).
 * Everything a test creates with these it must delete in a `finally`.
 * @module
 */
import { waitFor } from "../_harness/mod.ts";

/**
 * Why this machine cannot run namespace tests (not Linux, not root, `ip netns add` or a veth
 * pair fails), or `undefined` when it can. Creates and deletes a probe namespace.
 */
export function netnsUnavailable(): string | undefined {
  if (Deno.build.os !== "linux") return "network namespaces are Linux only";
  if (Deno.uid() !== 0) return "creating a network namespace needs root";
  const name = `skiff-probe-${crypto.randomUUID().slice(0, 8)}`;
  const run = (args: string[]) => {
    const out = new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).outputSync();
    return out.success ? undefined : new TextDecoder().decode(out.stderr).trim();
  };
  try {
    const add = run(["netns", "add", name]);
    if (add !== undefined) return `ip netns add fails: ${add}`;
    try {
      const veth = run(["-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
      if (veth !== undefined) return `a veth pair cannot be made: ${veth}`;
    } finally {
      run(["netns", "del", name]);
    }
  } catch (err) {
    return `cannot run ip: ${err}`;
  }
  return undefined;
}

/** Whether `cmd` is on the PATH. */
export function hasCommand(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Runs `ip ARGS…`.
 *
 * @throws {Error} with ip's stderr when it fails
 */
export async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stderr: "piped", stdout: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** A process run inside a network namespace (`ip netns exec` execs it: same pid). */
export interface NsProcess {
  pid: number;
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
  exited(): boolean;
  /** Resolves with the exit code (and once stdout and stderr are fully read). */
  wait(): Promise<number>;
  /** Sends `signal`; does nothing once the process has exited. */
  kill(signal: Deno.Signal): void;
}

/** Starts `cmd ARGS…` inside namespace `ns`, collecting its output. */
export function runInNetns(ns: string, cmd: string, args: string[]): NsProcess {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, cmd, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let exited = false;
  const read = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const d = new TextDecoder();
    for await (const c of s) add(d.decode(c, { stream: true }));
  };
  const drained = Promise.all([
    read(child.stdout, (t) => out += t),
    read(child.stderr, (t) => err += t),
  ]);
  const status = child.status.then((s) => {
    exited = true;
    return s.code;
  });
  return {
    pid: child.pid,
    out: () => out,
    err: () => err,
    exited: () => exited,
    wait: async () => {
      const code = await status;
      await drained;
      return code;
    },
    kill: (signal) => {
      if (exited) return;
      try {
        child.kill(signal);
      } catch { /* exited meanwhile */ }
    },
  };
}

/** Starts skiff (`src/main.ts run -c CONFIG`) inside namespace `ns`. */
export function skiffInNetns(ns: string, config: string, ...more: string[]): NsProcess {
  return runInNetns(ns, Deno.execPath(), [
    "run",
    "--allow-all",
    "--unstable-net",
    new URL("../../src/main.ts", import.meta.url).pathname,
    "run",
    "-c",
    config,
    ...more,
  ]);
}

/** Waits for a JSON log line with message `msg` on `p`'s stderr; fails if `p` exits first. */
export async function nsLog(p: NsProcess, msg: string, timeoutMs = 30_000): Promise<string> {
  return await waitFor<string | undefined>(`log line "${msg}" of pid ${p.pid}`, () => {
    const line = p.err().split("\n").find((l) => l.includes(`"msg":${JSON.stringify(msg)}`));
    if (line) return line;
    if (p.exited()) throw new Error(`pid ${p.pid} exited first; stderr:\n${p.err()}`);
  }, timeoutMs) as string;
}
