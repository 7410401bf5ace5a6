"""Full-size durability run: 50 concurrent writers x 200 follow-up responses, SQLite and PostgreSQL.

    .venv/bin/python bench/bench_reliability.py [--postgres-admin-url URL]

Uses the real server process (2 workers) and checks afterwards, in the database, that every
accepted response is stored exactly once. Writes bench/out/reliability.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.test_durability import PASSWORD, concurrent_followups  # noqa: E402
from tests.support.server import cli, login, make_env, running_server  # noqa: E402

from spinepath.store.db import make_engine  # noqa: E402
from spinepath.store.migrate import upgrade  # noqa: E402


def run(url: str, writers: int, each: int) -> dict:
    upgrade(url)
    env = make_env(url, Path(tempfile.mkdtemp()))
    cli(env, "user", "add", "writer", "--role", "clinician", "--password-stdin", stdin=PASSWORD + "\n")
    with running_server(env, workers=2) as server:
        token = login(server.base, "writer", PASSWORD)
        t0 = time.perf_counter()
        accepted, failures = concurrent_followups(server.base, token, writers, each)
        seconds = time.perf_counter() - t0
    engine = make_engine(url)
    with engine.connect() as c:
        stored = set(c.execute(text("SELECT id FROM followup_responses")).scalars().all())
    engine.dispose()
    acked = set(accepted)
    return {"writers": writers, "each": each, "accepted": len(accepted), "failed": len(failures),
            "stored": len(stored), "seconds": round(seconds, 2),
            "writes_per_s": round(len(accepted) / seconds, 1),
            "lost": len(acked - stored), "unexpected": len(stored - acked)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--postgres-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--writers", type=int, default=50)
    ap.add_argument("--each", type=int, default=200)
    args = ap.parse_args()
    results = {}
    tmp = Path(tempfile.mkdtemp())
    results["sqlite"] = run(f"sqlite:///{tmp / 'rel.db'}", args.writers, args.each)
    print("sqlite", results["sqlite"], flush=True)
    name = f"sp_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        results["postgresql"] = run(args.postgres_admin_url.rsplit("/", 1)[0] + f"/{name}", args.writers, args.each)
        print("postgresql", results["postgresql"], flush=True)
    finally:
        with admin.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / "reliability.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
