#!/usr/bin/env bash
# Builds the component images from the Dockerfile with buildah, as root, on a machine with no container registry:
#
#   scripts/images.sh [component ...]      (default: hub gateway user post comment)
#
# The two base images the Dockerfile takes as build arguments are made here from Debian's packages when they do
# not exist yet (set BUILD_IMAGE and RUNTIME_BASE to use others):
#   localhost/switchboard/jdk:<version>-r<n>   a Debian minbase with this machine's JDK 21+ (the build stage:
#                                              Maven through ./mvnw, then jlink)
#   localhost/switchboard/runtime-base:bookworm-r<n>  glibc and nothing else: no shell, no package manager (the JRE is
#                                              copied in by the Dockerfile), like the distroless base it stands for
# The images are tagged localhost/switchboard/<component>:${TAG:-dev}; each one's size is printed at the end.
# Installs podman, buildah, runc and debootstrap when they are missing (as root). Debian's mirror: DEBIAN_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prerequisites.sh
source scripts/containers.sh

COMPONENTS=("$@")
[ ${#COMPONENTS[@]} -gt 0 ] || COMPONENTS=(hub gateway user post comment)
TAG=${TAG:-dev}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
# part of the base images' tags: raise it when their recipe below changes, so that no machine keeps an older one
RECIPE=3
ARCH=$(dpkg --print-architecture)

find_jdk
ensure_containers

WORK=$(mktemp -d /var/tmp/switchboard-images.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# A Debian minbase root file system, made once per run, with binutils (jlink --strip-debug runs objcopy).
rootfs() {
    if [ ! -d "$WORK/rootfs" ]; then
        echo "debootstrap $SUITE (minbase) from $MIRROR..."
        debootstrap --variant=minbase --include=binutils "$SUITE" "$WORK/rootfs" "$MIRROR" \
            >"$WORK/debootstrap.log" 2>&1 \
            || { tail -20 "$WORK/debootstrap.log" >&2; echo "error: debootstrap failed (log above)" >&2; return 1; }
        rm -rf "$WORK/rootfs/var/cache/apt/archives"/*.deb "$WORK/rootfs/var/lib/apt/lists"/*
    fi
}

# The build stage's base: the minbase with $JAVA_HOME copied in as /opt/jdk. Its trust store (on Debian a symlink
# into /etc/ssl/certs/java, which a minbase lacks) is copied as a file, so that Maven can reach Maven Central.
jdk_image() {
    local version ctr
    version=$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$JAVA_HOME/release")
    JDK_IMAGE=localhost/switchboard/jdk:$version-r$RECIPE
    podman image exists "$JDK_IMAGE" && return 0
    rootfs
    echo "making $JDK_IMAGE from $JAVA_HOME..."
    tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
    tar -C "$JAVA_HOME" --dereference -cf "$WORK/jdk.tar" .
    ctr=$(buildah from --pull-never scratch)
    buildah add --quiet "$ctr" "$WORK/rootfs.tar" / >/dev/null
    buildah add --quiet "$ctr" "$WORK/jdk.tar" /opt/jdk >/dev/null
    buildah config --env JAVA_HOME=/opt/jdk --env PATH=/opt/jdk/bin:/usr/local/bin:/usr/bin:/bin --cmd /bin/bash "$ctr"
    buildah commit --quiet --rm "$ctr" "$JDK_IMAGE" >/dev/null
}

# The runtime base: the files of Debian's libc6 (without its gconv modules, which a JVM does not use) and zlib1g
# (a JDK built against the system zlib, as Debian's own are, needs it; Temurin carries its own), the OS release, a
# /tmp and passwd entries for root and nobody only (the images run as the numeric user 10001). The JRE the
# Dockerfile makes comes from the build's JDK, so that JDK must run on bookworm's glibc.
runtime_image() {
    RUNTIME_IMAGE=localhost/switchboard/runtime-base:$SUITE-r$RECIPE
    podman image exists "$RUNTIME_IMAGE" && return 0
    rootfs
    echo "making $RUNTIME_IMAGE (glibc only)..."
    local root=$WORK/runtime-root ctr path
    mkdir -p "$root"/{tmp,etc,usr/bin,usr/lib,usr/lib64,usr/sbin,var/lib/dpkg/status.d}
    chmod 1777 "$root/tmp"
    for link in bin lib lib64 sbin; do ln -s "usr/$link" "$root/$link"; done
    # paths as dpkg lists them (/lib/...), resolved through the merged /usr of the minbase
    while read -r path; do
        case "$path" in /usr/share/*|*/gconv|*/gconv/*) continue ;; esac
        path=$(sed -E 's#^/(lib|lib64|bin|sbin)/#/usr/\1/#' <<<"$path")
        if [ -f "$WORK/rootfs$path" ] || [ -L "$WORK/rootfs$path" ]; then
            (cd "$WORK/rootfs" && cp -a --parents ".$path" "$root/")
        fi
    done < <(cat "$WORK/rootfs/var/lib/dpkg/info/libc6:$ARCH.list" "$WORK/rootfs/var/lib/dpkg/info/zlib1g:$ARCH.list")
    cp -a "$WORK/rootfs/usr/lib/os-release" "$root/usr/lib/os-release"
    ln -s ../usr/lib/os-release "$root/etc/os-release"
    [ ! -f "$WORK/rootfs/etc/nsswitch.conf" ] || cp "$WORK/rootfs/etc/nsswitch.conf" "$root/etc/"
    printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
        >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    # what is installed, for image scanners
    awk -v RS= '/^Package: libc6\n/' "$WORK/rootfs/var/lib/dpkg/status" >"$root/var/lib/dpkg/status.d/libc6"
    awk -v RS= '/^Package: zlib1g\n/' "$WORK/rootfs/var/lib/dpkg/status" >"$root/var/lib/dpkg/status.d/zlib1g"
    tar -C "$root" -cf "$WORK/runtime.tar" .
    ctr=$(buildah from --pull-never scratch)
    buildah add --quiet "$ctr" "$WORK/runtime.tar" / >/dev/null
    buildah config --env PATH=/usr/bin:/bin "$ctr"
    buildah commit --quiet --rm "$ctr" "$RUNTIME_IMAGE" >/dev/null
}

if [ -z "${BUILD_IMAGE:-}" ]; then
    jdk_image
    BUILD_IMAGE=$JDK_IMAGE
fi
if [ -z "${RUNTIME_BASE:-}" ]; then
    runtime_image
    RUNTIME_BASE=$RUNTIME_IMAGE
fi

for component in "${COMPONENTS[@]}"; do
    echo "building localhost/switchboard/$component:$TAG (BUILD_IMAGE=$BUILD_IMAGE, RUNTIME_BASE=$RUNTIME_BASE)..."
    start=$(date +%s)
    buildah_bud --quiet --layers --pull-never --network host \
        --build-arg BUILD_IMAGE="$BUILD_IMAGE" --build-arg RUNTIME_BASE="$RUNTIME_BASE" \
        --build-arg COMPONENT="$component" --target "$component" -t "localhost/switchboard/$component:$TAG" . >/dev/null
    echo "  built in $(( $(date +%s) - start )) s"
done

# what a rebuild left behind: the former images of these tags and the build stage's layers (the Maven cache mount
# stays, so the next build downloads nothing), and the bases of earlier recipes
podman image prune --force >/dev/null
for image in $(podman images --format '{{.Repository}}:{{.Tag}}' \
               | grep -E '^localhost/switchboard/(jdk|runtime-base):' || true); do
    case $image in
        "${JDK_IMAGE:-}" | "${RUNTIME_IMAGE:-}") ;;
        *) podman rmi "$image" >/dev/null 2>&1 || true ;;
    esac
done

echo
echo "image                                     size"
for component in "${COMPONENTS[@]}"; do
    printf '%-41s %s MB\n' "localhost/switchboard/$component:$TAG" \
        "$(( $(podman image inspect --format '{{.Size}}' "localhost/switchboard/$component:$TAG") / 1000000 ))"
done
