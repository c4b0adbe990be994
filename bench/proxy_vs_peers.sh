#!/usr/bin/env bash
# skiff as a reverse proxy next to its peers, measured in one run on this machine:
# direct (no proxy), skiff (one isolate, and node mode with 1 and 2 data-plane Workers),
# nginx (1 and 2 workers, upstream keepalive) and HAProxy (1 thread), all in front of the
# same upstream (an nginx worker answering a fixed 20-byte body). nginx and HAProxy add the
# forwarding headers skiff adds (X-Forwarded-For, X-Forwarded-Proto, X-Request-Id), so that all
# do the same work; `nginx-bare` is nginx as a plain pass-through, for reference. Two Deno
# programs mark the floor of any proxy on Deno sockets: `deno-l4` (bench/l4_relay.ts) relays
# bytes without HTTP, `deno-h1` (bench/h1_min_proxy.ts) is the least HTTP/1.1 proxy with
# skiff's scanners and forwarding headers and none of its features.
#
#   bash bench/proxy_vs_peers.sh            # or: deno task bench:proxy
#   DURATION=10 ROUNDS=3 bash bench/proxy_vs_peers.sh
#   WORKERS="" bash bench/proxy_vs_peers.sh   # skip the node-mode variants
#
# Uses wrk (HTTP/1.1), h2load (HTTP/2) and nginx/haproxy when installed; installs nothing and
# skips what is missing. Every figure is reported next to a peer measured in the same run,
# because these machines are shared and noisy: read the ratios, not the absolute numbers.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}        # seconds per wrk run
ROUNDS=${ROUNDS:-3}            # rounds; each target is measured once per round, interleaved
CONNS=${CONNS:-"10 50"}        # wrk connection counts
WORKERS=${WORKERS-"1 2"}       # skiff node-mode variants (workers: N) measured too; "" for none
BASE=${BASE_PORT:-18700}
UP=$BASE; SKIFF=$((BASE + 1)); NGINX=$((BASE + 2)); HAPROXY=$((BASE + 3)); ADMIN=$((BASE + 4))
L4=$((BASE + 7)); H1MIN=$((BASE + 20))
WORK=$(mktemp -d /tmp/skiff-bench.XXXXXX)
PIDS=()
declare -A WPORT WPID WCOLD

cleanup() {
  # A proxy that died during the run is a finding, not noise: show why.
  if [ -n "${SKIFF_PID:-}" ] && ! kill -0 "$SKIFF_PID" 2>/dev/null; then
    echo "skiff exited during the run; the end of its log:" >&2
    tail -n 20 "$WORK/skiff.err" >&2 || true
  fi
  for w in ${!WPID[@]}; do
    if ! kill -0 "${WPID[$w]}" 2>/dev/null; then
      echo "skiff (workers: $w) exited during the run; the end of its log:" >&2
      tail -n 20 "$WORK/skiff-w$w.err" >&2 || true
    fi
  done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Sum of RSS over a process and its children (nginx/haproxy masters fork workers).
tree_rss_kb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do total=$((total + $(rss_kb "$p"))); done
  echo "$total"
}

have wrk || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
have nginx || { echo "nginx is not installed (it is the upstream): apt-get install nginx-light" >&2; exit 1; }

# --- upstream: one nginx worker with a fixed body -------------------------------------------
upstream_conf "$WORK" "$UP"
nginx -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/" 10

# --- skiff ----------------------------------------------------------------------------------
skiff_conf "$WORK/skiff.yaml" "$SKIFF" "$ADMIN" "$UP"
start=$(now_ms)
$DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write --allow-env \
  --allow-sys --unstable-net src/main.ts run -c "$WORK/skiff.yaml" --log-level warn 2>"$WORK/skiff.err" & SKIFF_PID=$!; PIDS+=($SKIFF_PID)
wait_http "http://127.0.0.1:$SKIFF/" 30
SKIFF_COLD=$(( $(now_ms) - start ))

