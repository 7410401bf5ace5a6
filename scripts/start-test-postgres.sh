#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the store/API tests, from Debian's package, in a
# temporary data directory on its own port. Prints the admin URL on stdout; the server is
# stopped by scripts/stop-test-postgres.sh DIR (or when the machine goes away).
# Usage: eval "$(bash scripts/start-test-postgres.sh)"   -> sets SPINEPATH_TEST_POSTGRES_ADMIN_URL, SPINEPATH_TEST_PGDATA
set -euo pipefail
PORT=${SPINEPATH_TEST_PG_PORT:-54329}
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  {
    echo "installing postgresql (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  } >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA=$(mktemp -d /tmp/spinepath-pg.XXXXXX)
chown postgres:postgres "$DATA"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
run "$BIN/initdb" -D "$DATA/db" -A trust -U postgres --no-sync >/dev/null
run "$BIN/pg_ctl" -D "$DATA/db" -l "$DATA/server.log" -w \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
echo "export SPINEPATH_TEST_POSTGRES_ADMIN_URL=postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "export SPINEPATH_TEST_PGDATA=$DATA"
