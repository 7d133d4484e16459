#!/usr/bin/env bash
# Prints an haproxy.cfg (HAProxy 2.6, Debian's haproxy) to stdout: HAProxy
# in front of the frontends' HTTP ports (podium-frontend --http_listen),
# plain HTTP on LISTEN_ADDR.
#
#   scripts/haproxy_config.sh [--stats=ADDR] LISTEN_ADDR FRONTEND_HTTP_ADDR...
#
#   LISTEN_ADDR          host:port browsers connect to (the page, /api/...,
#                        /api/stream, /healthz, /metrics of some frontend)
#   FRONTEND_HTTP_ADDR   each frontend's --http_listen, host:port; its server
#                        is named frontend-1, frontend-2, ... in this order
#   --stats=ADDR         also HAProxy's own stats page at http://ADDR/
#                        (keep it on 127.0.0.1)
#
# Exit 0 with the configuration on stdout, 2 on bad usage. Then run
#
#   haproxy -f haproxy.cfg -db      (foreground; its log on stdout)
#
# What it does: least connections (a Server-Sent Events stream counts as one
# connection for as long as it lasts), so new clients go to the least-loaded
# live frontend; GET /healthz every 300 ms, two failures take a frontend out
# (a killed one in under a second, a hung one in about 2.5 s) and cut its
# streams, so that browsers reconnect, with Last-Event-ID, to a survivor;
# two successes take it back; a refused connection is retried on another
# frontend; X-Forwarded-For carries the browser's address.
# scripts/run, tests/run_script_test.sh and the benchmarks use it: keep the
# interface above stable.
set -euo pipefail

usage() {
  echo "usage: scripts/haproxy_config.sh [--stats=ADDR] LISTEN_ADDR FRONTEND_HTTP_ADDR..." >&2
  exit 2
}

stats=
args=()
for arg in "$@"; do
  case "$arg" in
    --stats=*) stats=${arg#--stats=} ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "haproxy_config: unknown option '$arg'" >&2; usage ;;
    *) args+=("$arg") ;;
  esac
done
[ ${#args[@]} -ge 2 ] || usage
for address in "${args[@]}" ${stats:+"$stats"}; do
  [[ "$address" =~ ^[^[:space:]]*:[0-9]+$ ]] ||
    { echo "haproxy_config: '$address' is not host:port" >&2; usage; }
done
listen=${args[0]}

cat <<EOF
# Made by scripts/haproxy_config.sh; run with: haproxy -f FILE -db
global
    # The log goes to stdout (haproxy -db runs in the foreground): no syslog.
    log stdout format raw local0 info
    # maxconn is left to HAProxy: from the open-files limit (ulimit -n), two
    # descriptors a proxied connection.

defaults
    mode http
    log global
    # The client side keeps its connection alive; every request gets a
    # connection of its own to a frontend, closed after the response. So a
    # request never goes out on an idle connection that the frontend is
    # closing (it closes them after --http_request_timeout), and leastconn
    # counts exactly the requests and streams each frontend serves.
    option http-server-close
    # A browser that leaves closes its stream's connection to the frontend
    # at once, not at the stream's next write: the frontend's count of
    # streams (and so leastconn) stays true.
    option abortonclose
    # A connection refused (a frontend just killed, not yet marked down) is
    # retried, each retry on another frontend and at once. Only connection
    # failures are retried: a request a frontend has received is never sent
    # twice.
    retries 3
    option redispatch 1
    # Frontends are near: a connection not made in a second is not coming.
    timeout connect 1s
    timeout queue 5s
    # The whole request within 10 s (slowloris); an idle client connection
    # kept 10 s between requests.
    timeout http-request 10s
    timeout http-keep-alive 10s
    # Server-Sent Events: a stream is an HTTP response that does not end,
    # which HAProxy forwards event by event as it comes (no buffering, no
    # option http-no-delay needed: measured within a millisecond of a direct
    # stream). The frontends send it close-delimited (Connection: close, no
    # length), and HAProxy 2.6 then times it by "timeout tunnel", not by
    # client and server (measured: 5 s client and server timeouts leave a
    # stream open; a 10 s tunnel timeout cuts one whose only traffic is the
    # keep-alive comment every 15 s, a 20 s one does not). A chunked stream
    # would be timed by "timeout server". Each is an inactivity timeout that
    # the stream's data refreshes, so the keep-alive comments alone keep a
    # stream open for hours; an hour of silence is allowed. A frontend that
    # hangs is taken out, and its streams cut, by the health checks below.
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    # A peer gone from the network after a half close.
    timeout client-fin 5s
    timeout server-fin 5s
    timeout check 1s

frontend podium
    bind $listen
    # One line a request, when it ends (a stream's when it closes).
    option httplog
    option dontlognull
    # X-Forwarded-For: the browser's address, which the frontends take as
    # the client's (posts are limited per client) when the connection comes
    # from 127.0.0.1. HAProxy is the edge: whatever X-Forwarded-For a client
    # sent is dropped, else the frontend would read its forged first line.
    http-request del-header X-Forwarded-For
    option forwardfor
    default_backend frontends

backend frontends
    balance leastconn
    option httpchk GET /healthz
    http-check expect status 200
    # A frontend is out after two failed checks 300 ms apart (refused, or
    # not 200, or unanswered for "timeout check") and back after two good
    # ones; when it is marked out, its connections (streams) are closed so
    # that their browsers reconnect to a survivor at once.
    default-server check inter 300ms fall 2 rise 2 on-marked-down shutdown-sessions
EOF
i=0
for address in "${args[@]:1}"; do
  i=$((i + 1))
  echo "    server frontend-$i $address"
done
if [ -n "$stats" ]; then
  cat <<EOF

listen stats
    bind $stats
    no log
    stats enable
    stats uri /
    stats refresh 2s
EOF
fi
