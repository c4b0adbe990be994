#!/usr/bin/env bash
# The mesh hop measured in one run on 127.0.0.1: two skiff sidecars, A (the caller's) and B (the
# callee's), with SVIDs from `skiff ca`, next to the same two sidecars in plaintext and next to
# raw node:tls with the same certificates and options.
#
#   bash bench/mesh_bench.sh
#   DURATION=5 ROUNDS=3 BULK_MIB=256 HS_CONC=8 HTTP_CONNS=50 bash bench/mesh_bench.sh
#   SKIFF_TREE=/tmp/other-tree bash bench/mesh_bench.sh   # run the sidecars from another checkout
#
# 1. mTLS handshakes/s: new connections, each a full TLS 1.3 mutual handshake (node:tls client,
#    connectOptions, the client's SVID; no resumption), one small request, answer, close —
#    against skiff B's mtls listeners and against a raw node:tls server (serverOptions, the same
#    SVID and the same per-connection SPIFFE ID check; bench/mesh/count_server.ts).
# 2. Bulk MB/s: one stream of BULK_MIB MiB into a byte-counting sink: app -> A (tcp) -> mTLS ->
#    B (tcp) -> sink; the same hop without TLS; node:tls client -> B alone; raw node:tls client
#    -> node:tls server; and plain TCP straight to the sink. The length is announced up front, so
#    the figure does not depend on half-close; a separate check sends HALF_MIB MiB and then only an end
#    of stream through each TCP hop (HALF_TRIES times), and reports a hop that loses it.
# 3. HTTP rps (wrk, HTTP/1.1 keep-alive): wrk -> A -> h2 over mTLS -> B -> nginx, the same two
#    sidecars over h2c, B alone, and nginx direct (one worker, 20 bytes; bench/_peers.sh).
#
# Targets are measured once per round, interleaved; tables show medians of ROUNDS. CPU columns are
# the process's user+kernel CPU per unit (µs), from /proc/PID/stat summed over all rounds. Every
# measurement is bounded in time: a broken path is reported (FAILED, with the error), not waited on.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}     # seconds per handshake run and per wrk run
ROUNDS=${ROUNDS:-3}         # interleaved rounds; tables show medians
BULK_MIB=${BULK_MIB:-256}   # MiB per bulk stream
HS_CONC=${HS_CONC:-8}       # concurrent handshake loops
HTTP_CONNS=${HTTP_CONNS:-50} # wrk connections
SKIFF_TREE=${SKIFF_TREE:-.} # the checkout the two sidecars run from
BASE=${BASE_PORT:-18840}
UP=$BASE; SINK=$((BASE + 1)); RAWTLS=$((BASE + 2))
B_MTLS=$((BASE + 3)); B_MTLS_TCP=$((BASE + 4)); B_PLAIN=$((BASE + 5)); B_PLAIN_TCP=$((BASE + 6))
A_MTLS=$((BASE + 7)); A_PLAIN=$((BASE + 8)); A_TCP=$((BASE + 9)); A_TCP_PLAIN=$((BASE + 10))
ADMIN_A=$((BASE + 11)); ADMIN_B=$((BASE + 12))
TD=bench.test; API="spiffe://$TD/ns/bench/sa/api"; WEB="spiffe://$TD/ns/bench/sa/web"
WORK=$(mktemp -d /tmp/skiff-mesh-bench.XXXXXX)
PIDS=()
A_PID=""; B_PID=""
FAILURES=()

trap stop_started EXIT
trap 'exit 130' INT TERM

have wrk || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
have nginx || { echo "nginx is not installed (it is the upstream): apt-get install nginx-light" >&2; exit 1; }
have timeout || { echo "timeout (coreutils) is needed to bound each measurement" >&2; exit 1; }

for p in $(seq "$BASE" $((BASE + 12))); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is in use; pick another range with BASE_PORT=…" >&2; exit 1
  fi
done

