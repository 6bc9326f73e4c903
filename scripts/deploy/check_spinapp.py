#!/usr/bin/env python3
"""Checks SpinApp manifests against the required fields of the SpinApp CRD.

kubernetes-validate ships no schema for custom resources, so the fields the CRD
requires are written down here. Source: spinkube/spin-operator,
config/crd/bases/core.spinkube.dev_spinapps.yaml (commit 1831bc6050b7c8b06da4fd2ae5e1ec79aadd60af,
CRD spinapps.core.spinkube.dev, version v1alpha1; the group was spin.fermyon.dev in
older releases). Only what this app can get wrong is kept: required keys, the types
of the fields we use, and unknown keys under spec (the CRD's structural schema prunes
them silently, which hides typos).

Usage: check_spinapp.py FILE...   (documents of other kinds are skipped)
"""

import sys

import yaml

GROUP_VERSION = "core.spinkube.dev/v1alpha1"

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

SPEC = {
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
        "spec": SPEC,
    },
}


def check(value, schema, path, errors):
    expected = schema["type"]
    # bool is an int in Python; the CRD tells them apart.
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        errors.append(f"{path}: expected {expected.__name__}, got {type(value).__name__}")
        return
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


def main(paths):
    failed = False
    checked = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for doc in docs:
            if doc.get("kind") != "SpinApp":
                continue
            checked += 1
            errors = []
            if doc.get("apiVersion") != GROUP_VERSION:
                errors.append(f"apiVersion: expected {GROUP_VERSION}, got {doc.get('apiVersion')}")
            check(doc, SPINAPP, "SpinApp", errors)
            name = doc.get("metadata", {}).get("name", "?")
            if errors:
                failed = True
                for e in errors:
                    print(f"ERROR {path} spinapp/{name}: {e}")
            else:
                print(f"INFO {path} spinapp/{name} has every field the SpinApp CRD requires")
    if checked == 0:
        print("ERROR no SpinApp found in " + " ".join(paths))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
