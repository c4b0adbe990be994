import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createCa,
  issue,
  loadCa,
  readCaFiles,
  uriSans,
  validateSvid,
  writeCaFiles,
} from "../../src/security/mod.ts";
import { HOUR, testCa, testSvid } from "./_fixtures.ts";

const root = new URL("../../", import.meta.url).pathname;

Deno.test("the dev CA root is a self-signed P-256 CA for the trust domain", async () => {
  const ca = await testCa("prod.example.org");
  const cert = new x509.X509Certificate(ca.certPem);
  assert.equal(cert.subject, cert.issuer);
  assert.ok(await cert.verify({ signatureOnly: true }), "self-signature verifies");
  assert.equal((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  const bc = cert.getExtension(x509.BasicConstraintsExtension)!;
  assert.ok(bc.ca && bc.critical);
  const ku = cert.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  assert.deepEqual(uriSans(new Uint8Array(cert.rawData)), ["spiffe://prod.example.org"]);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

Deno.test("an issued leaf has exactly the SVID profile", async () => {
  const ca = await testCa();
  const svid = await testSvid(ca, "/ns/prod/sa/web");
  const leaf = new x509.X509Certificate(svid.certPem);
  assert.ok(await leaf.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }));
  assert.equal(leaf.issuer, ca.cert.subject);
  const san = leaf.getExtension(x509.SubjectAlternativeNameExtension)!;
  assert.deepEqual(san.names.toJSON(), [{
    type: "url",
    value: "spiffe://example.org/ns/prod/sa/web",
  }]);
  assert.equal(leaf.getExtension(x509.BasicConstraintsExtension)!.ca, false);
  const ku = leaf.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  assert.ok(ku.critical, "key usage is critical");
  const eku = leaf.getExtension(x509.ExtendedKeyUsageExtension)!;
  assert.deepEqual(
    [...eku.usages].sort(),
    [
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ].sort(),
  );
  assert.equal((leaf.publicKey.algorithm as EcKeyAlgorithm).namedCurve, "P-256");
  // 128-bit serial, positive, 16 bytes.
  assert.match(leaf.serialNumber, /^[4-7][0-9a-f]{31}$/i);
  assert.equal(svid.serialNumber, leaf.serialNumber.toLowerCase());
  assert.equal(svid.bundlePem, ca.certPem);
  assert.match(svid.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
});

Deno.test("serials differ between certificates", async () => {
  const ca = await testCa();
  const serials = new Set<string>();
  for (let i = 0; i < 20; i++) serials.add((await testSvid(ca, "/a")).serialNumber);
  assert.equal(serials.size, 20);
});

Deno.test("issue refuses IDs outside the CA's trust domain and empty windows", async () => {
  const ca = await testCa();
  const now = new Date();
  await assert.rejects(
    issue(ca, { spiffeId: "spiffe://other.org/a", notBefore: now, notAfter: new Date(+now + 1) }),
    /not in the CA's trust domain "example.org"/,
  );
  await assert.rejects(
    issue(ca, {
      spiffeId: "spiffe://example.org/a/",
      notBefore: now,
      notAfter: new Date(+now + 1),
    }),
    TypeError,
  );
  await assert.rejects(
    issue(ca, { spiffeId: "spiffe://example.org/a", notBefore: now, notAfter: now }),
    RangeError,
  );
  await assert.rejects(
    createCa({ trustDomain: "Bad", notBefore: now, notAfter: new Date(+now + HOUR) }),
    TypeError,
  );
});

Deno.test("a CA written to disk loads back and keeps issuing verifiable SVIDs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ca = await testCa("td.test");
    await writeCaFiles(dir, ca);
    assert.equal((await Deno.stat(join(dir, "ca_key.pem"))).mode! & 0o777, 0o600);
    await assert.rejects(writeCaFiles(dir, ca), Deno.errors.AlreadyExists);
    const again = await readCaFiles(dir);
    assert.equal(again.trustDomain, "td.test");
    const svid = await testSvid(again, "/x");
    const leaf = new x509.X509Certificate(svid.certPem);
    assert.ok(await leaf.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }));
    const leafAsCa = await testSvid(ca, "/y");
    await assert.rejects(loadCa(leafAsCa.certPem, leafAsCa.keyPem), /not a CA/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function skiff(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", join(root, "src/main.ts"), ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, out: text.decode(stdout), err: text.decode(stderr) };
}

async function openssl(...args: string[]): Promise<string | undefined> {
  try {
    const { code, stdout, stderr } = await new Deno.Command("openssl", {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assert.equal(code, 0, text.decode(stderr));
    return text.decode(stdout);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

Deno.test("skiff ca init and ca issue write a CA and a SPIRE-style SVID directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const caDir = join(dir, "ca");
    const svidDir = join(dir, "svid");
    const init = await skiff("ca", "init", "--out", caDir, "--trust-domain", "mesh.test");
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /CA for trust domain mesh\.test/);
    assert.equal((await Deno.stat(join(caDir, "ca_key.pem"))).mode! & 0o777, 0o600);

    const before = Date.now();
    const issued = await skiff(
      "ca",
      "issue",
      "--ca",
      caDir,
      "--spiffe-id",
      "spiffe://mesh.test/ns/prod/sa/api",
      "--ttl",
      "24h",
      "--out",
      svidDir,
    );
    assert.equal(issued.code, 0, issued.err);
    assert.deepEqual(
      [...Deno.readDirSync(svidDir)].map((e) => e.name).sort(),
      ["bundle.pem", "svid.pem", "svid_key.pem"],
    );
    assert.equal((await Deno.stat(join(svidDir, "svid_key.pem"))).mode! & 0o777, 0o600);
    const certPem = await Deno.readTextFile(join(svidDir, "svid.pem"));
    const svid = validateSvid(certPem, Date.now());
    assert.equal(svid.id.toString(), "spiffe://mesh.test/ns/prod/sa/api");
    const lifetime = svid.notAfter.getTime() - before;
    assert.ok(lifetime > 23 * HOUR && lifetime <= 24 * HOUR + 60_000, `lifetime ${lifetime}`);
    assert.equal(
      await Deno.readTextFile(join(svidDir, "bundle.pem")),
      await Deno.readTextFile(join(caDir, "ca.pem")),
    );

    const text = await openssl("x509", "-noout", "-text", "-in", join(svidDir, "svid.pem"));
    if (text === undefined) {
      console.log("openssl is not installed: extension check done with @peculiar/x509 only");
      return;
    }
    assert.match(
      text,
      /X509v3 Subject Alternative Name: critical\s+URI:spiffe:\/\/mesh\.test\/ns\/prod\/sa\/api\n/,
    );
    assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\n/);
    assert.match(
      text,
      /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/,
    );
    assert.match(text, /ASN1 OID: prime256v1/);
    const verify = await openssl(
      "verify",
      "-CAfile",
      join(svidDir, "bundle.pem"),
      join(svidDir, "svid.pem"),
    );
    assert.match(verify ?? "", /: OK/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("skiff ca reports bad usage and refusals with exit codes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const caDir = join(dir, "ca");
    assert.equal((await skiff("ca", "init", "--out", caDir)).code, 0);
    const again = await skiff("ca", "init", "--out", caDir);
    assert.equal(again.code, 1);
    assert.match(again.err, /ca_key\.pem exists: a CA key is never overwritten/);
    const issue = (...extra: string[]) => ["ca", "issue", "--ca", caDir, "--out", dir, ...extra];
    const id = (text: string) => ["--spiffe-id", text];
    const cases: [string[], number, RegExp][] = [
      [["ca", "frobnicate"], 2, /unknown sub-command "frobnicate"/],
      [["ca", "init"], 2, /missing --out DIR/],
      [issue(), 2, /missing --spiffe-id/],
      [issue(...id("spiffe://example.org/a"), "--ttl", "1d"), 2, /--ttl "1d" is not a duration/],
      [issue(...id("spiffe://other.org/a")), 1, /not in the CA's trust domain "example\.org"/],
      [issue(...id("spiffe://example.org/a/")), 1, /Invalid SPIFFE ID .*must not end with a slash/],
      [issue(...id("spiffe://example.org/a"), "--ttl", "9000h"), 1, /would outlive its CA/],
      [
        [...issue(...id("spiffe://example.org/a")), "--ca", join(dir, "nope")],
        1,
        /No such file/,
      ],
      [
        issue(...id("spiffe://example.org/a"), "--not-before", "tomorrow"),
        2,
        /--not-before "tomorrow" is not an RFC 3339 time/,
      ],
    ];
    for (const [args, code, message] of cases) {
      const r = await skiff(...args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, message, args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("skiff ca issue --not-before makes a not-yet-valid SVID", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal((await skiff("ca", "init", "--out", join(dir, "ca"))).code, 0);
    const start = new Date(Date.now() + 2 * HOUR);
    start.setMilliseconds(0);
    const r = await skiff(
      "ca",
      "issue",
      "--ca",
      join(dir, "ca"),
      "--spiffe-id",
      "spiffe://example.org/later",
      "--out",
      join(dir, "svid"),
      "--not-before",
      start.toISOString(),
      "--ttl",
      "30m",
    );
    assert.equal(r.code, 0, r.err);
    const pem = await Deno.readTextFile(join(dir, "svid", "svid.pem"));
    assert.throws(() => validateSvid(pem, Date.now()), /not valid before/);
    const svid = validateSvid(pem, start.getTime());
    assert.equal(svid.notBefore.getTime(), start.getTime());
    assert.equal(svid.notAfter.getTime(), start.getTime() + 30 * 60_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
