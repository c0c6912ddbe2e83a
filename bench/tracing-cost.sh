#!/usr/bin/env bash
# What tracing costs the gateway: the same gateway with tracing off (A) and on at 100 % sampling (B), side by side.
#
#   bench/tracing-cost.sh [rounds] [seconds-per-round] [otlp|zipkin|unsampled]      (defaults 4, 15 and otlp)
#
# Starts etcd, hub, post and user on ports 23893 and 28124-28126, and two gateways of this tree behind them: A on
# 28128 with no OTEL_* setting (off), B on 28138 recording every request's spans (a server span and an attempt
# span) and exporting them:
#   otlp       over OTLP/HTTP (protobuf, the product's default) to a receiver on 24318 that takes each batch and
#              drops it (a few lines of Python: no OTLP backend runs on this machine; what is measured is the
#              gateway's own CPU, which the receiver's speed does not change);
#   zipkin     to a real Zipkin server on 29411 (its exec jar from Maven Central, spans in memory), whose exporter
#              sends JSON, gzipped;
#   unsampled  to Zipkin with OTEL_TRACES_SAMPLER=always_off: the spans are made and passed on but never recorded.
# B_ENV adds settings of B's (say B_ENV="OTEL_BSP_MAX_EXPORT_BATCH_SIZE=2048 OTEL_BSP_MAX_QUEUE_SIZE=8192").
# Both are warmed up for 30 s, then loaded in alternating rounds with GET /post/{id} at 64 connections; prints each
# round, the median CPU-us per request of each gateway and B/A. The services run without tracing: only the gateway's
# cost is measured. (Tracing off against the previous revision: bench/gateway-ab.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source bench/stack.sh

ROUNDS=${1:-4}
SECS=${2:-15}
EXPORTER=${3:-otlp}
case $EXPORTER in otlp | zipkin | unsampled) ;; *) echo "error: the exporter is otlp, zipkin or unsampled, not $EXPORTER" >&2; exit 2 ;; esac
WARMUP=30
ZIPKIN_VERSION=$(sed -n 's:.*<version.zipkin-server>\(.*\)</version.zipkin-server>.*:\1:p' pom.xml)
declare -A PORT=([etcd]=23893 [zipkin]=29411 [otlp]=24318 [hub]=28124 [post]=28125 [user]=28126 [a]=28128 [b]=28138)

find_jdk >/dev/null
ensure_etcd
ensure_wrk
require_free_ports etcd="${PORT[etcd]}" zipkin="${PORT[zipkin]}" otlp="${PORT[otlp]}" hub="${PORT[hub]}" post="${PORT[post]}" \
                   user="${PORT[user]}" gateway-a="${PORT[a]}" gateway-b="${PORT[b]}"

WORK=$(mktemp -d /tmp/switchboard-tracing.XXXXXX)
trap 'stack_cleanup; rm -rf "$WORK"' EXIT

echo "building this tree (logs in $WORK)..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/post,modules/user,modules/gateway -am
if [ "$EXPORTER" = otlp ]; then
    python3 -c '
import http.server, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection, as a collector does
    def do_POST(self):
        print(len(self.rfile.read(int(self.headers.get("Content-Length", 0)))), flush=True)
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
' "${PORT[otlp]}" >"$WORK/otlp.log" 2>&1 &
    PID[otlp]=$!
    wait_ready "http://127.0.0.1:${PORT[otlp]}/"
    TRACING=(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:${PORT[otlp]}")
else
    echo "fetching the Zipkin server $ZIPKIN_VERSION..."
    ./mvnw -B -q dependency:copy -Dartifact="io.zipkin:zipkin-server:$ZIPKIN_VERSION:jar:exec" -DoutputDirectory="$WORK" \
        -Dmdep.stripVersion=true
    # at 20,000 spans a second, Zipkin's default store (500,000 spans) fills a small heap: keep fewer
    MEM_MAX_SPANS=100000 "$JAVA_HOME/bin/java" -Xmx512m -XX:+UseSerialGC -jar "$WORK/zipkin-server-exec.jar" \
        "--armeria.ports[0].port=${PORT[zipkin]}" "--armeria.ports[0].ip=127.0.0.1" \
        "--armeria.ports[0].protocols[0]=http" >"$WORK/zipkin.log" 2>&1 &
    PID[zipkin]=$!
    wait_ready "http://127.0.0.1:${PORT[zipkin]}/health"
    TRACING=(OTEL_EXPORTER_ZIPKIN_ENDPOINT="http://127.0.0.1:${PORT[zipkin]}/api/v2/spans")
    [ "$EXPORTER" = unsampled ] && TRACING+=(OTEL_TRACES_SAMPLER=always_off)
fi

start_etcd "${PORT[etcd]}" 23894
HUB=127.0.0.1:${PORT[hub]}
start_java hub "${PORT[hub]}" modules/hub/target/hub.jar ETCD_ENDPOINTS="http://127.0.0.1:${PORT[etcd]}"
start_java post "${PORT[post]}" modules/post/target/post.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/post"
start_java user "${PORT[user]}" modules/user/target/user.jar HUB_ENDPOINTS=$HUB DATA_DIR="$WORK/user"
start_java a "${PORT[a]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB
# shellcheck disable=SC2206 # B_ENV is a list of words
TRACING+=(${B_ENV:-})
start_java b "${PORT[b]}" modules/gateway/target/gateway.jar HUB_ENDPOINTS=$HUB "${TRACING[@]}" OTEL_SERVICE_NAME=gateway-b
grep -q 'tracing is on' "$WORK/b.log" || { echo "error: gateway B did not turn tracing on" >&2; exit 1; }

B=http://127.0.0.1:${PORT[b]}
CREDENTIALS='{"phoneNumber":"+4915100000003","userPassword":"benchmark password"}'
curl -sf -o /dev/null -X POST "$B/user/register" -H 'Content-Type: application/json' -d "$CREDENTIALS"
TOKEN=$(curl -sf -X POST "$B/user/login" -H 'Content-Type: application/json' -d "$CREDENTIALS" \
        | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
ID=$(curl -sf -X POST "$B/post" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
     -d '{"title":"tracing","content":"benchmark text"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
TARGET="/post/$ID"

compare_gateways "http://127.0.0.1:${PORT[a]}$TARGET" "$B$TARGET" \
    "GET /post/{id}, 64 connections, $ROUNDS rounds of $SECS s each, alternating (A = tracing off, B = on: $EXPORTER)"
if [ "$EXPORTER" = otlp ]; then
    echo "the OTLP receiver took $(wc -l <"$WORK/otlp.log") batches, $(awk '{s+=$1} END{printf "%.0f", s/1048576}' "$WORK/otlp.log") MiB"
elif [ "$EXPORTER" = zipkin ]; then
    SAMPLE=$(curl -sf -m 10 "http://127.0.0.1:${PORT[zipkin]}/api/v2/traces?serviceName=gateway-b&limit=1" || echo '[]')
    echo "Zipkin holds B's traces: $([ "$SAMPLE" != '[]' ] && echo yes || echo NO)"
fi
