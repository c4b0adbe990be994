#!/usr/bin/env bash
# skiff's resilience end to end: what a client sees when one of three endpoints dies under
# load, and how exactly weighted_clusters splits traffic. Prints one table.
#
#   kill        three nginx endpoints (one process each: master_process off) behind skiff, with
#               outlier detection; `wrk -c$CONNS` for DURATION seconds; a third into the run
#               one endpoint is killed (SIGKILL, by its PID). Two rows: with a retry policy
#               (gateway-error, connect-failure, reset; 2 retries) and without one, which
#               shows what outlier detection alone leaves to the client.
#   split       10,000 GETs (curl, one keep-alive connection) through a route with
#               weighted_clusters 90/10 across two clusters, and again across two subsets of
#               one cluster (`subset: {version: v1|v2}`); each endpoint answers its own body,
#               so the answers are counted by who gave them.
#
# Reading the columns:
#   error rate  non-2xx responses plus socket errors over all requests of the run.
#   recovery    from the kill to the last failed response (non-2xx) of the run: after it the
#               error rate is 0 for the rest of the run. wrk's Lua response() hook stamps each
#               non-2xx with the wall clock (gettimeofday through LuaJIT's ffi, ms); the script
#               stamps the kill with `date +%s%3N` (the same clock); done() reports the first
#               and last failure. "0 (none)" means no request failed at all. A socket error
#               (which response() does not see) after the kill would make it a lower bound:
#               the note says so.
#   v2 share    the share of answers from the 10 % branch, with the expected 10.00 %, and the
#               deviation in percentage points and in binomial standard deviations (σ = 0.30
#               pp at n = 10,000, p = 0.1).
#
#   bash bench/resilience.sh
#   DURATION=20 CONNS=100 bash bench/resilience.sh
#
# Uses wrk, nginx and curl; installs nothing. Everything listens on 127.0.0.1.
set -euo pipefail
# shellcheck source=bench/_peers.sh
source "$(dirname "$0")/_peers.sh"
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10} # seconds of wrk per kill row
CONNS=${CONNS:-50}       # wrk connections
SPLIT_N=${SPLIT_N:-10000}
BASE=${BASE_PORT:-18900}
SKIFF=$BASE; ADMIN=$((BASE + 1)); EP=$((BASE + 10)) # endpoints: EP, EP+1, …
WORK=$(mktemp -d /tmp/skiff-resilience.XXXXXX)
PIDS=()
trap stop_started EXIT

have wrk || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
have nginx || { echo "nginx is not installed (the endpoints): apt-get install nginx-light" >&2; exit 1; }
have curl || { echo "curl is not installed: apt-get install curl" >&2; exit 1; }

# endpoint PORT BODY: one nginx process (no master) answering BODY; its pid in EP_PID.
endpoint() {
  local dir="$WORK/ep$1"
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1; master_process off; daemon off; pid $dir/nginx.pid; error_log $dir/error.log;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$1; location / { return 200 "$2\n"; } } }
EOF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  EP_PID=$!
  PIDS+=("$EP_PID")
  wait_http "http://127.0.0.1:$1/" 10
}

# start_skiff CONFIG LOG: skiff in the background, ready; its pid in SKIFF_PID.
start_skiff() {
  $DENO run --v8-flags=$SKIFF_V8 --allow-net --allow-read --allow-write \
    --allow-env --allow-sys --allow-run --unstable-net src/main.ts run -c "$1" 2>"$2" &
  SKIFF_PID=$!
  PIDS+=("$SKIFF_PID")
  wait_http "http://127.0.0.1:$ADMIN/ready" 30
}

# stop PID: SIGTERM and wait (a process this script started).
stop() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# metric NAME LABEL_FRAGMENT: the sum of skiff's samples of NAME whose labels contain it.
metric() {
  curl -sf "http://127.0.0.1:$ADMIN/metrics" |
    awk -v n="$1" -v l="$2" 'index($0, n "{") == 1 && index($0, l) { s += $NF } END { print s + 0 }'
}

