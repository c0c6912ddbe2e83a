#!/usr/bin/env bash
# Runs every test: finds a JDK 21+, makes sure etcd, PostgreSQL, Prometheus and Chromium are installed, then
# ./mvnw -B install (install: the tests make a new service from the archetype this build installs). Then the images
# stage: scripts/images.sh builds the five images from the Dockerfile, and modules/it's ImagesTest runs the system
# from them (needs root, for podman; IMAGES=skip leaves the stage out).
# Extra arguments go to Maven and leave the images stage out, e.g. scripts/test.sh -pl modules/hub -am
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
find_jdk
ensure_etcd
ensure_postgres
ensure_prometheus
ensure_chromium
./mvnw -B install "$@"
if [ $# -gt 0 ]; then
    echo "images stage left out: arguments were given to Maven"
    exit 0
elif [ "${IMAGES:-}" = skip ]; then
    echo "images stage left out (IMAGES=skip)"
    exit 0
fi
bash scripts/images.sh
./mvnw -B -pl modules/it surefire:test -Dgroups=images -Dit.excludedGroups=
