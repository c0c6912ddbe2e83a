#!/usr/bin/env bash
# What mutual TLS costs the gateway: a plaintext stack (A) and a stack with identities and mutual TLS on every gRPC
# hop (B), side by side in one run.
#
#   bench/tls-ab.sh [rounds] [seconds-per-round]      (defaults 4 and 15)
#
# Starts two complete stacks, each with its own etcd, hub, post, user and gateway: A plaintext (tls.plaintext) on
# ports 24091 and 28304-28308, B with a local CA (tls.local-ca) on 24093 and 28314-28318. Both gateways' edges are
# plain HTTP, so the difference is the gateway's calls to the hub and to post over mutual TLS (long-lived
# connections: one handshake per connection, then record encryption). Seeds a post through each, warms both up for
# 30 s, then loads them in alternating rounds with GET /post/{id} at 64 connections and prints each round's CPU-us
# per request of the gateway and of post, the medians and B/A. The issue's budget: B/A at most 1.10 for the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

ROUNDS=${1:-4}
SECS=${2:-15}
WARMUP=30
declare -A PORT=([etcd-a]=24091 [hub-a]=28304 [post-a]=28305 [user-a]=28306 [gateway-a]=28308
                 [etcd-b]=24093 [hub-b]=28314 [post-b]=28315 [user-b]=28316 [gateway-b]=28318)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
require_free_ports $(for n in "${!PORT[@]}"; do echo "$n=${PORT[$n]}"; done)

WORK=$(mktemp -d /tmp/switchboard-tls.XXXXXX)
trap 'stack_cleanup; rm -rf "$WORK"' EXIT

echo "building (logs in $WORK)..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway -am

for side in a b; do
    identity=()
    [ $side = b ] && identity=(TLS_LOCAL_CA="$WORK/ca")
    start_etcd "${PORT[etcd-$side]}" $((PORT[etcd-$side] + 1)) "etcd-$side"
    hub=127.0.0.1:${PORT[hub-$side]}
    start_java "hub-$side" "${PORT[hub-$side]}" modules/hub/target/hub.jar "${identity[@]}" \
               ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd-$side]}"
    start_java "post-$side" "${PORT[post-$side]}" modules/post/target/post.jar "${identity[@]}" HUB_ENDPOINTS=$hub \
               DATA_DIR="$WORK/post-$side"
    start_java "user-$side" "${PORT[user-$side]}" modules/user/target/user.jar "${identity[@]}" HUB_ENDPOINTS=$hub \
               DATA_DIR="$WORK/user-$side"
    start_java "gateway-$side" "${PORT[gateway-$side]}" modules/gateway/target/gateway.jar "${identity[@]}" \
               HUB_ENDPOINTS=$hub
done

declare -A ID
CREDENTIALS='{"phoneNumber":"+4915100000003","userPassword":"benchmark password"}'
for side in a b; do
    gw=http://127.0.0.1:${PORT[gateway-$side]}
    curl -sf -o /dev/null -X POST "$gw/user/register" -H 'Content-Type: application/json' -d "$CREDENTIALS"
    token=$(curl -sf -X POST "$gw/user/login" -H 'Content-Type: application/json' -d "$CREDENTIALS" \
            | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    ID[$side]=$(curl -sf -X POST "$gw/post" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
                -d '{"title":"tls a/b","content":"benchmark text"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
done

ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# cost SIDE: one round of GET /post/{id} at 64 connections; prints "gateway-us post-us req/s p99"
cost() {
    local g0 p0 out n
    g0=$(ticks "${PID[gateway-$1]}"); p0=$(ticks "${PID[post-$1]}")
    out=$(wrk -t2 -c64 -d"${SECS}s" --latency "http://127.0.0.1:${PORT[gateway-$1]}/post/${ID[$1]}")
    n=$(echo "$out" | awk '/requests in/{print $1}')
    awk -v g="$(( $(ticks "${PID[gateway-$1]}") - g0 ))" -v p="$(( $(ticks "${PID[post-$1]}") - p0 ))" \
        -v t="$(getconf CLK_TCK)" -v n="$n" -v r="$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
        -v q="$(echo "$out" | awk '$1=="99%"{print $2}')" -v bad="$(echo "$out" | awk '/Non-2xx/{print $NF}')" \
        'BEGIN{ if (bad != "") { print "error: " bad " answers were not 2xx" > "/dev/stderr"; exit 1 }
                printf "%.1f %.1f %s %s\n", g*1e6/t/n, p*1e6/t/n, r, q }'
}

echo "warming up both stacks ($WARMUP s each)..."
for side in a b; do
    wrk -t2 -c64 -d"${WARMUP}s" "http://127.0.0.1:${PORT[gateway-$side]}/post/${ID[$side]}" >/dev/null
done

echo "GET /post/{id}, 64 connections, $ROUNDS rounds of $SECS s each, alternating (A plaintext, B mutual TLS)"
for side in a b; do : >"$WORK/$side-gateway.txt"; : >"$WORK/$side-post.txt"; done
for round in $(seq 1 "$ROUNDS"); do
    for side in a b; do
        read -r gus pus rps p99 < <(cost $side)
        echo "$gus" >>"$WORK/$side-gateway.txt"
        echo "$pus" >>"$WORK/$side-post.txt"
        printf 'round %d %s: gateway cpu-us/req=%s post cpu-us/req=%s req/s=%s p99=%s\n' \
               "$round" "$side" "$gus" "$pus" "$rps" "$p99"
    done
done
for process in gateway post; do
    ma=$(median "$WORK/a-$process.txt"); mb=$(median "$WORK/b-$process.txt")
    printf 'median %s cpu-us/req: A (plaintext) %s, B (mutual TLS) %s, B/A %s\n' "$process" "$ma" "$mb" \
           "$(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
done