# --- skiff in node mode: N data-plane Workers sharing the port (workers: N) -----------------
for w in $WORKERS; do
  WPORT[$w]=$((BASE + 10 + w))
  sed -e "s/127.0.0.1:$SKIFF/127.0.0.1:${WPORT[$w]}/" -e "/^admin:/d" "$WORK/skiff.yaml" >"$WORK/skiff-w$w.yaml"
  echo "workers: $w" >>"$WORK/skiff-w$w.yaml"
  start=$(now_ms)
  $DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write --allow-env \
    --allow-sys --unstable-net src/main.ts run -c "$WORK/skiff-w$w.yaml" --log-level warn \
    2>"$WORK/skiff-w$w.err" & WPID[$w]=$!; PIDS+=(${WPID[$w]})
  wait_http "http://127.0.0.1:${WPORT[$w]}/" 30
  WCOLD[$w]=$(( $(now_ms) - start ))
done

# --- nginx as a proxy -----------------------------------------------------------------------
# nginx_peer NAME PORT [bare] [WORKERS]: the nginx of bench/_peers.sh (with the forwarding headers
# skiff adds, or a plain pass-through with `bare`) with a master process and WORKERS workers
# (default 1), in WORK/NAME, started; sets PEER_PID.
nginx_peer() {
  mkdir -p "$WORK/$1"
  nginx_proxy_conf "$WORK/$1" "$2" "$UP" "${3:-}"
  sed -i -e "s/ master_process off;//" -e "s/worker_processes 1;/worker_processes ${4:-1};/" \
    "$WORK/$1/nginx.conf"
  nginx -c "$WORK/$1/nginx.conf" -p "$WORK/$1" & PEER_PID=$!; PIDS+=($PEER_PID)
  wait_http "http://127.0.0.1:$2/" 10
}
# With the headers, so that nginx and skiff do the same work: the ratios are against this one.
start=$(now_ms)
nginx_peer nginx "$NGINX"; NGINX_PID=$PEER_PID
NGINX_COLD=$(( $(now_ms) - start ))
# The same nginx with two workers, next to skiff's multi-Worker mode.
NGINX2=$((BASE + 8))
nginx_peer nginx2 "$NGINX2" "" 2; NGINX2_PID=$PEER_PID
# And nginx as a plain pass-through, as this script measured it before 2026-11-28.
NGINX_BARE=$((BASE + 9))
nginx_peer nginx-bare "$NGINX_BARE" bare; NGINX_BARE_PID=$PEER_PID

# --- HAProxy --------------------------------------------------------------------------------
HAPROXY_PID=""
if have haproxy; then
  cat >"$WORK/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 8192
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:$HAPROXY
  # The forwarding headers skiff adds.
  option forwardfor
  http-request set-header X-Forwarded-Proto http unless { req.hdr(x-forwarded-proto) -m found }
  http-request set-header X-Request-Id %[uuid()] unless { req.hdr(x-request-id) -m found }
  default_backend b
backend b
  server s1 127.0.0.1:$UP
EOF
  start=$(now_ms)
  haproxy -f "$WORK/haproxy.cfg" -db & HAPROXY_PID=$!; PIDS+=($HAPROXY_PID)
  wait_http "http://127.0.0.1:$HAPROXY/" 10
  HAPROXY_COLD=$(( $(now_ms) - start ))
fi

# --- the runtime's floor: a bare Deno TCP relay (no HTTP) -----------------------------------
$DENO run --allow-net bench/l4_relay.ts "$L4" "$UP" 2>"$WORK/l4.err" & L4_PID=$!; PIDS+=($L4_PID)
wait_http "http://127.0.0.1:$L4/" 30
# --- and the least an HTTP/1.1 proxy on Deno sockets does (skiff's scanners and headers) ----
$DENO run --v8-flags=$SKIFF_V8 --allow-net bench/h1_min_proxy.ts "$H1MIN" "$UP" 2>"$WORK/h1min.err" &
H1MIN_PID=$!; PIDS+=($H1MIN_PID)
wait_http "http://127.0.0.1:$H1MIN/" 30


