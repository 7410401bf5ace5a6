"""`spinepath outcomes report` on a clinic database (no --data): the store's procedures and
follow-ups, extracted into the outcomes dataset, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.settings import Settings
from spinepath.store.demo import build_demo


def test_report_on_the_configured_database(db_url: str, tmp_path: Path) -> None:
    build_demo(Settings(data_dir=tmp_path, database_url=db_url), patients=12, seed=3, today=dt.date(2026, 3, 1))
    engine = create_engine(db_url)
    with engine.connect() as c:
        procedures = c.execute(text("SELECT count(*) FROM procedures_performed")).scalar_one()
    engine.dispose()
    r = CliRunner().invoke(app, ["outcomes", "report", "--json"], env={"SPINEPATH_DATABASE_URL": db_url})
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["summary"]["episodes"] == procedures > 0
    assert report["summary"]["sites"] == 1
    assert {row["procedure"] for row in report["completeness"]} <= {row["procedure"] for row in report["relief"]}
