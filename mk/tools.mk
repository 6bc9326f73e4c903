# The other runtimes the API suite also runs on (docs/testing.md): Spin for the core
# scenarios, the wasmtime CLI (`wasmtime serve`) for the static component. Found as
# $SPIN / $WASMTIME, else on PATH, else unpacked from the xz-compressed release
# binaries CI keeps in a tools/ folder beside the clone. Exported for the tests;
# where neither is found, their tests print "skipped: ..." and pass.

TOOLS_DIR   := $(CURDIR)/target/tools
SPIN_XZ     := $(firstword $(wildcard ../*/tools/spin-*-x86_64-linux.xz))
WASMTIME_XZ := $(firstword $(wildcard ../*/tools/wasmtime-*-x86_64-linux.xz))

ifeq ($(strip $(SPIN)),)
SPIN := $(or $(shell command -v spin 2>/dev/null),$(if $(SPIN_XZ),$(TOOLS_DIR)/spin))
endif
ifeq ($(strip $(WASMTIME)),)
WASMTIME := $(or $(shell command -v wasmtime 2>/dev/null),$(if $(WASMTIME_XZ),$(TOOLS_DIR)/wasmtime))
endif
export SPIN WASMTIME

.PHONY: tools xz

# Unpacks only what was found nowhere else.
tools: $(filter $(TOOLS_DIR)/%,$(SPIN) $(WASMTIME))
	@echo "spin: $(or $(SPIN),not found (the Spin scenarios will be skipped))"
	@echo "wasmtime: $(or $(WASMTIME),not found (the wasmtime serve test will be skipped))"

$(TOOLS_DIR)/spin: $(SPIN_XZ) | xz
	@mkdir -p $(@D)
	xz -dc $< > $@.part && chmod +x $@.part && mv $@.part $@

$(TOOLS_DIR)/wasmtime: $(WASMTIME_XZ) | xz
	@mkdir -p $(@D)
	xz -dc $< > $@.part && chmod +x $@.part && mv $@.part $@

xz:
	@command -v xz >/dev/null || { apt-get update -qq && apt-get install -y -qq xz-utils; }
