"""Fact definitions, one known-answer case each. Every derived fact must appear in DERIVED_CASES."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from spinepath.case.spec import Derived
from spinepath.case.validate import parse_case
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.engine import evaluate_facts
from spinepath.rules.plan import compile_plan

NOW = date(2026, 3, 1)


def facts(kb: Knowledge, case: dict[str, Any], policy: str = "nice") -> dict[str, Any]:
    return evaluate_facts(compile_plan(kb, policy), parse_case(case), NOW)


LEG = {"pain": {"back": {"nrs": 3}, "leg": {"nrs": 8, "side": "left", "dermatomes": ["L5"]}, "duration_weeks": 6}}
AXIAL = {"pain": {"back": {"nrs": 7}, "duration_weeks": 30}}

# (fact, case, expected value under the nice policy)
DERIVED_CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("radicular_leg_pain", LEG, True),
    ("radicular_leg_pain", AXIAL, False),
    ("radicular_leg_pain", {"pain": {"leg": {"side": "left"}}}, None),
    ("axial_back_pain", AXIAL, True),
    ("axial_back_pain", LEG, False),
    ("radicular_arm_pain", {"pain": {"neck": {"nrs": 2}, "arm": {"nrs": 7}}}, True),
    ("axial_neck_pain", {"pain": {"neck": {"nrs": 6}, "arm": {"nrs": 1}}}, True),
    ("trigeminal_pain_pattern", {"pain": {"face": {"nrs": 9, "paroxysmal": True, "triggered": True}}}, True),
    ("trigeminal_pain_pattern", {"pain": {"face": {"nrs": 9, "paroxysmal": True}}}, None),
    ("trigeminal_pain_pattern", LEG, False),
    ("ulnar_neuropathy_pattern", {"pain": {"ulnar_sensory_symptoms": True},
                                  "imaging": [{"region": "elbow", "ulnar_nerve_entrapment": True}]}, True),
    ("chronic_pain", AXIAL, True),
    ("chronic_pain", LEG, False),
    ("severe_leg_pain", LEG, True),
    ("acute_severe_sciatica", LEG, True),
    ("acute_severe_sciatica", {"pain": {"leg": {"nrs": 8}, "back": {"nrs": 2}, "duration_weeks": 40}}, False),
    ("severe_motor_deficit", {"neuro": {"motor": [{"myotome": "L5", "mrc": 2}, {"myotome": "S1", "mrc": 5}]}}, True),
    ("severe_motor_deficit", {"neuro": {"motor": [{"myotome": "C6", "mrc": 2}]}}, None),
    ("conservative_care_failed", {"treatments": [{"kind": "physiotherapy", "weeks": 8, "response": "none"}]}, True),
    ("conservative_care_failed", {"treatments": [{"kind": "physiotherapy", "weeks": 8, "response": "good"}]}, False),
    ("conservative_care_failed", {"treatments": []}, False),
    ("mbb_lumbar_positive", {"blocks": [{"kind": "medial_branch_block", "region": "lumbar", "relief_pct": 60}]}, True),
    ("mbb_lumbar_positive", {"blocks": []}, False),
    ("mbb_lumbar_positive", {}, None),
    ("mbb_cervical_positive", {"blocks": [{"kind": "medial_branch_block", "region": "cervical", "relief_pct": 90}]}, True),
    ("mbb_lumbar_negative", {"blocks": [{"kind": "medial_branch_block", "region": "lumbar", "relief_pct": 20}]}, True),
    ("mbb_cervical_negative", {"blocks": [{"kind": "medial_branch_block", "region": "cervical", "relief_pct": 70}]}, False),
    ("post_surgical_pain", {"pain": {"duration_weeks": 60},
                            "surgery": [{"kind": "discectomy", "region": "lumbar", "date": "2023-01-10"}]}, True),
]


def test_every_derived_fact_has_a_known_answer_case(kb: Knowledge) -> None:
    derived = {n for n, f in kb.facts.items() if isinstance(f.spec, Derived)}
    assert derived == {name for name, _, _ in DERIVED_CASES}


@pytest.mark.parametrize(("name", "case", "expected"), DERIVED_CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(DERIVED_CASES)])
def test_derived_fact(kb: Knowledge, name: str, case: dict, expected: Any) -> None:
    assert facts(kb, case)[name] is expected


def test_mbb_positive_depends_on_policy(kb: Knowledge) -> None:
    one_block_60 = {"blocks": [{"kind": "medial_branch_block", "region": "lumbar", "relief_pct": 60}]}
    two_blocks_85 = {"blocks": [{"kind": "medial_branch_block", "region": "lumbar", "relief_pct": 85},
                                {"kind": "medial_branch_block", "region": "lumbar", "relief_pct": 90}]}
    assert facts(kb, one_block_60, "nice")["mbb_lumbar_positive"] is True
    assert facts(kb, one_block_60, "us-medicare")["mbb_lumbar_positive"] is False
    assert facts(kb, two_blocks_85, "us-medicare")["mbb_lumbar_positive"] is True


def test_pain_map_contract(kb: Knowledge) -> None:
    f = facts(kb, {"pain": {"leg": {"nrs": 6}}})
    assert f["leg_pain_nrs"] == 6 and f["back_pain_nrs"] == 0 and f["face_pain_paroxysmal"] is False
    assert f["ulnar_sensory_symptoms"] is False
    f = facts(kb, {"pain": {"leg": {"side": "left"}}})
    assert f["leg_pain_nrs"] is None  # marked site, blank score: unknown
    f = facts(kb, {"age": 40})
    assert f["leg_pain_nrs"] is None and f["back_pain_nrs"] is None  # no pain map: unknown


def test_imaging_concordance_needs_root_and_side(kb: Knowledge) -> None:
    mri = {"region": "lumbar", "level": "L4-L5", "root_compressed": "L5"}
    assert facts(kb, {**LEG, "imaging": [{**mri, "side": "left"}]})["lumbar_imaging_concordant"] is True
    assert facts(kb, {**LEG, "imaging": [{**mri, "side": "right"}]})["lumbar_imaging_concordant"] is False
    assert facts(kb, {**LEG, "imaging": [{**mri, "side": "central"}]})["lumbar_imaging_concordant"] is True
    assert facts(kb, {**LEG, "imaging": [{**mri, "root_compressed": "S1", "side": "left"}]})[
        "lumbar_imaging_concordant"] is False
    assert facts(kb, {**LEG, "imaging": [{"region": "lumbar", "side": "left"}]})["lumbar_imaging_concordant"] is None
    assert facts(kb, {**LEG, "imaging": []})["lumbar_imaging_concordant"] is False
    assert facts(kb, LEG)["lumbar_imaging_concordant"] is None


def test_conservative_care_weeks_is_the_longest_course(kb: Knowledge) -> None:
    tx = [{"kind": "physiotherapy", "weeks": 6}, {"kind": "nsaid", "weeks": 10}, {"kind": "heat"}]
    assert facts(kb, {"treatments": tx})["conservative_care_weeks"] == 10
    assert facts(kb, {"treatments": []})["conservative_care_weeks"] == 0
    assert facts(kb, {"treatments": [{"kind": "heat"}]})["conservative_care_weeks"] is None
    assert facts(kb, {})["conservative_care_weeks"] is None


def test_repeat_facts_read_the_latest_procedure(kb: Knowledge) -> None:
    procs = [
        {"procedure": "rf-facet-lumbar", "date": "2024-01-15", "relief_pct": 30, "relief_months": 2},
        {"procedure": "rf-facet-lumbar", "date": "2025-07-01", "relief_pct": 80, "relief_months": 7},
        {"procedure": "esi-caudal", "date": "2025-12-01", "relief_pct": 10},
    ]
    f = facts(kb, {"procedures": procs})
    assert f["prior_facet_rf_lumbar_count"] == 2
    assert f["last_facet_rf_lumbar_relief_pct"] == 80 and f["last_facet_rf_lumbar_relief_months"] == 7
    assert f["months_since_last_facet_rf_lumbar"] == pytest.approx(243 / 30.4375)
    assert f["prior_esi_count"] == 1 and f["last_esi_relief_pct"] == 10
    undated = facts(kb, {"procedures": [*procs, {"procedure": "rf-facet-lumbar"}]})
    assert undated["months_since_last_facet_rf_lumbar"] is None  # which one is latest is unknown
    assert facts(kb, {"procedures": []})["prior_facet_rf_lumbar_count"] == 0


def test_antithrombotic_names_come_from_content(kb: Knowledge) -> None:
    assert facts(kb, {"medicines": [{"name": "Apixaban"}]})["takes_antithrombotic"] is True
    assert facts(kb, {"medicines": [{"name": "paracetamol"}]})["takes_antithrombotic"] is False
    assert facts(kb, {})["takes_antithrombotic"] is None
