"""The Assessment's fast JSON writer (orjson, used by POST /assess) must write exactly the bytes
pydantic writes: on every example case, on generated cases under every policy, and on any text
or number a fact can carry, including the integers only the fallback can write."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from spinepath import assess
from spinepath.case.synthetic import generate_cases
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.assessment import Assessment, assessment_json

NOW = date(2026, 3, 1)
PYDANTIC = TypeAdapter(Assessment)
ANY: TypeAdapter[Any] = TypeAdapter(Any)
EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "cases").glob("*.json"))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _same(result: Assessment) -> bytes:
    fast = assessment_json(result)
    assert fast == PYDANTIC.dump_json(result)
    return fast


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_case_under_every_policy(kb: Knowledge, path: Path) -> None:
    assert EXAMPLES, "examples/cases holds the bundled cases"
    case = json.loads(path.read_text(encoding="utf-8"))
    for policy in kb.policies:
        out = json.loads(_same(assess(case, kb, policy, NOW)))
        assert out["policy"]["id"] == policy and out["options"]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1))
def test_generated_cases_under_every_policy(kb: Knowledge, seed: int) -> None:
    for case in generate_cases(3, seed=seed):
        for policy in kb.policies:
            _same(assess(case, kb, policy, NOW))


fact_values = st.one_of(
    st.none(), st.booleans(), st.text(), st.floats(allow_nan=False, allow_infinity=False),
    st.integers(), st.integers(min_value=2**63, max_value=2**80),  # beyond orjson: the fallback
    st.lists(st.text(max_size=5), max_size=3), st.dates(),
)


@SETTINGS
@given(value=fact_values)
def test_any_fact_value_a_row_can_carry(kb: Knowledge, value: Any) -> None:
    result = assess(json.loads(EXAMPLES[0].read_text(encoding="utf-8")), kb, None, NOW)
    row = result.options[0].criteria[0]
    row["facts"] = {**row["facts"], "probe": value}
    written = json.loads(_same(result))
    assert written["options"][0]["criteria"][0]["facts"]["probe"] == json.loads(ANY.dump_json(value))
