#!/usr/bin/env python3
"""Checks rendered Kubernetes manifests (kubectl kustomize ...) for the properties the
deployment relies on, which schema validation cannot see.

Both variants: probes on /health for liveness and startup, the restricted security
context, resource requests and limits, /data mounted, the token Secret, no Service or
container port for the admin API, a Service that selects the app's pods.

--variant single (k8s, the default): one replica with the Recreate strategy (SQLite has
one writer), readiness on /health, /data on the ReadWriteOnce PVC.

--variant scale-out (k8s/overlays/scale-out): at least 2 replicas, RollingUpdate with
maxUnavailable 0, readiness on /health/ready, /data an emptyDir and no PVC, spreading
over nodes, the PostgreSQL settings pointing at the CloudNativePG Cluster's Secret and
read-write Service, a PodDisruptionBudget and an HPA on the app's pods, a NetworkPolicy
that lets the app, the cluster's own pods and the operator reach the database.

SpinApp files given as arguments are checked against the same manifests: their names
must not clash with the Deployment or Service (the Spin Operator names its own after
the SpinApp), and for scale-out they must carry the same database settings and labels
the NetworkPolicy admits.

Usage: kubectl kustomize k8s | check_k8s_policy.py [--variant single|scale-out] [SPINAPP.yaml...]
"""

import argparse
import sys

import yaml

ADMIN_PORT = 3001
PG_PORT = 5432
CNPG_STATUS_PORT = 8000
CNPG_CLUSTER_LABEL = "cnpg.io/cluster"
FLEET_ENV = [
    "SPIN_VARIABLE_DATABASE_URL",
    "SPIN_VARIABLE_DATABASE_HOST",
    "TRACKER_FLEET_DATABASE_URL",
    "TRACKER_REPLICA_ID",
]


def find(docs, kind):
    return [d for d in docs if d.get("kind") == kind]


