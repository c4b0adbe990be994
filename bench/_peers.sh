# Shared by the bench/*.sh scripts (sourced, not run): the upstream, the skiff config and the
# nginx proxy they measure against.

# skiff's V8 flags, as in deno.json's `start` task: a 2 MiB young-generation semi-space (3
# interleaved runs of bench/skiff_ab.sh put it 2-8 % ahead of 4 MiB; larger ones fall out of cache).
# shellcheck disable=SC2034
SKIFF_V8=${SKIFF_V8:-"--max-semi-space-size=2"}
# The Deno that runs skiff and the Deno peers: the one on the PATH, else the pinned one from npm.
# shellcheck disable=SC2034
DENO=${DENO:-$(command -v deno || echo "npx --yes deno@2.9.6")}

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

# The forwarding headers skiff adds to every request it proxies (X-Forwarded-For with the
# client's address appended, X-Forwarded-Proto and an X-Request-Id when the request has none),
# as nginx directives: nginx in skiff's place is configured to do the same work. Goes inside
# `http { }` (the map) and a `location` (the headers).
nginx_forwarding_map() {
  echo 'map $http_x_request_id $skiff_rid { "" $request_id; default $http_x_request_id; }' \
    'map $http_x_forwarded_proto $skiff_proto { "" $scheme; default $http_x_forwarded_proto; }'
}
nginx_forwarding_headers() {
  echo 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;' \
    'proxy_set_header X-Forwarded-Proto $skiff_proto; proxy_set_header X-Request-Id $skiff_rid;'
}

# nginx_proxy_conf WORK PORT UPSTREAM_PORT [bare]: nginx as the proxy (one worker, upstream
# keepalive, the forwarding headers above; only plain pass-through with `bare`), in one process
# (master_process off: valgrind and perf see it all), in WORK/nginx.conf.
nginx_proxy_conf() {
  local headers=""
  [ "${4:-}" = bare ] || headers="$(nginx_forwarding_headers)"
  cat >"$1/nginx.conf" <<EOF
worker_processes 1; daemon off; master_process off; pid $1/nginx.pid; error_log $1/nginx.err;
events { worker_connections 8192; }
http { access_log off; keepalive_requests 1000000; $(nginx_forwarding_map)
  upstream up { server 127.0.0.1:$3; keepalive 128; keepalive_requests 1000000; }
  server { listen 127.0.0.1:$2;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; $headers } } }
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
