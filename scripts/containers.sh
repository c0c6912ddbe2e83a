# Sourced by scripts/images.sh and scripts/test.sh: podman and buildah as this machine kind runs them.

# Makes sure podman, buildah, runc and debootstrap are installed: installs Debian's when missing and running as root.
ensure_containers() {
    local missing=()
    for tool in podman buildah runc debootstrap; do
        command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing Debian's ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap >/dev/null
        return 0
    fi
    echo "error: building and running the images needs podman, buildah, runc and debootstrap, as root. Install them with:" >&2
    echo "       sudo apt-get install -y podman buildah runc debootstrap   (Debian/Ubuntu)" >&2
    return 1
}

export CONTAINERS_CONF=${CONTAINERS_CONF:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/containers.conf}

# buildah bud with the runtime that works here, RUN steps in a chroot (no nested container runtime needed) and this
# shell's limit of open files (the default 1024 is too few for javac over the whole reactor)
buildah_bud() {
    local files
    files=$(ulimit -Hn)
    [ "$files" != unlimited ] || files=65536
    buildah bud --runtime runc --isolation chroot --ulimit "nofile=$files:$files" "$@"
}
