#!/usr/bin/env bash
# No single point of failure across hosts (issue 14 item 5). Three hosts,
# each a network namespace of this test's own with an etcd member, a
# podium-backend (--store=etcd) and a podium-frontend, joined by veth pairs
# to a bridge in a fourth namespace, from which the bard writes and a
# podium-client watches. One whole host is taken down (every process in it
# SIGKILLed, its link dropped) in the middle of the writes and brought back:
# the host of etcd's leader.
#
#   tests/hosts_test.sh BUILD_DIR
#
# Then a member is cut off from the others under writes: podium-admin
# checksum disagrees, naming it, and agrees once the cut is healed.
#
# Checks: the bard's replay ends with every award applied exactly once;
# the watcher received every change of its team in order (conflation only
# where flagged) up to the last; the revived host's backend serves the
# same tally; the longest pause between two accepted writes is printed and
# stays under 5 s (etcd elects a new leader within about its election
# timeout, 1 s by default). Addresses (10.77.0.0/24) exist only inside the
# namespaces, which are deleted at the end, whatever happens. Exit 77
# (skipped) where namespaces cannot be made: not root, no ip, no netns.
set -euo pipefail
BUILD=${1:?usage: hosts_test.sh BUILD_DIR}
AWARDS=${HOSTS_TEST_AWARDS:-3000}

