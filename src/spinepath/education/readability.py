"""Readability of patient text, measured the same way everywhere.

Published spine leaflets read at grade 11-13 (shared/product/ANCHORS.md); health-literacy bodies
ask for grade 6-8. The gate: every approved patient section at Flesch-Kincaid grade 8 or below,
aiming for 6. The tool and its version are pinned and reported with every score, because
syllable counters differ between tools (REFERENCE §7.2).
"""

from __future__ import annotations

import warnings
from importlib.metadata import version

# textstat 0.7.3 (pinned: newer releases download NLTK data at run time, which this offline
# deployment cannot do) imports setuptools' pkg_resources, which setuptools 80 marks deprecated
# and 81 removes. setuptools is pinned below 81 in pyproject; the deprecation notice is about
# textstat's import, not something a user can act on, so it is silenced here and only here.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import textstat

MAX_PATIENT_GRADE = 8.0
TARGET_PATIENT_GRADE = 6.0
TOOL = f"textstat {version('textstat')} (Flesch-Kincaid grade, pyphen syllables)"


def fk_grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text``."""
    return float(textstat.flesch_kincaid_grade(text))


def smog(text: str) -> float:
    """SMOG index; typically 2-3 grades above Flesch-Kincaid (REFERENCE §7.2)."""
    return float(textstat.smog_index(text))
