#!/usr/bin/env bash
# The registry at scale: 10,000 instances, 200 watchers, churn, a hub replica killed, etcd stopped, in one run.
#
#   bench/registry-scale.sh [instances] [services] [subscribers] [seconds] [churn-per-second] [etcd-outage-seconds]
#                           (defaults: 10000 100 200 120 50 15)
#
# Starts its own etcd (port 33791, peer 33792) and two hub replicas (38004, 38014) from the hub jar, then the load
# tool (modules/bench RegistryScale) registers the instances through the registry library (one RegistryClient per
# 1,000 instances, TTL 10 s), opens the Watch subscribers through the library's discovery, churns registrations
# while it measures, kills hub replica 0, stops etcd for a while, and prints one line per figure. It exits non-zero
# when a correctness check fails. The load tool runs on the same machine as etcd and the hubs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh

ETCD_PORT=33791
HUB_A=38004
HUB_B=38014

find_jdk >/dev/null
ensure_etcd
for port in $ETCD_PORT $((ETCD_PORT + 1)) $HUB_A $HUB_B; do
    if ss -ltnH "sport = :$port" | grep -q .; then
        echo "error: port $port is taken" >&2
        exit 1
    fi
done

echo "building..."
./mvnw -B -q package -DskipTests -pl modules/hub,modules/bench -am

ERR=$(mktemp /tmp/switchboard-registry-scale.XXXXXX.err)
echo "running (tool warnings in $ERR; hub and etcd logs in /tmp/switchboard-*)..."
# JDK warnings about grpc-netty-shaded's Unsafe use go to a file, not into the report
"$JAVA_HOME/bin/java" -Xmx1g -cp "modules/bench/target/classes:$(cat modules/bench/target/classpath.txt)" \
    io.switchboard.bench.RegistryScale modules/hub/target/hub.jar $ETCD_PORT $HUB_A $HUB_B "$@" 2>>"$ERR"
