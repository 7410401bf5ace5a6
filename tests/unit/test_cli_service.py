"""The service commands as an operator meets them: db, user, audit, serve and demo."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.knowledge.loader import load_knowledge
from spinepath.outcomes.schedules import schedule_for
from spinepath.store import models as m
from spinepath.store import repo
from spinepath.store.db import make_engine, make_sessionmaker
from spinepath.store.migrate import upgrade

runner = CliRunner()
PASSWORD = "correct horse battery"


def env_for(data_dir: Path) -> dict[str, str | None]:
    """Settings for one test: its own data directory; nothing from the caller's environment."""
    return {"SPINEPATH_DATA_DIR": str(data_dir), "SPINEPATH_DATABASE_URL": None, "SPINEPATH_CONTENT_DIR": None}


def call(env: Mapping[str, str | None], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), env=env, input=stdin)
    return r.exit_code, r.stdout, r.stderr


@contextmanager
def session(url: str) -> Iterator[Session]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            yield s
    finally:
        engine.dispose()


@pytest.fixture
def migrated(tmp_path: Path) -> tuple[dict[str, str | None], str]:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'spinepath.db'}"
    upgrade(url)
    return env_for(data), url


# ------------------------------------------------------------------ db


def test_db_upgrade_then_status(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    code, out, _ = call(env, "db", "status", "--json")
    assert code == 1 and json.loads(out)["current"] is None and json.loads(out)["head"]
    assert not (tmp_path / "data" / "spinepath.db").exists()  # status never creates a database
    code, out, _ = call(env, "db", "upgrade")
    assert code == 0 and "upgraded from empty to revision" in out and str(tmp_path / "data") in out
    code, out, _ = call(env, "db", "upgrade")
    assert code == 0 and "already at revision" in out
    code, out, _ = call(env, "db", "status")
    assert code == 0 and "up to date" in out
    status = json.loads(call(env, "db", "status", "--json")[1])
    assert status["up_to_date"] and status["current"] == status["head"]


def test_db_commands_mask_the_password_and_explain_a_failed_connection(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql+psycopg://spuser:s3cret-pw@127.0.0.1:{port}/nodb"
    code, out, err = call(env_for(tmp_path), "db", "upgrade", "--database-url", url)
    assert code == 1 and "database-unavailable" in err and "spuser:***@127.0.0.1" in err
    assert "s3cret-pw" not in out + err and "Traceback" not in err


# ------------------------------------------------------------------ users


def test_user_add_list_disable(migrated: tuple[dict[str, str | None], str]) -> None:
    env, url = migrated
    code, out, _ = call(env, "user", "add", "dr.a", "--role", "clinician", "--password-stdin", stdin=PASSWORD + "\n")
    assert code == 0 and "added user dr.a (clinician)" in out
    # prompted (hidden, confirmed) when not from stdin
    code, out, _ = call(env, "user", "add", "ed", "--role", "editor", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0 and "added user ed" in out
    code, _, err = call(env, "user", "add", "dr.a", "--role", "clinician", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "already exists" in err

    users = json.loads(call(env, "user", "list", "--json")[1])
    assert [(u["username"], u["role"], u["disabled"]) for u in users] == [("dr.a", "clinician", False),
                                                                          ("ed", "editor", False)]
    code, out, _ = call(env, "user", "list")
    assert code == 0 and "dr.a" in out and "clinician" in out and "2 user(s)" in out

    with session(url) as s, s.begin():
        user = repo.user_by_name(s, "dr.a")
        assert user is not None and repo.verify_password(user, PASSWORD)
        token, _ = repo.issue_token(s, user, 60)
    code, out, _ = call(env, "user", "disable", "dr.a")
    assert code == 0 and "disabled user dr.a; 1 token(s) revoked" in out
    with session(url) as s:
        assert repo.user_for_token(s, token) is None
    assert json.loads(call(env, "user", "list", "--json")[1])[0]["disabled"] is True
    code, _, err = call(env, "user", "disable", "nobody")
    assert code == 2 and "no user named 'nobody'" in err


def test_user_add_refuses_weak_passwords_bad_roles_and_unlinked_patients(
        migrated: tuple[dict[str, str | None], str]) -> None:
    env, url = migrated
    code, _, err = call(env, "user", "add", "x", "--role", "clinician", "--password-stdin", stdin="short1\n")
    assert code == 2 and "at least 10 characters" in err and "Traceback" not in err
    code, _, err = call(env, "user", "add", "x", "--role", "doctor", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "clinician, patient, editor, reviewer, analyst, admin" in err
    code, _, err = call(env, "user", "add", "p", "--role", "patient", "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "--patient-id" in err
    code, _, err = call(env, "user", "add", "p", "--role", "patient", "--patient-id", "pt_nope",
                        "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "no patient with id 'pt_nope'" in err
    code, _, err = call(env, "user", "add", "c", "--role", "clinician", "--patient-id", "pt_x",
                        "--password-stdin", stdin=PASSWORD)
    assert code == 2 and "only a patient user" in err
    with session(url) as s, s.begin():
        patient_id = repo.create_patient(s, repo.SYSTEM, name="Test Person").id
    code, out, _ = call(env, "user", "add", "p", "--role", "patient", "--patient-id", patient_id,
                        "--password-stdin", stdin=PASSWORD)
    assert code == 0 and patient_id in out
    assert [(u["username"], u["patient_id"]) for u in json.loads(call(env, "user", "list", "--json")[1])] == [
        ("p", patient_id)]


def test_user_commands_on_an_unmigrated_database_say_what_to_run(tmp_path: Path) -> None:
    code, _, err = call(env_for(tmp_path), "user", "list")
    assert code == 1 and "spinepath db upgrade" in err and "Traceback" not in err


# ------------------------------------------------------------------ audit


def test_audit_lists_entries(migrated: tuple[dict[str, str | None], str]) -> None:
    env, url = migrated
    with session(url) as s, s.begin():
        actor = repo.Actor(None, "dr.b", "clinician", client="10.0.0.7")
        p = repo.create_patient(s, actor, name="Test Person")
        repo.create_case(s, actor, p.id, {"age": 50})
        other = repo.create_patient(s, repo.SYSTEM)
    call(env, "user", "add", "ann", "--role", "analyst", "--password-stdin", stdin=PASSWORD)

    entries = json.loads(call(env, "audit", "--json")[1])
    assert [(e["action"], e["resource"]) for e in entries] == [
        ("create", "user"), ("create", "patient"), ("create", "case"), ("create", "patient")]
    assert entries[0]["username"].startswith("cli:") and entries[0]["client"] == "command line"
    assert {e["patient_id"] for e in json.loads(call(env, "audit", "--patient-id", p.id, "--json")[1])} == {p.id}
    by_b = json.loads(call(env, "audit", "--user", "dr.b", "--json")[1])
    assert len(by_b) == 2 and all(e["client"] == "10.0.0.7" and e["role"] == "clinician" for e in by_b)
    assert len(json.loads(call(env, "audit", "--limit", "1", "--json")[1])) == 1
    code, out, _ = call(env, "audit")
    assert code == 0 and "dr.b (clinician)" in out and "10.0.0.7" in out and other.id in out
    assert "4 entries, newest first" in out


# ------------------------------------------------------------------ demo


def test_demo_builds_a_database_with_every_role_and_patients_with_follow_up(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    env = env_for(tmp_path / "ignored")
    started = time.perf_counter()
    code, out, err = call(env, "demo", "--no-serve", "--data-dir", str(demo_dir), "--port", "8123")
    assert code == 0, err
    assert time.perf_counter() - started < 30
    assert "http://127.0.0.1:8123/docs" in out
    passwords = dict(re.findall(r"(demo-[a-z]+)\s+│\s+[a-z]+\s+│\s+(\S+)", out))
    assert set(passwords) == {f"demo-{role}" for role in m.ROLES}

    url = f"sqlite:///{demo_dir / 'spinepath.db'}"
    with session(url) as s:
        users = {u.role: u for u in repo.list_users(s)}
        assert set(users) == set(m.ROLES)
        assert all(repo.verify_password(users[r], passwords[f"demo-{r}"]) for r in m.ROLES)
        patients = s.scalars(select(m.Patient).order_by(m.Patient.name)).all()
        assert len(patients) == 40
        assert all(re.fullmatch(r"Demo Patient \d{3}", p.name or "") and p.phone is None and p.email is None
                   for p in patients)
        first = patients[0]
        assert first.name == "Demo Patient 001" and users["patient"].patient_id == first.id
        count = lambda model: s.scalar(select(func.count()).select_from(model))  # noqa: E731
        assert count(m.Case) == count(m.StoredAssessment) == 40
        n_procedures = count(m.ProcedurePerformed)
        assert n_procedures >= 3
        kb = load_knowledge(use_env=False)  # each procedure's own schedule from its content
        assert count(m.FollowupSchedule) == sum(len(schedule_for(kb, p.procedure_id))
                                                for p in s.scalars(select(m.ProcedurePerformed)))
        assert count(m.FollowupAlert) >= 1  # the demo's warning sign, for the care team
        assert s.scalar(select(func.count()).select_from(m.FollowupResponse)
                        .where(m.FollowupResponse.score.is_(None))) == 0  # every response is scored
        assert count(m.FollowupResponse) >= 3
        assert s.scalar(select(func.count()).select_from(m.ProcedurePerformed)
                        .where(m.ProcedurePerformed.patient_id == first.id))
        response = s.scalars(select(m.FollowupResponse).where(m.FollowupResponse.patient_id == first.id)).first()
        assert response is not None and response.instrument == "nrs" and response.submitted_by == "demo-patient"
        assert all(0 <= v <= 10 for k, v in response.answers.items() if k in ("back", "leg", "neck", "arm", "face"))
        case = s.scalars(select(m.CaseVersion)).first()
        assert case is not None and case.data["id"] == case.case_id

    # a second run recreates the database instead of adding to it
    code, _, err = call(env, "demo", "--no-serve", "--data-dir", str(demo_dir), "--patients", "3")
    assert code == 0, err
    with session(url) as s:
        assert s.scalar(select(func.count()).select_from(m.Patient)) == 3
    assert not (tmp_path / "ignored").exists()  # the demo never touches the configured data directory


def test_demo_leaves_a_database_it_did_not_make_alone(tmp_path: Path) -> None:
    (tmp_path / "spinepath.db").write_bytes(b"precious")
    code, _, err = call(env_for(tmp_path / "x"), "demo", "--no-serve", "--data-dir", str(tmp_path))
    assert code == 2 and "not made by `spinepath demo`" in err
    assert (tmp_path / "spinepath.db").read_bytes() == b"precious"


# ------------------------------------------------------------------ serve


def test_serve_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("uvicorn must not start on an unmigrated database")

    monkeypatch.setattr(uvicorn, "run", never)
    code, _, err = call(env_for(tmp_path / "data"), "serve", "--port", "8765")
    assert code == 1 and "database-not-migrated" in err and "spinepath db upgrade" in err
    assert "Traceback" not in err and not (tmp_path / "data" / "spinepath.db").exists()
    # a database without the schema
    (tmp_path / "data").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'spinepath.db'}")
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE other (x INTEGER)")
    engine.dispose()
    code, _, err = call(env_for(tmp_path / "data"), "serve")
    assert code == 1 and "has no spinepath schema" in err and "spinepath db upgrade" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_the_api(migrated: tuple[dict[str, str | None], str], tmp_path: Path) -> None:
    env, _ = migrated
    port = _free_port()
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("SPINEPATH_")}
    child_env.update({k: v for k, v in env.items() if v is not None})
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from spinepath.cli.app import main; main()", "serve", "--port", str(port)],
            env=child_env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            status = None
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    status = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code
                except httpx.TransportError:
                    status = None
                if status == 200:
                    break
                time.sleep(0.2)
            assert status == 200, log.read_text(encoding="utf-8", errors="replace")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert "spinepath serving" in log.read_text(encoding="utf-8", errors="replace")
