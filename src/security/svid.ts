import { pemCertificates } from "./_pem.ts";
import { SpiffeId, spiffeIdProblem } from "./spiffe_id.ts";
import { x509 } from "./_x509.ts";

/**
 * Why a certificate chain is not a valid X.509-SVID, or (the last four) why an SVID directory
 * cannot be loaded; used as the `reason` metric label.
 */
export type SvidProblem =
  | "no_certificate"
  | "malformed"
  | "uri_san"
  | "spiffe_id"
  | "ca_leaf"
  | "key_usage"
  | "not_yet_valid"
  | "expired"
  | "intermediate"
  | "read"
  | "key"
  | "key_mismatch"
  | "bundle";

/**
 * Thrown when a certificate chain breaks a rule of the SPIFFE X.509-SVID specification.
 * `reason` says which rule, in a form fit for a metric label.
 */
export class SvidError extends Error {
  /** The rule broken. */
  readonly reason: SvidProblem;

  /** Creates the error; `message` names the certificate and the rule. */
  constructor(reason: SvidProblem, message: string) {
    super(message);
    this.name = "SvidError";
    this.reason = reason;
  }
}

/** What a valid X.509-SVID says. */
export interface Svid {
  /** The SPIFFE ID in the leaf's URI SAN. */
  id: SpiffeId;
  /** Start of the leaf's validity. */
  notBefore: Date;
  /** End of the leaf's validity. */
  notAfter: Date;
  /** The leaf's serial number in lower-case hex, without leading zeros. */
  serialNumber: string;
  /** The leaf's DER bytes. */
  leaf: Uint8Array;
}

/**
 * Checks a leaf certificate and its intermediates against the SPIFFE X.509-SVID rules:
 * exactly one URI SAN, holding a valid SPIFFE ID; the leaf not a CA; key usage
 * digitalSignature without keyCertSign or cRLSign; `now` inside the leaf's validity; every
 * intermediate a CA. It does not verify signatures: the TLS stack verifies the chain against
 * the trust bundle at handshake time.
 *
 * @param chain PEM text (leaf first, then intermediates) or the DER bytes of each certificate
 * @param now the time to check validity at, in Unix milliseconds (from the `Clock`)
 * @returns the SPIFFE ID, validity and serial number of the leaf
 * @throws {SvidError} naming the broken rule
 * @example
 * ```ts
 * const svid = validateSvid(await Deno.readTextFile("svid.pem"), clock.now());
 * svid.id.toString(); // "spiffe://example.org/ns/prod/sa/web"
 * ```
 */
export function validateSvid(chain: string | readonly Uint8Array[], now: number): Svid {
  const svid = parseSvid(chain);
  const subject = `Leaf certificate for ${svid.id} (serial ${svid.serialNumber})`;
  if (now < svid.notBefore.getTime()) {
    throw new SvidError(
      "not_yet_valid",
      `${subject} is not valid before ${svid.notBefore.toISOString()}`,
    );
  }
  if (now > svid.notAfter.getTime()) {
    throw new SvidError("expired", `${subject} expired at ${svid.notAfter.toISOString()}`);
  }
  return svid;
}

/**
 * Like `validateSvid` but without the validity-window check: for a peer's certificate that
 * the TLS handshake has already checked against the clock.
 *
 * @throws {SvidError} naming the broken rule
 */
export function parseSvid(chain: string | readonly Uint8Array[]): Svid {
  const ders = typeof chain === "string" ? pemCertificates(chain) : chain;
  if (ders.length === 0) {
    throw new SvidError("no_certificate", "No certificate found: expected a PEM leaf certificate");
  }
  const [leaf, ...intermediates] = ders.map((der, i) => parse(der, i));
  const id = leafSpiffeId(leaf);
  const subject = `Leaf certificate for ${id} (serial ${serial(leaf)})`;
  if (leaf.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new SvidError(
      "ca_leaf",
      `${subject} is a CA certificate: a leaf SVID must have cA false`,
    );
  }
  const usages = leaf.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
  if (!(usages & x509.KeyUsageFlags.digitalSignature)) {
    throw new SvidError("key_usage", `${subject} lacks the key usage digitalSignature`);
  }
  if (usages & (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign)) {
    throw new SvidError("key_usage", `${subject} has key usage keyCertSign or cRLSign`);
  }
  for (const [i, cert] of intermediates.entries()) {
    const usage = cert.getExtension(x509.KeyUsagesExtension)?.usages ?? 0;
    if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
      throw new SvidError("intermediate", `Intermediate certificate ${i + 1} is not a CA`);
    }
    if (!(usage & x509.KeyUsageFlags.keyCertSign)) {
      throw new SvidError("intermediate", `Intermediate certificate ${i + 1} lacks keyCertSign`);
    }
  }
  return {
    id,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    serialNumber: serial(leaf),
    leaf: new Uint8Array(leaf.rawData),
  };
}

/** The URI SANs of a certificate given as DER bytes. */
export function uriSans(der: Uint8Array): string[] {
  return uris(parse(der));
}

function parse(der: Uint8Array, i = 0): x509.X509Certificate {
  try {
    return new x509.X509Certificate(der as Uint8Array<ArrayBuffer>);
  } catch (err) {
    throw new SvidError("malformed", `Certificate ${i + 1} cannot be parsed: ${err}`);
  }
}

function uris(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san?.names.items.filter((n) => n.type === "url").map((n) => n.value) ?? [];
}

function leafSpiffeId(leaf: x509.X509Certificate): SpiffeId {
  const found = uris(leaf);
  if (found.length !== 1) {
    throw new SvidError(
      "uri_san",
      `Leaf certificate (serial ${serial(leaf)}) has ${found.length} URI SANs ` +
        `${JSON.stringify(found)}: an SVID has exactly one, its SPIFFE ID`,
    );
  }
  const problem = spiffeIdProblem(found[0]);
  if (problem !== undefined) {
    throw new SvidError(
      "spiffe_id",
      `Leaf certificate URI SAN ${JSON.stringify(found[0])} is not a SPIFFE ID: ${problem}`,
    );
  }
  return SpiffeId.parse(found[0]);
}

function serial(cert: x509.X509Certificate): string {
  return cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, "");
}
