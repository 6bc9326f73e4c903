# A real PostgreSQL for the host's PostgreSQL capability tests (tests/src/postgres.rs
# starts throwaway servers with initdb + pg_ctl): Debian's `postgresql` package.
# Only the binaries are used; the package's own cluster may be left stopped.

PG_BIN ?= /usr/lib/postgresql/15/bin

.PHONY: postgres

deps: postgres

postgres:
	@test -x $(PG_BIN)/initdb || { $(SUDO) apt-get update && $(SUDO) apt-get install -y postgresql; }