def selects(selector, labels):
    """Whether a LabelSelector (matchLabels, matchExpressions) selects these labels."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def probe_path(container, probe):
    return container.get(probe, {}).get("httpGet", {}).get("path")


def rule_ports(rule):
    return {p.get("port") for p in rule.get("ports") or []}


class Checker:
    def __init__(self):
        self.errors = []

    def need(self, cond, msg):
        if not cond:
            self.errors.append(msg)
        return cond


def check_common(c, docs):
    """What both variants share. Returns the Deployment, its container and volumes."""
    for kind in ["Namespace", "Deployment", "Service", "Ingress", "Secret"]:
        c.need(len(find(docs, kind)) == 1, f"expected exactly one {kind}")
    if c.errors:
        return None

    secret = find(docs, "Secret")[0]
    keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    c.need({"api-token", "admin-token"} <= keys, "Secret must hold api-token and admin-token")

    dep = find(docs, "Deployment")[0]
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    c.need(psc.get("runAsNonRoot") is True, "pod must set runAsNonRoot: true")
    c.need(isinstance(psc.get("fsGroup"), int), "pod must set fsGroup for the volume")
    containers = pod.get("containers", [])
    c.need(len(containers) == 1, "one container expected")
    ctr = containers[0] if containers else {}
    csc = ctr.get("securityContext", {})
    c.need(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem must be true")
    c.need(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation must be false")
    c.need("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities must drop ALL")
    for probe in ["startupProbe", "livenessProbe"]:
        path = probe_path(ctr, probe)
        c.need(path == "/health", f"{probe} must GET /health (got {path})")
    res = ctr.get("resources", {})
    c.need("requests" in res and "limits" in res, "container needs resource requests and limits")
    mounts = {m["mountPath"]: m["name"] for m in ctr.get("volumeMounts", [])}
    c.need("/data" in mounts, "/data must be mounted")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    data_vol = volumes.get(mounts.get("/data"), {})
    env = {e["name"]: e for e in ctr.get("env", [])}
    c.need(env.get("TRACKER_DATA_DIR", {}).get("value") == "/data", "TRACKER_DATA_DIR must be /data")

    svc = find(docs, "Service")[0]
    pod_labels = dep["spec"]["template"].get("metadata", {}).get("labels", {})
    c.need(
        selects({"matchLabels": svc["spec"].get("selector", {})}, pod_labels)
        and svc["spec"].get("selector"),
        "the Service must select the Deployment's pods",
    )
    for port in svc["spec"].get("ports", []):
        c.need(
            port.get("port") != ADMIN_PORT and port.get("targetPort") not in (ADMIN_PORT, "admin"),
            "the Service must not expose the admin port",
        )
    container_ports = {p.get("name"): p.get("containerPort") for p in ctr.get("ports", [])}
    c.need(ADMIN_PORT not in container_ports.values(), "the admin port must not be a container port")
    return dep, ctr, data_vol, env


def check_single(c, docs, dep, ctr, data_vol, env, spinapps):
    pvcs = find(docs, "PersistentVolumeClaim")
    if not c.need(len(pvcs) == 1, "expected exactly one PersistentVolumeClaim"):
        return
    pvc = pvcs[0]
    c.need(pvc["spec"].get("accessModes") == ["ReadWriteOnce"], "PVC must be ReadWriteOnce")
    spec = dep["spec"]
    c.need(spec.get("replicas") == 1, "Deployment must run exactly 1 replica")
    c.need(spec.get("strategy", {}).get("type") == "Recreate", "Deployment strategy must be Recreate")
    path = probe_path(ctr, "readinessProbe")
    c.need(path == "/health", f"readinessProbe must GET /health (got {path})")
    c.need(
        data_vol.get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
        "/data must be the PVC",
    )
    for app in spinapps:
        c.need(app["spec"].get("replicas", 1) == 1, "a SQLite SpinApp must run 1 replica")


def check_scale_out(c, docs, dep, ctr, data_vol, env, spinapps):
    for kind in ["PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "Cluster"]:
        c.need(len(find(docs, kind)) == 1, f"expected exactly one {kind}")
    c.need(not find(docs, "PersistentVolumeClaim"), "no PersistentVolumeClaim: the data is in PostgreSQL")
    if c.errors:
        return
    spec = dep["spec"]
    name = dep["metadata"]["name"]
    pod_labels = spec["template"].get("metadata", {}).get("labels", {})
    pod = spec["template"]["spec"]

    replicas = spec.get("replicas")
    c.need(isinstance(replicas, int) and replicas >= 2, f"Deployment must run 2 or more replicas (got {replicas})")
    strategy = spec.get("strategy", {})
    c.need(strategy.get("type") == "RollingUpdate", "Deployment strategy must be RollingUpdate")
    rolling = strategy.get("rollingUpdate", {})
    c.need(rolling.get("maxUnavailable") in (0, "0%"), "rollingUpdate.maxUnavailable must be 0")
    c.need(rolling.get("maxSurge") not in (None, 0, "0%"), "rollingUpdate.maxSurge must be above 0")
    path = probe_path(ctr, "readinessProbe")
    c.need(path == "/health/ready", f"readinessProbe must GET /health/ready (got {path})")
    c.need("emptyDir" in data_vol and len(data_vol) == 2, "/data must be an emptyDir (a cache only)")
    spread = {t.get("topologyKey"): t for t in pod.get("topologySpreadConstraints", [])}
    host = spread.get("kubernetes.io/hostname")
    c.need(
        host is not None and selects(host.get("labelSelector"), pod_labels),
        "pods must be spread over kubernetes.io/hostname (a constraint that selects them)",
    )

    cluster = find(docs, "Cluster")[0]
    cname = cluster["metadata"]["name"]
    cns = cluster["metadata"].get("namespace") or dep["metadata"].get("namespace")
    instances = cluster.get("spec", {}).get("instances")
    c.need(isinstance(instances, int) and instances >= 2, f"the Cluster needs 2 or more instances (got {instances})")
    c.need("initdb" in cluster.get("spec", {}).get("bootstrap", {}), "the Cluster must bootstrap with initdb")
    # CloudNativePG's app Secret is <cluster>-app; its `uri` names <cluster>-rw.<namespace>:5432.
    # The allow-list entry is postgres:// whatever the URI's scheme: Spin (and
    # tracker-host) check a database address as postgres://host:port.
    app_secret = {"name": f"{cname}-app", "key": "uri"}
    db_host = f"postgres://{cname}-rw.{cns}:{PG_PORT}"
    for var in FLEET_ENV:
        c.need(var in env, f"container env must set {var}")
    for var in ["SPIN_VARIABLE_DATABASE_URL", "TRACKER_FLEET_DATABASE_URL"]:
        ref = env.get(var, {}).get("valueFrom", {}).get("secretKeyRef")
        c.need(ref == app_secret, f"{var} must come from Secret {app_secret['name']} key uri (got {ref})")
    got_host = env.get("SPIN_VARIABLE_DATABASE_HOST", {}).get("value")
    c.need(got_host == db_host, f"SPIN_VARIABLE_DATABASE_HOST must be {db_host} (got {got_host})")
    field = env.get("TRACKER_REPLICA_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    c.need(field == "metadata.name", f"TRACKER_REPLICA_ID must be the pod's metadata.name (got {field})")

    pdb = find(docs, "PodDisruptionBudget")[0]["spec"]
    c.need(selects(pdb.get("selector"), pod_labels), "the PodDisruptionBudget must select the app's pods")
    c.need(
        ("minAvailable" in pdb) != ("maxUnavailable" in pdb),
        "the PodDisruptionBudget needs one of minAvailable, maxUnavailable",
    )

    hpa = find(docs, "HorizontalPodAutoscaler")[0]["spec"]
    target = hpa.get("scaleTargetRef", {})
    c.need(
        target.get("kind") == "Deployment" and target.get("name") == name,
        f"the HPA must scale Deployment {name} (got {target})",
    )
    low, high = hpa.get("minReplicas", 1), hpa.get("maxReplicas", 0)
    c.need(low >= 2 and high >= low, f"the HPA must keep 2 or more replicas (min {low}, max {high})")
    c.need(
        any(m.get("resource", {}).get("name") == "cpu" for m in hpa.get("metrics", [])),
        "the HPA must scale on CPU",
    )

    netpol = find(docs, "NetworkPolicy")[0]["spec"]
    db_labels = {CNPG_CLUSTER_LABEL: cname}
    c.need(selects(netpol.get("podSelector"), db_labels), f"the NetworkPolicy must select the pods of Cluster {cname}")
    c.need("Ingress" in netpol.get("policyTypes", []), "the NetworkPolicy must restrict Ingress")
    rules = netpol.get("ingress", [])

    def admitted(labels, port, operator=False):
        for rule in rules:
            if port not in rule_ports(rule):
                continue
            for peer in rule.get("from", []):
                has_ns = "namespaceSelector" in peer
                if has_ns == operator and selects(peer.get("podSelector"), labels):
                    return True
        return False

    c.need(admitted(pod_labels, PG_PORT), "the NetworkPolicy must let the app's pods reach 5432")
    for port in (PG_PORT, CNPG_STATUS_PORT):
        c.need(admitted(db_labels, port), f"the NetworkPolicy must let the cluster's pods reach each other on {port}")
        c.need(
            admitted({"app.kubernetes.io/name": "cloudnative-pg"}, port, operator=True),
            f"the NetworkPolicy must let the CloudNativePG operator reach {port}",
        )

    for app in spinapps:
        aname = app["metadata"]["name"]
        aspec = app["spec"]
        c.need(aspec.get("replicas", 1) >= 2, f"SpinApp {aname} must run 2 or more replicas")
        path = aspec.get("checks", {}).get("readiness", {}).get("httpGet", {}).get("path")
        c.need(path == "/health/ready", f"SpinApp {aname} readiness must GET /health/ready (got {path})")
        variables = {v["name"]: v for v in aspec.get("variables", [])}
        ref = variables.get("database_url", {}).get("valueFrom", {}).get("secretKeyRef")
        c.need(ref == app_secret, f"SpinApp {aname} database_url must come from Secret {app_secret['name']} key uri")
        got = variables.get("database_host", {}).get("value")
        c.need(got == db_host, f"SpinApp {aname} database_host must be {db_host} (got {got})")
        c.need(admitted(aspec.get("podLabels"), PG_PORT), f"the NetworkPolicy must let SpinApp {aname}'s pods reach 5432")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", choices=["single", "scale-out"], default="single")
    parser.add_argument("spinapps", nargs="*")
    args = parser.parse_args()
    docs = [d for d in yaml.safe_load_all(sys.stdin) if d is not None]
    spinapps = []
    for path in args.spinapps:
        with open(path, encoding="utf-8") as f:
            spinapps += [d for d in yaml.safe_load_all(f) if d is not None and d.get("kind") == "SpinApp"]
    c = Checker()
    common = check_common(c, docs)
    if common is not None:
        for app in spinapps:
            aname = app["metadata"]["name"]
            taken = {d["metadata"]["name"] for d in docs if d.get("kind") in ("Deployment", "Service")}
            c.need(aname not in taken, f"SpinApp {aname}: the Spin Operator's Deployment and Service would clash with ours")
        check = check_single if args.variant == "single" else check_scale_out
        check(c, docs, *common, spinapps)
    for e in c.errors:
        print(f"ERROR k8s policy ({args.variant}): {e}")
    if not c.errors:
        print(f"INFO k8s policy ({args.variant}): replicas, strategy, probes, security context, volumes, ports ok")
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
