#!/usr/bin/env bash
# Lays out the image's root filesystem in OUT/rootfs from built artefacts:
#   /tracker-host                 the host (plus, when it is dynamically linked, the
#                                 shared libraries ldd names, at the same paths)
#   /app/spin.toml                the manifest, with the .wasm files at the paths it names
#   /tmp                          empty, world-writable (scratch space for backups)
# and OUT/data, an empty dir the Dockerfile copies to /data owned by the non-root user
# (outside rootfs/: a COPY cannot change the owner of a directory it did not create).
#   /etc/passwd /etc/group        the non-root user 65532 by name
# Both the Dockerfile's build stage (static musl binary) and `make image` (the tested
# release binary) use this, so the image's final stage is the same for both.
#
# Usage: stage-rootfs.sh OUT HOST_BINARY [REPO_ROOT]
set -euo pipefail

out=$1
bin=$2
repo=${3:-$(cd "$(dirname "$0")/../.." && pwd)}
root="$out/rootfs"

rm -rf "$root" "$out/data"
mkdir -p "$root/app" "$root/tmp" "$root/etc" "$out/data"
chmod 1777 "$root/tmp"

install -m 0755 "$bin" "$root/tracker-host"
strip "$root/tracker-host" 2>/dev/null || true

# A dynamically linked binary brings its libraries (and the loader) along.
# (ldd prints "statically linked" and no path for a static binary.)
if ldd "$bin" >/dev/null 2>&1; then
    ldd "$bin" | { grep -oE '/[^ ]+' || true; } | sort -u | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
fi

cp "$repo/spin.toml" "$root/app/spin.toml"
# Every component source the manifest names, at the same relative path.
grep -E '^[[:space:]]*source[[:space:]]*=' "$repo/spin.toml" | sed -E 's/.*"([^"]+)".*/\1/' |
    while read -r src; do
        [ -f "$repo/$src" ] || { echo "stage-rootfs: $repo/$src is missing (build the components first)" >&2; exit 1; }
        mkdir -p "$root/app/$(dirname "$src")"
        cp "$repo/$src" "$root/app/$src"
    done

echo 'nonroot:x:65532:65532:nonroot:/data:/sbin/nologin' > "$root/etc/passwd"
echo 'nonroot:x:65532:' > "$root/etc/group"
echo "stage-rootfs: $(du -sh "$root" | cut -f1) in $root"
