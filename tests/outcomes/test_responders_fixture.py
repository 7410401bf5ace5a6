"""Responder rates and completeness on a small literal fixture, checked by hand.

Eight episodes of one procedure, a baseline and a 3-month follow-up each. The expected counts
are worked out in the comments from the definitions in conftest.DEFINITIONS (percent change =
(baseline - follow-up) / baseline x 100; a percent threshold needs a baseline above 0).
"""

from __future__ import annotations

import pytest

from spinepath.knowledge.snapshot import Knowledge
from tests.outcomes.support import DEFINITIONS, dataset, duck_report

EPISODES = [{"episode_id": f"E{i}"} for i in range(1, 9)]
B, M3 = {"timepoint": "baseline", "days": 0}, {"timepoint": "3 months", "days": 91}
FOLLOWUPS = [
    # E1: NRS 8 -> 4 (-4 points, -50%); ODI 40 -> 28 (-12)
    {"episode_id": "E1", **B, "nrs": 8, "odi": 40}, {"episode_id": "E1", **M3, "nrs": 4, "odi": 28},
    # E2: NRS 5 -> 4 (-1, -20%); ODI 30 -> 26 (-4)
    {"episode_id": "E2", **B, "nrs": 5, "odi": 30}, {"episode_id": "E2", **M3, "nrs": 4, "odi": 26},
    # E3: NRS 10 -> 7 (-3, exactly -30%); no ODI
    {"episode_id": "E3", **B, "nrs": 10}, {"episode_id": "E3", **M3, "nrs": 7},
    # E4: NRS 0 -> 0: percent change undefined (not evaluable for % definitions); -0 points
    {"episode_id": "E4", **B, "nrs": 0}, {"episode_id": "E4", **M3, "nrs": 0},
    # E5: baseline not answered: nothing evaluable at 3 months
    {"episode_id": "E5", **B, "completed": False}, {"episode_id": "E5", **M3, "nrs": 2},
    # E6: 3-month follow-up missed
    {"episode_id": "E6", **B, "nrs": 6}, {"episode_id": "E6", **M3, "completed": False},
    # E7: NRS 3 -> 2 (-1, -33.3%)
    {"episode_id": "E7", **B, "nrs": 3}, {"episode_id": "E7", **M3, "nrs": 2},
    # E8: NRS 9 -> 7 (-2, -22.2%); ODI 50 -> 40 (exactly -10)
    {"episode_id": "E8", **B, "nrs": 9, "odi": 50}, {"episode_id": "E8", **M3, "nrs": 7, "odi": 40},
]

# At 3 months: 8 scheduled, 7 answered (all but E6).
EXPECTED = {
    # evaluable: E1 E2 E3 E7 E8 (E4 baseline 0, E5 no baseline); responders E1 (50%) E3 (30%) E7 (33%)
    "nrs_30pct": (3, 5),
    # evaluable: E1 E2 E3 E4 E7 E8; responders E1 (-4) E3 (-3) E8 (-2)
    "nrs_2pt": (3, 6),
    # evaluable as for 30%; both thresholds: E1 and E3 only (E7 is -1 point, E8 is -22%)
    "nrs_30pct_and_2pt": (2, 5),
    # evaluable as for 30%; only E1 reaches -50%
    "nrs_50pct": (1, 5),
    # evaluable: E1 E2 E8 (ODI at both); responders E1 (-12) E8 (-10)
    "odi_10pt": (2, 3),
}


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    return duck_report(dataset(EPISODES, FOLLOWUPS))


def test_responder_rates_by_hand(report) -> None:  # type: ignore[no-untyped-def]
    rows = {r.definition: r for r in report.responders if r.dimension == "procedure"}
    assert set(rows) == set(EXPECTED)
    for did, (responders, evaluable) in EXPECTED.items():
        r = rows[did]
        assert (r.timepoint, r.days, r.scheduled, r.answered) == ("3 months", 91, 8, 7)
        assert (r.responders, r.evaluable) == (responders, evaluable), did
        assert r.not_evaluable == 7 - evaluable, did
        assert r.rate == pytest.approx(responders / evaluable)


def test_wilson_interval_by_hand(report) -> None:  # type: ignore[no-untyped-def]
    # 3 of 5, z = 1.959964: centre (0.6 + z^2/10) / (1 + z^2/5) = 0.556552; half-width
    # z / (1 + z^2/5) * sqrt(0.6*0.4/5 + z^2/100) = 0.325828 -> 0.2307 to 0.8824.
    r = next(r for r in report.responders if r.dimension == "procedure" and r.definition == "nrs_30pct")
    assert r.ci_low == pytest.approx(0.230724, abs=1e-5) and r.ci_high == pytest.approx(0.882381, abs=1e-5)


def test_completeness_by_hand(report) -> None:  # type: ignore[no-untyped-def]
    rows = {r.timepoint: r for r in report.completeness if r.dimension == "procedure"}
    # baseline: all but E5 answered; 3 months: all but E6
    assert (rows["baseline"].answered, rows["baseline"].scheduled) == (7, 8)
    assert (rows["3 months"].answered, rows["3 months"].scheduled) == (7, 8)
    assert not [r for r in report.responders if r.days == 0], "the baseline is not a responder time point"


def test_breakdown_by_site_adds_up(report) -> None:  # type: ignore[no-untyped-def]
    # every episode is at site-a: its only site group equals the procedure as a whole
    site = [r for r in report.responders if r.dimension == "site"]
    whole = [r for r in report.responders if r.dimension == "procedure"]
    assert {r.value for r in site} == {"site-a"}
    assert [(r.responders, r.evaluable) for r in site] == [(r.responders, r.evaluable) for r in whole]
    # no level, side or predictor breakdown is hidden: level and side are recorded, predictors are not
    assert {r.dimension for r in report.responders} == {"procedure", "site", "level", "side"}


def test_zero_evaluable_is_no_rate_not_zero() -> None:
    ds = dataset([{"episode_id": "E1"}], [
        {"episode_id": "E1", **B, "nrs": 0}, {"episode_id": "E1", **M3, "nrs": 0}])
    rows = {r.definition: r for r in duck_report(ds).responders if r.dimension == "procedure"}
    assert rows["nrs_50pct"].evaluable == 0 and rows["nrs_50pct"].rate is None and rows["nrs_50pct"].ci_low is None
    assert rows["nrs_50pct"].not_evaluable == 1
    assert rows["nrs_2pt"].evaluable == 1 and rows["nrs_2pt"].rate == 0.0


def test_definitions_match_content(kb: Knowledge) -> None:
    """The hand-checked definitions are the content's (so the checks above are about the real rules)."""
    content = [(d.id, d.measure, d.min_reduction_points, d.min_reduction_pct)
               for d in kb.shared.outcome_analytics.responder_definitions]
    assert content == [(d.id, d.measure, d.min_reduction_points, d.min_reduction_pct) for d in DEFINITIONS]
    assert kb.shared.outcome_analytics.relief_margin_points == 2
