"""Invariants of the engine, checked with hypothesis on generated and mutated cases."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spinepath import assess
from spinepath.case.synthetic import generate_cases
from spinepath.knowledge.snapshot import Knowledge

NOW = date(2026, 3, 1)
CASES = list(generate_cases(400, seed=11))
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(i=st.integers(0, len(CASES) - 1),
       flag=st.sampled_from(["saddle_anaesthesia", "urinary_retention_or_new_difficulty",
                             "bowel_incontinence_or_loss_of_rectal_sensation", "history_of_cancer",
                             "fever", "significant_trauma"]))
def test_urgent_red_flag_means_nothing_is_recommended(kb: Knowledge, i: int, flag: str) -> None:
    case = copy.deepcopy(CASES[i])
    case.setdefault("red_flags", {})
    case["red_flags"] = dict(case["red_flags"] or {}, **{flag: True})
    a = assess(case, kb, now=NOW)
    if any(r.urgency in ("emergency", "urgent") for r in a.red_flags):
        assert all(o.status not in ("recommended", "consider") for o in a.options)


@SETTINGS
@given(i=st.integers(0, len(CASES) - 1))
def test_any_emergency_or_urgent_flag_defers_all(kb: Knowledge, i: int) -> None:
    a = assess(CASES[i], kb, now=NOW)
    if any(r.urgency in ("emergency", "urgent") for r in a.red_flags):
        assert {o.status for o in a.options} == {"deferred"}


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every leaf path in a case dict whose value is set (candidates to blank out)."""
    out: list[tuple] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "id":
                continue
            if isinstance(v, (dict, list)):
                out += _paths(v, (*prefix, k))
            elif v is not None:
                out.append((*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _blank(case: dict, path: tuple) -> dict | None:
    c = copy.deepcopy(case)
    node: Any = c
    for p in path[:-1]:
        node = node[p]
    if isinstance(node, dict):
        from spinepath.case.model import PatientCase

        node[path[-1]] = None
        try:
            PatientCase.model_validate(c)
        except Exception:  # a required field (e.g. a treatment's kind) cannot be blanked
            return None
        return c
    return None


@SETTINGS
@given(i=st.integers(0, len(CASES) - 1), k=st.integers(0, 10_000))
def test_more_information_never_turns_met_into_unknown(kb: Knowledge, i: int, k: int) -> None:
    """Remove one known value (less information): no rule may go from unknown to met...

    stated the other way round: adding that value back never turns a met rule into unknown.
    """
    full = CASES[i]
    paths = _paths(full)
    if not paths:
        return
    less = _blank(full, paths[k % len(paths)])
    if less is None:
        return
    with_info = assess(full, kb, now=NOW).trace
    without = assess(less, kb, now=NOW).trace
    for rule, res in without.items():
        if res == "met":
            assert with_info.get(rule) != "unknown", (rule, paths[k % len(paths)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(i=st.integers(0, len(CASES) - 1))
def test_same_input_same_output(kb: Knowledge, i: int) -> None:
    assert assess(CASES[i], kb, now=NOW) == assess(copy.deepcopy(CASES[i]), kb, now=NOW)
