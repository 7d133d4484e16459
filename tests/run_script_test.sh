#!/usr/bin/env bash
# ./scripts/run and scripts/admin_stop.sh as an operator uses them: in a
# terminal (a tmux server of the test's own, so an operator's session
# "podium" is never touched), on free ports, with state in a temp folder.
#
#   tests/run_script_test.sh BUILD_DIR
#
# Checks: panes show their titles and the live board; HAProxy serves the
# frontends' HTTP (/healthz, /api/board, an event stream), and admin_stop.sh
# haproxy and revive haproxy stop and restart it; logs are calm and
# capped; status sees a killed process as stopped at once; a restart after
# admin_stop.sh all works; admin_stop.sh master and --help; revive's usage;
# --tls runs the cluster over TLS that a plaintext client cannot read;
# --replicated --tls runs three etcd members and two backends (TLS to etcd
# too), and the board moves on while a member and a backend are killed,
# then revived.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PODIUM_BUILD=${1:?usage: run_script_test.sh BUILD_DIR}
TMP=$(mktemp -d)
export PODIUM_VAR=$TMP/var TMUX_TMPDIR=$TMP PODIUM_LOG_MAX_BYTES=1500
unset TMUX

fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() {
  "$ROOT/scripts/run" stop >/dev/null 2>&1 || true
  tmux kill-server 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# The ports ./scripts/run takes from PODIUM_PORT: the backend's, three
# frontends', a second backend's (PORT+4), their three peer ports (PORT+11
# to PORT+13), etcd's (PORT+21 to +23, +31 to +33), the frontends' HTTP
# ports (PORT+41 to +43) and HAProxy's (PORT+80, stats +81). They lie below
# the kernel's ephemeral range, where no outgoing connection can take them,
# and are reserved against other tests by the flock convention of
# harness/subprocess.h (TMPDIR/podium-test-ports/PORT.lock).
port_folder=${TMPDIR:-/tmp}/podium-test-ports
mkdir -p "$port_folder"
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral_low=32768
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
reserve_ports() {
  local p fd
  for p in 0 1 2 3 4 11 12 13 21 22 23 31 32 33 41 42 43 80 81; do
    exec {fd}>"$port_folder/$(($1 + p)).lock"
    if ! flock -n "$fd" || ! port_free $(($1 + p)); then
      exec {fd}>&-
      return 1
    fi
  done
}
base=
for _ in $(seq 1 50); do
  candidate=$((10000 + RANDOM % (ephemeral_low - 10000 - 82)))
  if reserve_ports "$candidate"; then base=$candidate; break; fi
done
[ -n "$base" ] || { echo "no free run of ports below $ephemeral_low" >&2; exit 1; }
export PODIUM_PORT=$base

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local limit=$1 i
  shift
  for i in $(seq 1 $((limit * 5))); do "$@" && return 0; sleep 0.2; done
  return 1
}

# ./scripts/run with a terminal: in a pane of a driver session, its exit
# status written to a file, its output read back from the pane.
start_in_terminal() {
  rm -f "$TMP/run.rc"
  tmux new-session -d -s "driver$1" -x 200 -y 50 \
    "$ROOT/scripts/run; echo \$? > $TMP/run.rc; sleep 600"
  wait_for 120 test -s "$TMP/run.rc" || fail "./scripts/run did not finish"
  tmux capture-pane -p -S - -t "driver$1" > "$TMP/run$1.out"
  tmux kill-session -t "driver$1"
  [ "$(cat "$TMP/run.rc")" = 0 ] || fail "./scripts/run failed: $(cat "$TMP/run$1.out")"
}

start_in_terminal 1
tmux has-session -t podium || fail "no tmux session 'podium'"
[ "$(tmux show-options -v -t podium pane-border-status)" = top ] ||
  fail "pane titles are not shown"
titles=$(tmux list-panes -t podium -F '#{pane_title}' | sort | tr '\n' ' ')
[ "$titles" = "backend bard client-1 client-2 frontend-1 frontend-2 frontend-3 haproxy " ] ||
  fail "pane titles: $titles"

# HAProxy in front of the frontends' HTTP ports: the URL printed, then
# /healthz, the board as JSON and an event stream through it.
haproxy_url=http://127.0.0.1:$((PODIUM_PORT + 80))
grep -q "$haproxy_url/" "$TMP/run1.out" || fail "./scripts/run does not print $haproxy_url/: $(cat "$TMP/run1.out")"
http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$haproxy_url$1"; }
haproxy_healthy() { [ "$(http_code /healthz)" = 200 ]; }
wait_for 10 haproxy_healthy || fail "GET $haproxy_url/healthz: $(http_code /healthz)"
curl -fsS -m 5 -D "$TMP/board.headers" -o "$TMP/board.json" "$haproxy_url/api/board" ||
  fail "GET $haproxy_url/api/board failed"
