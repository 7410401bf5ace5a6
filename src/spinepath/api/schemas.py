"""Request and response bodies. Requests forbid unknown fields; ids are strings; dates ISO 8601.

Text that reaches the database is checked here: lengths fit the columns, and no NUL characters
or unpaired surrogates (PostgreSQL and UTF-8 refuse them), so bad input is a 422, never a 500.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from spinepath.case.model import Side, _check_level

EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2199, 12, 31)
ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


def clean_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no unpaired surrogates)") from None
    return value


def check_json_text(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) in a JSON value parsed from a request (so its
    keys are strings) that clean_text refuses, or of a number that is not finite."""
    try:
        # The common case in C: a non-finite number raises, an unpaired surrogate fails to
        # encode, and NUL is always written escaped (literal text "\\u0000" is a false alarm,
        # settled by the walk below).
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode()
    except (ValueError, TypeError):
        return _bad_json_text(value, path)
    return _bad_json_text(value, path) if "\\u0000" in text else None


def _text_ok(value: str) -> bool:
    try:
        clean_text(value)
    except ValueError:
        return False
    return True


def _bad_json_text(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return None if _text_ok(value) else path
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or not _text_ok(k):
                return path or "(key)"
            bad = _bad_json_text(v, f"{path}.{k}" if path else k)
            if bad is not None:
                return bad
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad = _bad_json_text(v, f"{path}[{i}]")
            if bad is not None:
                return bad
    return None


_Clean = AfterValidator(clean_text)
Text10 = Annotated[str, Field(max_length=10), _Clean]
Text40 = Annotated[str, Field(max_length=40), _Clean]
Text80 = Annotated[str, Field(min_length=1, max_length=80), _Clean]
Text120 = Annotated[str, Field(max_length=120), _Clean]
Text200 = Annotated[str, Field(max_length=200), _Clean]
Item200 = Annotated[str, Field(min_length=1, max_length=200), _Clean]
Text2000 = Annotated[str, Field(max_length=2000), _Clean]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_utc)]


# ------------------------------------------------------------------ auth


class LoginIn(In):
    username: Text80
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LoginOut(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"
    expires_at: UtcDatetime
    role: str
    patient_id: str | None = Field(default=None, description="Set for patient accounts")


# ------------------------------------------------------------------ patients


class PatientIn(In):
    name: Text200 | None = None
    date_of_birth: Annotated[dt.date, Field(ge=EARLIEST, description="ISO date; not in the future")] | None = None
    sex: Literal["female", "male", "other"] | None = None
    phone: Text40 | None = None
    email: Text200 | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _not_future(cls, v: dt.date | None) -> dt.date | None:
        if v is not None and v > dt.date.today():
            raise ValueError(f"{v} is in the future")
        return v


class PatientOut(Out):
    id: str
    name: str | None
    date_of_birth: dt.date | None
    sex: str | None
    phone: str | None
    email: str | None
    created_at: UtcDatetime
    created_by: str


# ------------------------------------------------------------------ cases


class CaseSummary(Out):
    id: str
    patient_id: str
    current_version: int
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CaseOut(BaseModel):
    id: str
    patient_id: str
    version: int = Field(description="The version shown")
    current_version: int
    created_at: UtcDatetime
    created_by: str = Field(description="Who wrote this version")
    data: dict[str, Any] = Field(description="The PatientCase, as validated")


# ------------------------------------------------------------------ assessments


class StoredAssessmentSummary(Out):
    id: str
    case_id: str
    case_version: int
    patient_id: str
    policy_id: str
    knowledge_hash: str
    assessed_on: dt.date
    created_at: UtcDatetime
    created_by: str


class StoredAssessmentOut(StoredAssessmentSummary):
    result: dict[str, Any] = Field(description="The Assessment (see POST /assess)")


# ------------------------------------------------------------------ procedures


class ProcedureIn(In):
    procedure: Text80 = Field(description="A procedure id from the knowledge base, e.g. esi-transforaminal")
    performed_on: Annotated[dt.date, Field(ge=EARLIEST, le=LATEST)]
    level: Text10 | None = Field(default=None, description="Motion segment, e.g. L4-L5")
    side: Side | None = None
    target: Text120 | None = None
    operator: Text120 | None = None
    complications: list[Item200] = Field(default_factory=list, max_length=50)

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return _check_level(v)

    @field_validator("performed_on")
    @classmethod
    def _not_future(cls, v: dt.date) -> dt.date:
        if v > dt.date.today() + dt.timedelta(days=1):
            raise ValueError(f"{v} is in the future; record a procedure once it is done")
        return v


class SchedulePoint(Out):
    id: str
    label: str
    due_on: dt.date
    status: str


class ProcedureOut(Out):
    model_config = ConfigDict(from_attributes=True, validate_by_name=True, validate_by_alias=True)

    id: str
    patient_id: str
    procedure: str = Field(validation_alias="procedure_id")
    performed_on: dt.date
    level: str | None
    side: str | None
    target: str | None
    operator: str | None
    complications: list[Any]
    created_at: UtcDatetime
    created_by: str


class ProcedureDetail(ProcedureOut):
    schedule: list[SchedulePoint] = Field(description="Follow-up time points, from the knowledge base")


# ------------------------------------------------------------------ follow-up

Answer = int | float | bool | Text2000 | Annotated[list[int], Field(max_length=6)] | None


class FollowupIn(In):
    instrument: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,39}$",
                                     description="Instrument id (content/instruments), e.g. nrs, odi, bni")]
    answers: Annotated[dict[Text80, Answer], Field(max_length=200)]
    schedule_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        default=None, description="The follow-up time point this answers (marks it completed)")

    @field_validator("answers")
    @classmethod
    def _finite(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, value in v.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"answer {key!r} is not a finite number")
        return v


