import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { join } from "node:path";
import tls from "node:tls";
import { pemCertificates } from "./_pem.ts";
import type { SpiffeId } from "./spiffe_id.ts";
import { SvidError, validateSvid } from "./svid.ts";
import { SVID_FILES } from "./svid_files.ts";

/** A loaded, checked X.509-SVID with its key and trust bundle, ready for handshakes. */
export interface SvidSnapshot {
  /** The workload's SPIFFE ID. */
  readonly id: SpiffeId;
  /** `svid.pem`: leaf certificate and intermediates, PEM. */
  readonly cert: string;
  /** `svid_key.pem`: the leaf's private key, PEM. */
  readonly key: string;
  /** `bundle.pem`: the trust bundle that peers' certificates are verified against, PEM. */
  readonly ca: string;
  /** Start of the leaf's validity. */
  readonly notBefore: Date;
  /** End of the leaf's validity. */
  readonly notAfter: Date;
  /** The leaf's serial number, lower-case hex. */
  readonly serialNumber: string;
  /** A TLS 1.3-only `node:tls` context holding `cert`, `key` and `ca`. */
  readonly secureContext: tls.SecureContext;
}

/**
 * Reads `svid.pem`, `svid_key.pem` and `bundle.pem` from `dir` and checks them: the chain is
 * a valid X.509-SVID at `now` (see `validateSvid`), the key is the leaf's, and the bundle
 * holds at least one certificate.
 *
 * @param dir the directory a SPIRE agent (or `skiff ca issue`) writes
 * @param now Unix milliseconds, from the `Clock`
 * @throws {SvidError} with `reason` `read`, `key`, `key_mismatch`, `bundle` or a
 *   `validateSvid` reason
 */
export async function loadSvidDir(dir: string, now: number): Promise<SvidSnapshot> {
  const [cert, key, ca] = await Promise.all(
    [SVID_FILES.cert, SVID_FILES.key, SVID_FILES.bundle].map((name) => readFile(dir, name)),
  );
  const svid = validateSvid(cert, now);
  const bundle = pemCertificates(ca);
  if (bundle.length === 0) {
    throw new SvidError("bundle", `${join(dir, SVID_FILES.bundle)} holds no certificate`);
  }
  for (const [i, der] of bundle.entries()) {
    try {
      new X509Certificate(der);
    } catch (err) {
      throw new SvidError(
        "bundle",
        `Certificate ${i + 1} of ${join(dir, SVID_FILES.bundle)} cannot be parsed: ${err}`,
      );
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new SvidError("key", `${join(dir, SVID_FILES.key)} holds no usable key: ${err}`);
  }
  if (!new X509Certificate(svid.leaf).checkPrivateKey(privateKey)) {
    throw new SvidError(
      "key_mismatch",
      `${join(dir, SVID_FILES.key)} is not the key of the certificate in ` +
        `${join(dir, SVID_FILES.cert)} (serial ${svid.serialNumber})`,
    );
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext({ cert, key, ca, minVersion: "TLSv1.3" });
  } catch (err) {
    throw new SvidError("malformed", `The TLS stack refuses the SVID files in ${dir}: ${err}`);
  }
  return {
    id: svid.id,
    cert,
    key,
    ca,
    notBefore: svid.notBefore,
    notAfter: svid.notAfter,
    serialNumber: svid.serialNumber,
    secureContext,
  };
}

async function readFile(dir: string, name: string): Promise<string> {
  const path = join(dir, name);
  try {
    return await Deno.readTextFile(path);
  } catch (err) {
    throw new SvidError("read", `Cannot read ${path}: ${(err as Error).message}`);
  }
}
