"""Kaplan-Meier from aggregated counts equals lifelines' KaplanMeierFitter on the raw durations.

The oracle is lifelines (an independent implementation); the inputs are raw (duration, event)
pairs, aggregated here with NumPy exactly as the SQL aggregates them (events and censored per
distinct time), never with the code under test.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.outcomes.analytics.km import kaplan_meier

lifelines = pytest.importorskip("lifelines")


def _counts(durations: list[float], observed: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=float)
    e = np.asarray(observed, dtype=int)
    times = np.unique(d)
    events = np.array([int(((d == t) & (e == 1)).sum()) for t in times])
    censored = np.array([int(((d == t) & (e == 0)).sum()) for t in times])
    return times, events, censored


def _fit(durations: list[float], observed: list[int]) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines/pandas deprecation chatter is not under test
        kmf = lifelines.KaplanMeierFitter()
        kmf.fit(durations, event_observed=observed)
    return kmf


def check_against_lifelines(durations: list[float], observed: list[int]) -> None:
    kmf = _fit(durations, observed)
    est = kaplan_meier(*_counts(durations, observed))
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    for t, s_ref in sf.items():
        assert abs(est.at(float(t)) - float(s_ref)) <= 1e-9, (t, est.at(float(t)), s_ref)
    # Intervals where the estimate is strictly between 0 and 1 (lifelines fills the undefined ends with 1.0).
    for i, t in enumerate(est.times):
        s = est.survival[i]
        if 0.0 < s < 1.0:
            lo_ref, hi_ref = (float(x) for x in ci.loc[t])
            assert abs(est.ci_low[i] - lo_ref) <= 1e-9 and abs(est.ci_high[i] - hi_ref) <= 1e-9, t
    # The median is the first time S <= 0.5. Where S is exactly 0.5, lifelines' exp(sum(log)) lands a
    # rounding error above or below it; our product is exact there, so such ties are not compared.
    if np.any(np.abs(est.survival - 0.5) < 1e-9):
        return
    med = est.median()
    assert (med is None and math.isinf(kmf.median_survival_time_)) or med == pytest.approx(kmf.median_survival_time_,
                                                                                          abs=1e-12)
    # The median's interval: where each band first reaches 0.5 (lifelines sets the band to 1.0 where S
    # is 0, so curves that reach 0 are left out).
    if est.survival.min() > 0 and not np.any(np.abs(np.r_[est.ci_low, est.ci_high] - 0.5) < 1e-9):
        from lifelines.utils import median_survival_times

        ref = median_survival_times(kmf.confidence_interval_).iloc[0]
        for ours, theirs in zip(est.median_ci(), ref, strict=True):
            assert (ours is None and math.isinf(theirs)) or ours == pytest.approx(theirs, abs=1e-12)


@pytest.mark.parametrize("durations,observed", [
    # ties between events, and an event and a censoring at the same time (censoring comes after)
    ([14, 14, 30, 30, 30, 91, 91, 182, 365, 365], [1, 1, 1, 0, 1, 1, 0, 0, 1, 0]),
    # every episode ends (no censoring); the curve reaches 0
    ([14, 30, 30, 91, 182], [1, 1, 1, 1, 1]),
    # everyone censored: the curve stays at 1 and the median is not reached
    ([14, 30, 91, 91], [0, 0, 0, 0]),
    # heavy censoring before the first event
    ([5, 5, 5, 5, 5, 9, 12, 12, 40], [0, 0, 0, 0, 1, 1, 0, 1, 1]),
    # one episode
    ([91], [1]),
    # the schedule's time points with many ties, as registry data looks
    ([14] * 40 + [30] * 25 + [91] * 30 + [182] * 20 + [365] * 35,
     [1] * 12 + [0] * 28 + [1] * 10 + [0] * 15 + [1] * 20 + [0] * 10 + [1] * 5 + [0] * 15 + [1] * 3 + [0] * 32),
])
def test_km_equals_lifelines(durations: list[float], observed: list[int]) -> None:
    check_against_lifelines(durations, observed)


def test_km_hand_example() -> None:
    # 6 at risk at day 14: 1 event, 1 censored -> S = 5/6; day 30: 4 at risk, 1 censored -> 5/6;
    # day 91: 3 at risk, 2 events -> 5/6 * 1/3 = 5/18; the median is day 91 (first S <= 0.5).
    est = kaplan_meier([14, 30, 91], [1, 0, 2], [1, 1, 1])
    assert list(est.at_risk) == [6, 4, 3]
    assert est.survival.tolist() == pytest.approx([5 / 6, 5 / 6, 5 / 18], abs=1e-15)
    assert est.median() == 91


def test_at_risk_from_sql_must_match_the_counts() -> None:
    with pytest.raises(ValueError, match="at-risk"):
        kaplan_meier([14, 30], [1, 1], [0, 0], at_risk=[3, 1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([14, 30, 91, 182, 365, 500]), st.booleans()), min_size=1, max_size=60))
def test_km_equals_lifelines_property(pairs: list[tuple[int, bool]]) -> None:
    check_against_lifelines([float(p[0]) for p in pairs], [int(p[1]) for p in pairs])