grep -qi '^content-type: application/json' "$TMP/board.headers" ||
  fail "/api/board through HAProxy: $(cat "$TMP/board.headers")"
python3 -c 'import json, sys; board = json.load(open(sys.argv[1])); sys.exit(0 if board.get("events") else 1)' \
  "$TMP/board.json" || fail "/api/board through HAProxy is no board: $(head -c 300 "$TMP/board.json")"
# A stream starts with a snapshot of every key: its first update comes at
# once, unless HAProxy held the stream back.
bash -c "set +o pipefail; timeout 10 curl -sN '$haproxy_url/api/stream?events=*&medals=1' | grep -q -m 1 '^event: update'" ||
  fail "no event through HAProxy's /api/stream in 10 s"
# Killed, it is seen stopped and no longer answers; revived, it serves again.
out=$("$ROOT/scripts/admin_stop.sh" haproxy) || fail "admin_stop.sh haproxy: $out"
grep -q "^SIGKILL haproxy (pid" <<<"$out" || fail "admin_stop.sh haproxy: $out"
wait_for 2 bash -c "'$ROOT/scripts/run' status | grep -q '^haproxy  *stopped'" ||
  fail "status does not see haproxy stopped: $("$ROOT/scripts/run" status)"
haproxy_down() { [ "$(http_code /healthz)" = 000 ]; }
wait_for 5 haproxy_down || fail "$haproxy_url still answers after admin_stop.sh haproxy"
"$ROOT/scripts/run" revive haproxy 2>/dev/null || fail "revive haproxy"
wait_for 10 haproxy_healthy || fail "revived HAProxy: GET $haproxy_url/healthz: $(http_code /healthz)"

# The board pane is the live board, redrawn in place.
client1_pane=$(cat "$PODIUM_VAR/run/client-1.pane")
wait_for 30 bash -c "tmux capture-pane -p -t '$client1_pane' | grep -q 'Podium live'" ||
  fail "client-1 does not show the live board: $(tmux capture-pane -p -t "$client1_pane")"

# Calm logs: the bard's writes and the frontends' pushes are not logged one
# by one at the default level (a --verbose=1 backend logs every write).
wait_for 30 bash -c "grep -q '(v[0-9]' '$PODIUM_VAR/log/client-2.log'" ||
  fail "client-2 shows no updates"
if grep -q "RecordScore\|AwardMedal" "$PODIUM_VAR/log/backend.log"; then
  fail "the backend logs every write: $(tail -3 "$PODIUM_VAR/log/backend.log")"
fi
# Capped logs: some log soon passes the 1500-byte cap and is rotated; none
# is ever longer than the cap and a line.
wait_for 60 bash -c "ls '$PODIUM_VAR'/log/*.log.1 >/dev/null 2>&1" || fail "no log was ever rotated"
for log in "$PODIUM_VAR"/log/*.log; do
  size=$(stat -c %s "$log")
  [ "$size" -le 3000 ] || fail "$log is $size bytes, over its 1500-byte cap and a line"
done

# admin_stop.sh: help ends with the help; master kills the master.
help=$("$ROOT/scripts/admin_stop.sh" --help)
grep -q "set -euo" <<<"$help" && fail "admin_stop.sh --help prints code: $help"
grep -q "frontend \[N\]" <<<"$help" || fail "admin_stop.sh --help: $help"
out=$("$ROOT/scripts/admin_stop.sh" master) || fail "admin_stop.sh master: $out"
grep -q "^SIGKILL frontend-[123] (pid" <<<"$out" || fail "admin_stop.sh master: $out"
killed=$(sed 's/^SIGKILL \(frontend-[123]\).*/\1/' <<<"$out")
# Stopped at once, not while the killed process waits to be reaped.
wait_for 2 bash -c "'$ROOT/scripts/run' status | grep -q '^$killed  *stopped'" ||
  fail "status does not see $killed stopped: $("$ROOT/scripts/run" status)"

