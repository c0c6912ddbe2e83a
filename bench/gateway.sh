#!/usr/bin/env bash
# The gateway against direct gRPC, in one run on this machine.
#
#   bench/gateway.sh [seconds-per-measurement]      (default 20)
#
# Starts its own etcd, hub, post, user and gateway on ports 23791, 28004-28008 (not the local run's), seeds 50
# posts, warms everything up, then measures with the load generator on the same machine:
#   - GET /post/{id} and GET /post?pageSize=10 through the gateway with wrk, at 16 and 64 connections;
#   - the same two calls straight to the post service over gRPC (modules/bench GrpcLoad: one channel, the same
#     number of calls in flight);
#   - POST /user/login through the gateway (bound by Argon2id on purpose), at 16 connections;
# Every component has its identity from a local CA of the run and calls the others over mutual TLS, as users run them
# (BENCH_TLS=plaintext runs them without, to compare); the direct gRPC load calls post over mutual TLS as the
# gateway does.
# It prints req/s, p50/p99, CPU-µs per request (utime+stime from /proc over the run / requests) of the gateway and post processes, the gateway/direct throughput
# ratio and the resident memory of every process afterwards. Needs wrk (installed when missing and root).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

SECS=${1:-20}
# the JIT needs most of a minute of load on two cores before the gateway's CPU per request settles
WARMUP=30
declare -A PORT=([etcd]=23791 [hub]=28004 [post]=28005 [user]=28006 [gateway]=28008)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
require_free_ports etcd="${PORT[etcd]}" hub="${PORT[hub]}" post="${PORT[post]}" user="${PORT[user]}" \
                   gateway="${PORT[gateway]}"

echo "building..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway,modules/bench -am

WORK=$(mktemp -d /tmp/switchboard-bench.XXXXXX)
trap 'stack_cleanup; rm -rf "$WORK"' EXIT

echo "starting etcd, hub, post, user, gateway (logs in $WORK)..."
start_etcd "${PORT[etcd]}" 23792
HUB=127.0.0.1:${PORT[hub]}
IDENTITY=()
if [ "${BENCH_TLS:-mtls}" != plaintext ]; then
    IDENTITY=(TLS_LOCAL_CA="$WORK/identity")
    export GRPC_LOAD_LOCAL_CA="$WORK/identity"
fi
start_java hub "${PORT[hub]}" modules/hub/target/hub.jar ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd]}" \
           "${IDENTITY[@]}"
start_java post "${PORT[post]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/post" "${IDENTITY[@]}"
start_java user "${PORT[user]}" modules/user/target/user.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/user" "${IDENTITY[@]}"
# the login limit per client address would turn the login run into 429s: lift it for the benchmark
start_java gateway "${PORT[gateway]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB \
           GATEWAY_LOGIN_LIMIT_CAPACITY=100000000 GATEWAY_LOGIN_LIMIT_PER_SECOND=100000000 "${IDENTITY[@]}"

