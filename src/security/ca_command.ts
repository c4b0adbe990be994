import { join } from "node:path";
import type { Clock } from "../core/mod.ts";
import { parseDuration } from "../config/duration.ts";
import { createCa, issue } from "./ca.ts";
import { CA_USAGE } from "./ca_usage.ts";
import { CA_FILES, readCaFiles, SVID_FILES, writeCaFiles, writeSvidFiles } from "./svid_files.ts";

/** Options of `skiff ca`, as parsed from the command line. */
export interface CaCommandOptions {
  /** `--out DIR`: where `init` writes the CA and `issue` the SVID files. */
  out?: string;
  /** `--ca DIR`: the CA directory `issue` signs with. */
  ca?: string;
  /** `--trust-domain`: the CA's trust domain (`init`; default `example.org`). */
  "trust-domain"?: string;
  /** `--ttl`: lifetime, e.g. `24h` (defaults: `8760h` for `init`, `1h` for `issue`). */
  ttl?: string;
  /** `--spiffe-id`: the workload's ID (`issue`). */
  "spiffe-id"?: string;
  /** `--not-before`: RFC 3339 start of validity (`issue`; default a minute ago). */
  "not-before"?: string;
}

/** Where `skiff ca` prints and what time it is. */
export interface CaCommandIo {
  /** The current time, for validity windows. */
  clock: Clock;
  /** Writes a line for the user (stdout). */
  print(line: string): void;
  /** Writes an error line (stderr). */
  error(line: string): void;
}

/** Certificates start this much before "now", so that peers with a slow clock accept them. */
const BACKDATE_MS = 60_000;

class UsageError extends Error {}

/**
 * Runs `skiff ca init` or `skiff ca issue`.
 *
 * @param sub the sub-command, `init` or `issue`
 * @returns the exit code: 0 done, 1 failed, 2 bad usage
 */
export async function caCommand(
  sub: string | undefined,
  options: CaCommandOptions,
  io: CaCommandIo,
): Promise<number> {
  try {
    if (sub === "init") return await init(options, io);
    if (sub === "issue") return await issueCommand(options, io);
    throw new UsageError(`unknown sub-command ${JSON.stringify(sub ?? "")}: use init or issue`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.error(`skiff ca: ${err.message}\nusage:\n${CA_USAGE}`);
      return 2;
    }
    if (
      err instanceof TypeError || err instanceof RangeError ||
      err instanceof Deno.errors.NotFound || err instanceof Deno.errors.AlreadyExists
    ) {
      io.error(`skiff ca ${sub}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}

async function init(options: CaCommandOptions, io: CaCommandIo): Promise<number> {
  const out = required(options.out, "--out DIR");
  const ttl = duration(options.ttl ?? "8760h");
  const now = io.clock.now();
  const ca = await createCa({
    trustDomain: options["trust-domain"] ?? "example.org",
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + ttl),
  });
  try {
    await writeCaFiles(out, ca);
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    throw new Deno.errors.AlreadyExists(
      `${join(out, CA_FILES.key)} exists: a CA key is never overwritten; choose another --out`,
    );
  }
  io.print(
    `wrote ${join(out, CA_FILES.cert)} and ${join(out, CA_FILES.key)}: ` +
      `CA for trust domain ${ca.trustDomain}, valid until ${ca.cert.notAfter.toISOString()}`,
  );
  return 0;
}

async function issueCommand(options: CaCommandOptions, io: CaCommandIo): Promise<number> {
  const caDir = required(options.ca, "--ca DIR");
  const spiffeId = required(options["spiffe-id"], "--spiffe-id spiffe://TRUST-DOMAIN/PATH");
  const out = required(options.out, "--out DIR");
  const ttl = duration(options.ttl ?? "1h");
  const now = io.clock.now();
  const notBefore = options["not-before"] === undefined
    ? now - BACKDATE_MS
    : timestamp(options["not-before"]);
  const notAfter = (options["not-before"] === undefined ? now : notBefore) + ttl;
  const ca = await readCaFiles(caDir);
  if (notAfter > ca.cert.notAfter.getTime()) {
    throw new RangeError(
      `the SVID would outlive its CA, which expires at ${ca.cert.notAfter.toISOString()}: ` +
        `use a shorter --ttl`,
    );
  }
  const svid = await issue(ca, {
    spiffeId,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
  });
  await writeSvidFiles(out, svid);
  io.print(
    `wrote ${Object.values(SVID_FILES).map((f) => join(out, f)).join(", ")}: ` +
      `${spiffeId}, serial ${svid.serialNumber}, valid until ${new Date(notAfter).toISOString()}`,
  );
  return 0;
}

function required(value: string | undefined, what: string): string {
  if (value === undefined || value === "") throw new UsageError(`missing ${what}`);
  return value;
}

function duration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0) {
    throw new UsageError(`--ttl ${JSON.stringify(text)} is not a duration such as 24h or 90m`);
  }
  return ms;
}

function timestamp(text: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
    throw new UsageError(
      `--not-before ${JSON.stringify(text)} is not an RFC 3339 time such as 2026-01-02T15:04:05Z`,
    );
  }
  return ms;
}
