#!/usr/bin/env bash
# Runs every test: finds a JDK 21+, makes sure etcd, PostgreSQL, Prometheus and Chromium are installed, then
# ./mvnw -B install (install: the tests make a new service from the archetype this build installs).
# Extra arguments go to Maven, e.g. scripts/test.sh -pl modules/hub -am
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
find_jdk
ensure_etcd
ensure_postgres
ensure_prometheus
ensure_chromium
exec ./mvnw -B install "$@"