GW=http://127.0.0.1:${PORT[gateway]}
CREDENTIALS='{"phoneNumber":"+4915100000001","userPassword":"benchmark password"}'
curl -sf -o /dev/null -X POST "$GW/user/register" -H 'Content-Type: application/json' -d "$CREDENTIALS"
TOKEN=$(curl -sf -X POST "$GW/user/login" -H 'Content-Type: application/json' -d "$CREDENTIALS" \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
for i in $(seq 1 50); do
    ID=$(curl -sf -X POST "$GW/post" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
         -d "{\"title\":\"post $i\",\"content\":\"$(printf 'benchmark text %.0s' $(seq 1 20))\"}" \
         | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
done

grpc_load() {
    # JDK warnings about grpc-netty-shaded's Unsafe use go to a file, not into the report
    "$JAVA_HOME/bin/java" -Xmx256m -cp "modules/bench/target/classes:$(cat modules/bench/target/classpath.txt)" \
        io.switchboard.bench.GrpcLoad "127.0.0.1:${PORT[post]}" "$@" 2>>"$WORK/grpc-load.err" \
        || { echo "error: the gRPC load failed:" >&2; tail -20 "$WORK/grpc-load.err" >&2; exit 1; }
}
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/$1/status"; }

echo "warming up ($WARMUP s per path)..."
wrk -t2 -c64 -d"${WARMUP}s" "$GW/post/$ID" >/dev/null
wrk -t2 -c64 -d"${WARMUP}s" "$GW/post?pageSize=10" >/dev/null
grpc_load get 64 "$WARMUP" 0 "$ID" >/dev/null
grpc_load list 64 "$WARMUP" 0 >/dev/null

REPORT=$WORK/report.txt
TICK=$(getconf CLK_TCK)
echo
echo "measuring, $SECS s each (gateway and post on $(nproc) cores with the load generator; ${BENCH_TLS:-mtls})"
for conns in 16 64; do
    for call in get list; do
        if [ $call = get ]; then url="$GW/post/$ID"; else url="$GW/post?pageSize=10"; fi
        g0=$(ticks "${PID[gateway]}"); p0=$(ticks "${PID[post]}")
        out=$(wrk -t2 -c"$conns" -d"${SECS}s" --latency "$url")
        g1=$(ticks "${PID[gateway]}"); p1=$(ticks "${PID[post]}")
        gw_req=$(echo "$out" | awk '/requests in/{print $1}')
        gw_rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
        gw_p50=$(echo "$out" | awk '$1=="50%"{print $2}')
        gw_p99=$(echo "$out" | awk '$1=="99%"{print $2}')
        gw_bad=$(echo "$out" | awk '/Non-2xx/{print $NF}')
        gw_cpu=$(awk -v g="$((g1 - g0))" -v p="$((p1 - p0))" -v t="$TICK" -v n="$gw_req" \
                 'BEGIN{printf "%.1f,%.1f", g*1e6/t/n, p*1e6/t/n}')
        before=$(ticks "${PID[post]}")
        direct=$(grpc_load $call "$conns" "$SECS" 2 "$ID")
        after=$(ticks "${PID[post]}")
        d_rps=$(echo "$direct" | sed -n 's/.*req\/s=\([0-9.]*\).*/\1/p')
        d_req=$(echo "$direct" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
        d_p50=$(echo "$direct" | sed -n 's/.* p50=\([^ ]*\).*/\1/p')
        d_p99=$(echo "$direct" | sed -n 's/.* p99=\([^ ]*\).*/\1/p')
        d_err=$(echo "$direct" | sed -n 's/.* errors=\([0-9]*\).*/\1/p')
        d_cpu=$(awk -v d="$((after - before))" -v t="$TICK" -v n="$d_req" 'BEGIN{printf "%.1f", d*1e6/t/n}')
        ratio=$(awk -v a="$gw_rps" -v b="$d_rps" 'BEGIN{printf "%.0f%%", 100*a/b}')
        printf '%-22s conns=%-3s gateway: %8s req/s p50=%-8s p99=%-8s non2xx=%s cpu-us/req gateway,post=%s | direct gRPC: %8s req/s p50=%-8s p99=%-8s errors=%s cpu-us/req post=%s | gateway/direct=%s\n' \
            "$(if [ $call = get ]; then echo 'GET /post/{id}'; else echo 'GET /post?pageSize=10'; fi)" "$conns" \
            "$gw_rps" "$gw_p50" "$gw_p99" "${gw_bad:-0}" "$gw_cpu" "$d_rps" "$d_p50" "$d_p99" "$d_err" "$d_cpu" \
            "$ratio" | tee -a "$REPORT"
    done
done

cat >"$WORK/login.lua" <<EOF
wrk.method = "POST"
wrk.body = '$CREDENTIALS'
wrk.headers["Content-Type"] = "application/json"
EOF
login=$(wrk -t2 -c16 -d"${SECS}s" --latency -s "$WORK/login.lua" "$GW/user/login")
printf 'POST /user/login       conns=16  gateway: %8s req/s p50=%-8s p99=%-8s non2xx=%s (Argon2id, 19 MiB, 2 iterations per login)\n' \
    "$(echo "$login" | awk '/Requests\/sec/{print $2}')" "$(echo "$login" | awk '$1=="50%"{print $2}')" \
    "$(echo "$login" | awk '$1=="99%"{print $2}')" "$(echo "$login" | awk '/Non-2xx/{print $NF}' | grep . || echo 0)" \
    | tee -a "$REPORT"
echo "resident memory after the run: gateway $(rss "${PID[gateway]}") MiB, post $(rss "${PID[post]}") MiB," \
     "user $(rss "${PID[user]}") MiB, hub $(rss "${PID[hub]}") MiB (all -Xmx256m -XX:+UseSerialGC)" | tee -a "$REPORT"