skip() { echo "hosts_test: skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || skip "making network namespaces needs root"
command -v ip >/dev/null || skip "no ip command (Debian's iproute2)"
[ -x /usr/bin/etcd ] || fail "/usr/bin/etcd is missing: install etcd-server (./scripts/test does)"

TAG=pdm$$
HOSTS=("${TAG}h1" "${TAG}h2" "${TAG}h3")
CLIENT=${TAG}c
TMP=$(mktemp -d)
declare -A PIDS  # host index -> its processes' pids
cleanup() {
  local i pid
  for i in "${!PIDS[@]}"; do
    for pid in ${PIDS[$i]}; do kill -9 "$pid" 2>/dev/null || true; done
  done
  [ -n "${WATCH:-}" ] && kill -9 "$WATCH" 2>/dev/null
  [ -n "${BARD:-}" ] && kill -9 "$BARD" 2>/dev/null
  wait 2>/dev/null || true
  for ns in "${HOSTS[@]}" "$CLIENT"; do ip netns del "$ns" 2>/dev/null || true; done
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs in $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

ip netns add "$CLIENT" 2>"$TMP/netns.err" || skip "ip netns add failed: $(cat "$TMP/netns.err")"
ip -n "$CLIENT" link set lo up
ip -n "$CLIENT" link add br0 type bridge
ip -n "$CLIENT" addr add 10.77.0.100/24 dev br0
ip -n "$CLIENT" link set br0 up
for i in 1 2 3; do
  ns=${HOSTS[$((i - 1))]}
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "vh$i" netns "$ns" type veth peer name "vb$i" netns "$CLIENT"
  ip -n "$CLIENT" link set "vb$i" master br0 up
  ip -n "$ns" addr add "10.77.0.$i/24" dev "vh$i"
  ip -n "$ns" link set "vh$i" up
done

echo test-token > "$TMP/write.token"
echo test-cluster > "$TMP/cluster.token"
in_client() { ip netns exec "$CLIENT" "$@"; }
client() { in_client "$BUILD/client/podium-client" "$@"; }

# wait_for SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_for() {
  local limit=$1 i
  shift
  for i in $(seq 1 $((limit * 5))); do "$@" && return 0; sleep 0.2; done
  return 1
}

# The others of host i, its own first: each process prefers what is local.
ordered() {
  local i=$1 port=$2 j out
  out="10.77.0.$i:$port"
  for j in 1 2 3; do [ "$j" = "$i" ] || out="$out,10.77.0.$j:$port"; done
  echo "$out"
}
INITIAL=h1=http://10.77.0.1:2380,h2=http://10.77.0.2:2380,h3=http://10.77.0.3:2380
start_etcd() {
  local i=$1 ns=${HOSTS[$(($1 - 1))]}
  ip netns exec "$ns" /usr/bin/etcd --name="h$i" --data-dir="$TMP/h$i/etcd" \
    --listen-client-urls="http://10.77.0.$i:2379" --advertise-client-urls="http://10.77.0.$i:2379" \
    --listen-peer-urls="http://10.77.0.$i:2380" --initial-advertise-peer-urls="http://10.77.0.$i:2380" \
    --initial-cluster="$INITIAL" --initial-cluster-state=new --initial-cluster-token="$TAG" \
    --logger=zap --log-outputs=stderr >>"$TMP/h$i/etcd.log" 2>&1 &
  PIDS[$i]="$!"
}
start_podium() {
  local i=$1 ns=${HOSTS[$(($1 - 1))]}
  ip netns exec "$ns" "$BUILD/backend/podium-backend" --listen="10.77.0.$i:7100" --store=etcd \
    --etcd="$(ordered "$i" 2379)" --write_token_file="$TMP/write.token" >>"$TMP/h$i/backend.log" 2>&1 &
  PIDS[$i]="${PIDS[$i]} $!"
  wait_for 30 client --backend="10.77.0.$i:7100" health >/dev/null 2>&1 ||
    fail "backend $i not healthy: $(tail -5 "$TMP/h$i/backend.log")"
  ip netns exec "$ns" "$BUILD/frontend/podium-frontend" --listen="10.77.0.$i:7101" \
    --peer_listen="10.77.0.$i:7111" --peers=10.77.0.1:7111,10.77.0.2:7111,10.77.0.3:7111 \
    --cluster_token_file="$TMP/cluster.token" --backend="$(ordered "$i" 7100)" --cache=push \
    >>"$TMP/h$i/frontend.log" 2>&1 &
  PIDS[$i]="${PIDS[$i]} $!"
  wait_for 30 client --backend="10.77.0.$i:7101" health >/dev/null 2>&1 ||
    fail "frontend $i not healthy: $(tail -5 "$TMP/h$i/frontend.log")"
}
etcd_healthy() {
  in_client etcdctl --endpoints=http://10.77.0.1:2379,http://10.77.0.2:2379,http://10.77.0.3:2379 \
    endpoint health >/dev/null 2>&1
}

for i in 1 2 3; do mkdir -p "$TMP/h$i"; start_etcd "$i"; done
wait_for 30 etcd_healthy || fail "etcd did not become healthy: $(tail -3 "$TMP/h1/etcd.log")"
for i in 1 2 3; do start_podium "$i"; done

gold_at() {  # gold_at BACKEND: Gauls' gold as that backend serves it ("" if it cannot)
  { client --backend="$1" --json get-medals Gauls 2>/dev/null || true; } |
    sed -n 's/.*"gold":\([0-9]*\).*/\1/p'
}
gold_reached() { local g; g=$(gold_at "$1"); [ -n "$g" ] && [ "$g" -ge "$2" ]; }

FRONTENDS=10.77.0.1:7101,10.77.0.2:7101,10.77.0.3:7101
# Started with ip netns exec itself, not a shell function, so that $! is
# the program (ip execs it) and cleanup's kill reaches it.
ip netns exec "$CLIENT" "$BUILD/client/podium-client" --frontends="$FRONTENDS" --json watch --medals \
  >"$TMP/watch.jsonl" 2>"$TMP/watch.log" &
WATCH=$!
for _ in $(seq 1 "$AWARDS"); do echo "award Gauls gold"; done >"$TMP/awards.replay"
ip netns exec "$CLIENT" "$BUILD/bard/podium-bard" --backend=10.77.0.1:7100,10.77.0.2:7100,10.77.0.3:7100 \
  --write_token_file="$TMP/write.token" --retry_budget=120s replay "$TMP/awards.replay" \
  >"$TMP/bard.out" 2>"$TMP/bard.log" &
BARD=$!

# The host down is the one whose etcd member leads: the worst case, a
# write in flight there is lost with the leader and the others elect anew.
leader_host() {
  in_client etcdctl --endpoints=http://10.77.0.1:2379,http://10.77.0.2:2379,http://10.77.0.3:2379 \
    endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s["Status"]["header"]["member_id"] == s["Status"]["leader"]:
        print(s["Endpoint"].split("10.77.0.")[1].split(":")[0])'
}
wait_for 60 gold_reached 10.77.0.2:7100 $((AWARDS / 4)) || fail "writes never reached $((AWARDS / 4))"
kill -0 "$BARD" 2>/dev/null || fail "the bard finished before the host went down"
down=$(leader_host)
[ -n "$down" ] || fail "no etcd member says it leads"
up=$((down % 3 + 1))
for pid in ${PIDS[$down]}; do kill -9 "$pid"; done
PIDS[$down]=""
ip -n "$CLIENT" link set "vb$down" down
wait_for 10 gold_reached "10.77.0.$up:7100" 1 || fail "backend $up does not answer after host $down went down"
down_at=$(gold_at "10.77.0.$up:7100")
echo "hosts_test: host $down (etcd's leader) down at gold $down_at"
wait_for 60 gold_reached "10.77.0.$up:7100" $((down_at + AWARDS / 4)) ||
  fail "writes did not go on without host $down (gold $(gold_at "10.77.0.$up:7100"))"

ip -n "$CLIENT" link set "vb$down" up
start_etcd "$down"
start_podium "$down"
echo "hosts_test: host $down back at gold $(gold_at "10.77.0.$up:7100")"

wait "$BARD" || fail "the bard failed: $(tail -5 "$TMP/bard.log")"
BARD=
for i in 1 2 3; do
  wait_for 20 gold_reached "10.77.0.$i:7100" "$AWARDS" ||
    fail "backend $i serves gold $(gold_at "10.77.0.$i:7100"), not $AWARDS"
  g=$(gold_at "10.77.0.$i:7100")
  [ "$g" = "$AWARDS" ] || fail "backend $i counts $g awards of $AWARDS: one applied twice"
done
watched_all() { grep -q "\"team\":\"Gauls\",\"gold\":$AWARDS," "$TMP/watch.jsonl"; }
wait_for 20 watched_all || fail "the watcher never saw gold $AWARDS: $(tail -3 "$TMP/watch.jsonl")"

client --backend="10.77.0.$up:7100" --json history Gauls >"$TMP/history.jsonl" ||
  fail "no history: $(cat "$TMP/history.jsonl")"
python3 - "$TMP/watch.jsonl" "$TMP/history.jsonl" "$AWARDS" <<'EOF' || exit 1
import json, sys
watch, history, awards = sys.argv[1], sys.argv[2], int(sys.argv[3])
gold, version, conflated = None, 0, 0
for line in open(watch):
    u = json.loads(line)
    if u.get("team") != "Gauls":
        continue
    if gold is not None:
        if u["version"] <= version:
            sys.exit(f"FAIL: watcher: version {u['version']} after {version}")
        if not u.get("snapshot") and not u.get("conflated") and u["gold"] != gold + 1:
            sys.exit(f"FAIL: watcher: gold {u['gold']} after {gold}, not flagged: a change lost")
        conflated += bool(u.get("conflated"))
    gold, version = u["gold"], u["version"]
if gold != awards:
    sys.exit(f"FAIL: watcher ended at gold {gold}, not {awards}")
times = [json.loads(l)["updated_unix_micros"] for l in open(history) if '"gold"' in l]
if len(times) != awards:
    sys.exit(f"FAIL: history holds {len(times)} changes, not {awards}")
pause = max(b - a for a, b in zip(times, times[1:])) / 1e6
print(f"hosts_test: watcher saw every change ({conflated} conflated); "
      f"longest pause between accepted writes {pause:.2f} s")
if pause > 5:
    sys.exit(f"FAIL: writes paused {pause:.2f} s, longer than a leader election")
EOF

# Convergence (issue 14 item 6): one member cut off from the other two (its
# host drops what it sends them; the client's namespace still reaches it)
# while the bard writes. podium-admin checksum says DISAGREE, naming it;
# healed, the same check agrees, with the writes still going on.
admin() {
  in_client "$BUILD/tools/admin/podium-admin" --etcd=10.77.0.1:2379,10.77.0.2:2379,10.77.0.3:2379 \
    --backends=10.77.0.1:7100,10.77.0.2:7100,10.77.0.3:7100 --timeout=1s "$@"
}
admin checksum >"$TMP/sum0.txt" || fail "not converged before the partition: $(cat "$TMP/sum0.txt")"
for _ in $(seq 1 "$AWARDS"); do echo "award Romans silver"; done >"$TMP/more.replay"
ip netns exec "$CLIENT" "$BUILD/bard/podium-bard" --backend=10.77.0.1:7100,10.77.0.2:7100,10.77.0.3:7100 \
  --write_token_file="$TMP/write.token" --retry_budget=120s replay "$TMP/more.replay" \
  >"$TMP/bard2.out" 2>"$TMP/bard2.log" &
BARD=$!
silver_reached() {
  local s
  s=$({ client --backend="10.77.0.$up:7100" --json get-medals Romans 2>/dev/null || true; } |
    sed -n 's/.*"silver":\([0-9]*\).*/\1/p')
  [ -n "$s" ] && [ "$s" -ge "$1" ]
}
wait_for 30 silver_reached 100 || fail "the second replay did not start"
cut=$up
for j in 1 2 3; do [ "$j" = "$cut" ] || ip -n "${HOSTS[$((cut - 1))]}" route add blackhole "10.77.0.$j/32"; done
disagrees() {
  ! admin checksum >"$TMP/sum1.txt" && grep -q "DISAGREE: etcd member 10.77.0.$cut:2379" "$TMP/sum1.txt"
}
wait_for 20 disagrees || fail "the checksum did not see member $cut cut off: $(cat "$TMP/sum1.txt")"
echo "hosts_test: member $cut cut off: $(tail -1 "$TMP/sum1.txt")"
for j in 1 2 3; do [ "$j" = "$cut" ] || ip -n "${HOSTS[$((cut - 1))]}" route del blackhole "10.77.0.$j/32"; done
wait_for 30 admin checksum >"$TMP/sum2.txt" || fail "no agreement after healing: $(cat "$TMP/sum2.txt")"
kill -0 "$BARD" 2>/dev/null || fail "the replay ended before the check agreed: not under writes (raise HOSTS_TEST_AWARDS)"
echo "hosts_test: healed, under writes: $(head -1 "$TMP/sum2.txt"), $(tail -1 "$TMP/sum2.txt")"
wait "$BARD" || fail "the second bard failed: $(tail -5 "$TMP/bard2.log")"
BARD=
for i in 1 2 3; do
  wait_for 20 bash -c "[ \"\$(ip netns exec $CLIENT $BUILD/client/podium-client --backend=10.77.0.$i:7100 --json get-medals Romans 2>/dev/null | sed -n 's/.*\"silver\":\([0-9]*\).*/\1/p')\" = $AWARDS ]" ||
    fail "backend $i does not count $AWARDS silvers"
done
admin checksum >"$TMP/sum3.txt" || fail "no agreement at the end: $(cat "$TMP/sum3.txt")"
echo "hosts_test: 1 passed, 0 failed"
