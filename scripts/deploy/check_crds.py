#!/usr/bin/env python3
"""Checks custom resources against the facts of their CRDs that this app relies on.

kubernetes-validate ships no schema for custom resources (it only warns), so the fields
each CRD requires, the types of the fields we use and the known keys are written down
here, from the CRDs themselves. Only what this app can get wrong is kept: required keys,
types, enums and minimums of the fields we set, and unknown keys (a structural CRD
prunes them silently, or kubectl's strict field validation rejects them; either way a
typo would go unnoticed until the cluster).

- SpinApp: spinkube/spin-operator, config/crd/bases/core.spinkube.dev_spinapps.yaml
  (commit 1831bc6050b7c8b06da4fd2ae5e1ec79aadd60af, checked again at
  90d14cc7b112231e61f35bfd9abbf469acf8df68; CRD spinapps.core.spinkube.dev, version
  v1alpha1; the group was spin.fermyon.dev in older releases).
- Cluster: cloudnative-pg/cloudnative-pg, config/crd/bases/postgresql.cnpg.io_clusters.yaml
  (commit a95a534dbe0854495b863bbc1b7651f74d310916; CRD clusters.postgresql.cnpg.io,
  version v1). Every key of spec is listed, with sub-schemas for the ones we set.

Usage: check_crds.py FILE...   (documents of built-in kinds are skipped; a file set with
no custom resource at all, or one of a known group with an unknown kind or version, fails)
"""

import sys

import yaml

# A schema: the Python type, the required keys and the known keys (dicts), the item
# schema (lists). A dict schema without "props" accepts any keys.
PROBE = {
    "type": dict,
    "required": [],
    "props": {
        "httpGet": {
            "type": dict,
            "required": ["path"],
            "props": {
                "path": {"type": str},
                "httpHeaders": {
                    "type": list,
                    "items": {
                        "type": dict,
                        "required": ["name", "value"],
                        "props": {"name": {"type": str}, "value": {"type": str}},
                    },
                },
            },
        },
        "initialDelaySeconds": {"type": int},
        "periodSeconds": {"type": int},
        "timeoutSeconds": {"type": int},
        "successThreshold": {"type": int},
        "failureThreshold": {"type": int},
    },
}

OPTION = {
    "type": dict,
    "required": ["name"],
    "props": {"name": {"type": str}, "value": {"type": str}, "valueFrom": {"type": dict}},
}

STORE = {
    "type": dict,
    "required": ["name", "type"],
    "props": {
        "name": {"type": str},
        "type": {"type": str},
        "options": {"type": list, "items": OPTION},
    },
}

SPINAPP_SPEC = {
    "type": dict,
    "required": ["executor", "image"],
    "props": {
        "image": {"type": str},
        "executor": {"type": str},
        "replicas": {"type": int},
        "enableAutoscaling": {"type": bool},
        "components": {"type": list, "items": {"type": str}},
        "checks": {
            "type": dict,
            "required": [],
            "props": {"liveness": PROBE, "readiness": PROBE},
        },
        "variables": {
            "type": list,
            "items": {
                "type": dict,
                "required": ["name"],
                "props": {"name": {"type": str}, "value": {"type": str}, "valueFrom": {"type": dict}},
            },
        },
        "runtimeConfig": {
            "type": dict,
            "required": [],
            "props": {
                "loadFromSecret": {"type": str},
                "keyValueStores": {"type": list, "items": STORE},
                "sqliteDatabases": {"type": list, "items": STORE},
                "llmCompute": {"type": dict, "required": ["type"]},
            },
        },
        "volumes": {"type": list, "items": {"type": dict, "required": ["name"]}},
        "volumeMounts": {
            "type": list,
            "items": {"type": dict, "required": ["mountPath", "name"]},
        },
        "resources": {
            "type": dict,
            "required": [],
            "props": {"limits": {"type": dict}, "requests": {"type": dict}},
        },
        "imagePullSecrets": {"type": list},
        "deploymentAnnotations": {"type": dict},
        "podAnnotations": {"type": dict},
        "podLabels": {"type": dict},
        "serviceAnnotations": {"type": dict},
    },
}

SPINAPP = {
    "type": dict,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "props": {
        "apiVersion": {"type": str},
        "kind": {"type": str},
        "metadata": {"type": dict, "required": ["name"]},
        "spec": SPINAPP_SPEC,
    },
}


# The keys of Cluster.spec we do not set: known, so accepted, with any value.
CLUSTER_SPEC_OTHER_KEYS = [
    "backup", "certificates", "description", "enablePDB", "enableSuperuserAccess", "env",
    "envFrom", "ephemeralVolumeSource", "ephemeralVolumesSizeLimit", "externalClusters",
    "failoverDelay", "imageCatalogRef", "imageName", "imagePullPolicy", "imagePullSecrets",
    "inheritedMetadata", "livenessProbeTimeout", "logLevel", "managed", "maxSyncReplicas",
    "minSyncReplicas", "monitoring", "nodeMaintenanceWindow", "plugins", "podSecurityContext",
    "podSelectorRefs", "postgresGID", "postgresUID", "postgresql", "primaryLease",
    "primaryUpdateMethod", "priorityClassName", "probes", "projectedVolumeTemplate", "replica",
    "replicationSlots", "schedulerName", "seccompProfile", "securityContext",
    "serviceAccountName", "serviceAccountTemplate", "smartShutdownTimeout", "startDelay",
    "stopDelay", "superuserSecret", "switchoverDelay", "tablespaces",
    "topologySpreadConstraints", "walStorage",
]

