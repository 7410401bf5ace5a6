"""The `spinepath` command as a user meets it: readable output, stable JSON, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from spinepath.cli.app import app

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


def call(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_content_list_and_json() -> None:
    code, out, _ = call("content", "list", "--kind", "procedure")
    assert code == 0 and "esi-transforaminal" in out and "approved" in out
    code, out, _ = call("content", "list", "--json")
    data = json.loads(out)
    assert data["knowledge_hash"].startswith("sha256:")
    assert {i["kind"] for i in data["items"]} == {"condition", "procedure", "red_flag", "policy", "instrument"}


def test_content_show_item_and_source() -> None:
    code, out, _ = call("content", "show", "rf-facet-lumbar", "--json")
    assert code == 0 and json.loads(out)["asra_risk_class"] == "low"
    code, out, _ = call("content", "show", "NG59")
    assert code == 0 and "NICE" in out
    code, _, err = call("content", "show", "no-such-thing")
    assert code == 1 and "no-such-thing" in err and "Traceback" not in err


def test_content_check_ok() -> None:
    code, out, _ = call("content", "check", "--today", "2026-03-01")
    assert code == 0 and "content OK" in out


def test_content_check_reports_broken_overlay(tmp_path: Path) -> None:
    (tmp_path / "procedures").mkdir()
    (tmp_path / "procedures" / "esi-caudal.yaml").write_text("id: esi-caudal\nversion: 1\n", encoding="utf-8")
    code, _, err = call("content", "check", "--dir", str(tmp_path))
    assert code == 1
    assert "esi-caudal.yaml" in err and "required key is missing" in err and "Traceback" not in err


def test_case_schema_is_json_schema() -> None:
    code, out, _ = call("case", "schema")
    schema = json.loads(out)
    assert code == 0 and schema["title"] == "PatientCase" and "pain" in schema["properties"]


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_assesses_in_every_format(example: Path) -> None:
    code, out, _ = call("assess", str(example), "--now", "2026-03-01", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["disclaimer"] and data["knowledge_hash"].startswith("sha256:")
    assert data["options"] and all(o["reasons"] for o in data["options"])
    code, out, _ = call("assess", str(example), "--now", "2026-03-01", "--format", "markdown")
    assert code == 0 and out.startswith("# spinepath assessment") and "## Options" in out
    code, out, _ = call("assess", str(example), "--now", "2026-03-01")
    assert code == 0 and "Status" in out


def test_red_flag_example_leads_with_the_red_flag() -> None:
    code, out, _ = call("assess", str(EXAMPLES / "cauda-equina-red-flag.json"), "--now", "2026-03-01")
    assert code == 0
    assert out.index("RED FLAGS") < out.index("Status")
    assert "Deferred" in out


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({"pain": {"leg": {"nrs": 14}}}, "pain.leg.nrs"),
        ({"age": -3}, "age"),
        ({"blocks": [{"kind": "medial_branch_block", "relief_pct": 140}]}, "blocks[0].relief_pct"),
        ({"imaging": [{"level": "L9-L10"}]}, "imaging[0].level"),
        ({"treatments": [{"kind": "exercise", "start": "2026-02-01", "end": "2026-01-01"}]}, "treatments[0]"),
        ({"sex": "unknown-value"}, "sex"),
        ({"pain": {"leg": {"nrs": "severe"}}}, "pain.leg.nrs"),
    ],
)
def test_bad_case_names_the_field(tmp_path: Path, case: dict, field: str) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    code, _, err = call("assess", str(path))
    assert code == 1
    assert field in err and "case-invalid" in err and "Traceback" not in err


def test_bad_input_files_and_options(tmp_path: Path) -> None:
    code, _, err = call("assess", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = call("assess", str(bad))
    assert code == 2 and "not valid JSON" in err and "line 1" in err
    good = EXAMPLES / "lumbar-disc-herniation.json"
    code, _, err = call("assess", str(good), "--policy", "atlantis")
    assert code == 1 and "unknown policy 'atlantis'" in err and "nice" in err
    code, _, err = call("assess", str(good), "--now", "yesterday")
    assert code == 2 and "--now" in err


def test_sparse_case_gives_gaps_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "sparse.json"
    path.write_text(json.dumps({"age": 50}), encoding="utf-8")
    code, out, _ = call("assess", str(path), "--format", "json", "--now", "2026-03-01")
    data = json.loads(out)
    assert code == 0 and data["gaps"]
    assert {o["status"] for o in data["options"]} <= {"insufficient_information", "not_indicated", "consider"}


def test_generate_and_screen_roundtrip(tmp_path: Path) -> None:
    cases = tmp_path / "cases.parquet"
    code, out, _ = call("generate-cases", "400", "--seed", "3", "--out", str(cases))
    assert code == 0 and cases.exists()
    res = tmp_path / "results.parquet"
    code, out, _ = call("screen", str(cases), "--out", str(res), "--now", "2026-03-01")
    assert code == 0 and "screened" in out
    n, cols = duckdb.connect().execute(f"SELECT count(*), any_value(red_flags) FROM read_parquet('{res}')").fetchone()
    assert n == 400
    code, _, err = call("screen", str(tmp_path / "nope.csv"), "--out", str(res))
    assert code == 2 and "no such file" in err
