# Sourced by scripts/test.sh, scripts/run-local.sh and bench/: finds a JDK 21+ and makes sure etcd (and, for
# the tests, PostgreSQL, Prometheus and Chromium) are installed.

# Sets JAVA_HOME to a JDK 21 or newer: $JAVA_HOME if it is one, else the newest under /usr/lib/jvm.
find_jdk() {
    local candidate version best="" best_version=0
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
        [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
        version=$("$candidate/bin/java" -XshowSettings:properties -version 2>&1 \
                  | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
        [ -n "$version" ] || continue
        if [ "$candidate" = "${JAVA_HOME:-}" ] && [ "$version" -ge 21 ]; then
            best="$candidate"; best_version="$version"; break
        fi
        if [ "$version" -ge 21 ] && [ "$version" -gt "$best_version" ]; then
            best="$candidate"; best_version="$version"
        fi
    done
    if [ -z "$best" ]; then
        echo "error: Switchboard needs a JDK 21 or newer (Helidon 4)." >&2
        echo "       Set JAVA_HOME to one, or install one, e.g. apt-get install -y openjdk-21-jdk-headless" >&2
        echo "       (Temurin: https://adoptium.net)." >&2
        return 1
    fi
    export JAVA_HOME="$best"
    export PATH="$JAVA_HOME/bin:$PATH"
    echo "using JDK $best_version at $JAVA_HOME"
}

# Makes sure a PostgreSQL server is installed (tests run a real one): installs Debian's postgresql when missing and
# running as root. Its packaged cluster is not needed: tests start their own.
ensure_postgres() {
    if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ]; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "PostgreSQL not found: installing Debian's postgresql"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && return 0
    fi
    echo "error: the tests need a PostgreSQL server. Install it with:" >&2
    echo "       sudo apt-get install -y postgresql   (Debian/Ubuntu), or set PG_BIN to its bin directory." >&2
    return 1
}

# Makes sure an etcd binary is on PATH: installs Debian's etcd-server when missing and running as root.
ensure_etcd() {
    if command -v etcd >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "etcd not found: installing Debian's etcd-server and etcd-client"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server etcd-client >/dev/null
        command -v etcd >/dev/null 2>&1 && return 0
    fi
    echo "error: etcd is not installed. Install it with:" >&2
    echo "       sudo apt-get install -y etcd-server etcd-client   (Debian/Ubuntu)" >&2
    echo "       or put an etcd 3.4+ binary on PATH (https://github.com/etcd-io/etcd/releases)." >&2
    return 1
}

# Makes sure Prometheus and promtool are installed (a test scrapes the running stack with a real Prometheus):
# installs Debian's prometheus when missing and running as root. Its packaged service is not needed.
ensure_prometheus() {
    if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Prometheus not found: installing Debian's prometheus"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
        command -v promtool >/dev/null 2>&1 && return 0
    fi
    echo "error: the tests need Prometheus (prometheus and promtool). Install it with:" >&2
    echo "       sudo apt-get install -y prometheus   (Debian/Ubuntu)" >&2
    return 1
}

# Makes sure Chromium and its WebDriver are installed (the dashboard's browser test drives a real headless Chromium):
# installs Debian's chromium and chromium-driver when missing and running as root.
ensure_chromium() {
    if [ -x "${CHROMIUM_BINARY:-/usr/bin/chromium}" ] && [ -x "${CHROMEDRIVER:-/usr/bin/chromedriver}" ]; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Chromium not found: installing Debian's chromium and chromium-driver"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
        [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && return 0
    fi
    echo "error: the browser test needs Chromium and its driver. Install them with:" >&2
    echo "       sudo apt-get install -y chromium chromium-driver   (Debian/Ubuntu)," >&2
    echo "       or set CHROMIUM_BINARY and CHROMEDRIVER to a Chromium and a matching chromedriver." >&2
    return 1
}
