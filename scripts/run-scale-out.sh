#!/usr/bin/env bash
# `make run-scale-out`: the scale-out mode on one machine. Two tracker-host replicas
# (http://127.0.0.1:3000 and :3002, admin APIs on :3001 and :3003) serve the API
# from one PostgreSQL database and share their component versions through it.
#
# Without DATABASE_URL a local PostgreSQL is started (Debian's `postgresql`, which
# `make deps` installs) with its data in ./data-pg, or /var/tmp/skilltrack-pg when
# run as root (PostgreSQL will not run as root: then it runs as `nobody`, which needs
# a directory it can reach). With DATABASE_URL=postgres://user:pass@host:port/db
# that database is used instead. Ctrl-C stops the replicas and the local server.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST_BIN=${HOST_BIN:-target/release/tracker-host}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_PORT=${PG_PORT:-5433}
pids=()
pg_started=

as_pg_user() {
    if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else "$@"; fi
}

stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait "${pids[@]}" 2>/dev/null || true
    if [ -n "$pg_started" ]; then
        as_pg_user "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null || true
    fi
}
trap stop EXIT INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
    [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL not found in $PG_BIN: run \`make deps\` (or set DATABASE_URL)" >&2; exit 1; }
    if [ "$(id -u)" = 0 ]; then pg_data=/var/tmp/skilltrack-pg; else pg_data=$PWD/data-pg; fi
    if [ ! -f "$pg_data/PG_VERSION" ]; then
        mkdir -p "$pg_data"
        [ "$(id -u)" = 0 ] && chown nobody:nogroup "$pg_data"
        chmod 700 "$pg_data"
        as_pg_user "$PG_BIN/initdb" -D "$pg_data" -U skilltrack --auth=trust -E UTF8 >/dev/null
    fi
    echo "PostgreSQL: $pg_data on 127.0.0.1:$PG_PORT"
    as_pg_user "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w \
        -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $pg_data" start >/dev/null
    pg_started=1
    as_pg_user "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U skilltrack -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'skilltrack'" | grep -q 1 \
        || as_pg_user "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U skilltrack skilltrack
    DATABASE_URL="postgres://skilltrack@127.0.0.1:$PG_PORT/skilltrack?sslmode=disable"
fi

# The component may only reach the server its URL names: postgres://host:port.
authority=${DATABASE_URL#*://}
authority=${authority#*@}
authority=${authority%%/*}
authority=${authority%%\?*}
case "$authority" in *:*) ;; *) authority="$authority:5432" ;; esac
export SPIN_VARIABLE_DATABASE_URL=$DATABASE_URL
export SPIN_VARIABLE_DATABASE_HOST=postgres://$authority
export TRACKER_FLEET_DATABASE_URL=$DATABASE_URL

for i in 1 2; do
    port=$((2998 + 2 * i))
    TRACKER_REPLICA_ID=replica-$i "$HOST_BIN" up --manifest spin.toml \
        --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$((port + 1))" \
        --data-dir "data-replica-$i" &
    pids+=($!)
done
echo "replicas: http://127.0.0.1:3000 and http://127.0.0.1:3002 (admin :3001, :3003); Ctrl-C stops"
wait -n "${pids[@]}"
