#!/usr/bin/env bash
# User-space instructions per proxied HTTP/1.1 request: skiff (one isolate) next to nginx as a
# proxy and a bare Deno byte relay (bench/l4_relay.ts), all in front of the same upstream (one
# nginx worker answering 20 bytes, as in bench/proxy_vs_peers.sh), in one run. `nginx` adds
# skiff's forwarding headers (bench/_peers.sh); target `nginx-bare` is the plain pass-through,
# `deno-h1` the least HTTP/1.1 proxy on Deno sockets (bench/h1_min_proxy.ts).
#
#   bash bench/instr_per_request.sh
#   TARGETS="skiff nginx nginx-bare deno-l4" bash bench/instr_per_request.sh
#   N=20000 ROUNDS=5 TARGETS="skiff" bash bench/instr_per_request.sh
#   PROTO=h2 BASE_TREE=DIR TARGETS="skiff-base skiff" bash bench/instr_per_request.sh  (HTTP/2)
#   BASE_TREE=/tmp/skiff-before TARGETS="skiff-base skiff nginx deno-l4" bash bench/instr_per_request.sh
#     (skiff-base: the same skiff from another checkout, e.g. `git archive HEAD | tar -x -C DIR`)
#   TREES="a=/tmp/variant-a b=/tmp/variant-b" TARGETS="skiff a b" NATIVE_N=0 bash bench/instr_per_request.sh
#     (any number of other checkouts, each a target by its name)
#   KEEP=/tmp/cg V8_EXTRA=--perf-basic-prof TARGETS=skiff bash bench/instr_per_request.sh
#     keeps the callgrind dumps (KEEP) and has V8 write /tmp/perf-PID.map (V8_EXTRA: more
#     V8 flags for the Deno targets); `deno run -A bench/callgrind_js.ts /tmp/cg/cg.skiff.3
#     /tmp/perf-PID.map` then lists instructions per request by JavaScript function (the deno
#     binary has no symbols, so `callgrind_annotate` alone shows only addresses)
#
# Instruction counts do not move with the machine's noise the way rps and CPU time do, so
# two variants of skiff can be compared on a busy shared machine. These VMs expose no
# hardware counters (`perf stat -e instructions` says "not supported": "PMU not available
# due to virtualization" in dmesg), so the instructions are counted by running each proxy
# under valgrind's callgrind: after WARM requests (JIT warm-up), the counters are zeroed,
# N requests are sent with h2load, and the dump's total divided by N is the figure (median
# of ROUNDS rounds). Rounds of nginx and the relay agree within 1-2 %, skiff's within about
# 5 % (a garbage collection or a JIT tier-up landing in a round); a busy machine changes how
# many connections each epoll wake-up finds ready, so compare targets within one run.
# Callgrind counts user space only (all threads of the process), and the proxy runs ~50x
# slower under it than natively.
#
# Kernel work is then measured natively per request as syscalls (perf's raw_syscalls
# tracepoint, which needs no PMU) and CPU time (task-clock: noisy, for orientation). Where
# the machine has a PMU, instructions:u and instructions:k are added to that native run.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

N=${N:-10000}                   # measured requests per round
WARM=${WARM:-60000}             # warm-up requests before the first round (JIT tiers)
ROUNDS=${ROUNDS:-5}             # rounds per target (the median is reported)
CONNS=${CONNS:-50}              # h2load connections
NATIVE_N=${NATIVE_N:-200000}    # requests of the native run (syscalls, CPU time); 0 skips it
PROTO=${PROTO:-h1}              # h1, or h2: h2c from the client (h2load -m 10) to an HTTP/1.1 upstream
if [ "$PROTO" = h2 ]; then H2LOAD_MODE="-m 10"; CONNS=${CONNS_H2:-10}; else H2LOAD_MODE="--h1"; fi
TARGETS=${TARGETS:-"skiff nginx deno-l4"}
BASE=${BASE_PORT:-18760}
UP=$BASE; PROXY=$((BASE + 1)); ADMIN=$((BASE + 2))
WORK=$(mktemp -d /tmp/skiff-instr.XXXXXX)
PIDS=()

