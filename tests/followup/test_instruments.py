"""Instrument scoring against the instruments' published worked examples and rules (REFERENCE §4),
and the content checks that keep instruments, warning signs and procedures' follow-up consistent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spinepath.errors import AnswerError, ContentError
from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.instruments import instrument, score
from spinepath.outcomes.schedules import instruments_for, primary_site, schedule_for

CONTENT = Path(__file__).resolve().parents[2] / "src" / "spinepath" / "content"
ODI_SECTIONS = ["pain_intensity", "personal_care", "lifting", "walking", "sitting", "standing", "sleeping",
                "sex_life", "social_life", "travelling"]


def odi(kb: Knowledge, values: list[int | None]) -> dict[str, Any]:
    return {k: v for k, v in zip(ODI_SECTIONS, values, strict=True) if v is not None}


def test_odi_worked_examples(kb: Knowledge) -> None:
    d = instrument(kb, "odi")
    # REFERENCE §4.2: all 10 answered, total 16 -> 16/50 = 32 %
    full = score(d, odi(kb, [2, 2, 2, 2, 2, 2, 2, 1, 1, 0]))
    assert full.value == pytest.approx(32.0) and full.missing == [] and full.band == "moderate disability"
    # one section missing, total 16 over 9 sections -> 16/45 = 35.6 %
    nine = score(d, odi(kb, [2, 2, 2, 2, 2, 2, 2, None, 2, 0]))
    assert round(nine.value or 0, 1) == 35.6 and nine.missing == ["sex_life"] and nine.notes
    assert score(d, odi(kb, [0] * 10)).band == "minimal disability"
    assert score(d, odi(kb, [5] * 10)).value == 100.0


def test_odi_missing_sections_and_multiple_marks_follow_content(kb: Knowledge) -> None:
    d = instrument(kb, "odi")
    assert d.content.scoring.max_missing == 2  # [NV] common practice, kept as content
    two_missing = score(d, odi(kb, [3, 3, 3, 3, 3, 3, 3, 3, None, None]))
    assert two_missing.value == pytest.approx(60.0)
    three_missing = score(d, odi(kb, [3, 3, 3, 3, 3, 3, 3, None, None, None]))
    assert three_missing.value is None and "not scored" in three_missing.notes[0]
    marked = score(d, {**odi(kb, [1] * 10), "lifting": [2, 4]})  # two statements marked: the highest
    assert marked.answers["lifting"] == 4 and marked.value == pytest.approx(13 / 50 * 100)


@pytest.mark.parametrize(("answers", "field"), [
    ({"lifting": 6}, "answers.lifting"),
    ({"lifting": -1}, "answers.lifting"),
    ({"lifting": 2.5}, "answers.lifting"),
    ({"lifting": True}, "answers.lifting"),
    ({"lifting": "two"}, "answers.lifting"),
    ({"q1": 2}, "answers.q1"),
    ({"fever": 3}, "answers.fever"),
    ({}, "answers.pain_intensity"),
])
def test_bad_odi_answers_name_the_field(kb: Knowledge, answers: dict[str, Any], field: str) -> None:
    with pytest.raises(AnswerError) as e:
        score(instrument(kb, "odi"), answers)
    assert e.value.field == field and e.value.code == "answers-invalid"


def test_nrs_by_site_with_recall_and_bands(kb: Knowledge) -> None:
    d = instrument(kb, "nrs")
    r = score(d, {"leg": 7, "back": 3.0})
    assert r.values == {"leg": 7.0, "back": 3.0} and r.value is None
    assert r.recall and "7 days" in r.recall  # the recall period is stored with every answer
    assert score(d, {"leg": 0}).band == "no pain" and score(d, {"leg": 7}).band == "severe"
    for bad in ({"leg": 11}, {"leg": -1}, {"knee": 3}, {"leg": "severe"}):
        with pytest.raises(AnswerError) as e:
            score(d, bad)
        assert e.value.field == f"answers.{next(iter(bad))}"
    with pytest.raises(AnswerError, match="answer at least 1"):
        score(d, {"fever": "no"})  # warning questions alone are not a pain score


def test_bni_grades(kb: Knowledge) -> None:
    d = instrument(kb, "bni")
    assert [score(d, {"grade": g}).value for g in ("I", "BNI II", 3, "iv", "5")] == [1, 2, 3, 4, 5]
    assert score(d, {"grade": 3}).band.startswith("I-III")  # type: ignore[union-attr]
    assert score(d, {"grade": 4}).band.startswith("IV-V")  # type: ignore[union-attr]
    with pytest.raises(AnswerError) as e:
        score(d, {"grade": 6})
    assert e.value.field == "answers.grade"
    assert kb.instruments["bni"].status == "under_review"  # [NV] definitions: informative only


def test_warning_questions_are_three_valued(kb: Knowledge) -> None:
    d = instrument(kb, "nrs")
    yes = score(d, {"leg": 4, "fever": "yes", "new_weakness": False})
    assert yes.warning is True and [(w.item, w.warning_sign, w.urgency) for w in yes.warnings] == [
        ("fever", "infection-signs", "call_today")]
    weak = score(d, {"leg": 4, "new_weakness": True})
    assert weak.warnings[0].urgency == "emergency"  # from the linked shared warning sign
    assert score(d, {"leg": 4, "fever": "no"}).warning is False
    assert score(d, {"leg": 4}).warning is None  # not asked is unknown, never "no"


def test_schedules_sites_and_instruments_come_from_content(kb: Knowledge) -> None:
    shared = [(p.label, p.days_after) for p in kb.shared.followup_schedule]
    assert shared == [("baseline", 0), ("2 weeks", 14), ("1 month", 30), ("3 months", 91), ("6 months", 182),
                      ("12 months", 365)]
    assert [p.label for p in schedule_for(kb, "esi-caudal")] == [p[0] for p in shared]  # inherits
    assert kb.procedures["esi-caudal"].followup.schedule == "inherit"
    trig = [p.label for p in schedule_for(kb, "rf-trigeminal")]
    assert trig[-2:] == ["3 years", "5 years"] and kb.procedures["rf-trigeminal"].followup.schedule_sources
    assert primary_site(kb, "esi-transforaminal", "L4-L5") == "leg"
    assert primary_site(kb, "esi-transforaminal", "C5-C6") == "arm"
    assert primary_site(kb, "rf-facet-lumbar", None) == "back"
    assert primary_site(kb, "rf-trigeminal", None) == "face"
    assert primary_site(kb, "ulnar-perineural-injection", None) == "arm"
    assert primary_site(kb, "conservative-care", None, {"back": 4, "leg": 6}) == "leg"
    assert primary_site(kb, "conservative-care", None) is None  # 'worst' needs a baseline
    assert instruments_for(kb, "rf-trigeminal") == ["nrs", "warning-signs", "bni"]


def test_instruments_store_loinc_and_no_licensed_wording(kb: Knowledge) -> None:
    assert [c.code for c in kb.instruments["odi"].fhir.codes] == ["97908-8"]  # type: ignore[union-attr]
    assert [c.code for c in kb.instruments["odi"].fhir.score_codes] == ["97909-6"]  # type: ignore[union-attr]
    assert [c.code for c in kb.instruments["nrs"].fhir.codes] == ["72514-3"]  # type: ignore[union-attr]
    # Section names only: none of the ODI's official statements (as in the CMS example) is stored.
    text = (CONTENT / "instruments" / "odi.yaml").read_text(encoding="utf-8").lower()
    for statement in ("i have no pain at the moment", "i can lift heavy weights",
                      "pain does not prevent me walking"):
        assert statement not in text


def _overlay(tmp_path: Path, rel: str, data: dict[str, Any]) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def _problems(tmp_path: Path) -> list[str]:
    with pytest.raises(ContentError) as e:
        load_knowledge(tmp_path, use_env=False)
    return [str(p) for p in e.value.problems]


def _bundled(rel: str) -> dict[str, Any]:
    return dict(yaml.safe_load((CONTENT / rel).read_text(encoding="utf-8")))


@pytest.mark.parametrize(("rel", "change", "expect"), [
    ("instruments/warning-signs.yaml", lambda d: d["items"][0].update(warning_sign="no-such-sign"),
     "unknown warning sign 'no-such-sign'"),
    ("instruments/nrs.yaml", lambda d: d.update(includes=["nowhere"]), "includes 'nowhere'"),
    ("instruments/odi.yaml", lambda d: d["scoring"].pop("max_missing_sources"), "max_missing needs"),
    ("instruments/odi.yaml", lambda d: d["items"][0].update(maximum=6), "percent_of_answered needs"),
    ("procedures/esi-caudal.yaml", lambda d: d["followup"].update(instruments=["odi"]),
     "primary pain site 'leg' is not an item"),
    ("procedures/esi-caudal.yaml", lambda d: d["followup"].update(instruments=["nrs", "pgic"]),
     "unknown instrument 'pgic'"),
    ("procedures/esi-caudal.yaml", lambda d: d["followup"].update(schedule=[{"label": "baseline", "days_after": 0},
                                                                           {"label": "3 months", "days_after": 91}]),
     "an own schedule needs schedule_sources"),
    ("procedures/esi-caudal.yaml", lambda d: d.pop("followup"), "followup"),
])
def test_content_check_refuses_broken_followup_content(tmp_path: Path, rel: str, change: Any, expect: str) -> None:
    data = _bundled(rel)
    change(data)
    found = _problems(_overlay(tmp_path, rel, data))
    assert any(expect in p for p in found), found


def test_content_check_validates_outcome_analytics_sources(tmp_path: Path) -> None:
    data = _bundled("shared.yaml")
    data["outcome_analytics"]["responder_definitions"][0]["sources"][0]["id"] = "Nobody2099"
    data["outcome_analytics"]["relief_margin_sources"][0]["id"] = "Nobody2098"
    found = "\n".join(_problems(_overlay(tmp_path, "shared.yaml", data)))
    assert "outcome_analytics.responder_definitions[0].sources[0]" in found and "'Nobody2099'" in found
    assert "outcome_analytics.relief_margin_sources[0]" in found


def test_shared_warning_signs_need_unique_ids(tmp_path: Path) -> None:
    data = _bundled("shared.yaml")
    data["shared_warning_signs"][1]["id"] = data["shared_warning_signs"][0]["id"]
    assert any("duplicate warning sign id" in p for p in _problems(_overlay(tmp_path, "shared.yaml", data)))
