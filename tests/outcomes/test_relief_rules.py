"""Duration of relief: who is included, when relief ends, when an episode is censored, and how
each procedure's relief onset (content) keeps early follow-ups from ending relief.

Relief margin 2 points (support.SETTINGS, same as content). Follow-ups at 14, 30, 91 and 182 days.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.analytics import OutcomesReport, ReportSettings, settings_from_knowledge
from tests.outcomes.support import SETTINGS, dataset, duck_report, onset_dataset, relief_rows

episode = relief_rows


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


# ------------------------------------------------------------------ relief onset (support.onset_dataset)


@pytest.fixture(scope="module")
def onset_settings(kb: Knowledge) -> ReportSettings:
    settings = settings_from_knowledge(kb)
    # the hand-worked numbers below rest on these content values
    assert settings.analytics.relief_margin_points == 2
    assert settings.onset_days()["rf-facet-lumbar"] == 21 and settings.onset_days()["esi-transforaminal"] == 10
    return settings


@pytest.fixture(scope="module")
def onset_report(onset_settings: ReportSettings) -> OutcomesReport:
    return duck_report(onset_dataset(), onset_settings)


def _whole(report: OutcomesReport, procedure: str) -> Any:
    return next(r for r in report.relief if r.dimension == "procedure" and r.procedure == procedure)


def _km(report: OutcomesReport, procedure: str) -> list[tuple[float, int, int, int, float]]:
    return [(k.days, k.at_risk, k.events, k.censored, k.survival) for k in report.km
            if k.dimension == "procedure" and k.procedure == procedure]


def test_rf_relief_is_judged_from_its_onset(onset_report: OutcomesReport) -> None:
    rf = _whole(onset_report, "rf-facet-lumbar")
    # R1 ends at 182 (not 14: 2 weeks is before the 21-day onset); R3 censored at 30; R2 answered only before onset
    assert (rf.episodes, rf.no_baseline, rf.baseline_below_margin, rf.no_followup, rf.only_before_onset) == (3, 0, 0, 0, 1)
    assert (rf.included, rf.events, rf.censored) == (2, 1, 1)
    # day 30: 2 at risk, R3 censored, S = 1; day 182: 1 at risk, R1 ends, S = 0
    assert _km(onset_report, "rf-facet-lumbar") == [(30, 2, 0, 1, 1.0), (182, 1, 1, 0, 0.0)]
    assert rf.median_days == 182


def test_esi_relief_ends_at_two_weeks_because_14_is_past_its_onset(onset_report: OutcomesReport) -> None:
    esi = _whole(onset_report, "esi-transforaminal")
    assert (esi.included, esi.events, esi.censored, esi.only_before_onset) == (1, 1, 0, 0)
    assert _km(onset_report, "esi-transforaminal") == [(14, 1, 1, 0, 0.0)]
    assert esi.median_days == 14


def test_early_follow_ups_still_count_for_responders_and_completeness(onset_report: OutcomesReport) -> None:
    two = {r.definition: r for r in onset_report.responders
           if r.procedure == "rf-facet-lumbar" and r.dimension == "procedure" and r.days == 14}
    # R1 8 -> 7, R2 8 -> 7, R3 8 -> 3: all three evaluable at 2 weeks, one reaches -2 points
    assert (two["nrs_2pt"].evaluable, two["nrs_2pt"].responders) == (3, 1)
    done = next(c for c in onset_report.completeness
                if c.procedure == "rf-facet-lumbar" and c.dimension == "procedure" and c.days == 14)
    assert (done.scheduled, done.answered) == (3, 3)


def test_without_an_onset_the_same_answers_end_relief_at_two_weeks() -> None:
    """The onset is what moves R1's end: with no onsets (support.SETTINGS) relief ends at day 14."""
    assert not SETTINGS.relief_onsets
    rf = _whole(duck_report(onset_dataset(), SETTINGS), "rf-facet-lumbar")
    assert (rf.included, rf.events, rf.censored, rf.only_before_onset) == (3, 2, 1, 0)
    assert rf.median_days == 14


def test_report_states_each_onset_and_its_source(onset_report: OutcomesReport, kb: Knowledge) -> None:
    onsets = {o.procedure: o for o in onset_report.methods.relief_onsets}
    assert set(onsets) == {"rf-facet-lumbar", "esi-transforaminal"}
    for pid, o in onsets.items():
        fu = kb.procedures[pid].followup
        assert o.stated and o.days == fu.relief_onset_days
        assert [(s.id, s.locator, s.tag) for s in o.sources] == [(s.id, s.locator, s.tag)
                                                                 for s in fu.relief_onset_sources]
        assert all(s.citation for s in o.sources)
    assert any("onset" in rule and "before that day is not used" in rule for rule in onset_report.methods.rules)


def _peer() -> ModuleType:
    pytest.importorskip("lifelines")
    path = Path(__file__).resolve().parents[2] / "bench" / "outcomes_peer.py"
    spec = importlib.util.spec_from_file_location("outcomes_peer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pandas_lifelines_peer_applies_the_same_onsets(onset_report: OutcomesReport, onset_settings: ReportSettings,
                                                       tmp_path: Path) -> None:
    """The benchmark's independent peer (bench/outcomes_peer.py) reproduces every figure of the fixture."""
    peer = _peer()
    onset_dataset().write(tmp_path)
    oa = onset_settings.analytics
    figures = peer.compute(tmp_path, oa.responder_definitions, oa.relief_margin_points, onset_settings.onset_days())
    assert figures["relief"][("rf-facet-lumbar", "procedure", "all")][:7] == (3, 0, 0, 0, 1, 1, 1)
    agreement = peer.compare(figures, onset_report)
    assert agreement["all_equal"], agreement
    assert agreement["tables"]["relief"]["checked"] > 0 and agreement["tables"]["km"]["checked"] > 0

