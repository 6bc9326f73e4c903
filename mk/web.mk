# The browser app (web/): dependencies, production build, checks, end-to-end tests.
# Included from the root Makefile; paths are relative to the repository root.

WEB_DIR      := web
WEB_STAMP    := $(WEB_DIR)/node_modules/.ci-stamp
WEB_SOURCES  := $(shell find $(WEB_DIR)/src $(WEB_DIR)/public $(WEB_DIR)/pwa -type f 2>/dev/null) $(WEB_DIR)/index.html \
                $(WEB_DIR)/vite.config.ts $(WEB_DIR)/tsconfig.json $(WEB_DIR)/package.json
CHROMIUM_BIN ?= /usr/bin/chromium
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: web-deps web-dist web-check web-e2e web-dev chromium

# npm ci only when package.json or the lock file changed since the last install.
web-deps: $(WEB_STAMP)

$(WEB_STAMP): $(WEB_DIR)/package.json $(WEB_DIR)/package-lock.json
	cd $(WEB_DIR) && npm ci --no-audit --no-fund
	@touch $@

# Production build: hashed assets under web/dist/assets, checked against the size budget.
web-dist: $(WEB_DIR)/dist/index.html

$(WEB_DIR)/dist/index.html: $(WEB_STAMP) $(WEB_SOURCES)
	cd $(WEB_DIR) && npm run build

# Type check, unit tests (also under several time zones), client types against OpenAPI.
web-check: web-deps
	cd $(WEB_DIR) && npm run typecheck
	cd $(WEB_DIR) && npx vitest run
	cd $(WEB_DIR) && npm run test:tz
	cd $(WEB_DIR) && npm run check-api

# Real Chromium against the real tracker-host serving the built components.
web-e2e: web-deps chromium components host
	cd $(WEB_DIR) && CHROMIUM_BIN=$(CHROMIUM_BIN) npm run e2e

web-dev: web-deps
	cd $(WEB_DIR) && npm run dev

chromium:
	@test -x $(CHROMIUM_BIN) || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
