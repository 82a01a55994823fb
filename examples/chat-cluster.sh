#!/usr/bin/env bash
# Starts a local 3-node wedge cluster on 127.0.0.1 with the chat app
# (examples/chat) deployed, prints each node's URL, and stops the nodes
# on Ctrl-C. Data lives in ./wedge-chat (delete it to start afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
./examples/chat/build.sh
mkdir -p wedge-chat
[ -f wedge-chat/token ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' > wedge-chat/token
[ -f wedge-chat/key ] || head -c 32 /dev/urandom | base64 > wedge-chat/key
TOKEN=$(cat wedge-chat/token)
KEY=$(cat wedge-chat/key)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for i in 1 2 3; do
	http=$((8070 + 10 * i)); admin=$((http + 1)); gossip=$((7945 + i))
	join=""
	[ "$i" -gt 1 ] && join="--join 127.0.0.1:7946"
	# The token and key go through the environment, not the command line
	# (which every local user can read in ps).
	WEDGE_ADMIN_TOKEN="$TOKEN" WEDGE_CLUSTER_KEY="$KEY" \
		bin/wedge serve --http 127.0.0.1:$http --admin 127.0.0.1:$admin --data wedge-chat/n$i \
		--node-name chat-$i --gossip 127.0.0.1:$gossip $join --cluster-preset local \
		--log-level warn > wedge-chat/n$i.log 2>&1 &
	pids+=($!)
done
for i in 1 2 3; do
	for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$((8070 + 10 * i + 1))/healthz" >/dev/null && break; sleep 0.1; done
done
WEDGE_ADMIN=http://127.0.0.1:8081 WEDGE_ADMIN_TOKEN="$TOKEN" bin/wedge deploy examples/chat --no-build
WEDGE_ADMIN=http://127.0.0.1:8081 WEDGE_ADMIN_TOKEN="$TOKEN" bin/wedge nodes
echo
echo "chat is served by every node (deployed on chat-1, replicated by gossip):"
for i in 1 2 3; do echo "  http://127.0.0.1:$((8070 + 10 * i))/   (node chat-$i)"; done
echo "admin token: wedge-chat/token; logs: wedge-chat/n*.log; press Ctrl-C to stop"
wait
