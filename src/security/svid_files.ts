import { join } from "node:path";
import { type CertificateAuthority, type IssuedSvid, loadCa } from "./ca.ts";

/** File names of a SPIRE agent's X.509-SVID output directory, which skiff reads and writes. */
export const SVID_FILES = {
  cert: "svid.pem",
  key: "svid_key.pem",
  bundle: "bundle.pem",
} as const;

/** File names of a `skiff ca init` directory. */
export const CA_FILES = { cert: "ca.pem", key: "ca_key.pem" } as const;

/**
 * Writes `svid.pem`, `svid_key.pem` (mode 0600) and `bundle.pem` into `dir`, creating it.
 * The files are written one at a time, key first, as an agent would; a watching
 * `SvidSource` switches only once all three agree.
 */
export async function writeSvidFiles(dir: string, svid: IssuedSvid): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeSecret(join(dir, SVID_FILES.key), svid.keyPem);
  await Deno.writeTextFile(join(dir, SVID_FILES.cert), svid.certPem);
  await Deno.writeTextFile(join(dir, SVID_FILES.bundle), svid.bundlePem);
}

/**
 * Writes `ca.pem` and `ca_key.pem` (mode 0600) into `dir`, creating it.
 *
 * @throws {Deno.errors.AlreadyExists} when `dir` already holds a CA key (never overwritten)
 */
export async function writeCaFiles(dir: string, ca: CertificateAuthority): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeSecret(join(dir, CA_FILES.key), ca.keyPem, true);
  await Deno.writeTextFile(join(dir, CA_FILES.cert), ca.certPem);
}

/** Loads the CA that `writeCaFiles` wrote into `dir`. */
export async function readCaFiles(dir: string): Promise<CertificateAuthority> {
  return await loadCa(
    await Deno.readTextFile(join(dir, CA_FILES.cert)),
    await Deno.readTextFile(join(dir, CA_FILES.key)),
  );
}

async function writeSecret(path: string, text: string, createNew = false): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o600, createNew });
  await Deno.chmod(path, 0o600); // `mode` applies only when the file is created
}
