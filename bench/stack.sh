# Sourced by the benchmark scripts: starts a local stack on fixed ports and stops it on exit.
#
# The caller sets WORK (a temporary directory for data and logs) and calls stack_cleanup from its EXIT trap.
# Processes started here are in the associative array PID, by name.

declare -A PID

# require_free_ports NAME=PORT...: stops the benchmark when a port is taken.
require_free_ports() {
    local pair
    for pair in "$@"; do
        if ss -ltnH "sport = :${pair#*=}" | grep -q .; then
            echo "error: port ${pair#*=} (for ${pair%%=*}) is taken" >&2
            exit 1
        fi
    done
}

# ensure_wrk: installs wrk when missing and root.
ensure_wrk() {
    command -v wrk >/dev/null && return 0
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else echo "error: apt-get install -y wrk" >&2; exit 1; fi
}

# wait_ready URL [CA_FILE]: waits up to 30 s for a 2xx (an https URL is checked against CA_FILE).
wait_ready() {
    local tls=()
    [ -n "${2:-}" ] && tls=(--cacert "$2")
    for _ in $(seq 1 150); do
        curl -sf "${tls[@]}" -o /dev/null "$1" && return 0
        sleep 0.2
    done
    echo "error: $1 not ready; logs in $WORK" >&2
    tail -20 "$WORK"/*.log >&2
    exit 1
}

# start_etcd CLIENT_PORT PEER_PORT [NAME]: a single-member etcd with its data in $WORK/NAME (default etcd).
start_etcd() {
    local name=${3:-etcd}
    etcd --name bench --data-dir "$WORK/$name" --listen-client-urls "http://127.0.0.1:$1" \
         --advertise-client-urls "http://127.0.0.1:$1" --listen-peer-urls "http://127.0.0.1:$2" \
         --initial-advertise-peer-urls "http://127.0.0.1:$2" --initial-cluster "bench=http://127.0.0.1:$2" \
         >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    wait_ready "http://127.0.0.1:$1/health"
}

# start_java NAME PORT JAR [ENV=VALUE...]: a component with the benchmarks' JVM options, ready before it returns.
# Plaintext (tls.plaintext) unless the environment names TLS_LOCAL_CA: then it has an identity from that local CA
# and, except on a gateway's HTTP edge, serves TLS. Its management port (health, metrics) is the port + 1000.
start_java() {
    local name=$1 port=$2 jar=$3 tls=TLS_PLAINTEXT=true ca="" arg
    shift 3
    for arg in "$@"; do
        case $arg in TLS_LOCAL_CA=*) tls="" ca="${arg#TLS_LOCAL_CA=}/ca.pem" ;; esac
    done
    # health and metrics on the management port: the port + 1000
    # shellcheck disable=SC2086 # $tls is one word or none
    env "$@" SERVER_PORT="$port" SERVER_MANAGEMENT_PORT=$((port + 1000)) $tls "$JAVA_HOME/bin/java" -Xmx256m \
        -XX:+UseSerialGC -jar "$jar" >"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    if [ -n "$ca" ]; then
        wait_ready "https://127.0.0.1:$((port + 1000))/observe/health/ready" "$ca"
    else
        wait_ready "http://127.0.0.1:$((port + 1000))/observe/health/ready"
    fi
}

# stack_cleanup: stops every process started here, Java components first, etcd last.
stack_cleanup() {
    local name
    for name in "${!PID[@]}"; do
        [[ $name == etcd* ]] || kill "${PID[$name]}" 2>/dev/null || true
    done
    for name in "${!PID[@]}"; do
        [[ $name == etcd* ]] && kill "${PID[$name]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}

# round_cost URL PID SECONDS: one round of GET URL at 64 connections; prints "cpu_us_per_req req/s p99" of the
# process PID (../shared/tools/http-cost.sh when present, else the same wrk + /proc arithmetic)
round_cost() {
    local out t0 t1 w cost=../shared/tools/http-cost.sh
    if [ -x "$cost" ]; then
        out=$("$cost" "$1" 64 "$3" "$2")
        echo "$(echo "$out" | sed -n 's/.*cpu_us_per_req=\([^ ]*\).*/\1/p') $(echo "$out" \
              | sed -n 's/.*req\/s=\([^ ]*\).*/\1/p') $(echo "$out" | sed -n 's/.* p99=\([^ ]*\).*/\1/p')"
    else
        t0=$(awk '{print $14+$15}' "/proc/$2/stat")
        w=$(wrk -t2 -c64 -d"${3}s" --latency "$1")
        t1=$(awk '{print $14+$15}' "/proc/$2/stat")
        awk -v d="$((t1 - t0))" -v t="$(getconf CLK_TCK)" -v n="$(echo "$w" | awk '/requests in/{print $1}')" \
            -v r="$(echo "$w" | awk '/Requests\/sec/{print $2}')" -v p="$(echo "$w" | awk '$1=="99%"{print $2}')" \
            'BEGIN{printf "%.1f %s %s\n", d*1e6/t/n, r, p}'
    fi
}

# median FILE: the median of the numbers in FILE, one a line
median() { sort -n "$1" | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# alternate_rounds ROUNDS SECONDS SIDE...: ROUNDS rounds of round_cost on each side in turn (URL[side], PID[side]),
# so that the machine's drift hits every side alike; prints each round and keeps each side's figures, one a line, in
# $WORK/SIDE.txt
alternate_rounds() {
    local rounds=$1 secs=$2 round side us rps p99
    shift 2
    for side in "$@"; do : >"$WORK/$side.txt"; done
    for round in $(seq 1 "$rounds"); do
        for side in "$@"; do
            read -r us rps p99 < <(round_cost "${URL[$side]}" "${PID[$side]}" "$secs")
            echo "$us" >>"$WORK/$side.txt"
            printf 'round %d %s: cpu-us/req=%s req/s=%s p99=%s\n' "$round" "$side" "$us" "$rps" "$p99"
        done
    done
}

# compare_gateways URL_A URL_B HEADLINE: warms gateways a and b (PID[a], PID[b]) up on their URLs for $WARMUP s each,
# prints HEADLINE, runs $ROUNDS alternating rounds of $SECS s, and prints each side's median CPU-us per request, B/A
# and both gateways' resident memory
compare_gateways() {
    local headline=$3 ma mb
    echo "warming up both gateways ($WARMUP s each)..."
    wrk -t2 -c64 -d"${WARMUP}s" "$1" >/dev/null
    wrk -t2 -c64 -d"${WARMUP}s" "$2" >/dev/null
    echo "$headline"
    # shellcheck disable=SC2034 # read by alternate_rounds
    declare -A URL=([a]="$1" [b]="$2")
    alternate_rounds "$ROUNDS" "$SECS" a b
    ma=$(median "$WORK/a.txt")
    mb=$(median "$WORK/b.txt")
    printf 'median cpu-us/req: A %s, B %s, B/A %s\n' "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN{printf "%.2f", b/a}')"
    echo "resident memory: A $(awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/${PID[a]}/status") MiB," \
         "B $(awk '/VmRSS/{printf "%.0f", $2/1024}' "/proc/${PID[b]}/status") MiB"
}