# Stamps every non-2xx response with the wall clock (ms) and counts answers by body.
cat >"$WORK/kill.lua" <<'EOF'
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } skiff_timeval;
  int gettimeofday(skiff_timeval *tv, void *tz);
]]
local tv = ffi.new("skiff_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + math.floor(tonumber(tv.tv_usec) / 1000)
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() first_fail = 0; last_fail = 0; fails = 0; bodies = {} end
function response(status, headers, body)
  if status < 200 or status > 299 then
    local t = now_ms()
    if first_fail == 0 then first_fail = t end
    last_fail = t
    fails = fails + 1
  else
    bodies[body] = (bodies[body] or 0) + 1
  end
end
function done(summary, latency, requests)
  local first, last, n, total = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    local f, l = t:get("first_fail"), t:get("last_fail")
    if f > 0 and (first == 0 or f < first) then first = f end
    if l > last then last = l end
    n = n + t:get("fails")
    for k, v in pairs(t:get("bodies")) do total[k] = (total[k] or 0) + v end
  end
  io.write(string.format("fails %d first %d last %d\n", n, first, last))
  for k, v in pairs(total) do io.write(string.format("body %s %d\n", k:gsub("\n", ""), v)) end
end
EOF

# kill_row NAME RETRY_YAML: the kill scenario; prints one table row.
kill_row() {
  local name=$1 retry=$2 e pids=() tag=${1//[^a-z0-9]/-}
  for e in 0 1 2; do
    endpoint $((EP + e)) "endpoint-$e"
    pids+=("$EP_PID")
  done
  cat >"$WORK/kill.yaml" <<EOF
admin: { address: 127.0.0.1:$ADMIN }
reload: { watch: false }
listeners:
  - name: bench
    address: 127.0.0.1:$SKIFF
    routes:
      - name: three
        cluster: three
$retry
clusters:
  - name: three
    connect_timeout: 250ms
    endpoints:
      - { address: 127.0.0.1:$EP }
      - { address: 127.0.0.1:$((EP + 1)) }
      - { address: 127.0.0.1:$((EP + 2)) }
    limits: { max_retries: 64 }
    outlier_detection:
      consecutive_5xx: 3
      consecutive_gateway_failure: 3
      consecutive_local_origin_failure: 3
      interval: 1s
      base_ejection_time: 30s
      max_ejection_percent: 34
EOF
  start_skiff "$WORK/kill.yaml" "$WORK/kill-$tag.err"
  wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$WORK/kill.lua" "http://127.0.0.1:$SKIFF/" \
    >"$WORK/kill-$tag.wrk" 2>&1 &
  local wrk_pid=$!
  PIDS+=("$wrk_pid")
  sleep "$(awk -v d="$DURATION" 'BEGIN { printf "%.3f", d / 3 }')"
  local kill_ms
  kill_ms=$(date +%s%3N)
  kill -KILL "${pids[1]}"
  wait "${pids[1]}" 2>/dev/null || true
  wait "$wrk_pid" || true
  local ejections
  ejections=$(metric skiff_outlier_ejections_total 'cluster="three"')
  stop "$SKIFF_PID"
  stop "${pids[0]}"
  stop "${pids[2]}"
  awk -v s="$name" -v k="$kill_ms" -v ej="$ejections" '
    /requests in/ { req = $1 }
    /Non-2xx or 3xx responses:/ { non = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    /^fails / { first = $4; last = $6 }
    /^body endpoint-1 / { dead = $3 }
    END {
      rate = req ? 100 * (non + sock) / req : 0
      if (last == 0) rec = "0 (none)"
      else if (first < k) rec = sprintf("%d ms (errors before the kill)", last - k)
      else rec = sprintf("%d ms", last - k)
      note = sprintf("%d ejection(s); %d answers from the killed endpoint", ej, dead)
      if (sock) note = note "; socket errors: recovery is a lower bound"
      printf "%s|%d|%d|%.3f %%|%s|-|-|%s\n", s, req, non, rate, rec, note
    }' "$WORK/kill-$tag.wrk"
}

# split_row NAME YAML_ROUTE YAML_CLUSTERS: SPLIT_N requests through a 90/10 split; one row.
split_row() {
  local name=$1 tag=${1//[^a-z0-9]/-}
  cat >"$WORK/split.yaml" <<EOF
admin: { address: 127.0.0.1:$ADMIN }
reload: { watch: false }
listeners:
  - name: bench
    address: 127.0.0.1:$SKIFF
    routes:
      - name: split
$2
clusters:
$3
EOF
  if ! $DENO run --allow-read src/main.ts validate "$WORK/split.yaml" >"$WORK/validate.out" 2>&1; then
    echo "$name|-|-|-|-|-|-|not measured: $(head -c 120 "$WORK/validate.out" | tr '\n|' '  ')"
    return
  fi
  local e pids=()
  for e in 0 1 2; do
    endpoint $((EP + e)) "$([ "$e" = 2 ] && echo v2 || echo v1)-$e"
    pids+=("$EP_PID")
  done
  start_skiff "$WORK/split.yaml" "$WORK/split-$tag.err"
  local i
  for i in $(seq 1 "$SPLIT_N"); do echo "url = \"http://127.0.0.1:$SKIFF/$i\""; done >"$WORK/urls"
  # One keep-alive connection; bodies "v1-0", "v1-1", "v2-2" one per line, or curl's own
  # status line for a failure; bounded by --max-time.
  curl -s --max-time 300 -w '%{http_code}\n' -K "$WORK/urls" >"$WORK/split-$tag.out" || true
  stop "$SKIFF_PID"
  for e in "${pids[@]}"; do stop "$e"; done
  awk -v s="$name" -v n="$SPLIT_N" '
    /^v1-/ { v1++; by[$1]++ } /^v2-/ { v2++; by[$1]++ }
    /^[0-9][0-9][0-9]$/ { codes++; if ($1 !~ /^2/) non++ }
    END {
      got = v1 + v2
      share = got ? 100 * v2 / got : 0
      sd = 100 * sqrt(0.1 * 0.9 / (got ? got : 1))
      note = sprintf("v1-0 %d, v1-1 %d, v2-2 %d", by["v1-0"], by["v1-1"], by["v2-2"])
      printf "%s|%d|%d|%.3f %%|-|%.2f %% (10.00 %%)|%+.2f pp (%+.1f σ)|%s\n", s, codes, non + (n - codes),
        codes ? 100 * (non + n - codes) / n : 100, share, share - 10, (share - 10) / sd, note
    }' "$WORK/split-$tag.out"
}

echo "skiff resilience — $(date -u +%FT%TZ), $(nproc) CPUs, wrk -c$CONNS for ${DURATION}s, kill at ${DURATION}/3 s, split over $SPLIT_N requests"
ROWS="$WORK/rows"
kill_row "kill 1 of 3, retries" "        retry: { retry_on: [gateway-error, connect-failure, reset], num_retries: 2 }" >>"$ROWS"
kill_row "kill 1 of 3, no retries" "" >>"$ROWS"
split_row "split 90/10 clusters" "        weighted_clusters:
          - { cluster: v1, weight: 90 }
          - { cluster: v2, weight: 10 }" "  - name: v1
    endpoints: [{ address: 127.0.0.1:$EP }, { address: 127.0.0.1:$((EP + 1)) }]
  - name: v2
    endpoints: [{ address: 127.0.0.1:$((EP + 2)) }]" >>"$ROWS"
split_row "split 90/10 subsets" "        weighted_clusters:
          - { cluster: api, subset: { version: v1 }, weight: 90 }
          - { cluster: api, subset: { version: v2 }, weight: 10 }" "  - name: api
    endpoints:
      - { address: 127.0.0.1:$EP, labels: { version: v1 } }
      - { address: 127.0.0.1:$((EP + 1)), labels: { version: v1 } }
      - { address: 127.0.0.1:$((EP + 2)), labels: { version: v2 } }" >>"$ROWS"

{
  echo "scenario|requests|non-2xx|error rate|recovery|v2 share (expected)|deviation|note"
  cat "$ROWS"
} | column -t -s '|'
