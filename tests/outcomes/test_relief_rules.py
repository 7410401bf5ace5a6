"""Duration of relief: who is included, when relief ends, when an episode is censored.

Relief margin 2 points (conftest.SETTINGS, same as content). Follow-ups at 14, 30, 91 and 182 days.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.outcomes.support import dataset, duck_report

DAYS = {"2 weeks": 14, "1 month": 30, "3 months": 91, "6 months": 182}


def episode(eid: str, baseline: float | None, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for one episode; ``answers`` maps a time point to an NRS, None (answered without a pain
    score) or 'missed'. Time points not given are missed."""
    rows = [{"episode_id": eid, "timepoint": "baseline", "days": 0, "nrs": baseline,
             "completed": baseline is not None}]
    for label, d in DAYS.items():
        a = answers.get(label, "missed")
        rows.append({"episode_id": eid, "timepoint": label, "days": d, "completed": a != "missed",
                     "nrs": None if a in (None, "missed") else a})
    return rows


CASES = {
    # baseline 0: a 2-point reduction is impossible -> excluded (baseline below margin)
    "E01": episode("E01", 0, {"2 weeks": 0, "1 month": 0}),
    # no baseline answer -> excluded (no baseline)
    "E02": episode("E02", None, {"2 weeks": 3}),
    # first follow-up already unrelieved (7 -> 6): relief ends at day 14, even though day 30 is relieved
    "E03": episode("E03", 7, {"2 weeks": 6, "1 month": 2}),
    # relieved, relieved, then back within 2 points (8 -> 7) at day 91; relief returning at 182 does not undo it
    "E04": episode("E04", 8, {"2 weeks": 3, "1 month": 4, "3 months": 7, "6 months": 2}),
    # day 14 missed, relieved at 30, ends at 91 (6 -> 5)
    "E05": episode("E05", 6, {"1 month": 2, "3 months": 5}),
    # relieved at 14 and 30, then nothing: censored at day 30
    "E06": episode("E06", 6, {"2 weeks": 4, "1 month": 3}),
    # every follow-up missed -> excluded (no follow-up)
    "E07": episode("E07", 9, {}),
    # day 14 answered without a pain score (skipped for relief), relieved at 30 and 91: censored at 91
    "E08": episode("E08", 9, {"2 weeks": None, "1 month": 5, "3 months": 4}),
    # baseline exactly at the margin is measurable: 2 -> 0 is a 2-point reduction, censored at 14
    "E09": episode("E09", 2, {"2 weeks": 0}),
    # baseline 1.5 is below the margin -> excluded
    "E10": episode("E10", 1.5, {"2 weeks": 0}),
}


@pytest.fixture(scope="module")
def relief():  # type: ignore[no-untyped-def]
    ds = dataset([{"episode_id": e} for e in CASES], [r for rows in CASES.values() for r in rows])
    report = duck_report(ds)
    whole = next(r for r in report.relief if r.dimension == "procedure")
    km = [k for k in report.km if k.dimension == "procedure"]
    return whole, km


def test_inclusion_and_exclusion_counts(relief) -> None:  # type: ignore[no-untyped-def]
    whole, _ = relief
    assert whole.episodes == 10
    assert (whole.no_baseline, whole.baseline_below_margin, whole.no_followup) == (1, 2, 1)  # E02; E01 E10; E07
    assert whole.included == 6                                                              # E03 E04 E05 E06 E08 E09
    assert (whole.events, whole.censored) == (3, 3)        # ends: E03@14 E04@91 E05@91; censored: E09@14 E06@30 E08@91


def test_km_table_by_hand(relief) -> None:  # type: ignore[no-untyped-def]
    whole, km = relief
    # day 14: 6 at risk, 1 ends (E03), 1 censored (E09): S = 5/6
    # day 30: 4 at risk, 0 end, 1 censored (E06): S = 5/6
    # day 91: 3 at risk, 2 end (E04, E05), 1 censored (E08): S = 5/6 * 1/3 = 5/18
    assert [(k.days, k.at_risk, k.events, k.censored) for k in km] == [(14, 6, 1, 1), (30, 4, 0, 1), (91, 3, 2, 1)]
    assert [k.survival for k in km] == pytest.approx([5 / 6, 5 / 6, 5 / 18])
    assert whole.median_days == 91 and whole.last_time_days == 91


def test_everyone_still_relieved_has_no_median() -> None:
    ds = dataset([{"episode_id": "E1"}, {"episode_id": "E2"}],
                 episode("E1", 8, {"2 weeks": 2, "6 months": 3}) + episode("E2", 7, {"1 month": 1}))
    whole = next(r for r in duck_report(ds).relief if r.dimension == "procedure")
    assert (whole.included, whole.events, whole.censored, whole.median_days) == (2, 0, 2, None)
