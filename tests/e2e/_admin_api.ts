/**
 * Reading skiff's admin API in end-to-end tests: `/clusters` as typed JSON, `/metrics` as
 * text with a sample lookup, and the real `promtool check metrics`.
 * @module
 */

/** One endpoint on the admin `/clusters` page. */
export interface ClusterEndpointView {
  address: string;
  weight: number;
  labels: Record<string, string>;
  active_requests: number;
  requests: number;
  failures: number;
  ewma_ms: number;
  connections: { open: number; idle: number; pending: number } | null;
}

/** One cluster on the admin `/clusters` page. */
export interface ClusterView {
  name: string;
  lb_policy: string;
  protocol: string;
  active_requests: number;
  requests: number;
  retries: number;
  retry_budget_exhausted: number;
  endpoints: ClusterEndpointView[];
}

/** Fetches `/clusters` and returns cluster `name`. */
export async function clusterView(adminUrl: string, name: string): Promise<ClusterView> {
  const res = await fetch(`${adminUrl}/clusters`);
  if (res.status !== 200) throw new Error(`/clusters answered ${res.status}`);
  const all = (await res.json()) as ClusterView[];
  const c = all.find((x) => x.name === name);
  if (!c) throw new Error(`No cluster "${name}" on /clusters`);
  return c;
}

/** Fetches `/metrics` as text. */
export async function metricsText(adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return await res.text();
}

/**
 * The value of the sample `name{labels}` in Prometheus text, or `undefined` when absent.
 * Labels must all match; the sample may have more.
 */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    const close = rest[0] === "{" ? rest.indexOf("} ") : -1;
    const labelText = close >= 0 ? `,${rest.slice(1, close)},` : ",,";
    const ok = Object.entries(labels).every(([k, v]) =>
      labelText.includes(`,${k}="${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}",`)
    );
    if (ok) return Number(rest.slice(close >= 0 ? close + 2 : 1).trim().split(" ")[0]);
  }
  return undefined;
}

/** Whether `promtool` is on PATH. */
export async function promtoolInstalled(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("promtool", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Writes `text` to a temp file and runs `promtool check metrics` on it.
 *
 * @returns the exit code and everything promtool printed
 */
export async function promtoolCheck(text: string): Promise<{ code: number; output: string }> {
  const path = await Deno.makeTempFile({ prefix: "skiff_e2e_metrics_", suffix: ".prom" });
  try {
    await Deno.writeTextFile(path, text);
    using file = await Deno.open(path, { read: true });
    const child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await file.readable.pipeTo(child.stdin);
    const { code, stdout, stderr } = await child.output();
    const dec = new TextDecoder();
    return { code, output: (dec.decode(stdout) + dec.decode(stderr)).trim() };
  } finally {
    await Deno.remove(path);
  }
}
