#!/usr/bin/env bash
# Where skiff's CPU time goes, natively: samples skiff (all its threads) with perf's cpu-clock
# event (a software clock: works without hardware counters) while wrk drives it, and splits
# the samples into the kernel, the Deno runtime (Rust and V8's C++, which ship without
# symbols), V8 builtins (promises, typed arrays, strings), skiff's JavaScript and libc, with
# the top JavaScript functions and builtins by name (V8's --perf-basic-prof map).
#
#   bash bench/native_profile.sh
#   DURATION=8 CONNS=10 TOP=40 bash bench/native_profile.sh
#   TARGET=deno-l4 bash bench/native_profile.sh   # the bare Deno relay, for comparison
#   TARGET=deno-h1 bash bench/native_profile.sh   # the least HTTP/1.1 proxy on Deno sockets
#   TARGET=nginx bash bench/native_profile.sh     # nginx as the proxy (one process), adding
#                                                 # skiff's forwarding headers; nginx-bare without
#
# Unlike bench/instr_per_request.sh (instructions under callgrind, 50x slower), this sees the
# process at full speed, kernel included; the shares move by a point or two between runs.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}   # seconds sampled (after a 3 s warm-up)
CONNS=${CONNS:-50}        # wrk connections
TOP=${TOP:-30}            # named functions listed
TARGET=${TARGET:-skiff}   # skiff, deno-l4, deno-h1, nginx or nginx-bare
BASE=${BASE_PORT:-18780}
UP=$BASE; PROXY=$((BASE + 1)); ADMIN=$((BASE + 2))
WORK=$(mktemp -d /tmp/skiff-prof.XXXXXX)
PIDS=()
trap stop_started EXIT

for tool in nginx wrk perf curl; do
  have "$tool" || { echo "$tool is not installed" >&2; exit 1; }
done

upstream_conf "$WORK" "$UP"
nginx -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/" 10

skiff_conf "$WORK/skiff.yaml" "$PROXY" "$ADMIN" "$UP"
case $TARGET in
  skiff) $DENO run --v8-flags=$SKIFF_V8,--perf-basic-prof --allow-net --allow-read \
    --allow-write --allow-env --allow-sys --unstable-net src/main.ts run -c "$WORK/skiff.yaml" \
    --log-level warn >"$WORK/proxy.out" 2>&1 & ;;
  deno-l4) $DENO run --v8-flags=--perf-basic-prof --allow-net bench/l4_relay.ts "$PROXY" "$UP" \
    >"$WORK/proxy.out" 2>&1 & ;;
  deno-h1) $DENO run --v8-flags=$SKIFF_V8,--perf-basic-prof --allow-net bench/h1_min_proxy.ts \
    "$PROXY" "$UP" >"$WORK/proxy.out" 2>&1 & ;;
  nginx | nginx-bare) nginx_proxy_conf "$WORK" "$PROXY" "$UP" "${TARGET#nginx-}"
    nginx -c "$WORK/nginx.conf" -p "$WORK" >"$WORK/proxy.out" 2>&1 & ;;
  *) echo "unknown TARGET $TARGET (skiff, deno-l4, deno-h1, nginx or nginx-bare)" >&2; exit 1 ;;
esac
PID=$!; PIDS+=($PID)
wait_http "http://127.0.0.1:$PROXY/" 30

wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$PROXY/" >/dev/null
wrk -t1 -c"$CONNS" -d"$((DURATION + 4))s" "http://127.0.0.1:$PROXY/" >"$WORK/wrk.out" &
WRK=$!
sleep 1
perf record -q -F 4999 -e cpu-clock -p "$PID" -o "$WORK/perf.data" -- sleep "$DURATION" 2>/dev/null
# Then the event loop's turns: how long each spends running JavaScript (between epoll_wait
# calls) and how long epoll_wait blocks while wrk keeps every connection busy.
perf record -q -e syscalls:sys_enter_epoll_wait,syscalls:sys_exit_epoll_wait -p "$PID" \
  -o "$WORK/turns.data" -- sleep 1 2>/dev/null
wait $WRK
echo "$TARGET under wrk -c$CONNS: $(awk '/Requests\/sec/ {printf "%d", $2}' "$WORK/wrk.out") requests/s" \
  "(perf running), $(date -u +%FT%TZ)"
perf script -i "$WORK/perf.data" -F ip,dso 2>/dev/null >"$WORK/samples.txt"
perf script -i "$WORK/turns.data" -F tid,time,event 2>/dev/null | awk -v pid="$PID" '$1 == pid' \
  >"$WORK/turns.txt"
$DENO run --allow-read bench/native_profile.ts "$WORK/samples.txt" "/tmp/perf-$PID.map" "$TOP" \
  "$WORK/turns.txt"
rm -f "/tmp/perf-$PID.map"