sleep 1 # let start-up work settle before reading idle memory
SKIFF_IDLE=$(rss_kb $SKIFF_PID); NGINX_IDLE=$(tree_rss_kb $NGINX_PID); NGINX2_IDLE=$(tree_rss_kb $NGINX2_PID)
declare -A WIDLE; for w in $WORKERS; do WIDLE[$w]=$(rss_kb "${WPID[$w]}"); done
HAPROXY_IDLE=$([ -n "$HAPROXY_PID" ] && tree_rss_kb $HAPROXY_PID || echo 0)

declare -A RPS P50 P99 PEAK CPU
targets="direct deno-l4 deno-h1 skiff"
for w in $WORKERS; do targets="$targets skiff-w$w"; done
targets="$targets nginx nginx-bare nginx-w2"; [ -n "$HAPROXY_PID" ] && targets="$targets haproxy"
port_of() { case $1 in direct) echo $UP;; deno-l4) echo $L4;; deno-h1) echo $H1MIN;; skiff) echo $SKIFF;; skiff-w*) echo "${WPORT[${1#skiff-w}]}";;
  nginx) echo $NGINX;; nginx-bare) echo $NGINX_BARE;; nginx-w2) echo $NGINX2;; haproxy) echo $HAPROXY;; esac; }
pid_of() { case $1 in deno-l4) echo $L4_PID;; deno-h1) echo $H1MIN_PID;; skiff) echo $SKIFF_PID;; skiff-w*) echo "${WPID[${1#skiff-w}]}";;
  nginx) echo $NGINX_PID;; nginx-bare) echo $NGINX_BARE_PID;; nginx-w2) echo $NGINX2_PID;; haproxy) echo $HAPROXY_PID;; *) echo "";; esac; }

# CPU clock ticks (user, system) of a process and its children, from /proc.
cpu_ticks() {
  local u=0 s=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    read -r pu ps < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null || echo "0 0")
    u=$((u + pu)); s=$((s + ps))
  done
  echo "$u $s"
}

