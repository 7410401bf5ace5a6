"""Per-patient outcomes, hand-checked: trajectory, change both ways, responder status per content
definition, relief so far, and the repeat check under each policy (never a yes on missing data)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.instruments import instrument, score
from spinepath.outcomes.patient import Answered, Episode, Point, patient_outcomes
from spinepath.outcomes.schedules import schedule_for

TODAY = dt.date(2026, 6, 1)


def episode(kb: Knowledge, procedure: str, on: dt.date, answers: dict[str, dict[str, dict[str, Any]]],
            level: str | None = None, eid: str = "pr_1") -> Episode:
    points = []
    for p in schedule_for(kb, procedure):
        due = on + dt.timedelta(days=p.days_after)
        responses = tuple(
            Answered(ins, instrument(kb, ins).measure, score(instrument(kb, ins), a).model_dump(mode="json"),
                     dt.datetime.combine(due, dt.time(9), tzinfo=dt.UTC))
            for ins, a in answers.get(p.label, {}).items())
        points.append(Point(f"fu_{eid}_{p.days_after}", p.label, due, "completed" if responses else "due", responses))
    return Episode(eid, procedure, on, level, None, tuple(points))


def test_radicular_esi_hand_checked(kb: Knowledge) -> None:
    odi_base = dict.fromkeys(["pain_intensity", "personal_care", "lifting", "walking", "sitting", "standing",
                              "sleeping", "sex_life", "social_life", "travelling"], 4)  # 40/50 = 80 %
    ep = episode(kb, "esi-transforaminal", dt.date(2026, 1, 5), {
        "baseline": {"nrs": {"leg": 8, "back": 4}, "odi": odi_base},
        "2 weeks": {"nrs": {"leg": 6}},                                   # -2 points, -25 %
        "1 month": {"nrs": {"leg": 4}, "odi": {k: 3 for k in odi_base}},  # -4, -50 %; ODI 60 % (-20 points)
        "3 months": {"nrs": {"leg": 7, "fever": "yes"}},                  # -1, -12.5 %: relief over
    }, level="L4-L5")
    out = patient_outcomes(kb, "pt_1", [ep], TODAY, "nice").episodes[0]
    assert out.primary_site == "leg"
    by = {p.label: p for p in out.points}
    assert by["baseline"].responders == {} and by["baseline"].odi == pytest.approx(80.0)
    two = by["2 weeks"]
    assert (two.nrs_change.points, two.nrs_change.pct) == (2.0, 25.0)  # type: ignore[union-attr]
    assert two.responders == {"nrs_30pct": False, "nrs_2pt": True, "nrs_30pct_and_2pt": False, "nrs_50pct": False,
                              "odi_10pt": None}
    month = by["1 month"]
    assert month.responders == {"nrs_30pct": True, "nrs_2pt": True, "nrs_30pct_and_2pt": True, "nrs_50pct": True,
                                "odi_10pt": True}
    assert month.odi_change.points == pytest.approx(20.0)  # type: ignore[union-attr]
    three = by["3 months"]
    assert three.warning is True and three.relieved is False and three.responders["nrs_2pt"] is False
    assert by["6 months"].state == "upcoming" and by["6 months"].responders["nrs_2pt"] is None
    assert out.latest == "3 months" and out.responders_latest["nrs_30pct"] is False
    assert out.relief.state == "ended" and out.relief.ended_at == "3 months"
    assert out.relief.months == pytest.approx(1.0) and out.relief.months_before == pytest.approx(3.0)
    assert out.relief.peak_pct == pytest.approx(50.0)
    # ESI repeat needs at least 50 % prior relief (LCD, borrowed by NICE): 50 % documented at 1 month
    assert out.repeat.verdict == "reasonable" and out.repeat.relief_pct == pytest.approx(50.0)


def test_zero_baseline_makes_percent_undefined(kb: Knowledge) -> None:
    ep = episode(kb, "esi-caudal", dt.date(2026, 1, 5), {"baseline": {"nrs": {"leg": 0}}, "2 weeks": {"nrs": {"leg": 0}}})
    two = next(p for p in patient_outcomes(kb, "pt", [ep], TODAY).episodes[0].points if p.label == "2 weeks")
    assert two.nrs_change.pct is None and two.responders["nrs_30pct"] is None  # type: ignore[union-attr]
    assert two.responders["nrs_2pt"] is False


def test_no_follow_up_is_never_a_yes(kb: Knowledge) -> None:
    ep = episode(kb, "esi-caudal", dt.date(2026, 5, 10), {"baseline": {"nrs": {"leg": 7}}})
    out = patient_outcomes(kb, "pt", [ep], TODAY).episodes[0]
    assert out.relief.state == "unknown" and out.latest is None
    assert out.repeat.verdict == "not_enough_followup"
    assert [p.state for p in out.points][:3] == ["answered", "overdue", "upcoming"]


def _rf(kb: Knowledge, last_relieved: str, ended: str | None) -> Episode:
    answers = {"baseline": {"nrs": {"back": 8}}, "1 month": {"nrs": {"back": 3}}, last_relieved: {"nrs": {"back": 4}}}
    if ended:
        answers[ended] = {"nrs": {"back": 7}}
    return episode(kb, "rf-facet-lumbar", dt.date(2024, 1, 10), answers)


def test_rf_repeat_follows_each_policy(kb: Knowledge) -> None:
    ep = _rf(kb, "12 months", "24 months")  # relieved at 12 months, over by 24: 12 <= relief < 24 months
    nice = patient_outcomes(kb, "pt", [ep], TODAY, "nice").episodes[0].repeat
    assert nice.verdict == "reasonable"  # 28 months since (>= 16), relief 62.5 % (>= 50)
    medicare = patient_outcomes(kb, "pt", [ep], TODAY, "us-medicare").episodes[0].repeat
    assert medicare.verdict == "reasonable"  # >= 6 months between, >= 50 % for >= 6 months
    early = patient_outcomes(kb, "pt", [ep], dt.date(2025, 1, 20), "nice").episodes[0].repeat
    assert early.verdict == "not_reasonable" and "16 months" in early.text  # 12 months since: too soon


def test_rf_relief_duration_between_follow_ups_is_unknown(kb: Knowledge) -> None:
    # relieved at 3 months, over by 6 months: whether relief lasted >= 6 months cannot be told
    ep = _rf(kb, "3 months", "6 months")
    rep = patient_outcomes(kb, "pt", [ep], TODAY, "us-medicare").episodes[0].repeat
    duration = next(c for c in rep.criteria if c.id == "previous_rf_duration")
    assert duration.result == "unknown" and rep.verdict == "not_enough_followup"
    # relieved at 1 month, over by 3 months: relief certainly shorter than 6 months
    short = episode(kb, "rf-facet-lumbar", dt.date(2024, 1, 10), {
        "baseline": {"nrs": {"back": 8}}, "1 month": {"nrs": {"back": 3}}, "3 months": {"nrs": {"back": 7}}})
    rep = patient_outcomes(kb, "pt", [short], TODAY, "us-medicare").episodes[0].repeat
    assert rep.verdict == "not_reasonable"
    # still relieved at 3 months: the final duration is open, so it is unknown, not a no
    ongoing = episode(kb, "rf-facet-lumbar", dt.date(2026, 1, 10), {
        "baseline": {"nrs": {"back": 8}}, "3 months": {"nrs": {"back": 3}}})
    out = patient_outcomes(kb, "pt", [ongoing], TODAY, "us-medicare").episodes[0]
    assert out.relief.state == "relieved" and out.relief.months == pytest.approx(3.0)
    assert next(c for c in out.repeat.criteria if c.id == "previous_rf_duration").result == "unknown"


def test_procedures_without_repeat_criteria_leave_it_to_the_clinician(kb: Knowledge) -> None:
    ep = episode(kb, "rf-trigeminal", dt.date(2025, 1, 10), {
        "baseline": {"nrs": {"face": 9}, "bni": {"grade": "V"}}, "1 month": {"nrs": {"face": 0}, "bni": {"grade": "I"}}})
    out = patient_outcomes(kb, "pt", [ep], TODAY).episodes[0]
    assert out.primary_site == "face" and out.repeat.verdict == "no_rule"
    month = next(p for p in out.points if p.label == "1 month")
    assert month.bni == 1 and month.bni_band and month.bni_band.startswith("I-III")


# Not relieved at 2 weeks, relieved at 1 and 3 months, not relieved at 6 months (baseline 8; margin 2).
SLOW_START = {"2 weeks": 7, "1 month": 3, "3 months": 4, "6 months": 7}


def _slow(kb: Knowledge, procedure: str, site: str, answered: tuple[str, ...] = tuple(SLOW_START)) -> Episode:
    answers = {"baseline": {"nrs": {site: 8}}} | {k: {"nrs": {site: v}} for k, v in SLOW_START.items() if k in answered}
    return episode(kb, procedure, dt.date(2025, 1, 10), answers)


def test_rf_not_yet_relieved_at_two_weeks_has_not_ended_relief(kb: Knowledge) -> None:
    """Facet RF relief develops over 2-3 weeks (content onset: day 21): the 2-week answer does not end
    relief; it ends at 6 months, after lasting at least 3 months."""
    assert kb.procedures["rf-facet-lumbar"].followup.relief_onset_days == 21
    out = patient_outcomes(kb, "pt", [_slow(kb, "rf-facet-lumbar", "back")], TODAY, "us-medicare").episodes[0]
    by = {p.label: p for p in out.points}
    assert by["2 weeks"].relieved is False and by["2 weeks"].responders["nrs_2pt"] is False  # still reported
    assert out.relief.state == "ended" and out.relief.ended_at == "6 months" and out.relief.onset_days == 21
    assert out.relief.months == pytest.approx(3.0) and out.relief.months_before == pytest.approx(6.0)
    assert "ended by 6 months" in out.relief.text
    # 62.5 % relief that lasted between 3 and 6 months: whether it reached 6 months cannot be told
    assert out.repeat.verdict == "not_enough_followup"
    assert next(c for c in out.repeat.criteria if c.id == "previous_rf_duration").result == "unknown"


def test_esi_not_relieved_at_two_weeks_has_ended_relief(kb: Knowledge) -> None:
    """An epidural steroid works within about 10 days (content onset: day 10), so 14 >= 10 and the same
    answers end relief at 2 weeks."""
    assert kb.procedures["esi-transforaminal"].followup.relief_onset_days == 10
    out = patient_outcomes(kb, "pt", [_slow(kb, "esi-transforaminal", "leg")], TODAY).episodes[0]
    assert out.relief.state == "ended" and out.relief.ended_at == "2 weeks" and out.relief.onset_days == 10
    assert out.relief.months == 0.0 and out.relief.months_before == pytest.approx(0.5)
    assert out.relief.text.startswith("no relief at 2 weeks")


def test_answers_only_before_the_onset_leave_relief_unknown(kb: Knowledge) -> None:
    out = patient_outcomes(kb, "pt", [_slow(kb, "rf-facet-lumbar", "back", ("2 weeks",))], TODAY,
                           "us-medicare").episodes[0]
    assert out.relief.state == "unknown" and "day 21" in out.relief.text and out.relief.months is None
    assert out.relief.peak_pct == pytest.approx(12.5)  # the answer is still shown
    assert out.repeat.verdict == "not_enough_followup" and out.repeat.relief_pct is None


def test_baseline_below_the_margin_cannot_measure_relief(kb: Knowledge) -> None:
    ep = episode(kb, "esi-caudal", dt.date(2026, 1, 5), {"baseline": {"nrs": {"leg": 1}}, "2 weeks": {"nrs": {"leg": 1}}})
    relief = patient_outcomes(kb, "pt", [ep], TODAY).episodes[0].relief
    assert relief.state == "unknown" and "below the 2-point margin" in relief.text
