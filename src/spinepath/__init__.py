"""spinepath: decision support for minimally invasive treatment of nerve-compression pain.

The one public Python API. The CLI (and later the REST API, web pages and CDS Hooks services)
call these functions, so every interface gives the same answer for the same case.

    >>> from datetime import date
    >>> import spinepath
    >>> kb = spinepath.load_knowledge()
    >>> result = spinepath.assess({"age": 45, "pain": {"leg": {"nrs": 7}}}, kb, now=date(2026, 1, 1))
    >>> result.disclaimer != ""
    True

spinepath supports a clinician's decision; it does not make a diagnosis.
"""

from spinepath.case.model import PatientCase
from spinepath.case.validate import parse_case
from spinepath.errors import (
    CaseError,
    ContentError,
    CriteriaError,
    InputError,
    PolicyError,
    Problem,
    SpinepathError,
)
from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.assessment import Assessment
from spinepath.rules.engine import assess

__all__ = [
    "Assessment",
    "CaseError",
    "ContentError",
    "CriteriaError",
    "InputError",
    "Knowledge",
    "PatientCase",
    "PolicyError",
    "Problem",
    "SpinepathError",
    "assess",
    "load_knowledge",
    "parse_case",
]
__version__ = "0.1.0"
