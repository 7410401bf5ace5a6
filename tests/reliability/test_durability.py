"""Many writers lose nothing, and a SIGKILL mid-write leaves the database consistent.

Both run against the real server process on SQLite and on PostgreSQL. The full-size concurrency
run (50 writers x 200 responses) is in bench/bench_reliability.py; here it is 50 x 20.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import text

from spinepath.store.db import make_engine
from tests.support.server import cli, login, make_env, running_server

PASSWORD = "a-long-test-password"


def _setup(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = make_env(db_url, tmp_path)
    cli(env, "user", "add", "writer", "--role", "clinician", "--password-stdin", stdin=PASSWORD + "\n")
    return env


def _patients(base: str, headers: dict[str, str], n: int) -> list[str]:
    return [httpx.post(f"{base}/patients", json={}, headers=headers, timeout=30).json()["id"] for _ in range(n)]


def concurrent_followups(base: str, token: str, writers: int, each: int) -> tuple[list[str], list[str]]:
    """Each writer submits ``each`` pain scores for its own patient. Returns the ids the server
    acknowledged (201) and any failures."""
    headers = {"Authorization": f"Bearer {token}"}
    patients = _patients(base, headers, writers)
    failures: list[str] = []

    def write(w: int) -> list[str]:
        ids: list[str] = []
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for i in range(each):
                r = client.post(f"/patients/{patients[w]}/followups",
                                json={"instrument": "nrs", "answers": {"leg": i % 11, "back": (w + i) % 11}})
                if r.status_code == 201:
                    ids.append(r.json()["id"])
                else:
                    failures.append(f"{r.status_code} {r.text[:200]}")
        return ids

    with ThreadPoolExecutor(max_workers=writers) as pool:
        accepted = [i for ids in pool.map(write, range(writers)) for i in ids]
    return accepted, failures


def test_concurrent_writers_lose_nothing(db_url: str, tmp_path: Path) -> None:
    env = _setup(db_url, tmp_path)
    writers, each = 50, 20
    with running_server(env, workers=2) as server:
        token = login(server.base, "writer", PASSWORD)
        accepted, failures = concurrent_followups(server.base, token, writers, each)
    assert not failures, failures[:3]
    assert len(accepted) == len(set(accepted)) == writers * each
    engine = make_engine(db_url)
    with engine.connect() as c:
        stored = c.execute(text("SELECT id FROM followup_responses")).scalars().all()
    engine.dispose()
    assert sorted(stored) == sorted(accepted)  # every acknowledged answer is there, once, and nothing else


def test_sigkill_mid_write_leaves_database_consistent(db_url: str, tmp_path: Path, kb) -> None:
    env = _setup(db_url, tmp_path)
    stop = threading.Event()
    done = {"procedures": 0, "case_updates": 0}
    with running_server(env, workers=2) as server:
        token = login(server.base, "writer", PASSWORD)
        headers = {"Authorization": f"Bearer {token}"}
        patients = _patients(server.base, headers, 8)

        def work(pid: str) -> None:
            with httpx.Client(base_url=server.base, headers=headers, timeout=10) as client:
                while not stop.is_set():
                    try:
                        client.post(f"/patients/{pid}/procedures",
                                    json={"procedure": "esi-caudal", "performed_on": "2026-02-01", "level": "L5-S1"})
                        done["procedures"] += 1
                        r = client.post(f"/patients/{pid}/cases", json={"age": 50, "pain": {"leg": {"nrs": 6}}})
                        if r.status_code in (200, 201):
                            client.put(f"/cases/{r.json()['id']}", json={"age": 51})
                            done["case_updates"] += 1
                    except httpx.HTTPError:
                        return  # the server is gone

        threads = [threading.Thread(target=work, args=(p,)) for p in patients]
        for t in threads:
            t.start()
        time.sleep(3)
        server.kill()  # SIGKILL: no shutdown handlers, requests cut mid-flight
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert done["procedures"] > 10, done
    engine = make_engine(db_url)
    with engine.connect() as c:
        procs = c.execute(text("SELECT count(*) FROM procedures_performed")).scalar()
        orphans = c.execute(text(
            "SELECT count(*) FROM procedures_performed p WHERE "
            "(SELECT count(*) FROM followup_schedules f WHERE f.procedure_performed_id = p.id) <> :n"),
            {"n": len(kb.shared.followup_schedule)}).scalar()
        half_cases = c.execute(text(
            "SELECT count(*) FROM cases c WHERE "
            "(SELECT count(*) FROM case_versions v WHERE v.case_id = c.id) <> c.current_version")).scalar()
        no_audit = c.execute(text(
            "SELECT count(*) FROM procedures_performed p WHERE NOT EXISTS "
            "(SELECT 1 FROM audit_log a WHERE a.record_id = p.id AND a.action = 'create')")).scalar()
    engine.dispose()
    assert procs and procs > 0
    assert orphans == 0, f"{orphans} procedure(s) without their full follow-up schedule"
    assert half_cases == 0, f"{half_cases} case(s) whose versions do not match current_version"
    assert no_audit == 0, f"{no_audit} procedure(s) written without their audit entry"
