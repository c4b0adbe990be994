#!/usr/bin/env bash
# testssl.sh against skiff's inbound mutual-TLS listener: a development CA and two SVIDs from
# `skiff ca`, skiff serving one mtls listener, testssl.sh trusting that CA (--add-ca).
# testssl.sh 3.0 cannot present a client certificate (--mtls came in 3.2); TLS 1.3 asks for it
# only after the ServerHello, so the protocol, cipher and vulnerability checks still see the
# server. Prints findings of LOW and up.
#
#   bash bench/testssl_mesh.sh            (needs the Debian package testssl.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=${DENO:-$(command -v deno || echo "npx --yes deno@2.9.6")}
command -v testssl >/dev/null || { echo "testssl.sh is not installed: apt-get install testssl.sh" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

$DENO run --allow-read --allow-write src/main.ts ca init --out "$WORK/ca" --trust-domain testssl.test >/dev/null
$DENO run --allow-read --allow-write src/main.ts ca issue --ca "$WORK/ca" --ttl 1h \
  --spiffe-id spiffe://testssl.test/ns/prod/sa/api --out "$WORK/server" >/dev/null
$DENO run --allow-read --allow-write src/main.ts ca issue --ca "$WORK/ca" --ttl 1h \
  --spiffe-id spiffe://testssl.test/ns/prod/sa/web --out "$WORK/client" >/dev/null
cat "$WORK/client/svid.pem" "$WORK/client/svid_key.pem" >"$WORK/client.pem"

PORT=${PORT:-18790}
UP=$((PORT + 1))
cat >"$WORK/skiff.yaml" <<YAML
listeners:
  - name: mesh-in
    address: 127.0.0.1:$PORT
    tls: { mode: mtls }
    routes: [{ cluster: app }]
clusters:
  - name: app
    endpoints: [{ address: 127.0.0.1:$UP }]
identity: { dir: "$WORK/server" }
YAML
$DENO run --allow-net --allow-read --allow-write --allow-env --allow-sys --unstable-net \
  src/main.ts run -c "$WORK/skiff.yaml" --log-level warn 2>"$WORK/skiff.err" & PIDS+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

testssl --quiet --color 0 --warnings batch --add-ca "$WORK/ca/ca.pem" --jsonfile "$WORK/testssl.json" \
  "127.0.0.1:$PORT" >"$WORK/testssl.log" 2>&1 || true
[ -s "$WORK/testssl.json" ] || { cat "$WORK/testssl.log" >&2; exit 1; }
echo "testssl.sh $(testssl --version 2>/dev/null | grep -o '3\.[0-9.]*' | head -1) against skiff's mtls listener"
$DENO eval --ext=ts "
const all = JSON.parse(Deno.readTextFileSync('$WORK/testssl.json'));
const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
// The web PKI's expectations of a certificate that an X.509-SVID does not meet by design,
// each with the finding text that shows it is that expectation and nothing else: an SVID names a
// workload by its URI SAN (no host name to match), lives hours and is replaced rather than revoked
// (no 30-day lifetime, no CRL or OCSP URL), and is issued by the mesh's own trust domain (no CAA).
const notForSvids: Record<string, RegExp> = {
  cert_trust: /^certificate does not match supplied URI/,
  cert_expirationStatus: /^expires < 30 days/,
  cert_notAfter: /^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]+$/,
  cert_revocation: /^Neither CRL nor OCSP URI provided/,
  DNS_CAArecord: /.*/,
};
type Finding = { id: string; severity: string; finding: string };
const svidOnly = (f: Finding) => notForSvids[f.id]?.test(f.finding) ?? false;
const graded = all.filter((f: Finding) => order.includes(f.severity));
for (const [title, pick] of [['TLS and certificate findings that apply', (f: Finding) => !svidOnly(f)], ['web-PKI expectations an SVID does not meet by design', svidOnly]] as const) {
  const found = graded.filter(pick);
  const counts = Object.fromEntries(order.map((s) => [s, found.filter((f: Finding) => f.severity === s).length]));
  console.log(title + ':', JSON.stringify(counts));
  for (const f of found) console.log('  ', f.severity.padEnd(8), f.id.padEnd(24), f.finding);
}
const checked = all.filter((f: Finding) => !svidOnly(f) && f.severity === 'OK').length;
console.log('checks passed (OK):', checked);
for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'FS', 'cipher_order']) {
  const f = all.find((x: { id: string }) => x.id === id);
  if (f) console.log('  ', id.padEnd(14), f.finding);
}
const bad = graded.filter((f: Finding) => !svidOnly(f) && (f.severity === 'CRITICAL' || f.severity === 'HIGH'));
if (checked === 0) {
  console.log('FAIL: testssl.sh passed no check (did skiff start? see $WORK/skiff.err)');
  Deno.exit(1);
}
if (bad.length > 0) {
  console.log('FAIL: high or critical findings that apply to an SVID listener:', bad.length);
  Deno.exit(1);
}
console.log('PASS: no high or critical finding that applies to an SVID listener');
"
