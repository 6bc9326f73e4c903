# SkillTrack: `make run` builds everything and serves it on 127.0.0.1:3000;
# `make test` runs every test. Both install what they need on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := run

CARGO       ?= cargo
WASM_TARGET := wasm32-wasip2
WASM_OUT    := target/$(WASM_TARGET)/wasm
HOST_BIN    := target/release/tracker-host
LISTEN      ?= 127.0.0.1:3000
DATA_DIR    ?= ./data
# The API crate's native backend (rusqlite) is what its unit tests run on.
NATIVE_FEATURES := --features skilltrack-api/native

.PHONY: run run-scale-out build components host wasm-target test test-rust lint fmt fmt-check clippy deps clean

run: build
	$(HOST_BIN) up --manifest spin.toml --listen $(LISTEN) --data-dir $(DATA_DIR)

# Two replicas on one PostgreSQL (a local server with its data in ./data-pg, or
# DATABASE_URL): see the README's "Scale-out".
run-scale-out: build
	HOST_BIN=$(HOST_BIN) scripts/run-scale-out.sh

build: components host

wasm-target:
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)

# The static component embeds web/dist, so the web app is built first.
components: wasm-target web-dist
	$(CARGO) build --target $(WASM_TARGET) --profile wasm -p skilltrack-api -p skilltrack-static

host:
	$(CARGO) build --release -p tracker-host

# Every test: formatting and lints, Rust units, the components in the real host,
# the web app's checks and its end-to-end run in Chromium, the deployment checks.
test: deps build tools lint test-rust web-check web-e2e k8s-check image-test

# The API suite runs natively, in tracker-host and, when `tools` found Spin, in Spin
# (docs/testing.md).
test-rust: build tools
	$(CARGO) test --release --workspace $(NATIVE_FEATURES)

lint: fmt-check clippy

fmt:
	$(CARGO) fmt --all

fmt-check:
	$(CARGO) fmt --all -- --check

clippy: wasm-target
	$(CARGO) clippy --release --workspace --all-targets $(NATIVE_FEATURES) -- -D warnings
	$(CARGO) clippy --target $(WASM_TARGET) --profile wasm -p skilltrack-api -p skilltrack-static -- -D warnings

# System packages and tools the tests use; quick when they are already there.
deps: wasm-target chromium podman-tools k8s-tools

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules

include $(wildcard mk/*.mk)
