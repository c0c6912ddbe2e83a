#!/usr/bin/env bash
# Runs every test: finds a JDK 21+, makes sure etcd is installed, then ./mvnw -B verify.
# Extra arguments go to Maven, e.g. scripts/test.sh -pl modules/hub -am
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
find_jdk
ensure_etcd
exec ./mvnw -B verify "$@"