class FollowupOut(Out):
    id: str
    patient_id: str
    schedule_id: str | None
    instrument: str
    answers: dict[str, Any]
    submitted_at: UtcDatetime
    submitted_by: str
    score: dict[str, Any] | None = Field(default=None, description="The scored response (instrument, measure, value "
                                         "or per-item values, band, missing items, warning signs reported)")
    warning: bool | None = Field(default=None, description="A warning sign was reported (null: not asked)")
    via: str = "api"
    alerts: list[str] = Field(default_factory=list, description="Ids of the urgent alerts this response raised")


# ------------------------------------------------------------------ content


class ContentSummary(BaseModel):
    id: str
    kind: str
    name: str
    version: str
    status: str = Field(description="approved, or under_review (not shown to patients)")


# ------------------------------------------------------------------ users and audit


class UserIn(In):
    username: Annotated[str, Field(pattern=r"^[A-Za-z0-9._@+-]{1,80}$")]
    password: Annotated[str, Field(min_length=12, max_length=1024)]
    role: Literal["clinician", "patient", "editor", "reviewer", "analyst", "admin"]
    patient_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        default=None, description="Required for (and only for) the patient role")


class UserPatch(In):
    disabled: bool


class UserOut(Out):
    username: str
    role: str
    patient_id: str | None
    disabled: bool
    created_at: UtcDatetime


class AuditOut(Out):
    id: int
    at: UtcDatetime
    user_id: int | None
    username: str
    role: str
    action: str
    resource: str
    record_id: str | None
    patient_id: str | None
    client: str | None


class ProblemOut(BaseModel):
    location: str
    field: str | None
    message: str


class ErrorBody(BaseModel):
    code: str = Field(description="Stable code (docs/errors.md)")
    message: str = Field(description="What is wrong and what is allowed")
    field: str | None = Field(description="Where in the request: body.pain.leg.nrs, query.policy, path.patient_id")
    problems: list[ProblemOut] = Field(description="Every finding, when there are several")


class ErrorEnvelope(BaseModel):
    """The one error envelope of every route."""

    error: ErrorBody


class Health(BaseModel):
    status: str
    version: str


class Ready(BaseModel):
    status: str
    schema_revision: str
    knowledge_hash: str
