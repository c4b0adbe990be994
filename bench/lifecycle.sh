#!/usr/bin/env bash
# skiff's lifecycle under load: what wrk sees while skiff reloads, hot-restarts and drains.
# Three scenarios, each under `wrk -c$CONNS` for a bounded time, in front of one nginx
# upstream (a fixed 20-byte body):
#
#   reload        20 SIGHUP reloads, alternating two config files (route, response header
#                 and cluster change), spread over the run; each one checked in skiff's log
#   hot-restart   a second skiff started with --hot-restart a third into the run; the old one
#                 drains and exits. Inside a network namespace with net.ipv4.tcp_migrate_req=1
#                 when root (connections queued on the closing listener move to the new one);
#                 on loopback otherwise, where the kernel may reset such connections
#   sigterm       SIGTERM to skiff mid-run; wrk is stopped once skiff has exited, so the row
#                 counts what happened up to the exit
#
# Reading the columns: wrk counts a connection refused by a closed listener (on loopback)
# as a *write* error, as it does a request written to a connection the server had closed:
# either way the request never reached skiff, and the client knows it. *read* errors
# (connection closed before the response) and timeouts are requests lost in flight;
# non-2xx are answers skiff or the upstream got wrong. In the sigterm row, write errors are
# expected: the draining skiff no longer accepts, and wrk keeps reconnecting until it is
# stopped. In the reload and hot-restart rows every column but requests should be 0.
#
#   bash bench/lifecycle.sh
#   DURATION=20 CONNS=100 bash bench/lifecycle.sh
#   NETNS=off bash bench/lifecycle.sh   # hot restart on loopback even as root
#
# Uses wrk, nginx, curl and (as root) ip netns; installs nothing.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10} # seconds of wrk per scenario
CONNS=${CONNS:-50}       # wrk connections
RELOADS=${RELOADS:-20}
NETNS=${NETNS:-auto}     # auto: hot restart in a network namespace when root; off: on loopback
BASE=${BASE_PORT:-18800}
UP=$BASE; SKIFF=$((BASE + 1)); ADMIN=$((BASE + 2))
WORK=$(mktemp -d /tmp/skiff-lifecycle.XXXXXX)
PIDS=()
NS=""
SELF="$(pwd)/bench/lifecycle.sh"

cleanup() {
  stop_started
  if [ -n "$NS" ]; then ip netns del "$NS" 2>/dev/null || true; fi
}
trap cleanup EXIT

have wrk || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
have nginx || { echo "nginx is not installed (it is the upstream): apt-get install nginx-light" >&2; exit 1; }
have curl || { echo "curl is not installed: apt-get install curl" >&2; exit 1; }

# config FILE NAME: skiff proxying to the upstream through cluster NAME, adding x-config: NAME.
config() {
  cat >"$1" <<EOF
admin: { address: 127.0.0.1:$ADMIN }
reload: { watch: false }
drain: { timeout: 30s }
listeners:
  - name: bench
    address: 127.0.0.1:$SKIFF
    routes:
      - name: route-$2
        cluster: $2
        response_headers_to_add: [{ name: x-config, value: $2 }]
clusters:
  - name: $2
    endpoints: [{ address: 127.0.0.1:$UP }]
EOF
}

# start_skiff CONFIG LOG [ARGS...]: starts skiff in the background; its pid in SKIFF_PID.
start_skiff() {
  local cfg=$1 log=$2
  shift 2
  $DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write \
    --allow-env --allow-sys --allow-run --unstable-net src/main.ts run -c "$cfg" "$@" \
    2>"$log" &
  SKIFF_PID=$!
  PIDS+=("$SKIFF_PID")
}

# start_wrk SECONDS OUT: wrk against skiff in the background; its pid in WRK_PID.
start_wrk() {
  wrk -t2 -c"$CONNS" -d"$1s" "http://127.0.0.1:$SKIFF/" >"$2" 2>&1 &
  WRK_PID=$!
  PIDS+=("$WRK_PID")
}

# log_count LOG MSG: how many JSON log lines of LOG have message MSG.
log_count() { grep -c "\"msg\":\"$2\"" "$1" || true; }

# row SCENARIO WRK_OUT NOTE: one result line "scenario|requests|non2xx|connect|read|write|timeout|duration|note".
row() {
  awk -v s="$1" -v note="$3" '
    /requests in/ { req = $1; dur = $4; sub(/,$/, "", dur) }
    /Non-2xx or 3xx responses:/ { non = $NF }
    /Socket errors:/ { gsub(/,/, ""); c = $4; r = $6; w = $8; t = $10 }
    END { printf "%s|%d|%d|%d|%d|%d|%d|%s|%s\n", s, req, non, c, r, w, t, dur, note }' "$2"
}

upstream() {
  upstream_conf "$WORK" "$UP"
  nginx -c "$WORK/upstream.conf" -p "$WORK" &
  PIDS+=($!)
  wait_http "http://127.0.0.1:$UP/" 10
}

