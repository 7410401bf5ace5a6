"""The editorial commands (`spinepath content draft|submit|...|export|import`) on SQLite and
PostgreSQL: the whole path, refusals with their codes, and export -> check -> import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import repo
from spinepath.store.db import make_engine, make_sessionmaker
from tests.editorial.support import HARD, ITEM, body, with_patient_text

runner = CliRunner()


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str | None]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s, s.begin():
        for name, role in (("ed", "editor"), ("rita", "reviewer"), ("rex", "reviewer"), ("ada", "admin"),
                           ("doc", "clinician")):
            repo.create_user(s, name, "long enough password", role)
        repo.set_disabled(s, "rex")
    engine.dispose()
    return {"SPINEPATH_DATABASE_URL": db_url, "SPINEPATH_DATA_DIR": str(tmp_path / "data"),
            "SPINEPATH_CONTENT_DIR": None}


def run(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args), env=env)
    return r.exit_code, r.stdout, r.stderr


def ok(env: dict[str, str | None], *args: str) -> str:
    code, out, err = run(env, *args)
    assert code == 0, (args, out, err)
    return out


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def revisions(env: dict[str, str | None], *args: str) -> list[dict[str, Any]]:
    return list(json.loads(ok(env, "content", "revisions", *args, "--json")))


def test_the_whole_path(env: dict[str, str | None], kb: Knowledge, tmp_path: Path) -> None:
    src = write(tmp_path / "ldh.yaml", body(kb, version="1.1.0", review_due="2026-01-31"))
    assert "now draft" in ok(env, "content", "draft", ITEM, "--from", str(src), "--as", "ed")
    (rev,) = revisions(env, ITEM)
    rid = rev["id"]
    assert rev["state"] == "draft" and rev["draft"] is True and rev["author"] == "ed"

    code, _, err = run(env, "content", "approve", rid, "--as", "rita")
    assert code == 1 and "transition-forbidden" in err and "'draft'" in err and "submit (editor)" in err
    code, _, err = run(env, "content", "submit", rid, "--as", "rita")
    assert code == 1 and "the reviewer role may not submit" in err
    code, _, err = run(env, "content", "submit", rid, "--as", "rex")
    assert code == 2 and "disabled" in err
    code, _, err = run(env, "content", "submit", rid, "--as", "nobody")
    assert code == 2 and "no user named 'nobody'" in err

    ok(env, "content", "submit", rid, "--as", "ed")
    ok(env, "content", "start-review", rid, "--as", "rita")
    code, _, err = run(env, "content", "request-changes", rid, "--as", "rita", "--comment", " ")
    assert code == 2 and "needs a comment" in err
    ok(env, "content", "request-changes", rid, "--as", "rita", "--comment", "Check the dates.")
    ok(env, "content", "revise", rid, "--from", str(src), "--as", "ed")
    ok(env, "content", "submit", rid, "--as", "ed")
    ok(env, "content", "start-review", rid, "--as", "rita")
    assert "now approved" in ok(env, "content", "approve", rid, "--as", "rita")
    code, _, err = run(env, "content", "publish", rid, "--as", "doc")
    assert code == 1 and "the clinician role may not publish" in err
    assert "now published" in ok(env, "content", "publish", rid, "--as", "ed", "--comment", "go live")

    history = json.loads(ok(env, "content", "history", rid, "--json"))
    assert [(t["action"], t["actor"], t["role"]) for t in history["transitions"]] == [
        ("create", "ed", "editor"), ("submit", "ed", "editor"), ("start-review", "rita", "reviewer"),
        ("request-changes", "rita", "reviewer"), ("revise", "ed", "editor"), ("submit", "ed", "editor"),
        ("start-review", "rita", "reviewer"), ("approve", "rita", "reviewer"), ("publish", "ed", "editor")]
    assert all(t["at"] for t in history["transitions"]) and history["transitions"][-1]["comment"] == "go live"
    assert "published (live)" in ok(env, "content", "revisions")

    due = json.loads(ok(env, "content", "due", "--today", "2026-03-01", "--json"))
    assert [(d["item_id"], d["source"], d["review_due"]) for d in due] == [(ITEM, "revision", "2026-01-31")]
    assert "1 item(s) past their review date" in ok(env, "content", "due", "--today", "2026-03-01")

    ok(env, "content", "retire", rid, "--as", "ada")
    assert revisions(env)[0]["state"] == "retired"


def test_approval_blocked_names_each_problem(env: dict[str, str | None], kb: Knowledge, tmp_path: Path) -> None:
    src = write(tmp_path / "hard.yaml", with_patient_text(body(kb, colour="blue"), "risks", HARD))
    ok(env, "content", "draft", ITEM, "--from", str(src), "--as", "ed")
    rid = revisions(env)[0]["id"]
    ok(env, "content", "submit", rid, "--as", "ed")
    ok(env, "content", "start-review", rid, "--as", "rita")
    code, _, err = run(env, "content", "approve", rid, "--as", "rita")
    assert code == 1 and "approval-blocked" in err and "2 problem(s)" in err
    assert f"revision {rid} (conditions/{ITEM}.yaml) at colour: unknown key 'colour'" in " ".join(err.split())
    assert "at education.patient.risks.text: patient text reads at Flesch-Kincaid grade" in " ".join(err.split())
    code, out, _ = run(env, "content", "approve", rid, "--as", "rita", "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "approval-blocked"


def test_draft_needs_a_known_kind_and_a_file(env: dict[str, str | None], tmp_path: Path) -> None:
    src = write(tmp_path / "new.yaml", {"name": "New thing"})
    code, _, err = run(env, "content", "draft", "brand-new", "--from", str(src), "--as", "ed")
    assert code == 2 and "--kind" in err
    ok(env, "content", "draft", "brand-new", "--from", str(src), "--as", "ed", "--kind", "condition")
    code, _, err = run(env, "content", "draft", ITEM, "--from", str(src), "--as", "ed", "--kind", "procedure")
    assert code == 2 and "is a condition" in err
    code, _, err = run(env, "content", "draft", ITEM, "--from", str(tmp_path / "missing.yaml"), "--as", "ed")
    assert code == 2 and "no such file" in err
    code, _, err = run(env, "content", "draft", ITEM, "--from", str(src), "--as", "rita")
    assert code == 1 and "the reviewer role may not create" in err


def test_export_check_import_round_trip(env: dict[str, str | None], kb: Knowledge, tmp_path: Path) -> None:
    src = write(tmp_path / "ldh.yaml", body(kb, version="1.1.0"))
    ok(env, "content", "draft", ITEM, "--from", str(src), "--as", "ed")
    rid = revisions(env)[0]["id"]
    for cmd, who in (("submit", "ed"), ("start-review", "rita"), ("approve", "rita"), ("publish", "rita")):
        ok(env, "content", cmd, rid, "--as", who)

    out_dir = tmp_path / "approved"
    assert "1 from live revisions" in ok(env, "content", "export", str(out_dir))
    approved = {i for i, item in kb.items().items() if item.status == "approved"} | {ITEM}
    written = {p.stem for p in out_dir.rglob("*.yaml")}
    assert written == approved
    exported = yaml.safe_load((out_dir / "conditions" / f"{ITEM}.yaml").read_text(encoding="utf-8"))
    assert exported["version"] == "1.1.0" and exported["status"] == "approved"
    assert list(exported)[:3] == ["id", "version", "status"]  # the schema's order, on every engine
    assert "content OK" in ok(env, "content", "check", "--dir", str(out_dir))

    result = json.loads(ok(env, "content", "import", str(out_dir), "--as", "ed", "--json"))
    assert (len(result["drafted"]), len(result["unchanged"]), result["skipped"]) == (0, len(approved), [])

    exported["version"] = "1.2.0"
    write(out_dir / "conditions" / f"{ITEM}.yaml", exported)
    (out_dir / "shared.yaml").write_text("x: 1\n", encoding="utf-8")
    out = ok(env, "content", "import", str(out_dir), "--as", "ed")
    assert f"1 drafted, {len(approved) - 1} unchanged, 1 skipped" in out
    newest = revisions(env, ITEM)[-1]
    assert (newest["revision"], newest["state"], newest["author"]) == (2, "draft", "ed")
    code, _, err = run(env, "content", "import", str(out_dir), "--as", "rita")
    assert code == 1 and "transition-forbidden" in err

    # a second export into the same directory replaces it; a foreign directory is refused
    ok(env, "content", "export", str(out_dir))
    assert yaml.safe_load((out_dir / "conditions" / f"{ITEM}.yaml").read_text(encoding="utf-8"))["version"] == "1.1.0"
    code, _, err = run(env, "content", "export", str(tmp_path))
    assert code == 2 and "not empty" in err
