#!/usr/bin/env bash
# Kills processes of the local cluster started by ./scripts/run, to test
# faults. SIGKILL by default (a crash); --graceful sends SIGTERM instead.
#
#   scripts/admin_stop.sh backend [N]      the backend; with --replicated,
#                                          backend N (1-2), or both
#   scripts/admin_stop.sh etcd [N]         etcd member N (1-3), or all of
#                                          them (--replicated)
#   scripts/admin_stop.sh frontend [N]     frontend N (1-3), or all of them
#   scripts/admin_stop.sh master           whichever frontend is master now
#   scripts/admin_stop.sh client [N]       client N, or all clients
#   scripts/admin_stop.sh bard
#   scripts/admin_stop.sh haproxy          the load balancer in front of the
#                                          frontends' HTTP ports
#   scripts/admin_stop.sh all
#   add --graceful anywhere for SIGTERM
#
# Revive a process with ./scripts/run revive NAME (e.g. frontend-2).
# PODIUM_VAR, PODIUM_PORT and PODIUM_BUILD mean what they mean to
# ./scripts/run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/tls.sh"
VAR=${PODIUM_VAR:-$PODIUM_ROOT/var}
RUN=$VAR/run

signal=KILL
args=()
for arg in "$@"; do
  case "$arg" in
    --graceful) signal=TERM ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) args+=("$arg") ;;
  esac
done
what=${args[0]:-}
n=${args[1]:-}

names=()
case "$what" in
  bard|haproxy) names=("$what") ;;
  backend|etcd|frontend|client)
    if [ -n "$n" ]; then
      [[ "$n" =~ ^[0-9]+$ ]] || { echo "admin_stop: '$n' is not a number" >&2; exit 2; }
      names=("$what-$n")
    else
      # One backend is "backend"; a replicated cluster's are backend-1, -2.
      for f in "$RUN/$what".pid "$RUN/$what"-*.pid; do
        [ -e "$f" ] && names+=("$(basename "$f" .pid)")
      done
    fi ;;
  master)
    port=${PODIUM_PORT:-7100}
    frontends=127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2)),127.0.0.1:$((port + 3))
    client=$PODIUM_BUILD/client/podium-client
    [ -x "$client" ] || { echo "admin_stop: $client is not built; run ./scripts/run first" >&2; exit 1; }
    # shellcheck disable=SC2046 # the flags are words
    line=$("$client" --frontends="$frontends" $(podium_tls_flags "$VAR") frontends --json |
      grep '"master":true' | head -n 1) || { echo "admin_stop: no frontend of $frontends answers as master" >&2; exit 1; }
    address=$(sed 's/.*"address":"\([^"]*\)".*/\1/' <<<"$line")
    names=("frontend-$(( ${address##*:} - port ))") ;;
  all)
    for f in "$RUN"/*.pid; do
      [ -e "$f" ] && podium_alive "$(cat "$f")" && names+=("$(basename "$f" .pid)")
    done ;;
  *) echo "usage: scripts/admin_stop.sh backend [N]|etcd [N]|frontend [N]|master|client [N]|bard|haproxy|all [--graceful]" >&2
     exit 2 ;;
esac

[ ${#names[@]} -gt 0 ] || { echo "admin_stop: nothing of '$what' is running" >&2; exit 1; }
status=0
for name in "${names[@]}"; do
  file=$RUN/$name.pid
  if [ -f "$file" ] && pid=$(cat "$file") && podium_alive "$pid"; then
    kill -s "$signal" "$pid"
    echo "SIG$signal $name (pid $pid)"
  else
    echo "admin_stop: $name is not running" >&2
    status=1
  fi
done
exit "$status"