trap stop_started EXIT

for tool in nginx h2load valgrind callgrind_control perf curl; do
  have "$tool" || { echo "$tool is not installed" >&2; exit 1; }
done

load() { # requests [lenient] -> completed requests (fails the run on any failed request)
  local out done_ failed
  # shellcheck disable=SC2086
  out=$(h2load $H2LOAD_MODE -n "$1" -c "$CONNS" -t 1 "http://127.0.0.1:$PROXY/" 2>&1)
  # During warm-up under valgrind on a busy machine a request can outlast skiff's 15 s route
  # timeout (504): that only warms the JIT less, it does not spoil the measured rounds.
  [ "${2:-}" = lenient ] && return 0
  done_=$(awk '/^requests:/ {print $8}' <<<"$out")
  failed=$(awk '/^requests:/ {print $10}' <<<"$out")
  [ "$done_" = "$1" ] && [ "$failed" = 0 ] || { echo "h2load: $out" >&2; return 1; }
  echo "$done_"
}

# --- upstream: one nginx worker with a fixed body (native) ----------------------------------
upstream_conf "$WORK" "$UP"
nginx -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/" 10

# --- the proxies, each on $PROXY --------------------------------------------------------------
skiff_conf "$WORK/skiff.yaml" "$PROXY" "$ADMIN" "$UP"
nginx_proxy_conf "$WORK" "$PROXY" "$UP"                 # with skiff's forwarding headers
mkdir -p "$WORK/bare" && nginx_proxy_conf "$WORK/bare" "$PROXY" "$UP" bare   # plain pass-through

command_of() { # target -> the command line that runs it
  case $1 in
    skiff) echo "$DENO run --v8-flags=$SKIFF_V8${V8_EXTRA:+,$V8_EXTRA} --allow-net --allow-read \
--allow-write --allow-env --allow-sys --unstable-net src/main.ts run -c $WORK/skiff.yaml \
--log-level warn" ;;
    skiff-base) echo "$DENO run --v8-flags=$SKIFF_V8${V8_EXTRA:+,$V8_EXTRA} --allow-net --allow-read \
--allow-write --allow-env --allow-sys --unstable-net --config ${BASE_TREE:?set BASE_TREE}/deno.json \
$BASE_TREE/src/main.ts run -c $WORK/skiff.yaml --log-level warn" ;;
    nginx) echo "nginx -c $WORK/nginx.conf -p $WORK" ;;
    nginx-bare) echo "nginx -c $WORK/bare/nginx.conf -p $WORK/bare" ;;
    deno-l4) echo "$DENO run ${V8_EXTRA:+--v8-flags=$V8_EXTRA} --allow-net bench/l4_relay.ts $PROXY $UP" ;;
    deno-h1) echo "$DENO run --v8-flags=$SKIFF_V8${V8_EXTRA:+,$V8_EXTRA} --allow-net \
bench/h1_min_proxy.ts $PROXY $UP" ;;
    *) local entry dir=""
      for entry in ${TREES:-}; do [ "${entry%%=*}" = "$1" ] && dir=${entry#*=}; done
      [ -n "$dir" ] || { echo "unknown target $1 (not in TREES)" >&2; return 1; }
      echo "$DENO run --v8-flags=$SKIFF_V8${V8_EXTRA:+,$V8_EXTRA} --allow-net --allow-read \
--allow-write --allow-env --allow-sys --unstable-net --config $dir/deno.json $dir/src/main.ts run \
-c $WORK/skiff.yaml --log-level warn" ;;
  esac
}

start() { # target [valgrind] -> sets PID
  local cmd
  cmd=$(command_of "$1")
  if [ "${2:-}" = valgrind ]; then
    # --smc-check: V8 writes machine code into the heap and patches it.
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file="$WORK/cg.$1" \
      $cmd >"$WORK/$1.out" 2>&1 &
  else
    # shellcheck disable=SC2086
    $cmd >"$WORK/$1.out" 2>&1 &
  fi
  PID=$!
  PIDS+=("$PID")
  wait_http "http://127.0.0.1:$PROXY/" 300
}

