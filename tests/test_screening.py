"""Population screening gives exactly the per-case answer, on generated cases, for every policy."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from spinepath import assess
from spinepath.case.synthetic import generate_cases
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.batch import facts_sql, iter_rows, read_source_sql, screen_to_file
from spinepath.rules.engine import evaluate_facts
from spinepath.rules.plan import compile_plan

NOW = date(2026, 3, 1)
N = 1500


@pytest.fixture(scope="module")
def case_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    cases = list(generate_cases(N, seed=7))
    path = tmp_path_factory.mktemp("screen") / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n", encoding="utf-8")
    return path, cases


@pytest.mark.parametrize("policy", ["nice", "us-medicare"])
def test_screen_equals_assess(kb: Knowledge, case_file, tmp_path: Path, policy: str) -> None:
    path, cases = case_file
    out = tmp_path / "results.parquet"
    plan = compile_plan(kb, policy)
    con = duckdb.connect()
    rows = screen_to_file(con, plan, str(path), "jsonl", str(out), NOW)
    assert rows == N
    got = {r["case_id"]: r for r in iter_rows(con, f"SELECT * FROM read_parquet('{out}')")}
    mismatches = []
    for case in cases:
        a = assess(case, kb, policy=policy, now=NOW)
        row = got[case["id"]]
        if sorted(row["red_flags"]) != sorted(f.id for f in a.red_flags):
            mismatches.append((case["id"], "red_flags", row["red_flags"], [f.id for f in a.red_flags]))
        for o in a.options:
            if row[o.procedure] != o.status:
                mismatches.append((case["id"], o.procedure, row[o.procedure], o.status))
    assert not mismatches, f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_every_base_fact_agrees_between_python_and_sql(kb: Knowledge, case_file) -> None:
    """The fact specs compile to Python and to SQL; both must read the same value."""
    path, cases = case_file
    plan = compile_plan(kb)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE cases AS SELECT *, row_number() OVER () AS rn FROM {read_source_sql(str(path), 'jsonl')}")
    ctes, select = facts_sql(plan, "src", NOW)
    sql = "WITH " + ", ".join(["src AS (SELECT *, rn AS __rid FROM cases)", *ctes]) + " " + select
    rows = {r["case_id"]: r for r in iter_rows(con, sql)}
    bad = []
    for case in cases[:600]:
        from spinepath.case.validate import parse_case

        env = evaluate_facts(plan, parse_case(case), NOW)
        for name, _ in plan.base:
            a, b = env[name], rows[case["id"]][name]
            if a != b and not (isinstance(a, float) and isinstance(b, float) and abs(a - b) < 1e-9):
                bad.append((case["id"], name, a, b))
    assert not bad, bad[:10]
