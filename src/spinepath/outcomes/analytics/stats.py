"""Proportions with their 95% Wilson score interval.

Wilson rather than the plain normal ("Wald") interval because registry groups are often small or
have rates near 0% or 100% (complications, responders in a small subgroup), where Wald intervals
leave [0, 1] or collapse to zero width.
"""

from __future__ import annotations

import math
from statistics import NormalDist

Z95 = NormalDist().inv_cdf(0.975)


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None when nothing was evaluable (never a silent 0)."""
    return numerator / denominator if denominator > 0 else None


def wilson(numerator: int, denominator: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The Wilson score interval for numerator / denominator; (None, None) for an empty denominator."""
    if denominator <= 0:
        return None, None
    if not 0 <= numerator <= denominator:
        raise ValueError(f"numerator {numerator} is outside 0..{denominator}")
    n = float(denominator)
    p = numerator / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