scenario_reload() {
  config "$WORK/a.yaml" blue
  config "$WORK/b.yaml" green
  cp "$WORK/a.yaml" "$WORK/skiff.yaml"
  start_skiff "$WORK/skiff.yaml" "$WORK/reload.err"
  local pid=$SKIFF_PID
  wait_http "http://127.0.0.1:$ADMIN/ready" 30
  start_wrk "$DURATION" "$WORK/reload.wrk"
  local gap_ms=$((DURATION * 1000 / (RELOADS + 2))) i next done_ok=0 deadline
  for i in $(seq 1 "$RELOADS"); do
    sleep "$(awk -v ms="$gap_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    next=$([ $((i % 2)) -eq 1 ] && echo b || echo a)
    cp "$WORK/$next.yaml" "$WORK/skiff.yaml"
    kill -HUP "$pid"
    deadline=$(($(date +%s) + 10))
    until [ "$(log_count "$WORK/reload.err" "config reloaded")" -ge "$i" ]; do
      if [ "$(date +%s)" -ge "$deadline" ] || grep -q '"msg":"config reload \(failed\|refused\)' "$WORK/reload.err"; then
        echo "reload $i did not take effect; the end of skiff's log:" >&2
        tail -n 5 "$WORK/reload.err" >&2
        break 2
      fi
      sleep 0.01
    done
    done_ok=$i
  done
  kill -0 "$WRK_PID" 2>/dev/null || echo "note: wrk ended before reload $done_ok; raise DURATION" >&2
  wait "$WRK_PID" || true
  kill -TERM "$pid"
  wait "$pid" || true
  row reload "$WORK/reload.wrk" "$done_ok/$RELOADS reloads applied"
}

# The hot restart on this network stack (loopback of a namespace, or the host's).
scenario_hot_restart() {
  local where=$1
  config "$WORK/hr.yaml" blue
  start_skiff "$WORK/hr.yaml" "$WORK/hr-old.err"
  local old=$SKIFF_PID
  wait_http "http://127.0.0.1:$ADMIN/ready" 30
  start_wrk "$DURATION" "$WORK/hr.wrk"
  sleep "$(awk -v d="$DURATION" 'BEGIN { printf "%.3f", d / 3 }')"
  start_skiff "$WORK/hr.yaml" "$WORK/hr-new.err" --hot-restart
  local new=$SKIFF_PID code=0
  wait "$old" || code=$?
  kill -0 "$WRK_PID" 2>/dev/null || echo "note: wrk ended before the old skiff exited; raise DURATION" >&2
  wait "$WRK_PID" || true
  local complete
  complete=$(log_count "$WORK/hr-new.err" "hot restart complete")
  kill -TERM "$new"
  wait "$new" || true
  row hot-restart "$WORK/hr.wrk" "$where; old exit $code; handover $([ "$complete" -ge 1 ] && echo done || echo FAILED)"
}

scenario_sigterm() {
  config "$WORK/term.yaml" blue
  start_skiff "$WORK/term.yaml" "$WORK/term.err"
  local pid=$SKIFF_PID code=0
  wait_http "http://127.0.0.1:$ADMIN/ready" 30
  # Bounded by 3x DURATION; stopped (SIGINT: wrk prints its stats) once skiff has exited.
  start_wrk "$((DURATION * 3))" "$WORK/term.wrk"
  sleep "$(awk -v d="$DURATION" 'BEGIN { printf "%.3f", d / 2 }')"
  kill -TERM "$pid"
  wait "$pid" || code=$?
  kill -INT "$WRK_PID" 2>/dev/null || true
  wait "$WRK_PID" || true
  row sigterm "$WORK/term.wrk" "exit $code; write = refused by the drained listener"
}

# Run inside a network namespace by the outer script: one scenario, one result line.
if [ "${1:-}" = "--inner-hot-restart" ]; then
  upstream
  scenario_hot_restart "netns, tcp_migrate_req=$(cat /proc/sys/net/ipv4/tcp_migrate_req)"
  exit 0
fi

echo "skiff lifecycle under load — $(date -u +%FT%TZ), $(nproc) CPUs, wrk -c$CONNS, ${DURATION}s per scenario"
ROWS="$WORK/rows"
upstream
scenario_reload >>"$ROWS"

hot_in_netns=""
if [ "$NETNS" != off ] && [ "$(id -u)" = 0 ] && have ip; then
  NS="skiff-hr-bench-$$"
  if ip netns add "$NS" 2>/dev/null && ip -n "$NS" link set lo up &&
    ip netns exec "$NS" sysctl -qw net.ipv4.tcp_migrate_req=1; then
    hot_in_netns=1
  else
    echo "note: cannot set up a network namespace; the hot restart runs on loopback" >&2
    ip netns del "$NS" 2>/dev/null || true
    NS=""
  fi
fi
if [ -n "$hot_in_netns" ]; then
  # The same script inside the namespace, with its own upstream, prints one result line.
  ip netns exec "$NS" env DURATION="$DURATION" CONNS="$CONNS" DENO="$DENO" BASE_PORT="$BASE" \
    bash "$SELF" --inner-hot-restart >>"$ROWS" &
  PIDS+=($!)
  wait $! || echo "note: the hot restart in the namespace failed" >&2
else
  echo "note: hot restart on the host's loopback, without a namespace where tcp_migrate_req=1" \
    "could be set: connections queued on the old skiff's listener when it closes it may be reset" >&2
  scenario_hot_restart "loopback, tcp_migrate_req=$(cat /proc/sys/net/ipv4/tcp_migrate_req 2>/dev/null || echo n/a)" >>"$ROWS"
fi

scenario_sigterm >>"$ROWS"

{
  echo "scenario|requests|non-2xx|connect|read|write|timeout|duration|note"
  cat "$ROWS"
} | column -t -s '|'
