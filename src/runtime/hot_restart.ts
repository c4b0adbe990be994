import { type Config, formatAddress, type SocketAddress } from "../config/mod.ts";
import type { Clock, Logger } from "../core/mod.ts";
import { type MembersView, parseMembersView } from "../discovery/member_view.ts";
import type { Runnable } from "./lifecycle.ts";

/**
 * Who holds skiff's admin address: nobody, a skiff (with its pid, from the `x-skiff-pid`
 * header every skiff admin response carries), or some other program.
 */
export type AdminHolder =
  | { kind: "free" }
  | { kind: "skiff"; pid: number }
  | { kind: "other"; detail: string };

/** What the hot-restart steps need; the defaults are the real network and file system. */
export interface HotRestartDeps {
  clock: Clock;
  log: Logger;
  /** Binds and closes a TCP listener to see whether the address is free. */
  listen?: (address: SocketAddress) => { close(): void };
  fetch?: typeof fetch;
  readTextFile?: (path: string) => Promise<string>;
  /** How long one admin request may take. Default 3 s. */
  requestTimeoutMs?: number;
}

/** Where the kernel says whether a closing SO_REUSEPORT listener hands its queue over. */
export const TCP_MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req";

/**
 * Finds out who holds the admin address, before anything is bound: it is free when a
 * listener can be bound there (and is closed again at once); otherwise the holder is asked
 * for `/` and recognised as skiff by its `x-skiff-pid` header.
 *
 * The admin port is the one skiff binds exclusively, so it guards the SO_REUSEPORT data
 * listeners against a second skiff started on the same config by accident.
 *
 * @param address the admin address of the config (a fixed port)
 * @returns the holder; an address that cannot be bound for another reason than being in
 *   use counts as free (starting reports that error)
 */
export async function probeAdmin(
  address: SocketAddress,
  deps: HotRestartDeps,
): Promise<AdminHolder> {
  const listen = deps.listen ??
    ((a: SocketAddress) => Deno.listen({ hostname: a.hostname, port: a.port }));
  try {
    listen(address).close();
    return { kind: "free" };
  } catch (err) {
    if (!(err instanceof Deno.errors.AddrInUse)) return { kind: "free" };
  }
  let res: Answer;
  try {
    res = await request(deps, adminUrl(address, "/"), "GET");
  } catch (err) {
    return { kind: "other", detail: `it does not answer HTTP (${(err as Error).message})` };
  }
  const pid = Number(res.headers.get("x-skiff-pid") ?? NaN);
  if (Number.isInteger(pid) && pid > 0) return { kind: "skiff", pid };
  return { kind: "other", detail: `it answers HTTP ${res.status} without an x-skiff-pid header` };
}

/**
 * Starts `target` on `config`, guarded by the admin port, before anything else is bound:
 * - the admin address is free (or port 0, or no admin section): a normal start;
 * - another skiff holds it: refused, unless `hot`: then this process binds its listeners
 *   beside the old one's (`start({ deferAdmin: true })`), asks it to hand over and takes the
 *   admin port (`takeOver`). With gossip, the old one's `/members` is read first, so that
 *   gossip-discovered clusters serve its endpoints from the start (see `StartOptions`);
 * - another program holds it: refused.
 *
 * @returns 0 once started (or taken over), else the exit status, with the reason logged
 */