to_ms() { # wrk latency "123.45us" / "1.23ms" / "1.2s" -> ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

run_wrk() { # target conns -> "rps p50ms p99ms peak_rss_kb cpu"
  local port pid out peak=0 r before after
  port=$(port_of "$1"); pid=$(pid_of "$1")
  [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  wrk -t1 -c"$2" -d"${DURATION}s" --latency "http://127.0.0.1:$port/" >"$WORK/wrk.out" 2>&1 &
  local wpid=$!
  while kill -0 $wpid 2>/dev/null; do
    if [ -n "$pid" ]; then r=$(tree_rss_kb "$pid"); [ "$r" -gt "$peak" ] && peak=$r; fi
    sleep 0.5
  done
  wait $wpid
  out=$(cat "$WORK/wrk.out")
  local cpu="-"
  if [ -n "$pid" ]; then
    after=$(cpu_ticks "$pid")
    local total
    total=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
    # µs of user and kernel CPU the proxy spent per request (clock ticks are 10 ms).
    cpu=$(echo "$before $after $total" | awk '{ printf "%.1f+%.1f", ($3-$1)*10000/$5, ($4-$2)*10000/$5 }')
  fi
  local rps p50 p99 errs
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')
  p50=$(to_ms "$(echo "$out" | awk '$1 == "50%" {print $2}')")
  p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  [ -n "$errs" ] && echo "  warning: $1 c=$2: $errs" >&2
  echo "$rps $p50 $p99 $peak $cpu"
}

# Warm-up: one second of load through every target first (JIT tiers, pools, caches), as
# bench/skiff_ab.sh does, so that the first round does not measure start-up.
for t in $targets; do wrk -t1 -c50 -d1s "http://127.0.0.1:$(port_of "$t")/" >/dev/null 2>&1 || true; done

# Every other round runs the targets in reverse order, so that no target always follows the
# same neighbour or has the same place in the round.
reversed=$(echo "$targets" | tr ' ' '\n' | tac | tr '\n' ' ')

echo "skiff proxy benchmark — $(date -u +%FT%TZ), $(nproc) CPUs, ${DURATION}s x ${ROUNDS} rounds per cell"
for round in $(seq 1 "$ROUNDS"); do
  order=$targets; [ $((round % 2)) -eq 0 ] && order=$reversed
  for c in $CONNS; do
    for t in $order; do
      read -r rps p50 p99 peak cpu <<<"$(run_wrk "$t" "$c")"
      key="$t/$c"
      RPS[$key]="${RPS[$key]:-} $rps"; P50[$key]="${P50[$key]:-} $p50"; P99[$key]="${P99[$key]:-} $p99"
      CPU[$key]="$cpu"
      [ "${PEAK[$t]:-0}" -lt "$peak" ] && PEAK[$t]=$peak
      printf "  round %d  c=%-3s %-10s %8s rps  p50 %6s ms  p99 %6s ms\n" "$round" "$c" "$t" "$rps" "$p50" "$p99" >&2
    done
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo
echo "HTTP/1.1, wrk -t1, median of $ROUNDS rounds (rps; latency in ms; CPU: µs user+kernel per request, last round)"
printf "| %-10s | %5s | %9s | %7s | %7s | %12s | %13s | %11s |\n" target conns rps p50 p99 "rps vs nginx" "p99 vs nginx" "cpu/req"
printf "|%s|\n" "------------|-------|-----------|---------|---------|--------------|---------------|-------------"
for c in $CONNS; do
  n_rps=$(echo "${RPS[nginx/$c]}" | median); n_p99=$(echo "${P99[nginx/$c]}" | median)
  for t in $targets; do
    rps=$(echo "${RPS[$t/$c]}" | median); p50=$(echo "${P50[$t/$c]}" | median); p99=$(echo "${P99[$t/$c]}" | median)
    ratio=$(awk -v a="$rps" -v b="$n_rps" 'BEGIN { printf "%.2fx", a / b }')
    dp99=$(awk -v a="$p99" -v b="$n_p99" 'BEGIN { printf "%+.2f ms", a - b }')
    printf "| %-10s | %5s | %9s | %7s | %7s | %12s | %13s | %11s |\n" "$t" "$c" "$rps" "$p50" "$p99" "$ratio" "$dp99" "${CPU[$t/$c]}"
  done
done
echo
for c in $CONNS; do
  rps=$(echo "${RPS[skiff/$c]}" | median); p99=$(echo "${P99[skiff/$c]}" | median)
  n_rps=$(echo "${RPS[nginx/$c]}" | median); n_p99=$(echo "${P99[nginx/$c]}" | median)
  b_rps=$(echo "${RPS[nginx-bare/$c]}" | median); b_p99=$(echo "${P99[nginx-bare/$c]}" | median)
  awk -v c="$c" -v s="$rps" -v sp="$p99" -v n="$n_rps" -v np="$n_p99" -v b="$b_rps" -v bp="$b_p99" 'BEGIN {
    printf "skiff at %s connections: %.2fx nginx with the same forwarding headers (p99 %+.2f ms), %.2fx nginx-bare (p99 %+.2f ms)\n", c, s / n, sp - np, s / b, sp - bp }'
  # The same ratio round by round (each pair measured minutes apart at most): how much of it
  # is the machine's noise.
  echo "${RPS[skiff/$c]}|${RPS[nginx/$c]}|${RPS[nginx-bare/$c]}" | awk -F'|' -v c="$c" '{
    n = split($1, s, " "); split($2, g, " "); split($3, b, " ")
    printf "  per round at %s connections, skiff / nginx:", c
    for (i = 1; i <= n; i++) printf " %s", (g[i] > 0 ? sprintf("%.2f", s[i] / g[i]) : "-")
    printf "; skiff / nginx-bare:"
    for (i = 1; i <= n; i++) printf " %s", (b[i] > 0 ? sprintf("%.2f", s[i] / b[i]) : "-")
    printf "\n" }'
done

