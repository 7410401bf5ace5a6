#!/usr/bin/env bash
# Install spinepath with its test dependencies into .venv and run every check and test:
# content check, ruff, mypy, and pytest against SQLite and a PostgreSQL server it starts itself.
# Used by the README's test command and by CI (.ci/run). Safe to run on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# System packages: PDF rendering (WeasyPrint needs Pango and a font) and PostgreSQL for the
# store tests. Installed from Debian's packages only when missing (apt-get update first).
missing=""
for pkg in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
# Java runs PySpark for the Spark outcome-analytics tests (Java 17 is usually on the machine).
command -v java >/dev/null 2>&1 || missing="$missing openjdk-17-jre-headless"
if [ -n "$missing" ]; then
  echo "== installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet -e ".[dev,embeddings,spark]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import spinepath, duckdb, sqlglot, hypothesis, zen" # fail fast if the install broke
echo "== content check"
.venv/bin/spinepath content check
echo "== ruff"
.venv/bin/ruff check src tests bench tools
echo "== mypy"
.venv/bin/mypy
echo "== PostgreSQL for the store and API tests"
if [ -z "${SPINEPATH_TEST_POSTGRES_ADMIN_URL:-}" ]; then
  eval "$(bash scripts/start-test-postgres.sh)"
  trap 'bash scripts/stop-test-postgres.sh "$SPINEPATH_TEST_PGDATA"' EXIT
fi
echo "   $SPINEPATH_TEST_POSTGRES_ADMIN_URL"
echo "== pytest"
.venv/bin/python -m pytest -p no:cacheprovider "$@"