export async function startGuarded(
  target: Pick<Runnable, "start" | "bindAdmin" | "stop">,
  config: Config,
  hot: boolean,
  deps: HotRestartDeps & { deadlineMs?: number },
): Promise<number> {
  const { log } = deps;
  const address = config.admin?.address;
  let holder: AdminHolder = { kind: "free" };
  if (address && address.port !== 0) holder = await probeAdmin(address, deps);
  const admin = address && formatAddress(address);
  if (holder.kind === "other") {
    log.error("cannot start: the admin address is taken by a program that is not skiff", {
      admin,
      detail: holder.detail,
      fix: "stop that program, or give skiff another admin address",
    });
    return 1;
  }
  if (holder.kind === "skiff" && !hot) {
    log.error("cannot start: another skiff serves this admin address (and these listeners)", {
      admin,
      other_pid: holder.pid,
      fix: "to replace it without refusing a connection, start this one with --hot-restart; " +
        "to run both, give each its own admin address and listener ports",
    });
    return 1;
  }
  if (hot && holder.kind === "free") {
    log.info("hot restart: no skiff serves the admin address, nothing to replace", { admin });
  }
  const replacing = holder.kind === "skiff" ? holder.pid : undefined;
  const gossip = replacing !== undefined && config.gossip !== undefined;
  const members = gossip ? await predecessorMembers(address!, replacing, deps) : undefined;
  try {
    await target.start({ deferAdmin: replacing !== undefined, members });
  } catch (err) {
    log.error("cannot start", { err });
    return 1;
  }
  if (replacing === undefined) return 0;
  const taken = await takeOver(target, address!, replacing, {
    ...deps,
    gossip,
    // The old skiff lets the admin port go at once; at the latest it exits after its drain.
    deadlineMs: deps.deadlineMs ?? config.drain.timeout + 10_000,
  });
  if (taken === "refused") {
    // The old skiff serves on: this one must not share its ports behind its back.
    await target.stop();
    return 1;
  }
  return 0;
}

/**
 * The gossip membership of the skiff being replaced, from its `/members`; undefined (logged)
 * when it cannot be read: gossip-discovered clusters then start empty and fill once this
 * process has joined, and membership starts at incarnation 0.
 */
export async function predecessorMembers(
  address: SocketAddress,
  oldPid: number,
  deps: HotRestartDeps,
): Promise<MembersView | undefined> {
  try {
    const res = await request(deps, adminUrl(address, "/members"), "GET");
    if (res.status !== 200) throw new Error(`/members answered ${res.status}: ${res.body.trim()}`);
    return parseMembersView(JSON.parse(res.body));
  } catch (err) {
    deps.log.warn(
      "hot restart: cannot read the old skiff's gossip members; gossip-discovered clusters " +
        "have no endpoints until this skiff has joined, and peers may take it for older",
      { old_pid: oldPid, err },
    );
    return undefined;
  }
}

/**
 * The second half of a hot restart, once this process serves beside the old one (started
 * with `deferAdmin`, its data listeners bound with SO_REUSEPORT): asks the old skiff to
 * hand over (`POST /drain?handover=1`: it stops accepting, stops gossip without leaving,
 * lets the admin port go and drains), then starts gossip and binds the admin port
 * (`bindAdmin`), retrying with backoff until `deadlineMs` passes. With `gossip`, the old
 * skiff's `/members` is read again just before, so that this member starts above its very
 * latest incarnation. Warns once when the kernel would reset connections queued on the old
 * listeners.
 *
 * @param target this process's skiff
 * @param address the admin address
 * @param oldPid the pid of the skiff being replaced (from `probeAdmin`)
 * @returns true once this process holds the admin port; false when the deadline passed
 *   (logged; this process keeps serving its listeners)
 */
