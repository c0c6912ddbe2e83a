#!/usr/bin/env bash
# A frozen instance under load: what clients of the gateway see.
#
#   bench/gray.sh [frozen-seconds]      (default 20)
#
# Starts its own etcd, hub, user, two post instances and a gateway on ports 23891, 28104-28108 (not the local run's
# nor bench/gateway.sh's), then drives GET /post?pageSize=10 (idempotent; both post instances answer 200 from their
# own empty store) through the gateway with wrk, 8 connections in a closed loop, for 10 s + frozen + 10 s. After 5 s
# one post instance gets SIGSTOP, and SIGCONT after the frozen seconds. Prints requests served and failed (non-2xx
# answers and requests with no answer within 10 s), p50, p99 and max latency, and the gateway's hedge and retry
# counters. Extra gateway settings go through the environment, e.g.
#   GATEWAY_HEDGING_DELAY=PT0S bench/gray.sh      (no hedging)
# SKIP_BUILD=1 uses the jars already built.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

FROZEN=${1:-20}
declare -A PORT=([etcd]=23891 [hub]=28104 [postA]=28105 [user]=28106 [postB]=28107 [gateway]=28108)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
require_free_ports etcd="${PORT[etcd]}" hub="${PORT[hub]}" postA="${PORT[postA]}" postB="${PORT[postB]}" \
                   user="${PORT[user]}" gateway="${PORT[gateway]}"
if [ -z "${SKIP_BUILD:-}" ]; then
    echo "building..."
    ./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway -am
fi

WORK=$(mktemp -d /tmp/switchboard-gray.XXXXXX)
trap 'kill -CONT "${PID[postA]:-0}" 2>/dev/null || true; stack_cleanup; rm -rf "$WORK"' EXIT

echo "starting etcd, hub, user, post x2, gateway (logs in $WORK)..."
start_etcd "${PORT[etcd]}" 23892
HUB=127.0.0.1:${PORT[hub]}
start_java hub "${PORT[hub]}" modules/hub/target/hub.jar ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd]}"
start_java user "${PORT[user]}" modules/user/target/user.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/user"
start_java postA "${PORT[postA]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/postA"
start_java postB "${PORT[postB]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/postB"
# the gateway's own settings (GATEWAY_*) come from this script's environment
start_java gateway "${PORT[gateway]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB

URL=http://127.0.0.1:${PORT[gateway]}/post?pageSize=10
echo "warming up (15 s)..."
wrk -t2 -c8 -d15s "$URL" >/dev/null

DURATION=$((FROZEN + 15))
echo "measuring: $DURATION s of load at 8 connections, post instance A frozen from 5 s to $((5 + FROZEN)) s"
wrk -t2 -c8 -d"${DURATION}s" --timeout 10s --latency "$URL" >"$WORK/wrk.txt" &
WRK=$!
sleep 5
kill -STOP "${PID[postA]}"
sleep "$FROZEN"
kill -CONT "${PID[postA]}"
wait $WRK

out=$(cat "$WORK/wrk.txt")
served=$(echo "$out" | awk '/requests in/{print $1}')
non2xx=$(echo "$out" | awk '/Non-2xx/{print $NF}')
timeouts=$(echo "$out" | sed -n 's/.*timeout \([0-9]*\).*/\1/p')
printf 'frozen %s s: requests=%s failed=%s (non-2xx %s, no answer %s) p50=%s p99=%s max=%s\n' "$FROZEN" "$served" \
    "$(( ${non2xx:-0} + ${timeouts:-0} ))" "${non2xx:-0}" "${timeouts:-0}" \
    "$(echo "$out" | awk '$1=="50%"{print $2}')" "$(echo "$out" | awk '$1=="99%"{print $2}')" \
    "$(echo "$out" | awk '$1=="Latency"{print $4}')"
curl -s "http://127.0.0.1:$((PORT[gateway] + 1000))/observe/metrics" | grep -E '^switchboard_gateway_upstream_retried' || true
