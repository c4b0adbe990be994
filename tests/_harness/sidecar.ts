import { parseConfig } from "../../src/config/mod.ts";
import { Logger, mathRng, systemClock } from "../../src/core/mod.ts";
import { Sidecar, type SidecarDeps } from "../../src/runtime/sidecar.ts";

/** A sidecar running in the test's own process. */
export interface TestSidecar {
  sidecar: Sidecar;
  /** Port of listener `name` (configs may bind port 0). */
  port(name: string): number;
  /** Base URL of listener `name`, e.g. `http://127.0.0.1:41234`. */
  url(name: string): string;
  /** Base URL of the admin server. */
  adminUrl: string;
  /** Log lines written so far (JSON objects). */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a sidecar from YAML text in this process. Listener and admin addresses may use
 * port 0. Log lines are captured in `logs` instead of printed. `deps` replaces collaborators
 * (e.g. `listen`, to make a bind fail).
 *
 * @example
 * ```ts
 * await using s = await startSidecar(`listeners: [...]`);
 * const res = await fetch(s.url("ingress") + "/");
 * ```
 */
export async function startSidecar(
  yaml: string,
  deps: Pick<SidecarDeps, "listen"> = {},
): Promise<TestSidecar> {
  const config = parseConfig(yaml, "test.yaml");
  const logs: Record<string, unknown>[] = [];
  const log = new Logger({
    clock: systemClock,
    sink: (line) => logs.push(JSON.parse(line)),
    level: "debug",
  });
  const sidecar = new Sidecar(config, {
    clock: systemClock,
    rng: mathRng,
    log,
    membership: {
      host: { hostname: () => "test", privateAddress: () => undefined, cpu: () => 0 },
    },
    ...deps,
  });
  await sidecar.start();
  const port = (name: string) => {
    const l = sidecar.listeners.find((x) => x.config.name === name);
    if (!l) throw new Error(`No listener named "${name}"`);
    return l.addr.port;
  };
  const close = () => sidecar.stop();
  return {
    sidecar,
    port,
    url: (name) => `http://127.0.0.1:${port(name)}`,
    adminUrl: sidecar.admin ? `http://127.0.0.1:${sidecar.admin.addr.port}` : "",
    logs,
    close,
    [Symbol.asyncDispose]: close,
  };
}