stop() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  local deadline=$(($(date +%s) + 10))
  while curl -sf -o /dev/null "http://127.0.0.1:$PROXY/" && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.1
  done
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

PMU=""
if perf stat -e instructions:u true 2>&1 | grep -q "not supported"; then :; else PMU=",instructions:u,instructions:k"; fi

declare -A INSTR SYSC CPU KINSTR UINSTR
echo "instructions per request: h2load $H2LOAD_MODE -c $CONNS, $N requests x $ROUNDS rounds after $WARM"
for t in $TARGETS; do
  start "$t" valgrind
  load "$WARM" lenient
  values=()
  for ((i = 1; i <= ROUNDS; i++)); do
    callgrind_control -z "$PID" >/dev/null 2>&1
    done_=$(load "$N")
    callgrind_control -d "$PID" >/dev/null 2>&1
    dump="$WORK/cg.$t.$i"
    deadline=$(($(date +%s) + 60))
    until grep -q '^totals:' "$dump" 2>/dev/null; do
      [ "$(date +%s)" -lt "$deadline" ] || { echo "no callgrind dump $dump" >&2; exit 1; }
      sleep 0.2
    done
    values+=("$(awk -v n="$done_" '/^totals:/ { printf "%.0f", $2 / n }' "$dump")")
    [ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$dump" "$KEEP/"; }
  done
  INSTR[$t]=$(printf '%s\n' "${values[@]}" | median)
  echo "  $t: ${values[*]} (median ${INSTR[$t]})"
  stop

  # Native: syscalls and CPU time per request (and instructions where a PMU exists).
  SYSC[$t]="-"; CPU[$t]="-"; UINSTR[$t]=""; KINSTR[$t]=""
  [ "$NATIVE_N" -gt 0 ] || continue
  start "$t"
  load 20000 lenient
  perf stat -x, -o "$WORK/perf.$t" -e "raw_syscalls:sys_enter,task-clock$PMU" -p "$PID" -- \
    h2load $H2LOAD_MODE -n "$NATIVE_N" -c "$CONNS" -t 1 "http://127.0.0.1:$PROXY/" >/dev/null 2>&1
  SYSC[$t]=$(awk -F, -v n="$NATIVE_N" '$3 == "raw_syscalls:sys_enter" { printf "%.2f", $1 / n }' "$WORK/perf.$t")
  CPU[$t]=$(awk -F, -v n="$NATIVE_N" '$3 == "task-clock" { printf "%.1f", $1 * 1000 / n }' "$WORK/perf.$t")
  UINSTR[$t]=$(awk -F, -v n="$NATIVE_N" '$3 ~ /^instructions:u/ { printf "%.0f", $1 / n }' "$WORK/perf.$t")
  KINSTR[$t]=$(awk -F, -v n="$NATIVE_N" '$3 ~ /^instructions:k/ { printf "%.0f", $1 / n }' "$WORK/perf.$t")
  stop
done

echo
printf '%-10s %16s %10s %14s %12s %18s\n' target "user instr/req" "vs nginx" "syscalls/req" "cpu µs/req" "PMU instr u/k"
for t in $TARGETS; do
  ratio="-"
  [ -n "${INSTR[nginx]:-}" ] && ratio=$(awk -v a="${INSTR[$t]}" -v b="${INSTR[nginx]}" 'BEGIN { printf "%.2fx", a / b }')
  pmu="-"
  [ -n "${UINSTR[$t]}" ] && pmu="${UINSTR[$t]}/${KINSTR[$t]}"
  printf '%-10s %16s %10s %14s %12s %18s\n' "$t" "${INSTR[$t]}" "$ratio" "${SYSC[$t]}" "${CPU[$t]}" "$pmu"
done
