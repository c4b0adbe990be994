import {
  type CertificateAuthority,
  createCa,
  issue,
  type IssuedSvid,
  type IssueOptions,
} from "../../src/security/mod.ts";

/** A fixed "now" for certificates whose validity tests reason about. */
export const HOUR = 3_600_000;

/** A fresh development CA valid from an hour ago for a day. */
export function testCa(
  trustDomain = "example.org",
  now = Date.now(),
): Promise<CertificateAuthority> {
  return createCa({
    trustDomain,
    notBefore: new Date(now - HOUR),
    notAfter: new Date(now + 24 * HOUR),
  });
}

/**
 * Issues an SVID for `spiffe://<td><path>` valid from `fromMs` to `toMs` relative to `now`
 * (defaults: a minute ago to an hour ahead), with any extra `issue` options.
 */
export function testSvid(
  ca: CertificateAuthority,
  path: string,
  extra: Partial<IssueOptions> & { fromMs?: number; toMs?: number; now?: number } = {},
): Promise<IssuedSvid> {
  const { fromMs = -60_000, toMs = HOUR, now = Date.now(), ...rest } = extra;
  return issue(ca, {
    spiffeId: `spiffe://${ca.trustDomain}${path}`,
    notBefore: new Date(now + fromMs),
    notAfter: new Date(now + toMs),
    ...rest,
  });
}
