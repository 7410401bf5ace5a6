"""Synthetic case generator: valid, deterministic, chunkable, and plausible as a population.

Shares are computed from the generated data (what a clinician would read off the case), not
from the generator's internals. Also checks that every documented example case validates.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from spinepath.case.model import PatientCase
from spinepath.case.synthetic import BLOCK_SIZE, PHENOTYPE_WEIGHTS, generate_cases

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cases"


@pytest.fixture(scope="module")
def population() -> list[dict[str, Any]]:
    return list(generate_cases(20_000, seed=2026))


def _dates(obj: Any) -> list[str]:
    """Every ISO date string anywhere in a case."""
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("date", "start", "end") and isinstance(value, str):
                found.append(value)
            else:
                found += _dates(value)
    elif isinstance(obj, list):
        for value in obj:
            found += _dates(value)
    return found


def _phenotype(case: dict[str, Any]) -> str:
    """What the case looks like clinically, read from its fields."""
    pain = case.get("pain")
    imaging = case.get("imaging") or []
    if (pain and "face" in pain) or any(f.get("region") == "cranial" for f in imaging):
        return "trigeminal_neuralgia"
    if (pain and pain.get("ulnar_sensory_symptoms")) or any(f.get("region") == "elbow" for f in imaging):
        return "ulnar_neuropathy"
    if any(s.get("region") == "lumbar" for s in case.get("surgery") or []):
        return "fbss"
    if pain is None:
        return "unknown"
    if pain.get("neurogenic_claudication"):
        return "lumbar_stenosis"
    leg, arm = pain.get("leg"), pain.get("arm")
    if leg and (leg.get("dermatomes") or leg.get("below_knee")):
        return "lumbar_radicular"
    if arm and arm.get("dermatomes"):
        return "cervical_radicular"
    if "neck" in pain or "arm" in pain:
        return "cervical_other"
    return "lumbar_other"


# --- validity ------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 12345])
def test_every_case_validates_as_patient_case(seed: int) -> None:
    for case in generate_cases(2_000, seed):
        PatientCase.model_validate(case)


def test_cases_are_json_ready_and_round_trip(population: list[dict[str, Any]]) -> None:
    sample = population[:500]
    assert json.loads(json.dumps(sample)) == sample


def test_ids_are_unique_and_follow_the_pattern() -> None:
    cases = list(generate_cases(300, 7, start_index=1_000))
    assert [c["id"] for c in cases] == [f"syn-7-{i:08d}" for i in range(1_000, 1_300)]


def test_no_date_after_the_reference_date(population: list[dict[str, Any]]) -> None:
    dates = [d for case in population[:5_000] for d in _dates(case)]
    assert dates
    assert max(dates) <= "2026-01-01"
    earlier = [d for case in generate_cases(2_000, 1, reference=date(2020, 6, 30)) for d in _dates(case)]
    assert max(earlier) <= "2020-06-30"


def test_validated_dates_are_in_order(population: list[dict[str, Any]]) -> None:
    for case in population[:3_000]:
        model = PatientCase.model_validate(case)
        for t in model.treatments or []:
            if t.start and t.end:
                assert t.start <= t.end


def test_negative_arguments_are_rejected() -> None:
    with pytest.raises(ValueError):
        list(generate_cases(-1, 0))
    with pytest.raises(ValueError):
        list(generate_cases(1, 0, start_index=-5))


# --- determinism and chunking --------------------------------------------------------------


def _strip_ids(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in c.items() if k != "id"} for c in cases]


def test_same_seed_gives_same_cases() -> None:
    assert list(generate_cases(300, 42)) == list(generate_cases(300, 42))


def test_different_seed_gives_different_cases() -> None:
    a = _strip_ids(list(generate_cases(300, 42)))
    b = _strip_ids(list(generate_cases(300, 43)))
    assert a != b
    assert sum(x == y for x, y in zip(a, b, strict=True)) < 30  # a few sparse twins at most


def test_chunks_concatenate_to_the_whole() -> None:
    whole = list(generate_cases(100, 9))
    assert whole == list(generate_cases(50, 9)) + list(generate_cases(50, 9, start_index=50))


@pytest.mark.parametrize("cuts", [(1, 37, 64, 65, 128, 200), (BLOCK_SIZE - 1, 3 * BLOCK_SIZE + 5)])
def test_chunks_across_block_boundaries(cuts: tuple[int, ...]) -> None:
    total = 260
    whole = list(generate_cases(total, 5))
    bounds = [0, *cuts, total]
    pieces = [c for lo, hi in zip(bounds, bounds[1:], strict=False)
              for c in generate_cases(hi - lo, 5, start_index=lo)]
    assert pieces == whole


def test_a_single_case_can_be_regenerated_by_index() -> None:
    whole = list(generate_cases(150, 11))
    assert list(generate_cases(1, 11, start_index=131)) == [whole[131]]


def test_generator_is_lazy() -> None:
    first = list(islice(generate_cases(10**9, 3), 5))
    assert len(first) == 5


def test_yielded_cases_do_not_share_mutable_state() -> None:
    cases = list(generate_cases(200, 8))
    before = json.dumps(cases[1:])
    cases[0].clear()
    assert json.dumps(cases[1:]) == before
    assert list(generate_cases(200, 8))[1:] == cases[1:]


# --- the population looks like a clinic's --------------------------------------------------


def test_phenotype_mixture_matches_the_documented_weights(population: list[dict[str, Any]]) -> None:
    cases = population[:5_000]
    with_pain = [c for c in cases if c.get("pain") is not None]
    shares = Counter(_phenotype(c) for c in with_pain)
    n = len(with_pain)
    # The pain map is missing independently of phenotype (sparse cases always have one), so the
    # share among cases with a pain map tracks the documented weight.
    assert abs(shares["lumbar_radicular"] / n - PHENOTYPE_WEIGHTS["lumbar_radicular"]) < 0.05
    assert abs(shares["lumbar_stenosis"] / n - PHENOTYPE_WEIGHTS["lumbar_stenosis"]) < 0.03
    for name in ("fbss", "trigeminal_neuralgia", "ulnar_neuropathy"):
        assert abs(shares[name] / n - PHENOTYPE_WEIGHTS[name]) < 0.02, name
    cervical = shares["cervical_radicular"] + shares["cervical_other"]
    expected = PHENOTYPE_WEIGHTS["cervical_radicular"] + PHENOTYPE_WEIGHTS["cervical_facet"]
    assert abs(cervical / n - expected) < 0.03


def test_radicular_imaging_is_mostly_concordant(population: list[dict[str, Any]]) -> None:
    concordant = total = 0
    for case in population:
        pain = case.get("pain") or {}
        leg = pain.get("leg") or {}
        if not leg.get("dermatomes") or pain.get("neurogenic_claudication") or not case.get("imaging"):
            continue
        if any(s.get("region") == "lumbar" for s in case.get("surgery") or []):
            continue
        total += 1
        concordant += any(
            f.get("region") == "lumbar" and f.get("root_compressed") in leg["dermatomes"]
            and (f.get("side") in ("central", "bilateral") or f.get("side") == leg.get("side"))
            for f in case["imaging"]
        )
    assert total > 1_000
    assert 0.65 < concordant / total < 0.85


def test_red_flags_are_rare_but_present(population: list[dict[str, Any]]) -> None:
    n = len(population)
    forms = [c["red_flags"] for c in population if c.get("red_flags") is not None]

    def rate(flag: str) -> float:
        return sum(f.get(flag) is True for f in forms) / n

    assert 0.001 <= rate("saddle_anaesthesia") <= 0.02
    assert 0.001 <= rate("urinary_retention_or_new_difficulty") <= 0.02
    assert 0.01 <= rate("history_of_cancer") <= 0.06
    assert 0.002 <= rate("fever") <= 0.03
    assert 0.005 <= rate("significant_trauma") <= 0.04
    progressive = sum((c.get("neuro") or {}).get("progressive_weakness") is True for c in population)
    assert 0.002 <= progressive / n <= 0.03
    # most recorded forms are all clear; some answers are left blank
    assert sum(not any(v is True for v in f.values()) for f in forms) / len(forms) > 0.6
    blank = sum(v is None for f in forms for v in f.values()) / (len(forms) * len(forms[0]))
    assert 0.02 < blank < 0.10


def test_some_cases_are_sparse_or_missing_blocks(population: list[dict[str, Any]]) -> None:
    n = len(population)
    assert 0.05 < sum("pain" not in c for c in population) / n < 0.2
    assert 0.05 < sum("imaging" not in c for c in population) / n < 0.35
    sparse = [c for c in population if set(c) <= {"id", "age", "sex", "pain"}]
    assert 0.01 < len(sparse) / n < 0.04
    # an empty list (known none) and an absent list (unknown) both occur
    assert any(c.get("procedures") == [] for c in population)
    assert any("procedures" not in c for c in population)


def test_clinic_fields_are_filled_plausibly(population: list[dict[str, Any]]) -> None:
    cases = population[:5_000]
    medicines = Counter(m["name"] for c in cases for m in c.get("medicines") or [])
    for drug in ("aspirin", "clopidogrel", "warfarin", "apixaban", "rivaroxaban", "paracetamol",
                 "amlodipine", "metformin"):
        assert medicines[drug] > 0, drug
    procedures = Counter(p["procedure"] for c in population for p in c.get("procedures") or [])
    for pid in ("esi-interlaminar", "esi-transforaminal", "esi-caudal", "rf-facet-lumbar",
                "rf-facet-cervical", "epidural-adhesiolysis", "balloon-neuroplasty", "rf-trigeminal",
                "ulnar-perineural-injection"):
        assert procedures[pid] > 0, pid
    mrc = Counter(m["mrc"] for c in cases for m in (c.get("neuro") or {}).get("motor") or [])
    assert (mrc[4] + mrc[5]) / sum(mrc.values()) > 0.85
    blocks = [b for c in cases for b in c.get("blocks") or []]
    assert {b["region"] for b in blocks} == {"lumbar", "cervical"}
    assert all(b["kind"] == "medial_branch_block" for b in blocks)
    levels = Counter(f["level"] for c in cases for f in c.get("imaging") or []
                     if f.get("region") == "lumbar")
    top = {"L3-L4", "L4-L5", "L5-S1"}
    assert sum(levels[lv] for lv in top) / sum(levels.values()) > 0.9
    weeks = [t["weeks"] for c in cases for t in c.get("treatments") or []]
    assert min(weeks) >= 0 and max(weeks) <= 26


# --- documented examples --------------------------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_there_is_one_example_per_condition() -> None:
    names = {p.stem for p in EXAMPLE_FILES}
    assert {"lumbar-disc-herniation", "lumbar-spinal-stenosis", "lumbar-facet-joint-pain",
            "cervical-facet-joint-pain", "cervical-radiculopathy", "failed-back-surgery-syndrome",
            "trigeminal-neuralgia", "ulnar-neuropathy-elbow", "non-specific-low-back-pain",
            "cauda-equina-red-flag"} <= names
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"{name}.json" in readme


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_case_validates_and_is_complete(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    case = PatientCase.model_validate(raw)
    assert case.notes
    for block in ("age", "sex", "pain", "neuro", "red_flags", "imaging", "treatments",
                  "procedures", "surgery", "medicines", "comorbidities", "allergies", "preferences"):
        assert getattr(case, block) is not None, block
    assert case.red_flags is not None
    answered = case.red_flags.model_dump()
    if path.stem != "cauda-equina-red-flag":
        assert all(v is False for v in answered.values()), "elective examples have every flag clear"
    else:
        assert answered["saddle_anaesthesia"] and answered["urinary_retention_or_new_difficulty"]
