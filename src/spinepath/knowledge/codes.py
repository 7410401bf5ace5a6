"""Format checks for clinical codes.

A malformed code is worse than a missing one: it looks authoritative and maps to nothing. These
checks are syntactic (the code *could* exist); they do not prove a code is current.
"""

from __future__ import annotations

import re

_ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")
_LOINC = re.compile(r"^[0-9]{1,7}-[0-9]$")
_SNOMED = re.compile(r"^[1-9][0-9]{5,17}$")

# Verhoeff tables: SNOMED CT identifiers end in a Verhoeff check digit.
_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]


def verhoeff_ok(digits: str) -> bool:
    c = 0
    for i, ch in enumerate(reversed(digits)):
        c = _D[c][_P[i % 8][int(ch)]]
    return c == 0


def loinc_ok(code: str) -> bool:
    """LOINC check digit: mod-10 (Luhn-style) over the part before the hyphen."""
    body, check = code.split("-")
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10 == int(check)


def code_problem(system: str, code: str) -> str | None:
    """None if ``code`` is well formed for ``system``, else what is wrong and what is allowed."""
    if system == "icd10cm":
        if not _ICD10CM.match(code):
            return f"ICD-10-CM code {code!r} is malformed (letter, digit, digit/A/B, optional '.' and 1-4 characters, e.g. M54.16)"
    elif system == "cpt":
        if not _CPT.match(code):
            return f"CPT code {code!r} is malformed (4 digits then a digit, F, T or U, e.g. 64483; no '+')"
    elif system == "hcpcs":
        if not _HCPCS.match(code):
            return f"HCPCS code {code!r} is malformed (a letter A-V then 4 digits, e.g. J1030)"
    elif system == "loinc":
        if not _LOINC.match(code) or not loinc_ok(code):
            return f"LOINC code {code!r} is malformed or fails its check digit (e.g. 72514-3)"
    elif system == "snomedct":
        if not _SNOMED.match(code):
            return f"SNOMED CT id {code!r} is malformed (6-18 digits, no leading zero)"
        if not verhoeff_ok(code):
            return f"SNOMED CT id {code!r} fails its Verhoeff check digit; it cannot be a valid concept id"
    return None
