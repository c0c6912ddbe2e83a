#!/usr/bin/env bash
# A/B: this tree's gateway against the gateway of another revision, side by side in one run.
#
#   bench/gateway-ab.sh REVISION [rounds] [seconds-per-round] [get|list]      (defaults 4, 15 and get)
#
# Builds REVISION's gateway in a temporary git worktree, starts etcd, hub, post and user from this tree on ports
# 23891 and 28104-28106, and both gateways on 28108 (A: REVISION) and 28118 (B: this tree), each behind the same
# hub and post service. Both are warmed up for 30 s, then loaded in alternating rounds with GET /post/{id} (or, with
# list, GET /post?pageSize=10 over 10 posts) at 64 connections (../shared/tools/http-cost.sh when present, else the same wrk + /proc arithmetic), so that the
# machine's drift hits both alike. Prints each round and the median CPU-us per request of each gateway and B/A.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

REV=${1:?usage: bench/gateway-ab.sh REVISION [rounds] [seconds-per-round] [get|list]}
ROUNDS=${2:-4}
SECS=${3:-15}
ROUTE=${4:-get}
case $ROUTE in get | list) ;; *) echo "error: the route is get or list, not $ROUTE" >&2; exit 2 ;; esac
WARMUP=30
declare -A PORT=([etcd]=23891 [hub]=28104 [post]=28105 [user]=28106 [a]=28108 [b]=28118)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
require_free_ports etcd="${PORT[etcd]}" hub="${PORT[hub]}" post="${PORT[post]}" user="${PORT[user]}" \
                   gateway-a="${PORT[a]}" gateway-b="${PORT[b]}"

WORK=$(mktemp -d /tmp/switchboard-ab.XXXXXX)
trap 'stack_cleanup; git worktree remove --force "$WORK/rev" 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "building this tree and $REV (logs in $WORK)..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway -am
git worktree add -q --detach "$WORK/rev" "$REV"
(cd "$WORK/rev" && ./mvnw -B -q package -DskipTests -pl modules/gateway -am) >"$WORK/build-a.log" 2>&1 \
    || { echo "error: building $REV failed" >&2; tail -20 "$WORK/build-a.log" >&2; exit 1; }

start_etcd "${PORT[etcd]}" 23892
HUB=127.0.0.1:${PORT[hub]}
start_java hub "${PORT[hub]}" modules/hub/target/hub.jar ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd]}"
start_java post "${PORT[post]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/post"
start_java user "${PORT[user]}" modules/user/target/user.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/user"
start_java a "${PORT[a]}" "$WORK/rev/modules/gateway/target/gateway.jar" HUB_ENDPOINTS=$HUB
start_java b "${PORT[b]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB

B=http://127.0.0.1:${PORT[b]}
CREDENTIALS='{"phoneNumber":"+4915100000002","userPassword":"benchmark password"}'
curl -sf -o /dev/null -X POST "$B/user/register" -H 'Content-Type: application/json' -d "$CREDENTIALS"
TOKEN=$(curl -sf -X POST "$B/user/login" -H 'Content-Type: application/json' -d "$CREDENTIALS" \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
for _ in $(seq 1 "$([ "$ROUTE" = list ] && echo 10 || echo 1)"); do
    ID=$(curl -sf -X POST "$B/post" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
         -d '{"title":"a/b","content":"benchmark text"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
done
if [ "$ROUTE" = list ]; then TARGET="/post?pageSize=10"; NAME="GET /post?pageSize=10"; else TARGET="/post/$ID"; NAME="GET /post/{id}"; fi

compare_gateways "http://127.0.0.1:${PORT[a]}$TARGET" "$B$TARGET" \
    "$NAME, 64 connections, $ROUNDS rounds of $SECS s each, alternating (A = $REV, B = this tree)"
