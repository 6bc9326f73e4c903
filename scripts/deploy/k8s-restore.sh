#!/usr/bin/env bash
# `make k8s-restore BACKUP=FILE`: restores a backup into the cluster's data volume.
# restore refuses to touch a running server's data, so: scale the Deployment to 0,
# run a one-off pod of the same image on the same PVC that reads the backup from
# stdin (`tracker-host restore --from - --force`), then scale back to 1.
# The replaced data stays on the volume under /data/pre-restore-<time>/.
#
# Usage: k8s-restore.sh BACKUP_FILE   (env: KUBECTL, K8S_NAMESPACE, HOST_BIN)
set -euo pipefail

backup=$1
kubectl=${KUBECTL:-kubectl}
ns=${K8S_NAMESPACE:-skilltrack}
deploy=skilltrack
claim=skilltrack-data
k=("$kubectl" -n "$ns")

[ -f "$backup" ] || { echo "k8s-restore: $backup does not exist" >&2; exit 1; }
# Check the file here first: a damaged backup never costs downtime.
if [ -x "${HOST_BIN:-}" ]; then
    "$HOST_BIN" restore --verify-only --from "$backup"
fi

image=$("${k[@]}" get deploy "$deploy" -o jsonpath='{.spec.template.spec.containers[0].image}')
echo "k8s-restore: stopping $deploy (image $image)"
"${k[@]}" scale deploy "$deploy" --replicas=0
trap '"${k[@]}" scale deploy "$deploy" --replicas=1 >/dev/null' EXIT
"${k[@]}" wait --for=delete pod -l app.kubernetes.io/name=skilltrack --timeout=120s || true

overrides=$(cat <<JSON
{
  "apiVersion": "v1",
  "spec": {
    "automountServiceAccountToken": false,
    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
                        "fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [{
      "name": "skilltrack-restore",
      "image": "$image",
      "args": ["restore", "--data-dir", "/data", "--from", "-", "--force"],
      "stdin": true, "stdinOnce": true,
      "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                          "capabilities": {"drop": ["ALL"]}},
      "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}]
    }],
    "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "$claim"}},
                {"name": "tmp", "emptyDir": {}}]
  }
}
JSON
)
echo "k8s-restore: restoring $backup"
"${k[@]}" run skilltrack-restore --image="$image" --restart=Never --rm -i --quiet \
    --overrides="$overrides" <"$backup"

"${k[@]}" scale deploy "$deploy" --replicas=1
trap - EXIT
"${k[@]}" rollout status deploy "$deploy" --timeout=180s
echo "k8s-restore: done"
