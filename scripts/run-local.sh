#!/usr/bin/env bash
# Runs the whole system on this machine on the default ports:
#   etcd 127.0.0.1:2379, hub :8004, post :8005, user :8006, comment :8007, gateway :8008; each component's health,
#   metrics (and the hub's dashboard) on its management port, the same + 1000 (9004 to 9008)
#
#   scripts/run-local.sh         build what is missing, start everything, wait until each is ready, print a
#                                curl session; Ctrl-C stops everything (services first, etcd last)
#   scripts/run-local.sh stop    stop a stack started from another shell
#
# Data (etcd, databases, the user service's signing key) lives under data/ (SWITCHBOARD_DATA moves it) and survives
# a stop; logs go to data/logs/. The hub starts with etcd, and the other components all at once when the hub is
# ready: they find each other in any order. On a JDK with ahead-of-time caches (25 and later; SWITCHBOARD_AOT=no
# leaves them out), the first run of each component's current jar records one under data/aot/ (written when it
# stops), and later runs start from it: about half the start-up time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh

DATA=${SWITCHBOARD_DATA:-data}
LOGS=$DATA/logs
PIDS=$DATA/pids
# start order; stopped in reverse
COMPONENTS=(etcd hub post user comment gateway)
declare -A PORT=([etcd]=2379 [hub]=8004 [post]=8005 [user]=8006 [comment]=8007 [gateway]=8008
                 [hub-management]=9004 [post-management]=9005 [user-management]=9006 [comment-management]=9007
                 [gateway-management]=9008)

stop_one() {
    local name=$1 pidfile=$PIDS/$1.pid pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        # a component that recorded its ahead-of-time cache writes it as it stops: that takes seconds
        for _ in $(seq 1 600); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "  $name did not stop within 60 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        echo "  stopped $name"
    fi
    rm -f "$pidfile"
}

stop_all() {
    echo "stopping..."
    local i
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
        stop_one "${COMPONENTS[$i]}"
    done
}

if [ "${1:-}" = stop ]; then
    stop_all
    exit 0
fi

find_jdk
ensure_etcd

taken=0
for name in "${COMPONENTS[@]}" etcd-peer hub-management post-management user-management comment-management \
            gateway-management; do
    port=${PORT[$name]:-2380}
    if ss -ltnH "sport = :$port" 2>/dev/null | grep -q .; then
        owner=$(ss -ltnpH "sport = :$port" 2>/dev/null | sed -n 's/.*users:((\("[^"]*"\),pid=\([0-9]*\).*/\1 (pid \2)/p' | head -1)
        echo "error: port $port (for $name) is already taken${owner:+ by $owner}." >&2
        echo "       Stop that process (or scripts/run-local.sh stop if it is an earlier run) and try again." >&2
        taken=1
    fi
done
[ "$taken" = 0 ] || exit 1

jars=(modules/hub/target/hub.jar modules/post/target/post.jar modules/user/target/user.jar
      modules/comment/target/comment.jar modules/gateway/target/gateway.jar)
for jar in "${jars[@]}"; do
    if [ ! -f "$jar" ]; then
        echo "building (./mvnw package, about a minute the first time)..."
        ./mvnw -B -q package -DskipTests
        break
    fi
done

mkdir -p "$LOGS" "$PIDS" "$DATA/etcd" "$DATA/aot"
# ahead-of-time caches (JEP 483, 514, 515) need a JDK 25 or later; SWITCHBOARD_AOT=no leaves them out
AOT=no
JAVA_SPEC=$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 \
            | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
if [ "${SWITCHBOARD_AOT:-yes}" != no ] && [ "${JAVA_SPEC:-0}" -ge 25 ]; then
    AOT=yes
fi
trap 'stop_all; exit 0' INT TERM

wait_ready() {
    local name=$1 url=$2
    local tls=()
    case $url in https:*) tls=(--cacert "$DATA/identity/ca.pem") ;; esac
    for _ in $(seq 1 300); do
        if curl -sf "${tls[@]}" -o /dev/null "$url"; then
            echo "  $name ready"
            return 0
        fi
        if ! kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
            echo "error: $name exited at start; the end of $LOGS/$name.log:" >&2
            tail -20 "$LOGS/$name.log" >&2
            stop_all
            exit 1
        fi
        sleep 0.2
    done
    echo "error: $name not ready after 60 s; see $LOGS/$name.log" >&2
    stop_all
    exit 1
}

