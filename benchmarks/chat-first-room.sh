#!/usr/bin/env bash
# Time to the first chat rooms after a deploy on a 3-node local cluster
# (docs/RATIONALE.md, "Cluster installs"):
#
#   benchmarks/chat-first-room.sh [BIN]      (default bin/wedge; build
#                                             examples/chat first)
#
# Starts three `wedge serve --cluster-preset local` nodes on 127.0.0.1
# with a cluster key, runs `wedge deploy examples/chat --no-build` on node
# 1, registers and logs in alice on node 1, then tries PUT
# /api/rooms/room-{a..f} through node 1 every 200 ms until each answers
# 201 (six rooms: their owners cover the nodes), for up to 240 s. Prints
# when each room was created, counted from the deploy returning, the
# refusals, and when nodes 2 and 3 serve the four functions (the install
# time). SEED=DIR copies DIR into node 1's data directory as its
# artifacts/ (the artifacts of an earlier deploy of the app: a warm node
# 1, so that its own compilation, which can outlast the client's 5 min
# timeout on a busy machine, is not measured).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-bin/wedge}
D=$(mktemp -d /tmp/wedge-first-room.XXXX)
TOKEN=tok$RANDOM$RANDOM
KEY=$(head -c 32 /dev/urandom | base64)
base=$((20000 + RANDOM % 20000))
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT
mkdir -p $D/n1 && { [ -z "${SEED:-}" ] || cp -r "$SEED" $D/n1/artifacts; }
for i in 1 2 3; do
  http=$((base + 10*i)); admin=$((http+1)); gossip=$((http+2))
  join=""; [ $i -gt 1 ] && join="--join 127.0.0.1:$((base+12))"
  WEDGE_ADMIN_TOKEN=$TOKEN WEDGE_CLUSTER_KEY=$KEY $BIN serve --http 127.0.0.1:$http --admin 127.0.0.1:$admin --data $D/n$i \
    --node-name chat-$i --gossip 127.0.0.1:$gossip $join --cluster-preset local --log-level info > $D/n$i.log 2>&1 &
  pids+=($!)
  sleep 0.3
done
for i in 1 2 3; do for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$((base+10*i+1))/healthz >/dev/null && break; sleep 0.1; done; done
sleep 2
u1=http://127.0.0.1:$((base+10)); u2=http://127.0.0.1:$((base+20)); u3=http://127.0.0.1:$((base+30))
el() { echo "$(date +%s.%N) - $1" | bc | xargs printf '%.2f'; }
t0=$(date +%s.%N)
WEDGE_ADMIN=http://127.0.0.1:$((base+11)) WEDGE_ADMIN_TOKEN=$TOKEN $BIN deploy examples/chat --no-build >/dev/null || { echo deploy failed; exit 1; }
t1=$(date +%s.%N)
echo "deploy returned after $(el $t0) s"
curl -s -o /dev/null -w 'register %{http_code}\n' -H 'Content-Type: application/json' -X POST $u1/api/auth/register -d '{"username":"alice","password":"correct horse battery"}'
tok=$(curl -s -H 'Content-Type: application/json' -X POST $u1/api/auth/login -d '{"username":"alice","password":"correct horse battery"}' | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/')
echo "logged in $(el $t1) s after the deploy (token ${tok:0:8}...)"
# Six rooms, each tried through node 1 (where the app was deployed, as a
# user of its UI would) until it is created: their owners cover the nodes.
: > $D/fails; declare -A done_at=(); n=0; created=0
while [ $created -lt 6 ]; do
  n=$((n+1))
  for r in a b c d e f; do
    [ -n "${done_at[$r]:-}" ] && continue
    code=$(curl -s -o $D/last -w '%{http_code}' -X PUT -H "Authorization: Bearer $tok" $u1/api/rooms/room-$r)
    if [ "$code" = 201 ]; then done_at[$r]=$(el $t1); created=$((created+1)); else echo "$(el $t1) room-$r $code $(head -c 100 $D/last | tr '\n' ' ')" >> $D/fails; fi
  done
  [ "$(echo "$(date +%s.%N) - $t1 > 240" | bc)" = 1 ] && { echo "timeout"; break; }
  sleep 0.2
done
echo "rooms created (s after the deploy returned): $(for r in a b c d e f; do printf '%s=%s ' $r "${done_at[$r]:-never}"; done)"
echo "failed attempts: $(wc -l < $D/fails)"; head -1 $D/fails; tail -1 $D/fails
# When did the peers finish installing the four functions?
for i in 2 3; do
  for _ in $(seq 1 1200); do
    c=$(curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$((base+10*i+1))/v1/functions | grep -o '"name"' | wc -l)
    [ "$c" -ge 4 ] && { echo "node $i serves the 4 functions $(el $t1) s after the deploy returned"; break; }
    sleep 0.2
  done
done
grep -h "installed function" $D/n2.log $D/n3.log | sed 's/^time=[^ ]* //'
echo data: $D
