"""Readability of patient text, measured the same way everywhere.

Published spine leaflets read at grade 11-13 (shared/product/ANCHORS.md); health-literacy bodies
ask for grade 6-8. The gate: every approved patient section at Flesch-Kincaid grade 8 or below,
aiming for 6. The tool and its version are pinned and reported with every score, because
syllable counters differ between tools (REFERENCE §7.2).
"""

from __future__ import annotations

from importlib.metadata import version

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
