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
// Web-PKI checks of the certificate itself (host name match, public CA, 30-day lifetime,
// revocation URLs, CAA records) do not apply to SPIFFE SVIDs, which are URI-only, short-lived
// and issued by the mesh's own trust domain; they are listed apart.
const webPki = (id: string) => id.startsWith('cert_') || id === 'DNS_CAArecord';
for (const [title, pick] of [['TLS (protocols, ciphers, vulnerabilities)', (id: string) => !webPki(id)], ['certificate, web-PKI checks', webPki]] as const) {
  const found = all.filter((f: { id: string; severity: string }) => pick(f.id) && order.includes(f.severity));
  const counts = Object.fromEntries(order.map((s) => [s, found.filter((f: { severity: string }) => f.severity === s).length]));
  console.log(title + ':', JSON.stringify(counts));
  for (const f of found) console.log('  ', f.severity.padEnd(8), f.id.padEnd(24), f.finding);
}
const checked = all.filter((f: { id: string; severity: string }) => !webPki(f.id) && f.severity === 'OK').length;
console.log('TLS checks passed (OK):', checked);
for (const id of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3', 'FS', 'cipher_order']) {
  const f = all.find((x: { id: string }) => x.id === id);
  if (f) console.log('  ', id.padEnd(14), f.finding);
}
"
