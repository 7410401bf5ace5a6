"""List facts in screening SQL read exactly what the per-case Python reads, on awkward lists.

The generator makes clinically plausible cases; these are deliberately awkward ones: absent vs
empty lists, elements whose fields are unknown, undated matches, several matches on the same
latest date that agree or disagree, unknown values on that date. Every base fact of the full
plan is compared, so each list aggregate (exists, count, max/min, latest value, months since)
is checked on its three-valued edge cases.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from spinepath.case.validate import parse_case
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.batch import facts_sql, iter_rows, read_source_sql
from spinepath.rules.engine import evaluate_facts
from spinepath.rules.plan import compile_plan

NOW = date(2026, 3, 1)
DATES = [None, "2024-05-01", "2025-01-15", "2025-01-15", "2025-09-30"]  # repeats on purpose


def _maybe(r: random.Random, values: list[Any]) -> Any:
    return r.choice([None, *values])


def _list(r: random.Random, make: Any) -> list[Any] | None:
    roll = r.random()
    if roll < 0.2:
        return None
    if roll < 0.35:
        return []
    return [make(r) for _ in range(r.randint(1, 4))]


def _procedure(r: random.Random) -> dict[str, Any]:
    return {
        "procedure": r.choice(["esi-transforaminal", "esi-caudal", "rf-facet-lumbar", "rf-facet-cervical",
                               "epidural-adhesiolysis", "balloon-neuroplasty", "rf-trigeminal", "mbb-lumbar"]),
        "date": r.choice(DATES),
        "relief_pct": _maybe(r, [0, 30, 50, 80]),
        "relief_months": _maybe(r, [1, 6, 12]),
    }


def _imaging(r: random.Random) -> dict[str, Any]:
    return {
        "modality": _maybe(r, ["mri", "ct", "xray"]),
        "date": r.choice(DATES),
        "region": _maybe(r, ["cervical", "lumbar", "sacral", "cranial", "elbow"]),
        "side": _maybe(r, ["left", "right", "bilateral", "central"]),
        "morphology": _maybe(r, ["bulge", "protrusion", "extrusion", "sequestration"]),
        "central_stenosis": _maybe(r, ["none", "mild", "moderate", "severe"]),
        "foraminal_stenosis": _maybe(r, ["none", "mild", "moderate", "severe"]),
        "root_compressed": _maybe(r, ["C6", "L4", "L5", "S1"]),
        **{k: _maybe(r, [True, False]) for k in (
            "epidural_fibrosis", "instability", "calcified_herniation", "neurovascular_contact",
            "secondary_cause", "ulnar_nerve_entrapment", "severe_ulnar_neuropathy")},
    }


def _case(r: random.Random, i: int) -> dict[str, Any]:
    def site(r: random.Random) -> dict[str, Any] | None:
        return r.choice([None, {"nrs": _maybe(r, [0, 4, 8]), "side": _maybe(r, ["left", "right", "bilateral"]),
                                "dermatomes": _list(r, lambda r: r.choice(["C6", "C7", "L4", "L5", "S1"]))}])

    return {
        "id": f"edge-{i}",
        "age": _maybe(r, [35, 70]),
        "pain": r.choice([None, {"leg": site(r), "arm": site(r), "back": site(r), "neck": site(r)}]),
        "neuro": r.choice([None, {"motor": _list(r, lambda r: {"myotome": r.choice(["C6", "L4", "L5", "S1"]),
                                                               "mrc": _maybe(r, [2, 3, 5])})}]),
        "imaging": _list(r, _imaging),
        "treatments": _list(r, lambda r: {
            "kind": r.choice(["physiotherapy", "nsaid", "opioid", "carbamazepine_or_oxcarbazepine", "splint"]),
            "weeks": _maybe(r, [2, 6, 12]), "response": _maybe(r, ["none", "partial", "good"]),
            "tolerated": _maybe(r, [True, False])}),
        "blocks": _list(r, lambda r: {
            "kind": r.choice(["medial_branch_block", "intra_articular_facet", "selective_nerve_root"]),
            "region": _maybe(r, ["cervical", "thoracic", "lumbar"]), "date": r.choice(DATES),
            "relief_pct": _maybe(r, [20, 50, 80])}),
        "procedures": _list(r, _procedure),
        "surgery": _list(r, lambda r: {
            "kind": r.choice(["discectomy", "laminectomy", "fusion", "microvascular_decompression", "other"]),
            "region": _maybe(r, ["cervical", "lumbar", "cranial"]), "date": r.choice(DATES)}),
        "allergies": _list(r, lambda r: r.choice(["contrast", "local_anaesthetic", "corticosteroid", "latex"])),
    }


def test_list_facts_agree_on_awkward_lists(kb: Knowledge, tmp_path: Path) -> None:
    r = random.Random(20260301)
    cases = [_case(r, i) for i in range(800)]
    path = tmp_path / "edge.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in cases) + "\n", encoding="utf-8")
    plan = compile_plan(kb)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE cases AS SELECT * FROM {read_source_sql(str(path), 'jsonl')}")
    ctes, select = facts_sql(plan, "src", NOW)
    rows = {row["case_id"]: row for row in iter_rows(con, "WITH " + ", ".join(
        ["src AS (SELECT * FROM cases)", *ctes]) + " " + select)}
    bad = []
    for case in cases:
        env = evaluate_facts(plan, parse_case(case), NOW)
        for name, _ in plan.base:
            a, b = env[name], rows[case["id"]][name]
            if a != b and not (isinstance(a, float) and isinstance(b, float) and abs(a - b) < 1e-9):
                bad.append((case["id"], name, a, b))
    assert not bad, f"{len(bad)} disagreements, first: {bad[:8]}"
    # the awkward cases must reach the awkward branches, or this test proves little
    values = {name: {repr(rows[c["id"]][name]) for c in cases} for name, _ in plan.base}
    assert "None" in values["last_facet_rf_lumbar_relief_pct"] and len(values["last_facet_rf_lumbar_relief_pct"]) > 3
    assert {"True", "False", "None"} <= values["lumbar_imaging_concordant"]