# revive: a usage message without a name; then the killed frontend is back.
set +e
out=$("$ROOT/scripts/run" revive 2>&1)
rc=$?
set -e
[ "$rc" = 2 ] || fail "revive without a name exited $rc"
grep -q "usage: ./scripts/run revive NAME; names: backend frontend-1" <<<"$out" ||
  fail "revive without a name: $out"
"$ROOT/scripts/run" revive "$killed" 2>/dev/null
wait_for 10 bash -c "'$ROOT/scripts/run' status | grep -q '^$killed  *running'" ||
  fail "$killed not revived"

# Everything killed, then started again in a terminal.
"$ROOT/scripts/admin_stop.sh" all >/dev/null
wait_for 5 bash -c "! '$ROOT/scripts/run' status >/dev/null" ||
  fail "status after admin_stop.sh all: $("$ROOT/scripts/run" status)"
start_in_terminal 2
grep -q "removing the stale tmux session" "$TMP/run2.out" || fail "$(cat "$TMP/run2.out")"
"$ROOT/scripts/run" status >/dev/null || fail "not running after the restart"
"$ROOT/scripts/run" stop 2>/dev/null

# --tls: a local CA under var/tls/, every process over TLS.
"$ROOT/scripts/run" --tls --background >"$TMP/tls.out" 2>&1 || fail "--tls: $(cat "$TMP/tls.out")"
[ -s "$PODIUM_VAR/tls/ca.pem" ] || fail "--tls made no CA"
client=$PODIUM_BUILD/client/podium-client
frontend=127.0.0.1:$((PODIUM_PORT + 1))
"$client" --frontends="$frontend" --tls_ca="$PODIUM_VAR/tls/ca.pem" board >"$TMP/board.out" 2>&1 ||
  fail "no board over TLS: $(cat "$TMP/board.out")"
if "$client" --frontends="$frontend" board >"$TMP/plain.out" 2>&1; then
  fail "a plaintext client read a TLS cluster"
fi
grep -q "if the cluster runs TLS, give --tls_ca" "$TMP/plain.out" || fail "$(cat "$TMP/plain.out")"
"$ROOT/scripts/admin_stop.sh" master >/dev/null || fail "admin_stop.sh master under TLS"
"$ROOT/scripts/run" stop 2>/dev/null

# --replicated: no single point of failure. Killing an etcd member and the
# first backend leaves the board moving; both come back with revive.
grep -q "etcd \[N\]" <<<"$help" || fail "admin_stop.sh --help does not name etcd: $help"
"$ROOT/scripts/run" --replicated --tls --background >"$TMP/repl.out" 2>&1 ||
  fail "--replicated: $(cat "$TMP/repl.out")"
for name in etcd-1 etcd-2 etcd-3 backend-1 backend-2 haproxy; do
  grep -q "^$name  *running" "$TMP/repl.out" || fail "--replicated: no $name: $(cat "$TMP/repl.out")"
done
# HAProxy and the HTTP plane stay plain HTTP under --tls.
[ "$(http_code /healthz)" = 200 ] || fail "--replicated --tls: GET $haproxy_url/healthz: $(http_code /healthz)"
board_seq() {
  "$client" --frontends="$frontend" --tls_ca="$PODIUM_VAR/tls/ca.pem" board --json 2>/dev/null |
    sed -n 's/^{"board_seq":\([0-9]*\)}$/\1/p'
}
before=$(board_seq)
[ -n "$before" ] || fail "--replicated: no board"
"$ROOT/scripts/admin_stop.sh" etcd 2 >/dev/null || fail "admin_stop.sh etcd 2"
"$ROOT/scripts/admin_stop.sh" backend 1 >/dev/null || fail "admin_stop.sh backend 1"
wait_for 20 bash -c "'$ROOT/scripts/run' status | grep -q '^etcd-2  *stopped'" || fail "etcd-2 not stopped"
# The bard writes about 5 a second; 10 more seqs mean writes went on.
seq_above() { local seq; seq=$(board_seq); [ -n "$seq" ] && [ "$seq" -gt "$1" ]; }
wait_for 30 seq_above $((before + 10)) ||
  fail "the board stopped at seq $(board_seq) (was $before) with etcd-2 and backend-1 down"
for name in etcd-2 backend-1; do
  "$ROOT/scripts/run" revive "$name" 2>/dev/null || fail "revive $name"
  wait_for 10 bash -c "'$ROOT/scripts/run' status | grep -q '^$name  *running'" || fail "$name not revived"
done
"$ROOT/scripts/run" stop 2>/dev/null
echo "run_script_test: 1 passed, 0 failed"