ANY = {"type": object}

CLUSTER_SPEC = {
    "type": dict,
    # `instances` is required (the CRD also defaults it to 1: a Cluster that leaves it
    # out would quietly run a single instance).
    "required": ["instances"],
    "props": {
        "instances": {"type": int, "minimum": 1},
        "primaryUpdateStrategy": {"type": str, "enum": ["unsupervised", "supervised"]},
        "storage": {
            "type": dict,
            "required": [],
            "props": {
                "size": {"type": str},
                "storageClass": {"type": str},
                "resizeInUseVolumes": {"type": bool},
                "pvcTemplate": {"type": dict},
            },
        },
        "bootstrap": {
            "type": dict,
            "required": [],
            "props": {
                "initdb": {
                    "type": dict,
                    "required": [],
                    # The keys of bootstrap.initdb; only the two we set are typed.
                    "props": {
                        "database": {"type": str},
                        "owner": {"type": str},
                        **{
                            k: ANY
                            for k in [
                                "builtinLocale", "dataChecksums", "encoding", "icuLocale",
                                "icuRules", "import", "locale", "localeCType",
                                "localeCollate", "localeProvider", "options",
                                "postInitApplicationSQL", "postInitApplicationSQLRefs",
                                "postInitSQL", "postInitSQLRefs", "postInitTemplateSQL",
                                "postInitTemplateSQLRefs", "secret", "walSegmentSize",
                            ]
                        },
                    },
                },
                "pg_basebackup": {"type": dict},
                "recovery": {"type": dict},
            },
        },
        "affinity": {
            "type": dict,
            "required": [],
            "props": {
                "enablePodAntiAffinity": {"type": bool},
                "topologyKey": {"type": str},
                # An enum in the documentation, a plain string in the CRD.
                "podAntiAffinityType": {"type": str, "enum": ["preferred", "required"]},
                "additionalPodAffinity": {"type": dict},
                "additionalPodAntiAffinity": {"type": dict},
                "nodeAffinity": {"type": dict},
                "nodeSelector": {"type": dict},
                "tolerations": {"type": list},
            },
        },
        "resources": {
            "type": dict,
            "required": [],
            "props": {"claims": {"type": list}, "limits": {"type": dict}, "requests": {"type": dict}},
        },
        **{k: ANY for k in CLUSTER_SPEC_OTHER_KEYS},
    },
}

CLUSTER = {
    "type": dict,
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "props": {
        "apiVersion": {"type": str},
        "kind": {"type": str},
        "metadata": {"type": dict, "required": ["name"]},
        "spec": CLUSTER_SPEC,
    },
}

# (group, kind) -> (version, schema)
CRDS = {
    ("core.spinkube.dev", "SpinApp"): ("v1alpha1", SPINAPP),
    ("postgresql.cnpg.io", "Cluster"): ("v1", CLUSTER),
}
GROUPS = {group for group, _ in CRDS}


def check(value, schema, path, errors):
    expected = schema["type"]
    # bool is an int in Python; the CRD tells them apart.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        errors.append(f"{path}: expected {expected.__name__}, got {type(value).__name__}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        errors.append(f"{path}: {value} is below the minimum {schema['minimum']}")
    if expected is dict:
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: required field '{key}' is missing")
        props = schema.get("props")
        if props is not None:
            for key, sub in value.items():
                if key not in props:
                    errors.append(f"{path}: unknown field '{key}'")
                else:
                    check(sub, props[key], f"{path}.{key}", errors)
    elif expected is list and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{path}[{i}]", errors)


def check_doc(doc):
    """The errors of one custom resource, or None for a built-in kind."""
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    kind = doc.get("kind")
    if group not in GROUPS:
        return None
    if (group, kind) not in CRDS:
        return [f"kind {kind} is not a known kind of {group}"]
    want_version, schema = CRDS[(group, kind)]
    errors = []
    if version != want_version:
        errors.append(f"apiVersion: expected {group}/{want_version}, got {doc.get('apiVersion')}")
    check(doc, schema, kind, errors)
    return errors


def main(paths):
    failed = False
    checked = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for doc in docs:
            errors = check_doc(doc)
            if errors is None:
                continue
            checked += 1
            name = f"{str(doc.get('kind')).lower()}/{doc.get('metadata', {}).get('name', '?')}"
            if errors:
                failed = True
                for e in errors:
                    print(f"ERROR {path} {name}: {e}")
            else:
                print(f"INFO {path} {name} has every field its CRD requires")
    if checked == 0:
        print("ERROR no custom resource found in " + " ".join(paths))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