wait_port() { # port, timeout seconds
  local deadline=$(( $(date +%s) + $2 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for 127.0.0.1:$1" >&2; return 1; }
    sleep 0.05
  done
}

# A sidecar that died is a finding: say which, show the end of its log, stop the run.
check_alive() {
  local name pid
  for name in A B; do
    pid=$([ $name = A ] && echo "$A_PID" || echo "$B_PID")
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "skiff $name exited during the run (after: $1); the end of its log:" >&2
      tail -n 30 "$WORK/skiff-$name.err" >&2 || true
      exit 1
    fi
  done
}

# --- identities ----------------------------------------------------------------------------
$DENO run --allow-read --allow-write src/main.ts ca init --out "$WORK/ca" --trust-domain "$TD" >/dev/null
$DENO run --allow-read --allow-write src/main.ts ca issue --ca "$WORK/ca" --ttl 2h \
  --spiffe-id "$API" --out "$WORK/api" >/dev/null
$DENO run --allow-read --allow-write src/main.ts ca issue --ca "$WORK/ca" --ttl 2h \
  --spiffe-id "$WEB" --out "$WORK/web" >/dev/null

# --- the far ends: nginx (HTTP), a byte-counting sink, the raw node:tls peer ----------------
upstream_conf "$WORK" "$UP"
nginx -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=($!)
$DENO run --allow-net bench/mesh/count_server.ts tcp "$SINK" 2>"$WORK/sink.err" & SINK_PID=$!; PIDS+=($SINK_PID)
$DENO run --allow-net --allow-read bench/mesh/count_server.ts tls "$RAWTLS" "$WORK/api" \
  2>"$WORK/rawtls.err" & RAWTLS_PID=$!; PIDS+=($RAWTLS_PID)

# --- skiff B (callee side) and skiff A (caller side) ---------------------------------------
cat >"$WORK/skiff-B.yaml" <<EOF
admin: { address: 127.0.0.1:$ADMIN_B }
identity: { dir: "$WORK/api" }
listeners:
  - name: mesh-in
    address: 127.0.0.1:$B_MTLS
    tls: { mode: mtls }
    routes: [{ cluster: app }]
  - name: mesh-tcp
    address: 127.0.0.1:$B_MTLS_TCP
    protocol: tcp
    tls: { mode: mtls }
    tcp: { cluster: sink }
  - name: plain-in
    address: 127.0.0.1:$B_PLAIN
    routes: [{ cluster: app }]
  - name: plain-tcp
    address: 127.0.0.1:$B_PLAIN_TCP
    protocol: tcp
    tcp: { cluster: sink }
clusters:
  - name: app
    endpoints: [{ address: 127.0.0.1:$UP }]
  - name: sink
    endpoints: [{ address: 127.0.0.1:$SINK }]
EOF
cat >"$WORK/skiff-A.yaml" <<EOF
admin: { address: 127.0.0.1:$ADMIN_A }
identity: { dir: "$WORK/web" }
listeners:
  - name: out
    address: 127.0.0.1:$A_MTLS
    routes: [{ cluster: api }]
  - name: out-plain
    address: 127.0.0.1:$A_PLAIN
    routes: [{ cluster: api-plain }]
  - name: out-tcp
    address: 127.0.0.1:$A_TCP
    protocol: tcp
    tcp: { cluster: api-tcp }
  - name: out-tcp-plain
    address: 127.0.0.1:$A_TCP_PLAIN
    protocol: tcp
    tcp: { cluster: api-tcp-plain }
clusters:
  - name: api
    tls: { mode: mtls }
    endpoints: [{ address: 127.0.0.1:$B_MTLS, spiffe_id: "$API" }]
  - name: api-plain
    protocol: http2
    endpoints: [{ address: 127.0.0.1:$B_PLAIN }]
  - name: api-tcp
    tls: { mode: mtls, expect: { exact: "$API" } }
    endpoints: [{ address: 127.0.0.1:$B_MTLS_TCP }]
  - name: api-tcp-plain
    endpoints: [{ address: 127.0.0.1:$B_PLAIN_TCP }]
EOF
for name in B A; do
  $DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write --allow-env \
    --allow-sys --unstable-net "$SKIFF_TREE/src/main.ts" run -c "$WORK/skiff-$name.yaml" --log-level warn \
    2>"$WORK/skiff-$name.err" & pid=$!; PIDS+=($pid)
  if [ $name = A ]; then A_PID=$pid; else B_PID=$pid; fi
done
for p in $UP $SINK $RAWTLS $B_MTLS $B_MTLS_TCP $B_PLAIN $B_PLAIN_TCP $A_MTLS $A_PLAIN $A_TCP $A_TCP_PLAIN; do
  wait_port "$p" 30 || { check_alive "start-up"; exit 1; }
done
check_alive "start-up"

# --- measuring ------------------------------------------------------------------------------
CLK_TCK=$(getconf CLK_TCK)
CLIENT=(timeout -k 5 $((DURATION * 3 + 30)) $DENO run --allow-net --allow-read bench/mesh/client.ts)
BULK_CLIENT=(timeout -k 5 90 $DENO run --allow-net --allow-read bench/mesh/client.ts)

ticks() { awk '{print $14 + 0, $15 + 0}' "/proc/$1/stat" 2>/dev/null || echo "0 0"; }
json() { # json_line field -> value ("" when absent): numbers, or strings without escapes
  printf '%s\n' "$1" | sed -nE "s/.*\"$2\":(\"([^\"\\\\]|\\\\.)*\"|[-+0-9.eE]+).*/\1/p" | sed -E 's/^"(.*)"$/\1/'
}
declare -A VAL P50 P99 CPUU CPUS UNITS FAILN

# CPU of the processes named in "$2" (role:pid …) around the command "$3…", credited to key $1
# per unit later. Sets LAST_OUT.
measure() {
  local key=$1 procs=$2; shift 2
  local rp before=() i=0
  for rp in $procs; do before+=("$(ticks "${rp#*:}")"); done
  LAST_OUT=$("$@" 2>"$WORK/last.err") || true
  [ -n "$LAST_OUT" ] || LAST_OUT="no output; stderr: $(tail -n 3 "$WORK/last.err" | tr '\n' ' ')"
  for rp in $procs; do
    read -r u0 s0 <<<"${before[$i]}"; read -r u1 s1 < <(ticks "${rp#*:}")
    CPUU[$key/${rp%%:*}]=$(( ${CPUU[$key/${rp%%:*}]:-0} + u1 - u0 ))
    CPUS[$key/${rp%%:*}]=$(( ${CPUS[$key/${rp%%:*}]:-0} + s1 - s0 ))
    i=$((i + 1))
  done
}

fail() { # key message
  FAILN[$1]=$(( ${FAILN[$1]:-0} + 1 ))
  FAILURES+=("$1: $2")
  echo "  FAILED $1: $2" >&2
}

# Handshake targets: key|port|alpn|proto|processes
HS_TARGETS=(
  "skiff B, mtls tcp listener -> sink|$B_MTLS_TCP|skiff-tcp|count|B:$B_PID"
  "skiff B, mtls http listener (http/1.1) -> nginx|$B_MTLS|http/1.1|http|B:$B_PID"
  "raw node:tls server (peer)|$RAWTLS|skiff-tcp|count|server:$RAWTLS_PID"
)
run_hs() { # target-spec seconds
  local key port alpn proto procs
  IFS='|' read -r key port alpn proto procs <<<"$1"
  measure "hs/$key" "$procs" "${CLIENT[@]}" handshakes "$port" "$WORK/web" "$API" "$alpn" "$proto" "$HS_CONC" "$2"
  local err rate ok
  err=$(json "$LAST_OUT" error); rate=$(json "$LAST_OUT" rate); ok=$(json "$LAST_OUT" ok)
  if [ -z "$rate" ] || [ -n "$err" ]; then fail "handshakes, $key" "${err:-$LAST_OUT}"; return; fi
  local first; first=$(json "$LAST_OUT" first_error)
  [ -n "$first" ] && fail "handshakes, $key" "$(json "$LAST_OUT" errors) of $((ok + $(json "$LAST_OUT" errors))) failed, first: $first"
  VAL[hs/$key]="${VAL[hs/$key]:-} $rate"; P50[hs/$key]="${P50[hs/$key]:-} $(json "$LAST_OUT" p50)"
  P99[hs/$key]="${P99[hs/$key]:-} $(json "$LAST_OUT" p99)"; UNITS[hs/$key]=$(( ${UNITS[hs/$key]:-0} + ok ))
  printf "  round %s  handshakes  %-48s %8.0f /s\n" "$round" "$key" "$rate" >&2
}

# Bulk targets: key|port|tls?|processes
BULK_TARGETS=(
  "app -> A -> mTLS -> B -> sink|$A_TCP|plain|A:$A_PID B:$B_PID"
  "app -> A -> B -> sink, plaintext|$A_TCP_PLAIN|plain|A:$A_PID B:$B_PID"
  "node:tls client -> mTLS -> B -> sink|$B_MTLS_TCP|tls|B:$B_PID"
  "raw node:tls client -> node:tls server|$RAWTLS|tls|server:$RAWTLS_PID"
  "plain TCP client -> sink (direct)|$SINK|plain|sink:$SINK_PID"
)
run_bulk() { # target-spec MiB
  local key port kind procs
  IFS='|' read -r key port kind procs <<<"$1"
  local extra=(); [ "$kind" = tls ] && extra=("$WORK/web" "$API")
  measure "bulk/$key" "$procs" "${BULK_CLIENT[@]}" bulk "$port" "$2" len 60 "${extra[@]}"
  local err mbps
  err=$(json "$LAST_OUT" error); mbps=$(json "$LAST_OUT" mbps)
  if [ -z "$mbps" ] || [ -n "$err" ]; then fail "bulk, $key" "${err:-$LAST_OUT}"; return; fi
  VAL[bulk/$key]="${VAL[bulk/$key]:-} $mbps"; UNITS[bulk/$key]=$(( ${UNITS[bulk/$key]:-0} + $2 ))
  printf "  round %s  bulk        %-48s %8.0f MB/s\n" "$round" "$key" "$mbps" >&2
}

to_ms() { # wrk latency "123.45us" / "1.23ms" / "1.2s" -> ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
# HTTP targets: key|port|processes
HTTP_TARGETS=(
  "wrk -> A -> h2 over mTLS -> B -> nginx|$A_MTLS|A:$A_PID B:$B_PID"
  "wrk -> A -> h2c -> B -> nginx (plaintext)|$A_PLAIN|A:$A_PID B:$B_PID"
  "wrk -> B -> nginx (one sidecar)|$B_PLAIN|B:$B_PID"
  "wrk -> nginx (direct)|$UP|"
)
run_http() { # target-spec seconds
  local key port procs
  IFS='|' read -r key port procs <<<"$1"
  measure "http/$key" "$procs" timeout -k 5 $(($2 + 20)) wrk -t1 -c"$HTTP_CONNS" -d"${2}s" --timeout 5s --latency "http://127.0.0.1:$port/"
  local rps total errs
  rps=$(echo "$LAST_OUT" | awk '/Requests\/sec/ {printf "%d", $2}')
  total=$(echo "$LAST_OUT" | awk '/requests in/ {print $1}')
  errs=$(echo "$LAST_OUT" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  if [ -z "$rps" ] || [ "${rps:-0}" -eq 0 ]; then fail "http, $key" "$(echo "$LAST_OUT" | tail -n 3 | tr '\n' ' ')"; return; fi
  [ -n "$errs" ] && fail "http, $key" "$errs"
  VAL[http/$key]="${VAL[http/$key]:-} $rps"; UNITS[http/$key]=$(( ${UNITS[http/$key]:-0} + total ))
  P50[http/$key]="${P50[http/$key]:-} $(to_ms "$(echo "$LAST_OUT" | awk '$1 == "50%" {print $2}')")"
  P99[http/$key]="${P99[http/$key]:-} $(to_ms "$(echo "$LAST_OUT" | awk '$1 == "99%" {print $2}')")"
  printf "  round %s  http        %-48s %8d rps\n" "$round" "$key" "$rps" >&2
}

echo "skiff mesh benchmark — $(date -u +%FT%TZ), $(nproc) CPUs, Deno $($DENO --version | awk 'NR==1 {print $2}'), ${ROUNDS} rounds"

# Warm-up and a check that every path works (its figures are not kept).
round=warm-up
for t in "${HS_TARGETS[@]}"; do run_hs "$t" 1; done
check_alive "handshake warm-up"
for t in "${BULK_TARGETS[@]}"; do run_bulk "$t" 16; done
check_alive "bulk warm-up"
for t in "${HTTP_TARGETS[@]}"; do run_http "$t" 1; done
check_alive "HTTP warm-up"
for k in "${!VAL[@]}"; do unset "VAL[$k]" "P50[$k]" "P99[$k]" "UNITS[$k]"; done
for k in "${!CPUU[@]}"; do unset "CPUU[$k]" "CPUS[$k]"; done

for round in $(seq 1 "$ROUNDS"); do
  for t in "${HS_TARGETS[@]}"; do run_hs "$t" "$DURATION"; done
  check_alive "handshakes, round $round"
  for t in "${BULK_TARGETS[@]}"; do run_bulk "$t" "$BULK_MIB"; done
  check_alive "bulk, round $round"
  for t in "${HTTP_TARGETS[@]}"; do run_http "$t" "$DURATION"; done
  check_alive "HTTP, round $round"
done

# End of stream through each TCP path: HALF_MIB MiB, then a half-close; the sink answers only at
# EOF. HALF_TRIES times per path, since a lost end of stream need not happen every time.
HALF_MIB=${HALF_MIB:-16}; HALF_TRIES=${HALF_TRIES:-3}
declare -A HALF
for t in "${BULK_TARGETS[@]}"; do
  IFS='|' read -r key port kind _ <<<"$t"
  extra=(); [ "$kind" = tls ] && extra=("$WORK/web" "$API")
  lost=0
  for _ in $(seq 1 "$HALF_TRIES"); do
    out=$("${BULK_CLIENT[@]}" bulk "$port" "$HALF_MIB" eof 10 "${extra[@]}" 2>"$WORK/last.err") || true
    err=$(json "$out" error)
    if [ -z "$(json "$out" mbps)" ] || [ -n "$err" ]; then
      lost=$((lost + 1)); fail "half-close, $key" "${err:-$out}"
    fi
  done
  HALF[$key]="$((HALF_TRIES - lost))/$HALF_TRIES ok"
done
check_alive "half-close check"

# --- tables -----------------------------------------------------------------------------------
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }
med() { echo "${1:-}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2fx", a / b; else printf "—" }'; }
# "A 12.3+4.5, B …" µs (or the unit scale $3) per unit for the processes of target $1
cpu_cell() {
  local key=$1 procs=$2 scale=$3 out="" rp role
  local units=${UNITS[$key]:-0}
  [ "$units" -gt 0 ] || { echo "—"; return; }
  for rp in $procs; do
    role=${rp%%:*}
    out+="${out:+, }$role $(awk -v u="${CPUU[$key/$role]:-0}" -v s="${CPUS[$key/$role]:-0}" -v n="$units" -v t="$CLK_TCK" -v k="$scale" \
      'BEGIN { printf "%.1f+%.1f", u * k / t / n, s * k / t / n }')"
  done
  echo "${out:-—}"
}
failed_cell() { [ -n "${FAILN[$1]:-}" ] && echo " (${FAILN[$1]} failed)" || true; }

echo
echo "### mTLS handshakes/s — full TLS 1.3 mutual handshake + one small request per connection"
echo
echo "node:tls client with connectOptions (P-256 SVIDs, no resumption), $HS_CONC concurrent loops, ${DURATION}s, median of $ROUNDS rounds. cpu: the server process's user+kernel µs per handshake."
echo
echo "| target | handshakes/s | vs raw node:tls | p50 ms | p99 ms | cpu µs/handshake |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
peer=$(med "${VAL[hs/raw node:tls server (peer)]:-}")
for t in "${HS_TARGETS[@]}"; do
  IFS='|' read -r key _ _ _ procs <<<"$t"
  v=$(med "${VAL[hs/$key]:-}")
  printf "| %s | %s | %s | %s | %s | %s |\n" "$key$(failed_cell "handshakes, $key")" \
    "$(awk -v v="$v" 'BEGIN { if (v != "") printf "%\047d", v; else printf "FAILED" }')" "$(ratio "$v" "$peer")" \
    "$(awk -v v="$(med "${P50[hs/$key]:-}")" 'BEGIN { printf "%.2f", v }')" \
    "$(awk -v v="$(med "${P99[hs/$key]:-}")" 'BEGIN { printf "%.2f", v }')" "$(cpu_cell "hs/$key" "$procs" 1000000)"
done

echo
echo "### Bulk MB/s — one stream of $BULK_MIB MiB into a byte-counting sink"
echo
echo "MB = 10^6 bytes; the clock stops when the sink's byte count comes back. Median of $ROUNDS rounds. cpu: user+kernel ms per GiB moved, per process."
echo
echo "| path | MB/s | vs plaintext mesh | vs raw node:tls | cpu ms/GiB | $HALF_MIB MiB + half-close arrives |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
plain=$(med "${VAL[bulk/app -> A -> B -> sink, plaintext]:-}")
rawtls=$(med "${VAL[bulk/raw node:tls client -> node:tls server]:-}")
for t in "${BULK_TARGETS[@]}"; do
  IFS='|' read -r key _ _ procs <<<"$t"
  v=$(med "${VAL[bulk/$key]:-}")
  printf "| %s | %s | %s | %s | %s | %s |\n" "$key$(failed_cell "bulk, $key")" \
    "$(awk -v v="$v" 'BEGIN { if (v != "") printf "%\047d", v; else printf "FAILED" }')" \
    "$(ratio "$v" "$plain")" "$(ratio "$v" "$rawtls")" "$(cpu_cell "bulk/$key" "$procs" 1024000)" \
    "${HALF[$key]:-—}"
done

echo
echo "### HTTP rps — wrk -t1 -c$HTTP_CONNS, HTTP/1.1 keep-alive, ${DURATION}s; upstream: one nginx worker, 20 bytes"
echo
echo "Median of $ROUNDS rounds; ratios against the same two sidecars in plaintext (h2c between them). cpu: user+kernel µs per request, per sidecar."
echo
echo "| path | rps | vs plaintext mesh | p50 ms | p99 ms | p99 vs plaintext | cpu µs/req |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
plain_key="wrk -> A -> h2c -> B -> nginx (plaintext)"
plain=$(med "${VAL[http/$plain_key]:-}"); plain99=$(med "${P99[http/$plain_key]:-}")
for t in "${HTTP_TARGETS[@]}"; do
  IFS='|' read -r key _ procs <<<"$t"
  v=$(med "${VAL[http/$key]:-}"); p99=$(med "${P99[http/$key]:-}")
  printf "| %s | %s | %s | %s | %s | %s | %s |\n" "$key$(failed_cell "http, $key")" \
    "$(awk -v v="$v" 'BEGIN { if (v != "") printf "%\047d", v; else printf "FAILED" }')" "$(ratio "$v" "$plain")" \
    "$(med "${P50[http/$key]:-}")" "$p99" \
    "$(awk -v a="$p99" -v b="$plain99" 'BEGIN { if (a != "" && b != "") printf "%+.2f ms", a - b; else printf "—" }')" \
    "$(cpu_cell "http/$key" "$procs" 1000000)"
done

if [ ${#FAILURES[@]} -gt 0 ]; then
  echo
  echo "Failures (${#FAILURES[@]}):"
  for f in "${FAILURES[@]}"; do echo "- $f"; done
  for name in A B; do # the sidecars' own warnings and errors, if any
    if grep -q '"level":"\(warn\|error\)"' "$WORK/skiff-$name.err"; then
      echo "skiff $name warnings and errors (last 10):"
      grep '"level":"\(warn\|error\)"' "$WORK/skiff-$name.err" | tail -n 10 | sed 's/^/    /'
    fi
  done
  exit 1
fi
