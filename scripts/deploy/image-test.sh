#!/usr/bin/env bash
# `make image-test`: runs the image the way Kubernetes does (non-root, read-only root
# filesystem, no capabilities, /data on a volume) on a loopback port, and checks
# /health, a write, a graceful stop, a new container on the same volume, that the
# write is still there, and a backup streamed out of the running container. Cleans up
# its containers and volume whatever happens.
#
# Usage: image-test.sh IMAGE
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/deploy/podman-flags.sh

image=$1
name=skilltrack-image-test-$$
volume=$name-data
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
passed=0
failed=0

cleanup() {
    "$PODMAN" "${PODMAN_GLOBAL[@]}" rm -f -t 0 "$name" >/dev/null 2>&1 || true
    "$PODMAN" "${PODMAN_GLOBAL[@]}" volume rm -f "$volume" >/dev/null 2>&1 || true
}
trap cleanup EXIT

check() {
    local what=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $what"
    else
        failed=$((failed + 1))
        echo "FAIL $what"
        "$PODMAN" "${PODMAN_GLOBAL[@]}" logs "$name" 2>&1 | tail -20 || true
    fi
}

start_container() {
    "$PODMAN" "${PODMAN_GLOBAL[@]}" run -d --name "$name" "${PODMAN_RUN[@]}" \
        --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
        -e SPIN_VARIABLE_API_TOKEN= -e TRACKER_ADMIN_TOKEN="$admin_token" \
        -p "127.0.0.1:$port:3000" -v "$volume:/data" "$image" >/dev/null
}

wait_healthy() {
    local deadline=$(($(date +%s) + 60))
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if curl -fsS -o /dev/null "$base/health" 2>/dev/null; then
            return 0
        fi
        if [ "$("$PODMAN" "${PODMAN_GLOBAL[@]}" inspect --format '{{.State.Running}}' "$name")" != true ]; then
            return 1
        fi
        sleep 0.5
    done
    return 1
}

status_of() { # METHOD PATH [JSON]
    curl -sS -o /dev/null -w '%{http_code}' -X "$1" ${3:+-H 'content-type: application/json' --data "$3"} "$base$2"
}

is_2xx() { [[ $1 =~ ^2[0-9][0-9]$ ]]; }

stop_gracefully() {
    "$PODMAN" "${PODMAN_GLOBAL[@]}" stop -t 30 "$name" >/dev/null
    local code
    code=$("$PODMAN" "${PODMAN_GLOBAL[@]}" inspect --format '{{.State.ExitCode}}' "$name")
    "$PODMAN" "${PODMAN_GLOBAL[@]}" rm "$name" >/dev/null
    [ "$code" = 0 ]
}

marker="image-test-$$-$(date +%s)"
admin_token="image-test-admin-$$"
"$PODMAN" "${PODMAN_GLOBAL[@]}" volume create "$volume" >/dev/null
start_container
check "container answers /health" wait_healthy
check "runs as the non-root user 65532" \
    test "$("$PODMAN" "${PODMAN_GLOBAL[@]}" inspect --format '{{.Config.User}}' "$name")" = 65532:65532
check "logs are JSON lines" sh -c \
    "'$PODMAN' ${PODMAN_GLOBAL[*]} logs '$name' 2>&1 | head -1 | python3 -c 'import json,sys; json.loads(sys.stdin.readline())'"
check "a setting is written (key-value)" \
    is_2xx "$(status_of POST /api/settings/image_test "{\"value\":\"$marker\"}")"
check "a course is written (SQLite)" \
    is_2xx "$(status_of PUT /api/courses/image-test "{\"title\":\"$marker\"}")"
check "SIGTERM stops the container with exit code 0" stop_gracefully

start_container
check "a new container on the same volume answers /health" wait_healthy
check "the setting survived the restart" \
    sh -c "curl -fsS '$base/api/settings/image_test' | grep -q '$marker'"
check "the course survived the restart" \
    sh -c "curl -fsS '$base/api/courses/image-test' | grep -q '$marker'"
check "the static app is served" sh -c "curl -fsS '$base/' | grep -qi '<html'"
# The admin API is on the container's loopback only (what `kubectl port-forward`
# reaches in a pod): usable from inside, with the token.
check "the admin API answers on the container's loopback" sh -c \
    "'$PODMAN' ${PODMAN_GLOBAL[*]} exec -e TRACKER_ADMIN_TOKEN='$admin_token' '$name' /tracker-host versions >/dev/null"
check "the admin API refuses a wrong token" sh -c \
    "! '$PODMAN' ${PODMAN_GLOBAL[*]} exec -e TRACKER_ADMIN_TOKEN=wrong '$name' /tracker-host versions >/dev/null 2>&1"

# What `make k8s-backup` does through kubectl exec: a backup streamed out of the
# running container (read-only root fs, /tmp on tmpfs), then checked by the image.
backup_file=$(mktemp)
trap 'rm -f "$backup_file"; cleanup' EXIT
check "tracker-host backup --out - runs inside the running container" sh -c \
    "'$PODMAN' ${PODMAN_GLOBAL[*]} exec '$name' /tracker-host backup --data-dir /data --out - > '$backup_file'"
check "the streamed backup verifies" \
    "$PODMAN" "${PODMAN_GLOBAL[@]}" run --rm -i "${PODMAN_RUN[@]}" --read-only --tmpfs /tmp \
    --entrypoint /tracker-host "$image" restore --verify-only --from - <"$backup_file"

echo "image-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
