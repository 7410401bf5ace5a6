"""Clinical scenarios: one patient story per YAML file, with a pinned date and expected output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spinepath import assess
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.assessment import Assessment

SCENARIO_DIR = Path(__file__).parent / "scenarios"
FILES = sorted(SCENARIO_DIR.glob("*.yaml"))
ALLOWED = {"red_flags", "statuses", "not_statuses", "missing", "gaps_include", "gaps_exclude",
           "top_gap", "top_gap_in", "phenotype", "cautions", "antithrombotics"}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(data) <= {"name", "story", "now", "policy", "case", "expect"}, path.name
    assert set(data["expect"]) <= ALLOWED, f"{path.name}: unknown expectation keys"
    return data


def run(kb: Knowledge, data: dict[str, Any]) -> Assessment:
    return assess(data["case"], kb, policy=data.get("policy"), now=data["now"])


def test_there_are_enough_scenarios():
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_scenario(kb: Knowledge, path: Path) -> None:
    data = load(path)
    result = run(kb, data)
    exp = data["expect"]
    status = {o.procedure: o for o in result.options}
    why = {o.procedure: (o.status, o.reasons) for o in result.options}
    if "red_flags" in exp:
        assert sorted(r.id for r in result.red_flags) == sorted(exp["red_flags"])
    for pid, st in (exp.get("statuses") or {}).items():
        assert pid in status, f"unknown procedure {pid}"
        assert status[pid].status == st, f"{pid}: expected {st}, got {why[pid]}"
    for pid, st in (exp.get("not_statuses") or {}).items():
        assert status[pid].status != st, f"{pid}: must not be {st}: {why[pid]}"
    for pid, parts in (exp.get("missing") or {}).items():
        text = " | ".join(status[pid].missing).lower()
        for part in parts:
            assert part.lower() in text, f"{pid}: missing {status[pid].missing} lacks {part!r}"
    gaps = [g.fact for g in result.gaps]
    for fact in exp.get("gaps_include") or []:
        assert fact in gaps, f"{fact} not among gaps {gaps}"
    for fact in exp.get("gaps_exclude") or []:
        assert fact not in gaps, f"{fact} should not be a gap"
    if "top_gap" in exp:
        assert gaps and gaps[0] == exp["top_gap"], gaps[:5]
    if "top_gap_in" in exp:
        assert gaps and gaps[0] in exp["top_gap_in"], gaps[:5]
    met = [p.id for p in result.phenotype if p.result == "met"]
    for ph in exp.get("phenotype") or []:
        assert ph in met, f"{ph} not among met phenotypes {met}"
    for pid, drugs in (exp.get("antithrombotics") or {}).items():
        rows = {at.drug: at for at in status[pid].antithrombotics}
        for drug, text in drugs.items():
            assert drug in rows, f"{pid}: no hold guidance for {drug}: {list(rows)}"
            assert text.lower() in rows[drug].hold.lower(), f"{pid}/{drug}: {rows[drug].hold!r}"
    for pid, ids in (exp.get("cautions") or {}).items():
        have = [c.id for c in status[pid].cautions]
        for cid in ids:
            assert cid in have, f"{pid}: caution {cid} not in {have}"
