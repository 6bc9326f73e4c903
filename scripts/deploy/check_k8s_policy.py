#!/usr/bin/env python3
"""Checks the rendered Kubernetes manifests (kubectl kustomize k8s) for the properties
the deployment relies on, which schema validation cannot see: one replica with the
Recreate strategy (SQLite has one writer), probes on /health, the restricted security
context, the data volume, and no Service port for the admin API.

Usage: kubectl kustomize k8s | check_k8s_policy.py
"""

import sys

import yaml

ADMIN_PORT = 3001


def find(docs, kind):
    found = [d for d in docs if d.get("kind") == kind]
    return found


def main():
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d is not None]
    errors = []

    def need(cond, msg):
        if not cond:
            errors.append(msg)

    for kind in ["Namespace", "PersistentVolumeClaim", "Deployment", "Service", "Ingress", "Secret"]:
        need(len(find(docs, kind)) == 1, f"expected exactly one {kind}")
    if errors:
        return report(errors)

    pvc = find(docs, "PersistentVolumeClaim")[0]
    need(pvc["spec"].get("accessModes") == ["ReadWriteOnce"], "PVC must be ReadWriteOnce")

    secret = find(docs, "Secret")[0]
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    need({"api-token", "admin-token"} <= keys, "Secret must hold api-token and admin-token")

    dep = find(docs, "Deployment")[0]
    spec = dep["spec"]
    need(spec.get("replicas") == 1, "Deployment must run exactly 1 replica")
    need(spec.get("strategy", {}).get("type") == "Recreate", "Deployment strategy must be Recreate")
    pod = spec["template"]["spec"]
    psc = pod.get("securityContext", {})
    need(psc.get("runAsNonRoot") is True, "pod must set runAsNonRoot: true")
    need(isinstance(psc.get("fsGroup"), int), "pod must set fsGroup for the volume")
    containers = pod.get("containers", [])
    need(len(containers) == 1, "one container expected")
    c = containers[0] if containers else {}
    csc = c.get("securityContext", {})
    need(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem must be true")
    need(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation must be false")
    need("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities must drop ALL")
    for probe in ["readinessProbe", "livenessProbe"]:
        path = c.get(probe, {}).get("httpGet", {}).get("path")
        need(path == "/health", f"{probe} must GET /health (got {path})")
    res = c.get("resources", {})
    need("requests" in res and "limits" in res, "container needs resource requests and limits")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    need("/data" in mounts, "/data must be mounted")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    data_vol = volumes.get(mounts.get("/data"), {})
    need(
        data_vol.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
        "/data must be the PVC",
    )
    env = {e["name"]: e for e in c.get("env", [])}
    need(env.get("TRACKER_DATA_DIR", {}).get("value") == "/data", "TRACKER_DATA_DIR must be /data")

    svc = find(docs, "Service")[0]
    for port in svc["spec"].get("ports", []):
        need(
            port.get("port") != ADMIN_PORT and port.get("targetPort") not in (ADMIN_PORT, "admin"),
            "the Service must not expose the admin port",
        )
    container_ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
    need(ADMIN_PORT not in container_ports.values(), "the admin port must not be a container port")

    return report(errors)


def report(errors):
    for e in errors:
        print(f"ERROR k8s policy: {e}")
    if not errors:
        print("INFO k8s policy: replicas, strategy, probes, security context, volume, ports ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
