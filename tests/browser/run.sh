#!/usr/bin/env bash
# The live page in a real browser (issue 15 item 5): Debian's Chromium,
# headless, driven by playwright-core (live_page_test.mjs) through HAProxy
# in front of three push-mode frontends and a backend, all on free loopback
# ports, state in a temp folder.
#
#   tests/browser/run.sh [BUILD_DIR] [--screenshot=FILE]
#
# BUILD_DIR defaults to $PODIUM_BUILD, then build/. The page is this
# checkout's web/ (--web_root). A desktop screenshot is saved to
# BUILD_DIR/browser-test/live-page.png, and to FILE too with --screenshot
# (docs/img/live-page.png is the README's). Logs of every process are kept
# in BUILD_DIR/browser-test/ and their tails printed on failure.
#
# Installs tests/browser's node_modules (npm ci, playwright-core) when
# missing or stale, and Chromium (Debian's) when missing. Exit 77 (skipped)
# only when Chromium is missing and cannot be installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=
SCREENSHOT=
for arg in "$@"; do
  case "$arg" in
    --screenshot=*) SCREENSHOT=$(realpath -m "${arg#--screenshot=}") ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option '$arg'" >&2; exit 2 ;;
    *) BUILD=$arg ;;
  esac
done
BUILD=$(realpath -m "${BUILD:-${PODIUM_BUILD:-$ROOT/build}}")
CHROMIUM=${PODIUM_CHROMIUM:-/usr/bin/chromium}
OUT=$BUILD/browser-test
# Every process's deadline to come up.
START_SECONDS=20

