# `make bench`: load tests of the release tracker-host against the native and seed
# baselines and in PostgreSQL mode (1 and 3 replicas, on a PostgreSQL the run starts
# and removes; skipped without /usr/lib/postgresql/15/bin), plus the host's
# per-request criterion bench. Bounded (about 7 minutes on 2 cores after the builds);
# not part of `make test`. Report: target/bench/report.md.
# BENCH_QUICK=1 gives a 2-second-per-scenario run for working on the bench itself.

BENCH_SEED_DIR := bench/seed

.PHONY: bench bench-deps bench-native bench-criterion bench-load bench-profile bench-docs

bench: build bench-deps bench-native
	$(MAKE) --no-print-directory bench-criterion
	$(MAKE) --no-print-directory bench-load

# wrk from Debian; the seed baseline's npm packages (better-sqlite3 builds from source
# when no prebuilt binary can be fetched: about 2 minutes, once).
bench-deps:
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	@test -f $(BENCH_SEED_DIR)/node_modules/better-sqlite3/build/Release/better_sqlite3.node \
		|| (cd $(BENCH_SEED_DIR) && npm ci --no-audit --no-fund)

bench-native:
	$(CARGO) build --release -p native-baseline

# Instantiate + call of a trivial component (the isolation tests' misbehave, /ok)
# through the host's request path.
# `--profile release`: the one native profile, so nothing is rebuilt for the bench.
# Short warm-up and measurement keep it to well under a minute.
bench-criterion: wasm-target
	$(CARGO) build --target $(WASM_TARGET) --profile wasm -p misbehave
	$(CARGO) bench --profile release -p tracker-host --bench request_path -- --warm-up-time 2 --measurement-time 5

bench-load: tools
	node bench/run.mjs

# Where the time of a request goes, host vs native, instruction by instruction
# (valgrind callgrind: perf cannot count instructions on this machine's vCPUs).
# About 3 minutes. Writes target/bench/profile-courses.md and profile-changes.md.
bench-profile: build bench-native
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
	PROFILE_OUT=profile-courses.md PROFILE_PATH=/api/courses node bench/profile.mjs
	PROFILE_OUT=profile-changes.md PROFILE_PATH='/api/changes?since={latest}' PROFILE_REQUESTS=100 PROFILE_SWITCHES=0 node bench/profile.mjs

# Copy the last run's figures into docs/benchmarks.md (between its markers).
bench-docs:
	node bench/update-docs.mjs
