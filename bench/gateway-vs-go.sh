#!/usr/bin/env bash
# This tree's gateway against the reference Go gateway (../shared/peers/seed-go), side by side in one run.
#
#   bench/gateway-vs-go.sh [rounds] [seconds-per-round]      (defaults 4 and 15)
#
# Builds the Go stack when /tmp/seed-go/bin has none (its build.sh installs Debian's Go packages), starts it on ports
# 18100-18108 (gateway on 18108) and this tree's etcd, hub, post, user and gateway on ports 23991 and 28204-28208,
# plaintext, creates one post on each, warms both gateways up for 30 s, then loads them in alternating rounds with
# GET /post/{id} at 64 connections, so that the machine's drift hits both alike. The Go gateway has no other route
# in common with ours (no list), and its post service keeps posts in memory where ours reads its database, so the
# figure that compares is the gateway process's CPU-us per request; prints each round, the medians and ours/Go.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

ROUNDS=${1:-4}
SECS=${2:-15}
WARMUP=30
SEED=../shared/peers/seed-go
SEED_BIN=/tmp/seed-go
declare -A PORT=([etcd]=23991 [hub]=28204 [post]=28205 [user]=28206 [gateway]=28208 [go]=18108)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
[ -d "$SEED" ] || { echo "error: the reference Go gateway is not at $SEED" >&2; exit 1; }
require_free_ports etcd="${PORT[etcd]}" hub="${PORT[hub]}" post="${PORT[post]}" user="${PORT[user]}" \
                   gateway="${PORT[gateway]}" go-etcd=18100 go-hub=18104 go-post=18105 go-user=18106 go="${PORT[go]}"

WORK=$(mktemp -d /tmp/switchboard-vs-go.XXXXXX)
trap 'stack_cleanup; "$SEED/stop-at.sh" "$WORK/go" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

if [ ! -x "$SEED_BIN/bin/gateway" ]; then
    echo "building the Go stack (log in $WORK/go-build.log)..."
    "$SEED/build.sh" "$SEED_BIN" >"$WORK/go-build.log" 2>&1 || { tail -20 "$WORK/go-build.log" >&2; exit 1; }
fi
echo "building this tree..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway -am

"$SEED/run-at.sh" "$WORK/go" 18100 "$SEED_BIN"
PID[go]=$(sed -n 5p "$WORK/go/pids")
curl -sf -o /dev/null "http://127.0.0.1:${PORT[go]}/post/1" || { echo "error: the Go gateway does not answer" >&2; exit 1; }

start_etcd "${PORT[etcd]}" 23992
HUB=127.0.0.1:${PORT[hub]}
start_java hub "${PORT[hub]}" modules/hub/target/hub.jar ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd]}"
start_java post "${PORT[post]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/post"
start_java user "${PORT[user]}" modules/user/target/user.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/user"
start_java gateway "${PORT[gateway]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB

OURS=http://127.0.0.1:${PORT[gateway]}
CREDENTIALS='{"phoneNumber":"+4915100000003","userPassword":"benchmark password"}'
# the routes come from the registry: wait until the user service's are learned
for _ in $(seq 1 50); do
    curl -sf -o /dev/null -X POST "$OURS/user/register" -H 'Content-Type: application/json' -d "$CREDENTIALS" && break
    sleep 0.2
done
TOKEN=$(curl -sf -X POST "$OURS/user/login" -H 'Content-Type: application/json' -d "$CREDENTIALS" \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
ID=$(curl -sf -X POST "$OURS/post" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     -d '{"title":"hello","content":"x"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$ID" ] || { echo "error: could not create a post through this tree's gateway" >&2; exit 1; }
declare -A URL=([go]="http://127.0.0.1:${PORT[go]}/post/1" [ours]="$OURS/post/$ID")
PID[ours]=${PID[gateway]}

echo "warming up both gateways ($WARMUP s each)..."
for side in go ours; do wrk -t2 -c64 -d"${WARMUP}s" "${URL[$side]}" >/dev/null; done

echo "GET /post/{id}, 64 connections, $ROUNDS rounds of $SECS s each, alternating (go = the reference, ours = this tree)"
alternate_rounds "$ROUNDS" "$SECS" go ours
MG=$(median "$WORK/go.txt")
MO=$(median "$WORK/ours.txt")
printf 'median gateway cpu-us/req: go %s, ours %s, ours/go %s\n' "$MG" "$MO" \
       "$(awk -v g="$MG" -v o="$MO" 'BEGIN{printf "%.2f", o/g}')"
echo "resident memory: go gateway $(awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/${PID[go]}/status") MiB," \
     "ours $(awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/${PID[ours]}/status") MiB"