log() { printf '[browser_test] %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
skip() { echo "browser_test: skipped: $*"; exit 77; }

for binary in backend/podium-backend frontend/podium-frontend bard/podium-bard; do
  [ -x "$BUILD/$binary" ] || fail "$BUILD/$binary is missing: build it (./scripts/test does)"
done
command -v node >/dev/null && command -v npm >/dev/null ||
  fail "node and npm are needed (Node.js 20 or later)"
command -v haproxy >/dev/null || fail "haproxy is missing: install it (./scripts/test does)"
command -v curl >/dev/null || fail "curl is missing: install it (./scripts/test does)"

# shellcheck source=../../scripts/lib.sh
PODIUM_BUILD=$BUILD source "$ROOT/scripts/lib.sh"
if [ ! -x "$CHROMIUM" ]; then
  log "$CHROMIUM is missing: installing Debian's chromium"
  podium_install_deps chromium >&2 || true
  [ -x "$CHROMIUM" ] || skip "$CHROMIUM is missing and could not be installed (apt-get install chromium)"
fi
podium_browser_npm_ci || fail "npm ci in tests/browser failed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/podium-browser.XXXXXX")
rm -rf "$OUT"
mkdir -p "$OUT"
PIDS=()   # every server started, in order
NODE_PID=
cleanup() {
  local status=$? pid i
  trap - EXIT INT TERM
  # The test runs in a process group of its own, Chromium with it:
  # SIGTERM lets Playwright close the browser, then the group is killed.
  # (Grouped with stderr closed: bash would report each killed job.)
  {
    if [ -n "$NODE_PID" ]; then
      kill -TERM -- "-$NODE_PID" || true
      for i in $(seq 1 50); do podium_alive "$NODE_PID" || break; sleep 0.1; done
      kill -KILL -- "-$NODE_PID" || true
    fi
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" || true; done
    wait || true
  } 2>/dev/null
  cp "$TMP"/*.log "$TMP"/haproxy.cfg "$OUT"/ 2>/dev/null || true
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for file in "$OUT"/*.log; do
      [ -e "$file" ] || continue
      printf '\n----- last lines of %s -----\n' "$file" >&2
      tail -n 25 "$file" >&2
    done
    log "logs kept in $OUT"
  fi
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# --- ports: the flock convention of harness/subprocess.h -----------
# Below the kernel's ephemeral range (no outgoing connection takes them),
# reserved against other test processes by an flock on
# $TMPDIR/podium-test-ports/PORT.lock, held until this script exits.
port_folder=${TMPDIR:-/tmp}/podium-test-ports
mkdir -p "$port_folder"
chmod 1777 "$port_folder" 2>/dev/null || true
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral_low=32768
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# free_port VAR: a reserved free port into VAR.
free_port() {
  local _port _fd _attempt
  for _attempt in $(seq 1 1000); do
    _port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    exec {_fd}>"$port_folder/$_port.lock"
    if flock -n "$_fd" && port_free "$_port"; then
      printf -v "$1" '%s' "$_port"
      return 0
    fi
    exec {_fd}>&-
  done
  fail "no free port below $ephemeral_low"
}

# wait_until SECONDS WHAT PID COMMAND...: polls COMMAND every 0.1 s until it
# succeeds; fails at the deadline, or at once when process PID is gone.
wait_until() {
  local seconds=$1 what=$2 pid=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  while ! "$@"; do
    podium_alive "$pid" || fail "$what exited while starting"
    [ "$SECONDS" -lt "$deadline" ] || fail "$what not up within ${seconds}s"
    sleep 0.1
  done
}
http_ok() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ]; }
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

token() { head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
token >"$TMP/write.token"
token >"$TMP/cluster.token"

# --- the backend ---------------------------------------------------------
free_port backend_port
BACKEND=127.0.0.1:$backend_port
# The frontends post fans' messages with the cluster token.
"$BUILD/backend/podium-backend" --listen="$BACKEND" --db="$TMP/podium.db" \
  --write_token_file="$TMP/write.token" --cluster_token_file="$TMP/cluster.token" \
  >"$TMP/backend.log" 2>&1 &
PIDS+=($!)
wait_until "$START_SECONDS" "podium-backend" "$!" tcp_open "$backend_port"

# --- three frontends in push mode, each with its HTTP plane --------------
grpc=() peer=() http=()
for i in 0 1 2; do
  free_port port; grpc+=("127.0.0.1:$port")
  free_port port; peer+=("127.0.0.1:$port")
  free_port port; http+=("127.0.0.1:$port")
done
peers=$(IFS=,; echo "${peer[*]}")
frontend_pids=()
for i in 0 1 2; do
  "$BUILD/frontend/podium-frontend" --listen="${grpc[$i]}" --peer_listen="${peer[$i]}" \
    --peers="$peers" --cluster_token_file="$TMP/cluster.token" --backend="$BACKEND" \
    --cache=push --http_listen="${http[$i]}" --web_root="$ROOT/web" \
    >"$TMP/frontend-$((i + 1)).log" 2>&1 &
  PIDS+=($!)
  frontend_pids+=($!)
done
for i in 0 1 2; do
  wait_until "$START_SECONDS" "frontend-$((i + 1))" "${frontend_pids[$i]}" \
    http_ok "http://${http[$i]}/healthz"
done

# --- HAProxy in front of their HTTP ports --------------------------------
[ -x "$ROOT/scripts/haproxy_config.sh" ] || [ -f "$ROOT/scripts/haproxy_config.sh" ] ||
  fail "scripts/haproxy_config.sh is missing"
free_port proxy_port
URL=http://127.0.0.1:$proxy_port
bash "$ROOT/scripts/haproxy_config.sh" "127.0.0.1:$proxy_port" "${http[@]}" >"$TMP/haproxy.cfg" ||
  fail "scripts/haproxy_config.sh failed"
haproxy -f "$TMP/haproxy.cfg" -db >"$TMP/haproxy.log" 2>&1 &
PIDS+=($!)
wait_until "$START_SECONDS" "haproxy" "$!" http_ok "$URL/healthz"
log "backend $BACKEND, frontends ${http[*]}, haproxy $URL"

# --- the test ------------------------------------------------------------
export PODIUM_URL=$URL PODIUM_BACKEND=$BACKEND PODIUM_WRITE_TOKEN_FILE=$TMP/write.token
export PODIUM_BARD=$BUILD/bard/podium-bard PODIUM_CHROMIUM=$CHROMIUM
export PODIUM_FRONTENDS_HTTP=$(IFS=,; echo "${http[*]}")
export PODIUM_FRONTEND_PIDS=$(IFS=,; echo "${frontend_pids[*]}")
export PODIUM_SCREENSHOT=$OUT/live-page.png PODIUM_SCREENSHOT_COPY=$SCREENSHOT
export PODIUM_ARTIFACTS=$OUT
# A process group of its own (setsid), so that cleanup reaches Chromium;
# waited for in the background, so that a signal to this script is handled
# at once.
setsid node --test --test-reporter=spec "$ROOT/tests/browser/live_page_test.mjs" &
NODE_PID=$!
set +e
wait "$NODE_PID" 2>/dev/null  # (bash reports the frontend the test SIGKILLs)
status=$?
set -e
exit "$status"
