#!/usr/bin/env bash
# skiff variants side by side, interleaved with nginx as the peer, in one run: V8 flags, or
# another source tree (a `git archive` of another commit). For deciding a runtime flag or a
# change by requests/s and p99 when instruction counts (bench/instr_per_request.sh) miss what
# matters, e.g. cache effects of a larger young generation.
#
#   VARIANTS="s2|--max-semi-space-size=2 s4|--max-semi-space-size=4" bash bench/skiff_ab.sh
#   VARIANTS="now|--max-semi-space-size=2 before|--max-semi-space-size=2|/tmp/skiff-before" \
#     ROUNDS=5 bash bench/skiff_ab.sh
#   PIN=1 VARIANTS=... bash bench/skiff_ab.sh   # proxies on CPU 1, wrk and the upstream on CPU 0
#
# Each variant is NAME|V8_FLAGS[|SOURCE_TREE]. Prints one line per round and target (requests/s,
# p50, p99, RSS after the round) and the median requests/s of each, with its ratio to nginx.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

VARIANTS=${VARIANTS:-"skiff|$SKIFF_V8"}
ROUNDS=${ROUNDS:-3}           # rounds; each target once per round, interleaved
DURATION=${DURATION:-5}       # seconds per wrk run
CONNS=${CONNS:-50}            # wrk connections
BASE=${BASE_PORT:-18800}
PIN_LOAD=""; PIN_PROXY=""
if [ -n "${PIN:-}" ]; then PIN_LOAD="taskset -c 0"; PIN_PROXY="taskset -c 1"; fi
WORK=$(mktemp -d /tmp/skiff-ab.XXXXXX)
PIDS=()
trap stop_started EXIT

for tool in nginx wrk curl; do
  have "$tool" || { echo "$tool is not installed" >&2; exit 1; }
done

UP=$BASE
upstream_conf "$WORK" "$UP"
$PIN_LOAD nginx -c "$WORK/upstream.conf" -p "$WORK" & PIDS+=($!)
wait_http "http://127.0.0.1:$UP/" 10
nginx_proxy_conf "$WORK" $((BASE + 1)) "$UP"
$PIN_PROXY nginx -c "$WORK/nginx.conf" -p "$WORK" & PIDS+=($!)

declare -A PORT PID
names="nginx"; PORT[nginx]=$((BASE + 1)); PID[nginx]=${PIDS[-1]}
port=$((BASE + 10))
for v in $VARIANTS; do
  IFS='|' read -r name flags tree <<<"$v"
  skiff_conf "$WORK/$name.yaml" "$port" $((port + 50)) "$UP"
  sed -i '/^admin:/d' "$WORK/$name.yaml"
  # shellcheck disable=SC2086
  (cd "${tree:-.}" && exec $PIN_PROXY $DENO run ${flags:+--v8-flags=$flags} --allow-net --allow-read \
    --allow-write --allow-env --allow-sys --unstable-net src/main.ts run -c "$WORK/$name.yaml" \
    --log-level warn 2>"$WORK/$name.err") & PIDS+=($!)
  PORT[$name]=$port; PID[$name]=${PIDS[-1]}; names="$names $name"; port=$((port + 1))
done
for n in $names; do wait_http "http://127.0.0.1:${PORT[$n]}/" 30; done
for n in $names; do $PIN_LOAD wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:${PORT[$n]}/" >/dev/null; done

rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "-"; }
echo "skiff A/B — $(date -u +%FT%TZ), $(nproc) CPUs, wrk -c$CONNS ${DURATION}s x $ROUNDS rounds${PIN:+, pinned}"
declare -A ALL
for r in $(seq 1 "$ROUNDS"); do
  for n in $names; do
    out=$($PIN_LOAD wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:${PORT[$n]}/")
    rps=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
    ALL[$n]="${ALL[$n]:-} $rps"
    printf "  round %d  %-10s %8s rps  p50 %9s  p99 %9s  rss %s MiB\n" "$r" "$n" "$rps" \
      "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
      "$(rss_mib "${PID[$n]}")"
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
peer=$(median <<<"${ALL[nginx]}")
for n in $names; do
  m=$(median <<<"${ALL[$n]}")
  printf "  median %-10s %8d rps  %.2fx nginx\n" "$n" "$m" "$(awk -v a="$m" -v b="$peer" 'BEGIN { print a / b }')"
done
