import assert from "node:assert/strict";
import { parseSvid, SvidError, type SvidProblem, validateSvid } from "../../src/security/mod.ts";
import { HOUR, testCa, testSvid } from "./_fixtures.ts";

const now = Date.now();
const ca = await testCa("example.org", now);

function problem(fn: () => unknown): SvidProblem {
  try {
    fn();
  } catch (err) {
    if (err instanceof SvidError) return err.reason;
    throw err;
  }
  assert.fail("expected an SvidError");
}

Deno.test("a leaf issued by the dev CA is a valid X.509-SVID", async () => {
  const svid = await testSvid(ca, "/ns/prod/sa/web", { now });
  const got = validateSvid(svid.certPem, now);
  assert.equal(got.id.toString(), "spiffe://example.org/ns/prod/sa/web");
  assert.equal(got.serialNumber, svid.serialNumber);
  assert.equal(got.notBefore.getTime(), Math.floor((now - 60_000) / 1000) * 1000);
  assert.equal(got.notAfter.getTime(), Math.floor((now + HOUR) / 1000) * 1000);
});

Deno.test("each SVID rule violation is reported with its reason", async () => {
  const cases: [string, Promise<{ certPem: string }>, SvidProblem, RegExp][] = [
    [
      "expired",
      testSvid(ca, "/a", { now, fromMs: -2 * HOUR, toMs: -HOUR }),
      "expired",
      /expired at/,
    ],
    [
      "not yet valid",
      testSvid(ca, "/a", { now, fromMs: HOUR, toMs: 2 * HOUR }),
      "not_yet_valid",
      /not valid before/,
    ],
    ["CA as leaf", testSvid(ca, "/a", { now, ca: true }), "ca_leaf", /cA false/],
    ["no URI SAN", testSvid(ca, "/a", { now, uriSans: [] }), "uri_san", /has 0 URI SANs/],
    [
      "two URI SANs",
      testSvid(ca, "/a", { now, uriSans: ["spiffe://example.org/a", "spiffe://example.org/b"] }),
      "uri_san",
      /has 2 URI SANs/,
    ],
    [
      "URI SAN not a SPIFFE ID",
      testSvid(ca, "/a", { now, uriSans: ["https://example.org/a"] }),
      "spiffe_id",
      /not a SPIFFE ID: the scheme/,
    ],
    [
      "no digitalSignature",
      testSvid(ca, "/a", { now, keyUsages: ["keyEncipherment"] }),
      "key_usage",
      /lacks the key usage digitalSignature/,
    ],
    [
      "keyCertSign on a leaf",
      testSvid(ca, "/a", { now, keyUsages: ["digitalSignature", "keyCertSign"] }),
      "key_usage",
      /keyCertSign or cRLSign/,
    ],
    [
      "cRLSign on a leaf",
      testSvid(ca, "/a", { now, keyUsages: ["digitalSignature", "cRLSign"] }),
      "key_usage",
      /keyCertSign or cRLSign/,
    ],
    ["the root itself", Promise.resolve({ certPem: ca.certPem }), "ca_leaf", /CA certificate/],
    ["empty input", Promise.resolve({ certPem: "" }), "no_certificate", /No certificate/],
    [
      "garbage in a PEM block",
      Promise.resolve({
        certPem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      }),
      "malformed",
      /cannot be parsed/,
    ],
  ];
  for (const [name, made, reason, message] of cases) {
    const { certPem } = await made;
    assert.equal(problem(() => validateSvid(certPem, now)), reason, name);
    assert.throws(() => validateSvid(certPem, now), message, name);
  }
});

Deno.test("validity is checked at the given time, inclusive of both ends", async () => {
  const svid = await testSvid(ca, "/a", { now, fromMs: 0, toMs: HOUR });
  const { notBefore, notAfter } = validateSvid(svid.certPem, now + 1000);
  assert.doesNotThrow(() => validateSvid(svid.certPem, notBefore.getTime()));
  assert.doesNotThrow(() => validateSvid(svid.certPem, notAfter.getTime()));
  assert.equal(problem(() => validateSvid(svid.certPem, notBefore.getTime() - 1)), "not_yet_valid");
  assert.equal(problem(() => validateSvid(svid.certPem, notAfter.getTime() + 1)), "expired");
  // parseSvid skips only the time check.
  assert.equal(parseSvid(svid.certPem).id.toString(), "spiffe://example.org/a");
});

Deno.test("intermediates must be CAs with keyCertSign", async () => {
  const leaf = await testSvid(ca, "/leaf", { now });
  const intermediate = await testSvid(ca, "/int", { now, ca: true });
  const notCa = await testSvid(ca, "/other", { now });
  assert.equal(validateSvid(leaf.certPem + intermediate.certPem, now).id.path, "/leaf");
  assert.equal(problem(() => validateSvid(leaf.certPem + notCa.certPem, now)), "intermediate");
  const caNoSign = await testSvid(ca, "/x", { now, ca: true, keyUsages: ["cRLSign"] });
  assert.equal(problem(() => validateSvid(leaf.certPem + caNoSign.certPem, now)), "intermediate");
});

Deno.test("DER input gives the same answer as PEM", async () => {
  const svid = await testSvid(ca, "/der", { now });
  const fromPem = validateSvid(svid.certPem, now);
  const fromDer = validateSvid([fromPem.leaf], now);
  assert.equal(fromDer.id.toString(), fromPem.id.toString());
  assert.equal(fromDer.serialNumber, fromPem.serialNumber);
});