echo
echo "Memory (RSS, MiB) and cold start (process start to first proxied response, ms)"
printf "| %-8s | %8s | %14s | %10s |\n" proxy idle "peak under load" "cold start"
printf "|%s|\n" "----------|----------|-----------------|------------"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf "| %-8s | %8s | %15s | %10s |\n" skiff "$(mib "$SKIFF_IDLE")" "$(mib "${PEAK[skiff]:-0}")" "$SKIFF_COLD"
for w in $WORKERS; do
  printf "| %-8s | %8s | %15s | %10s |\n" "skiff-w$w" "$(mib "${WIDLE[$w]}")" "$(mib "${PEAK[skiff-w$w]:-0}")" "${WCOLD[$w]}"
done
printf "| %-8s | %8s | %15s | %10s |\n" nginx "$(mib "$NGINX_IDLE")" "$(mib "${PEAK[nginx]:-0}")" "$NGINX_COLD"
printf "| %-8s | %8s | %15s | %10s |\n" nginx-w2 "$(mib "$NGINX2_IDLE")" "$(mib "${PEAK[nginx-w2]:-0}")" "-"
[ -n "$HAPROXY_PID" ] && printf "| %-8s | %8s | %15s | %10s |\n" haproxy "$(mib "$HAPROXY_IDLE")" "$(mib "${PEAK[haproxy]:-0}")" "$HAPROXY_COLD"

# --- HTTP/2 (h2c prior knowledge) through skiff -------------------------------------------
if have h2load; then
  echo
  echo "HTTP/2 h2c through skiff to the HTTP/1.1 upstream (h2load -c10 -m10, ${DURATION}s)"
  h2out=$(h2load -c10 -m10 -D "$DURATION" "http://127.0.0.1:$SKIFF/" 2>&1 || true)
  echo "$h2out" | grep -E "^finished in|^requests:" | sed 's/^/  /'
fi

# --- gRPC through skiff vs direct ---------------------------------------------------------
if have h2load; then
  GRPC=$((BASE + 5)); GRPC_SKIFF=$((BASE + 6))
  $DENO run --allow-net --allow-read --allow-env bench/grpc_echo_server.ts "$GRPC" 2>"$WORK/grpc.err" & PIDS+=($!)
  cat >"$WORK/skiff-grpc.yaml" <<EOF
listeners:
  - name: grpc
    address: 127.0.0.1:$GRPC_SKIFF
    routes: [{ cluster: grpc }]
clusters:
  - name: grpc
    protocol: http2
    endpoints: [{ address: 127.0.0.1:$GRPC }]
EOF
  $DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write \
    --allow-env --allow-sys --unstable-net src/main.ts run -c "$WORK/skiff-grpc.yaml" --log-level warn 2>"$WORK/skiff-grpc.err" & PIDS+=($!)
  # One unary Echo call: 5-byte gRPC frame header + protobuf {1: "ping"}.
  printf '\x00\x00\x00\x00\x06\x0a\x04ping' >"$WORK/grpc.bin"
  grpc_rps() {
    h2load -c10 -m10 -D "$DURATION" -d "$WORK/grpc.bin" -H 'content-type: application/grpc' \
      -H 'te: trailers' "http://127.0.0.1:$1/bench.Echo/Say" 2>&1 |
      awk '/^finished in/ {gsub(",", "", $4); printf "%d", $4}'
  }
  sleep 2
  for p in "$GRPC" "$GRPC_SKIFF"; do
    deadline=$(( $(date +%s) + 30 ))
    until [ -n "$(h2load -n1 -c1 -d "$WORK/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:$p/bench.Echo/Say" 2>/dev/null | grep '1 succeeded')" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || break; sleep 0.2; done
  done
  direct=$(grpc_rps "$GRPC"); via=$(grpc_rps "$GRPC_SKIFF")
  echo
  echo "gRPC unary (grpc-js server, h2load -c10 -m10, ${DURATION}s)"
  printf "| %-14s | %9s |\n" path "calls/s"
  printf "|%s|\n" "----------------|-----------"
  printf "| %-14s | %9s |\n" direct "$direct" "via skiff" "$via"
  awk -v a="$via" -v b="$direct" 'BEGIN { if (b > 0) printf "skiff / direct: %.2fx\n", a / b }'
fi
