import { toPem } from "./_pem.ts";
import { x509 } from "./_x509.ts";
import { SpiffeId, trustDomainProblem } from "./spiffe_id.ts";

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { ...EC, hash: "SHA-256" } as const;

/** A development certificate authority: a self-signed P-256 ECDSA root and its key. */
export interface CertificateAuthority {
  /** The trust domain whose SVIDs it issues (its certificate's URI SAN is `spiffe://<td>`). */
  readonly trustDomain: string;
  /** The root certificate, PEM (written as `ca.pem`, and as every SVID's `bundle.pem`). */
  readonly certPem: string;
  /** The root's private key, PKCS#8 PEM (written as `ca_key.pem`). */
  readonly keyPem: string;
  /** The root certificate, parsed. */
  readonly cert: x509.X509Certificate;
  /** The root's private key, for signing. */
  readonly privateKey: CryptoKey;
}

/** Options of `createCa`. */
export interface CreateCaOptions {
  /** The trust domain, e.g. `example.org`. */
  trustDomain: string;
  /** Start of the root's validity. */
  notBefore: Date;
  /** End of the root's validity. */
  notAfter: Date;
}

/** Key usages a test may ask `issue` for instead of the SVID default. */
export type KeyUsageName = "digitalSignature" | "keyEncipherment" | "keyCertSign" | "cRLSign";

/** Options of `issue`. */
export interface IssueOptions {
  /** The SPIFFE ID of the workload; it must be in the CA's trust domain. */
  spiffeId: string;
  /** Start of the leaf's validity. */
  notBefore: Date;
  /** End of the leaf's validity (keep SVIDs short-lived: hours, not months). */
  notAfter: Date;
  /**
   * URI SANs to write instead of `[spiffeId]`, unchecked: for tests of certificates that are
   * not valid SVIDs (none, two, or not a SPIFFE ID).
   */
  uriSans?: readonly string[];
  /** Issue a CA certificate (cA true, keyCertSign) instead of a leaf: for tests. */
  ca?: boolean;
  /** Key usages instead of the default (`digitalSignature`, or the CA's): for tests. */
  keyUsages?: readonly KeyUsageName[];
}

/** An issued X.509-SVID in the file layout of a SPIRE agent. */
export interface IssuedSvid {
  /** `svid.pem`: the leaf certificate followed by any intermediates. */
  certPem: string;
  /** `svid_key.pem`: the leaf's private key, PKCS#8 PEM. */
  keyPem: string;
  /** `bundle.pem`: the trust bundle (the CA's root certificate). */
  bundlePem: string;
  /** The leaf's serial number, lower-case hex. */
  serialNumber: string;
}

/**
 * Creates a self-signed P-256 ECDSA root CA for `trustDomain`.
 *
 * @throws {TypeError} when `trustDomain` is not a valid SPIFFE trust domain name
 * @throws {RangeError} when `notAfter` is not after `notBefore`
 */
export async function createCa(options: CreateCaOptions): Promise<CertificateAuthority> {
  const { trustDomain, notBefore, notAfter } = options;
  const problem = trustDomainProblem(trustDomain);
  if (problem !== undefined) throw new TypeError(`Cannot create a CA: ${problem}`);
  checkWindow(notBefore, notAfter);
  const keys = await crypto.subtle.generateKey(SIGNING, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=skiff development CA ${trustDomain}, O=skiff`,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: `spiffe://${trustDomain}` }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = toPem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return {
    trustDomain,
    certPem: cert.toString("pem") + "\n",
    keyPem,
    cert,
    privateKey: keys.privateKey,
  };
}

/**
 * Loads a CA from its certificate and PKCS#8 key (as `createCa` wrote them).
 *
 * @throws {TypeError} when the certificate is not a CA or has no `spiffe://<td>` URI SAN
 */
export async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  if (!cert.getExtension(x509.BasicConstraintsExtension)?.ca) {
    throw new TypeError("The CA certificate is not a CA (basicConstraints cA is not true)");
  }
  const uri = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items
    .find((n) => n.type === "url")?.value;
  const trustDomain = uri?.startsWith("spiffe://") ? uri.slice("spiffe://".length) : "";
  const problem = trustDomainProblem(trustDomain);
  if (problem !== undefined) {
    throw new TypeError(`The CA certificate names no trust domain in its URI SAN: ${problem}`);
  }
  const der = x509.PemConverter.decodeFirst(keyPem);
  const privateKey = await crypto.subtle.importKey("pkcs8", der, EC, true, ["sign"]);
  return { trustDomain, certPem, keyPem, cert, privateKey };
}

/**
 * Issues an X.509-SVID signed by `ca`: a fresh P-256 key, a random serial, the SPIFFE ID as
 * the only URI SAN, cA false, key usage digitalSignature (critical), extended key usage
 * serverAuth and clientAuth. The options `uriSans`, `ca` and `keyUsages` make certificates
 * that break these rules, for tests.
 *
 * @throws {TypeError} when `spiffeId` is invalid or not in the CA's trust domain
 * @throws {RangeError} when `notAfter` is not after `notBefore`
 * @example
 * ```ts
 * const svid = await issue(ca, { spiffeId: "spiffe://example.org/ns/prod/sa/web", notBefore, notAfter });
 * await writeSvidFiles("/run/skiff/svid", svid);
 * ```
 */
export async function issue(
  ca: CertificateAuthority,
  options: IssueOptions,
): Promise<IssuedSvid> {
  const id = SpiffeId.parse(options.spiffeId);
  if (options.uriSans === undefined && id.trustDomain !== ca.trustDomain) {
    throw new TypeError(
      `SPIFFE ID "${id}" is not in the CA's trust domain "${ca.trustDomain}": ` +
        `issue IDs of the form spiffe://${ca.trustDomain}/...`,
    );
  }
  checkWindow(options.notBefore, options.notAfter);
  const keys = await crypto.subtle.generateKey(SIGNING, true, ["sign", "verify"]);
  const isCa = options.ca ?? false;
  const usages = options.keyUsages
    ? options.keyUsages.reduce((acc, u) => acc | x509.KeyUsageFlags[u], 0)
    : isCa
    ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
    : x509.KeyUsageFlags.digitalSignature;
  const sans = options.uriSans ?? [id.toString()];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(usages, true),
    new x509.ExtendedKeyUsageExtension([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (sans.length > 0) {
    // With an empty subject, RFC 5280 wants the SAN extension critical.
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        sans.map((value) => ({ type: "url" as const, value })),
        true,
      ),
    );
  }
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    issuer: ca.cert.subject,
    subject: "",
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    extensions,
  });
  return {
    certPem: leaf.toString("pem") + "\n",
    keyPem: toPem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey)),
    bundlePem: ca.certPem,
    serialNumber: leaf.serialNumber.toLowerCase().replace(/^0+(?=.)/, ""),
  };
}

/**
 * A random positive 128-bit serial number in hex: 16 random bytes with the top bit cleared
 * (DER integers are signed) and the next one set (so the encoding is always 16 bytes).
 */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function checkWindow(notBefore: Date, notAfter: Date): void {
  if (!(notAfter.getTime() > notBefore.getTime())) {
    throw new RangeError(
      `notAfter ${notAfter.toISOString()} must be after notBefore ${notBefore.toISOString()}`,
    );
  }
}