export async function takeOver(
  target: Pick<Runnable, "bindAdmin">,
  address: SocketAddress,
  oldPid: number,
  deps: HotRestartDeps & { deadlineMs?: number; gossip?: boolean },
): Promise<"done" | "refused" | "incomplete"> {
  const { clock, log } = deps;
  await warnTcpMigrateReq(deps);
  const members = deps.gossip ? await predecessorMembers(address, oldPid, deps) : undefined;
  try {
    const res = await request(deps, adminUrl(address, "/drain?handover=1"), "POST");
    const body = res.body.trim();
    if (res.status !== 202) {
      log.error("hot restart refused: the old skiff did not agree to drain; it serves on", {
        old_pid: oldPid,
        status: res.status,
        body,
      });
      return "refused";
    }
    log.info("hot restart: the old skiff is draining", { old_pid: oldPid });
  } catch (err) {
    // Gone since the probe, or unable to answer: when its port is free, it is gone.
    log.warn("hot restart: cannot ask the old skiff to drain", { old_pid: oldPid, err });
    try {
      await target.bindAdmin({ members });
      log.info("hot restart complete", { old_pid: oldPid, admin: formatAddress(address) });
      return "done";
    } catch {
      log.error("hot restart refused: the old skiff holds its admin port but does not answer", {
        old_pid: oldPid,
        admin: formatAddress(address),
      });
      return "refused";
    }
  }
  const deadline = clock.monotonic() + (deps.deadlineMs ?? 10_000);
  for (let attempt = 0;; attempt++) {
    try {
      await target.bindAdmin({ members });
      log.info("hot restart complete", { old_pid: oldPid, admin: formatAddress(address) });
      return "done";
    } catch (err) {
      if (clock.monotonic() >= deadline) {
        log.error("hot restart incomplete: the admin port stayed taken; serving without it", {
          old_pid: oldPid,
          admin: formatAddress(address),
          err,
        });
        return "incomplete";
      }
    }
    await clock.sleep(Math.min(500, 10 * 2 ** attempt));
  }
}

/**
 * Warns when Linux would reset the connections still queued on the old process's
 * SO_REUSEPORT listeners as it closes them (`net.ipv4.tcp_migrate_req` is 0, or the kernel
 * is older than 5.14). Reads the setting, never writes it.
 */
export async function warnTcpMigrateReq(deps: HotRestartDeps): Promise<void> {
  const read = deps.readTextFile ?? readProcFile;
  let value: string;
  try {
    value = (await read(TCP_MIGRATE_REQ)).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      deps.log.warn(
        "hot restart: this kernel cannot move queued connections between listeners " +
          "(no net.ipv4.tcp_migrate_req: Linux before 5.14); connections that arrive " +
          "while the old skiff closes its listeners may be reset",
      );
    } else {
      deps.log.debug("hot restart: cannot read net.ipv4.tcp_migrate_req", { err });
    }
    return;
  }
  if (value === "0") {
    deps.log.warn(
      "hot restart: net.ipv4.tcp_migrate_req is 0, so connections queued on the old " +
        "skiff's listeners when it closes them are reset; set it to 1 in this network " +
        "namespace (sysctl -w net.ipv4.tcp_migrate_req=1) for a restart without refusals",
    );
  }
}

/**
 * Reads a file under /proc. Deno lets only --allow-all read /proc/sys, so without it the
 * file is read by `cat` (which --allow-run allows).
 */
async function readProcFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
  }
  const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  if (out.code === 0) return decoder.decode(out.stdout);
  const why = decoder.decode(out.stderr).trim();
  if (/no such file/i.test(why)) throw new Deno.errors.NotFound(why);
  throw new Error(`cat ${path} failed: ${why}`);
}

/** An admin URL for `address`; a wildcard address is reached on loopback. */
export function adminUrl(address: SocketAddress, path: string): string {
  const h = address.hostname;
  const hostname = h === "0.0.0.0" ? "127.0.0.1" : h === "::" ? "::1" : h;
  return `http://${formatAddress({ hostname, port: address.port })}${path}`;
}

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

/** One admin request, body included, bounded by `requestTimeoutMs`. */
async function request(deps: HotRestartDeps, url: string, method: string): Promise<Answer> {
  const abort = new AbortController();
  const timer = deps.clock.setTimer(
    () => abort.abort(new Error("no answer in time")),
    deps.requestTimeoutMs ?? 3000,
  );
  try {
    const res = await (deps.fetch ?? fetch)(url, { method, signal: abort.signal });
    return { status: res.status, headers: res.headers, body: await res.text() };
  } finally {
    timer.cancel();
  }
}