# The ahead-of-time cache option for a component: use its cache when it is newer than its jar and libraries, else
# record one in this run (written when the component stops); nothing on a JDK without AOT caches (before 25).
aot_option() {
    local name=$1 cache=$DATA/aot/$1.aot newest
    [ "$AOT" = yes ] || return 0
    newest=$(find "modules/$name/target/$name.jar" "modules/$name/target/libs" -newer "$cache" -print -quit \
             2>/dev/null || true)
    if [ -f "$cache" ] && [ -z "$newest" ]; then
        echo "-XX:AOTCache=$cache"
    else
        rm -f "$cache"
        # without its warnings about classes it leaves out (those of signed jars, JFR's)
        echo "-XX:AOTCacheOutput=$cache -Xlog:aot=error"
    fi
}

start_java() {
    local name=$1 aot
    shift
    aot=$(aot_option "$name")
    # own session: a Ctrl-C in the terminal reaches only this script, which stops components in order
    # mutual TLS between the components: each issues its certificate from the local CA in data/identity (made on
    # first start, under a lock: components starting together share it); the gateway's HTTP edge stays plain HTTP
    # shellcheck disable=SC2086 # $aot is options or none
    setsid env "$@" TLS_LOCAL_CA="$DATA/identity" "$JAVA_HOME/bin/java" -Xmx256m -XX:+UseSerialGC $aot \
        -jar "modules/$name/target/$name.jar" >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$PIDS/$name.pid"
}

await_java() {
    local name=$1
    wait_ready "$name" "https://127.0.0.1:${PORT[$name-management]}/observe/health/ready"
}

echo "starting (logs in $LOGS/)..."
setsid etcd --name local --data-dir "$DATA/etcd" \
     --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
     --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
     --initial-cluster local=http://127.0.0.1:2380 --heartbeat-interval 10 --election-timeout 100 \
     >>"$LOGS/etcd.log" 2>&1 &
echo $! >"$PIDS/etcd.pid"
# the hub with etcd (it is ready once etcd answers), the others once the hub is ready: they would find it away and
# retry with backoff. Then all the others at once: they find each other in any order
start_java hub ETCD_ENDPOINTS=http://127.0.0.1:2379
wait_ready etcd http://127.0.0.1:2379/health
await_java hub
start_java post HUB_ENDPOINTS=127.0.0.1:8004 DATA_DIR="$DATA"
start_java user HUB_ENDPOINTS=127.0.0.1:8004 DATA_DIR="$DATA"
start_java comment HUB_ENDPOINTS=127.0.0.1:8004 DATA_DIR="$DATA"
start_java gateway HUB_ENDPOINTS=127.0.0.1:8004
for name in post user comment gateway; do
    await_java "$name"
done

cat <<'EOF'

Switchboard is running:
  gateway  http://127.0.0.1:8008        (HTTP API; its docs at http://127.0.0.1:8008/docs, OpenAPI at /openapi.json)
  hub 127.0.0.1:8004  post 127.0.0.1:8005  user 127.0.0.1:8006  comment 127.0.0.1:8007  (gRPC over mutual TLS)
  management ports 9004 (hub) to 9008 (gateway): /observe/health, /observe/metrics over TLS,
           curl --cacert data/identity/ca.pem https://127.0.0.1:9004/observe/health
  etcd     http://127.0.0.1:2379
  registry dashboard  https://127.0.0.1:9004/ui   (live view of every instance and lease; the certificate is the
           local CA's, data/identity/ca.pem: import it into the browser, or accept its warning)

Try it (copy and paste):
  curl -s -X POST localhost:8008/user/register -H 'Content-Type: application/json' \
       -d '{"phoneNumber":"+4915112345678","userPassword":"correct horse"}'; echo
  TOKEN=$(curl -s -X POST localhost:8008/user/login -H 'Content-Type: application/json' \
       -d '{"phoneNumber":"+4915112345678","userPassword":"correct horse"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
  curl -s localhost:8008/user/me -H "Authorization: Bearer $TOKEN"; echo
  POST_ID=$(curl -s -X POST localhost:8008/post -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
       -d '{"title":"Hello","content":"My first post"}' | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'); echo "$POST_ID"
  curl -s 'localhost:8008/post?pageSize=10'; echo
  curl -s -X POST "localhost:8008/post/$POST_ID/comments" -H "Authorization: Bearer $TOKEN" \
       -H 'Content-Type: application/json' -d '{"text":"First!"}'; echo
  curl -s "localhost:8008/post/$POST_ID/comments"; echo

New posts as they come (in another shell), or at http://localhost:8008/docs/streams:
  curl -N localhost:8008/post/watch -H 'Accept: text/event-stream'

Ctrl-C (or scripts/run-local.sh stop in another shell) stops everything.
EOF

wait
