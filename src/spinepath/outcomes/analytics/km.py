"""Kaplan-Meier product-limit estimate with Greenwood confidence intervals, from aggregated counts.

The SQL reduces any number of episodes to one row per distinct time: (time, events, censored, at
risk). This module turns those rows into the survival curve, so the estimate is the same whichever
engine counted. Conventions follow lifelines' ``KaplanMeierFitter`` (checked against it to 1e-9 in
``tests/outcomes/test_km_oracle.py``): censoring at a time happens after the events at that time;
the interval is Greenwood's exponential ("log-log") form; the median is the first time the
estimate is at or below 0.5, undefined when the curve never gets there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class KaplanMeier:
    """The estimate at each distinct observed time (ascending)."""

    times: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray

    def at(self, t: float) -> float:
        """S(t): the estimate just after time ``t`` (1.0 before the first time)."""
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def median(self) -> float | None:
        return first_time_at_or_below(self.times, self.survival, 0.5)

    def median_ci(self) -> tuple[float | None, float | None]:
        return (first_time_at_or_below(self.times, self.ci_low, 0.5),
                first_time_at_or_below(self.times, self.ci_high, 0.5))


def first_time_at_or_below(times: np.ndarray, curve: np.ndarray, q: float) -> float | None:
    hit = np.flatnonzero(curve <= q)
    return float(times[hit[0]]) if len(hit) else None


def kaplan_meier(times: Sequence[float] | np.ndarray, events: Sequence[int] | np.ndarray,
                 censored: Sequence[int] | np.ndarray, at_risk: Sequence[int] | np.ndarray | None = None,
                 alpha: float = 0.05) -> KaplanMeier:
    """The estimate from counts per distinct time. ``at_risk`` defaults to everyone whose time is at
    or after each time (no late entry); when given (from SQL) it must equal that."""
    t = np.asarray(times, dtype=float)
    d = np.asarray(events, dtype=np.int64)
    c = np.asarray(censored, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    t, d, c = t[order], d[order], c[order]
    if len(t) and np.any(np.diff(t) == 0):
        raise ValueError("times must be distinct (aggregate counts per time first)")
    if np.any(d < 0) or np.any(c < 0):
        raise ValueError("event and censoring counts must be >= 0")
    n = (np.cumsum((d + c)[::-1])[::-1]).astype(np.int64)
    if at_risk is not None:
        given = np.asarray(at_risk, dtype=np.int64)[order]
        if not np.array_equal(given, n):
            raise ValueError("at-risk counts do not match the event and censoring counts")

    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1.0 - d / np.where(n > 0, n, 1), 1.0)
        survival = np.cumprod(factor)
        # Greenwood: sum of d / (n (n - d)); a time where everyone at risk has the event adds nothing
        # (the curve is 0 from there and its interval is taken as [0, 0]).
        term = np.where((n > d) & (n > 0), d / (n.astype(float) * np.where(n > d, n - d, 1)), 0.0)
    var = np.cumsum(term)
    z = NormalDist().inv_cdf(1 - alpha / 2)
    low = np.empty_like(survival)
    high = np.empty_like(survival)
    for i, s in enumerate(survival):
        if s <= 0.0:
            low[i] = high[i] = 0.0
        elif s >= 1.0 or var[i] == 0.0:
            low[i] = high[i] = s
        else:
            v = math.log(s)
            spread = z * math.sqrt(var[i]) / v
            low[i] = math.exp(-math.exp(math.log(-v) - spread))
            high[i] = math.exp(-math.exp(math.log(-v) + spread))
    return KaplanMeier(t, n, d, c, survival, low, high)
