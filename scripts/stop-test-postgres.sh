#!/usr/bin/env bash
# Stop the server started by start-test-postgres.sh and remove its data directory.
set -u
DATA=${1:-${SPINEPATH_TEST_PGDATA:-}}
[ -n "$DATA" ] && [ -d "$DATA" ] || exit 0
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$BIN/pg_ctl" -D "$DATA/db" -m fast stop >/dev/null 2>&1
else "$BIN/pg_ctl" -D "$DATA/db" -m fast stop >/dev/null 2>&1; fi
rm -rf "$DATA"
