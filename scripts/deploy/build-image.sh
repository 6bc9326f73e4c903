#!/usr/bin/env bash
# `make image`: builds the image with podman from artefacts built on this machine,
# through the Dockerfile's final stage (ARTIFACTS=prebuilt).
#
# Usage: build-image.sh IMAGE HOST_BINARY
#   HOST_BINARY is target/release/tracker-host (the binary the tests ran; its shared
#   libraries are copied in) or a static musl build (make image STATIC=1).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/deploy/podman-flags.sh

image=$1
bin=$2
stage=target/image

start=$(date +%s)
previous=$("$PODMAN" "${PODMAN_GLOBAL[@]}" image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
scripts/deploy/stage-rootfs.sh "$stage" "$bin" "$PWD"
"$PODMAN" "${PODMAN_GLOBAL[@]}" build --quiet \
    --build-arg ARTIFACTS=prebuilt -f Dockerfile -t "$image" "$stage" >/dev/null
end=$(date +%s)
current=$("$PODMAN" "${PODMAN_GLOBAL[@]}" image inspect --format '{{.Id}}' "$image")
# The image this build replaced is untagged now: drop it rather than pile them up.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then
    "$PODMAN" "${PODMAN_GLOBAL[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
size=$("$PODMAN" image inspect --format '{{.Size}}' "$image")
echo "image $image: $((size / 1024 / 1024)) MiB, built in $((end - start)) s"
