"""The Assessment: what the engine returns for one case. Stable JSON, documented in docs/assessment-json.md.

Everything in it carries its reason: a status has the criteria that decided it, a red flag the
features that fired it, a gap the rules it would change.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

Status = Literal[
    "recommended", "consider", "not_yet", "insufficient_information", "deferred",
    "not_indicated", "contraindicated",
]
STATUS_ORDER: tuple[str, ...] = (
    "recommended", "consider", "not_yet", "insufficient_information", "deferred",
    "not_indicated", "contraindicated",
)
Result = Literal["met", "not_met", "unknown"]


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Ref(Out):
    id: str
    locator: str | None = None
    tag: str | None = None


class CriterionResult(TypedDict):
    """One row of a criteria table.

    A plain typed dict rather than a model: an assessment holds a few hundred of these, and
    building them as dicts keeps single-case latency within budget.
    """

    rule: str  # global rule id, e.g. esi-transforaminal.prerequisites.conservative_weeks
    section: str
    label: str
    when: str
    result: Result
    facts: dict[str, Any]  # each fact the expression reads, with its value (null = unknown)
    missing: str | None
    sources: list[Ref]


class RedFlagResult(Out):
    id: str
    name: str
    urgency: Literal["emergency", "urgent", "soon"]
    action: str
    fired_by: list[CriterionResult]
    defers: list[str] | Literal["all_elective"]
    content_status: str
    sources: list[Ref]


class PhenotypeResult(Out):
    id: str
    name: str
    result: Result
    because: str
    facts: dict[str, Any]


class Stage(Out):
    tried_step: int | None = Field(description="Highest stepped-care step already tried (None if unknown)")
    tried_step_name: str | None
    next_step: int | None = Field(description="Step of the most appropriate option now")
    next_step_name: str | None
    reasons: list[str]


class CautionResult(Out):
    id: str
    text: str
    sources: list[Ref]


class AntithromboticResult(Out):
    medicine: str
    drug: str
    asra_risk_class: str
    hold: str
    restart: str
    tag: str
    sources: list[Ref]


class OutcomeItem(Out):
    measure: str
    result: str
    timepoint: str | None = None
    population: str | None = None
    sources: list[Ref]


class Option(Out):
    procedure: str
    name: str
    status: Status
    reasons: list[str] = Field(description="Why this status, in order of the decision")
    missing: list[str] = Field(default_factory=list, description="Prerequisites not yet met (not_yet)")
    criteria: list[CriterionResult]
    favourable: list[CriterionResult] = Field(default_factory=list)
    unfavourable: list[CriterionResult] = Field(default_factory=list)
    outcomes: list[OutcomeItem] = Field(default_factory=list)
    cautions: list[CautionResult] = Field(default_factory=list)
    antithrombotics: list[AntithromboticResult] = Field(default_factory=list)
    asra_risk_class: str
    ladder_step: int
    content_status: str


class Gap(Out):
    fact: str
    question: str
    affects: list[str] = Field(description="Rule ids whose result this fact would settle")
    weight: int = Field(description="How decisive: red-flag gaps first, then eligibility, then caps")


class PolicyRef(Out):
    id: str
    name: str


class Assessment(Out):
    case_id: str | None
    assessed_on: date
    policy: PolicyRef
    knowledge_hash: str
    disclaimer: str
    red_flags: list[RedFlagResult]
    phenotype: list[PhenotypeResult]
    stage: Stage
    options: list[Option]
    gaps: list[Gap]
    trace: dict[str, Result] = Field(description="Every rule evaluated, by id, with its result")


_PYDANTIC_JSON = TypeAdapter(Assessment)


def assessment_json(result: Assessment) -> bytes:
    """The Assessment as compact JSON, byte for byte what pydantic's ``dump_json`` writes.

    Why: POST /assess writes a ~180 KB assessment per request, and pydantic's serialiser took a
    quarter of a server worker's time. orjson walks the models already built (each through its
    ``__dict__``, which holds the fields in declaration order) in about 40 % of that time. This
    holds because the output is plain: models without aliases, custom serialisers, computed or
    cached properties, filled with their own types (no subclasses carrying extra fields); rows
    with only their declared keys; dates but no timezone-aware datetimes (orjson writes
    ``+00:00`` where pydantic writes ``Z``). A property test compares both writers on example
    and generated cases under every policy. What orjson cannot write (an integer beyond 64 bits,
    a set, non-string keys) goes to pydantic instead.
    """
    try:
        return orjson.dumps(result, default=_model_fields)
    except orjson.JSONEncodeError:
        return _PYDANTIC_JSON.dump_json(result)


def _model_fields(obj: object) -> dict[str, Any]:
    if isinstance(obj, BaseModel):
        return obj.__dict__
    raise TypeError(f"not JSON: {type(obj).__name__}")
