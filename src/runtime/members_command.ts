import type { Config } from "../config/schema.ts";
import type { MembersView } from "../discovery/member_view.ts";
import { adminUrl } from "./hot_restart.ts";

/** What `skiff members` needs from the command line. */
export interface MembersCommandDeps {
  /** Loads the config named on the command line (undefined after reporting why not). */
  loadConfig: () => Promise<Config | undefined>;
  /** How the config is named in messages (its file, or the embedded default). */
  source: string;
  print: (line: string) => void;
  error: (line: string) => void;
}

/**
 * `skiff members`: prints the gossip members a running skiff sees, asking its admin API at
 * `admin` (`HOST:PORT`), or at the admin address of the config.
 *
 * @returns the exit status
 */
export async function membersCommand(
  admin: string | undefined,
  asJson: boolean,
  deps: MembersCommandDeps,
): Promise<number> {
  let address = admin;
  if (address === undefined) {
    const config = await deps.loadConfig();
    if (!config) return 1;
    if (!config.admin) {
      deps.error(
        `skiff members: ${deps.source} has no admin server` +
          " — give its address with --admin HOST:PORT",
      );
      return 1;
    }
    address = new URL(adminUrl(config.admin.address, "/")).host;
  }
  let res: Response;
  try {
    res = await fetch(`http://${address}/members`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    deps.error(
      `skiff members: cannot reach the admin API at ${address} (${(err as Error).message})` +
        " — is skiff running there?",
    );
    return 1;
  }
  const body = await res.text();
  if (!res.ok) {
    deps.error(`skiff members: ${address} answered ${res.status}: ${body.trim()}`);
    return 1;
  }
  if (asJson) {
    deps.print(body.trimEnd());
    return 0;
  }
  let view: MembersView;
  try {
    view = JSON.parse(body);
  } catch {
    deps.error(`skiff members: ${address} did not answer with JSON — is it skiff's admin API?`);
    return 1;
  }
  deps.print(formatMembers(view));
  return 0;
}

/** The members as an aligned table, this node marked with `*`. */
export function formatMembers(view: MembersView): string {
  const rows = [["NAME", "ADDRESS", "STATE", "INCARNATION", "SERVICES"]];
  for (const m of view.members) {
    rows.push([
      (m.name === view.self ? "* " : "  ") + m.name,
      m.address,
      m.state,
      String(m.incarnation),
      m.services.map((s) => `${s.name}:${s.port}`).join(",") || "-",
    ]);
  }
  rows[0][0] = "  " + rows[0][0];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
  return `cluster ${view.cluster}, seen from ${view.self}\n` + lines.join("\n");
}
