# Sourced by the image scripts: how to run podman on machines whose sandbox cannot
# raise limits and whose cgroup layout crun rejects (see k8s/README.md).
PODMAN=${PODMAN:-podman}
PODMAN_GLOBAL=(--cgroup-manager cgroupfs)
PODMAN_RUN=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
