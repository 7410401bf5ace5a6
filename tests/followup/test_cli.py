"""`spinepath followup` on a real database: submit (answers and FHIR), alerts listed until `ack`,
due and overdue lists, one patient's trajectory; bad input is an error naming the field and
changes nothing."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.cli.followup import sparkline
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.schedules import schedule_pairs
from spinepath.store import followups, repo
from spinepath.store import models as m
from spinepath.store.db import make_engine, make_sessionmaker
from tests.followup.conftest import external

runner = CliRunner()


@pytest.fixture
def clinic(db_url: str, kb: Knowledge, tmp_path: Path) -> tuple[dict[str, str | None], str, str]:
    """A database with one patient who had a transforaminal injection on 2026-01-05."""
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s, s.begin():
        patient = repo.create_patient(s, repo.SYSTEM, name="Cli Patient")
        proc, _ = followups.record_procedure(s, repo.SYSTEM, patient.id, "esi-transforaminal", dt.date(2026, 1, 5),
                                        schedule_pairs(kb, "esi-transforaminal"), level="L5-S1")
        ids = patient.id, proc.id
    engine.dispose()
    env = {"SPINEPATH_DATABASE_URL": db_url, "SPINEPATH_DATA_DIR": str(tmp_path), "SPINEPATH_CONTENT_DIR": None}
    return env, *ids


def call(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["followup", *args], env=env)
    return r.exit_code, r.stdout, r.stderr


def count(url: str, model: type[m.Base]) -> int:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_followup_commands(clinic: tuple[dict[str, str | None], str, str], db_url: str) -> None:
    env, patient, _proc = clinic
    code, out, err = call(env, "due", "--today", "2026-03-01", "--json")
    assert code == 0, err
    due = json.loads(out)
    assert [d["label"] for d in due] == ["baseline", "2 weeks", "1 month"] and all(d["overdue"] for d in due)
    baseline = due[0]["schedule_id"]
    code, out, err = call(env, "submit", patient, "--instrument", "nrs", "--answer", "leg=8", "--answer", "back=3",
                          "--schedule-id", baseline)
    assert code == 0, err
    assert "stored" in out and "leg 8" in out
    code, out, err = call(env, "submit", patient, "--instrument", "nrs", "--answer", "leg=4",
                          "--answer", "fever=yes", "--schedule-id", due[1]["schedule_id"], "--json")
    assert code == 0, err
    alert_id = json.loads(out)["alerts"][0]
    code, out, _ = call(env, "due", "--today", "2026-03-01", "--overdue", "--json")
    assert [d["label"] for d in json.loads(out)] == ["1 month"]

    code, out, err = call(env, "alerts")
    assert code == 0, err
    assert alert_id in out and "fever" in out.lower() and "1 open alert" in out
    code, out, err = call(env, "ack", alert_id, "--note", "called back")
    assert code == 0 and "acknowledged" in out, err
    code, out, _ = call(env, "alerts", "--json")
    assert json.loads(out) == []
    code, out, _ = call(env, "alerts", "--all", "--json")
    assert json.loads(out)[0]["note"] == "called back"
    code, _out, err = call(env, "ack", alert_id)
    assert code == 2 and "already acknowledged" in err

    code, out, err = call(env, "submit", patient, "--fhir",
                          str(external("QuestionnaireResponse-OswestryDisabilityIndexExample.json")), "--json")
    assert code == 0, err
    assert json.loads(out)["score"]["value"] == 36.0

    code, out, err = call(env, "patient", patient, "--today", "2026-03-01")
    assert code == 0, err
    assert "Transforaminal epidural steroid injection" in out and "2 weeks" in out
    assert "relieved so far" in out and sparkline([8.0, 4.0]) in out
    code, out, _ = call(env, "patient", patient, "--today", "2026-03-01", "--json")
    ep = json.loads(out)["episodes"][0]
    assert ep["points"][1]["responders"]["nrs_50pct"] is True and ep["points"][1]["warning"] is True


def test_bad_answers_change_nothing(clinic: tuple[dict[str, str | None], str, str], db_url: str) -> None:
    env, patient, _proc = clinic
    before = (count(db_url, m.FollowupResponse), count(db_url, m.AuditEntry))
    for args, words in [
        (("--instrument", "odi", "--answer", "lifting=9"), "answers.lifting"),
        (("--instrument", "nrs", "--answer", "knee=3"), "answers.knee"),
        (("--instrument", "nrs", "--answer", "leg"), "ITEM=VALUE"),
        (("--instrument", "nrs"), "--answer"),
        (("--fhir", "/no/such/file.json"), "cannot read"),
    ]:
        code, _out, err = call(env, "submit", patient, *args)
        assert code == 2 and words in err, (args, err)
    code, _out, err = call(env, "submit", "pt_nobody", "--instrument", "nrs", "--answer", "leg=3")
    assert code == 2 and "no patient" in err
    assert (count(db_url, m.FollowupResponse), count(db_url, m.AuditEntry)) == before


def test_sparkline() -> None:
    assert sparkline([0, 5, 10, None]) == "▁▅█ "
