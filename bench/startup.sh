#!/usr/bin/env bash
# Start-up of the local system: seconds from launching scripts/run-local.sh until the gateway answers
# GET /post?pageSize=1 with 200 (every component up and the post routes learned), everything already built.
#
#   bench/startup.sh [rounds] [script-a] [script-b]     (default: 3 rounds, scripts/run-local.sh against itself)
#
# Each round runs A then B on the default ports, stopping each with its `stop` before the next, all on one data
# directory of this run (SWITCHBOARD_DATA; made by a first, unmeasured start), so that both find the same local CA,
# databases and, for a script that records them, its ahead-of-time caches. B's first start (its cache recording
# run, when it has one) is reported apart. Needs the default ports free.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
ROUNDS=${1:-3}
A=${2:-scripts/run-local.sh}
B=${3:-scripts/run-local.sh}
find_jdk >/dev/null
WORK=$(mktemp -d /tmp/switchboard-startup.XXXXXX)
export SWITCHBOARD_DATA=$WORK/data
trap 'bash "$B" stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

# seconds until the first 200, then a stop that waits for every process to end
measure() {
    local script=$1 start end status
    start=$(date +%s%N)
    setsid bash "$script" >"$WORK/run.log" 2>&1 &
    local runner=$!
    for _ in $(seq 1 1200); do
        status=$(curl -s -o /dev/null -w '%{http_code}' 'http://127.0.0.1:8008/post?pageSize=1' || true)
        [ "$status" = 200 ] && break
        sleep 0.05
    done
    end=$(date +%s%N)
    if [ "$status" != 200 ]; then
        echo "error: no 200 within 60 s from $script; its output:" >&2
        cat "$WORK/run.log" >&2
        exit 1
    fi
    # the runner waits on its components: stopping them ends it
    bash "$script" stop >/dev/null 2>&1
    wait "$runner" 2>/dev/null || true
    awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }'
}

echo "preparing the data directory (CA, databases) with an unmeasured start of A..."
measure "$A" >/dev/null
first=$(measure "$B")
echo "B's first start (records its caches, if it does): ${first} s"
a_times=() b_times=()
for round in $(seq 1 "$ROUNDS"); do
    a=$(measure "$A")
    b=$(measure "$B")
    a_times+=("$a") b_times+=("$b")
    echo "round $round: A ${a} s, B ${b} s"
done
median() {
    printf '%s\n' "$@" | sort -n \
        | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo "median: A $(median "${a_times[@]}") s, B $(median "${b_times[@]}") s" \
     "(launch to the first 200 through the gateway)"
