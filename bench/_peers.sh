# Shared by bench/proxy_vs_peers.sh and bench/instr_per_request.sh (sourced, not run): the
# upstream and the skiff config both benchmarks measure against.

# upstream_conf WORK PORT: one nginx worker answering a fixed 20-byte body, in WORK/upstream.conf.
upstream_conf() {
  cat >"$1/upstream.conf" <<EOF
worker_processes 1; daemon off; pid $1/upstream.pid; error_log $1/upstream.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$2; location / { return 200 "hello from upstream\n"; } } }
EOF
}

# skiff_conf FILE LISTEN_PORT ADMIN_PORT UPSTREAM_PORT: skiff proxying everything upstream.
skiff_conf() {
  cat >"$1" <<EOF
admin: { address: 127.0.0.1:$3 }
listeners:
  - name: bench
    address: 127.0.0.1:$2
    routes: [{ cluster: upstream }]
clusters:
  - name: upstream
    endpoints: [{ address: 127.0.0.1:$4 }]
EOF
}

# have CMD: whether CMD is on the PATH.
have() { command -v "$1" >/dev/null 2>&1; }

# wait_http URL SECONDS: polls URL until it answers 2xx, or fails after SECONDS.
wait_http() {
  local deadline=$(($(date +%s) + $2))
  until curl -sf -o /dev/null "$1"; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timeout waiting for $1" >&2; return 1; }
    sleep 0.02
  done
}

# stop_started: ends every process in PIDS (the script's own children, by PID) and removes WORK.
stop_started() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
