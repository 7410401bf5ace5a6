"""Follow-up: due and overdue time points, answers as FHIR QuestionnaireResponse, urgent alerts,
and one patient's outcomes.

Roles: the care team (clinician) sees due lists and alerts for all patients and acknowledges
alerts; a patient submits and reads only their own follow-up and outcomes (anyone else's: 404).
Answers are checked against their instrument and scored before anything is written; a bad
answer is a 422 naming it (``body.answers.lifting``, ``body.item[3].answer[0].valueDecimal``) and
writes nothing. A response that reports a warning sign raises an alert in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field

from spinepath.api.body import check_now
from spinepath.api.deps import Clinician, PatientData, actor, check_own, not_found
from spinepath.api.deps import Svc as SvcDep
from spinepath.api.errors import Conflict, policy_in_query
from spinepath.api.routes.assess import NowQuery, PolicyQuery
from spinepath.api.schemas import ID_PATTERN, FollowupOut, In, Text2000, UtcDatetime
from spinepath.api.security import Principal
from spinepath.errors import AnswerError, InputError, PolicyError, Problem
from spinepath.outcomes.fhir_questionnaire import score_questionnaire_response
from spinepath.outcomes.patient import PatientOutcomes, patient_outcomes
from spinepath.outcomes.schedules import instruments_for
from spinepath.store import followups
from spinepath.store import models as m

router = APIRouter(tags=["follow-up"])

PatientId = Annotated[str, Path(pattern=ID_PATTERN, description="Patient id (pt_...)")]
AlertId = Annotated[str, Path(pattern=ID_PATTERN, description="Alert id (al_...)")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


class DueOut(BaseModel):
    schedule_id: str
    patient_id: str
    procedure_performed_id: str
    procedure: str
    procedure_name: str
    performed_on: dt.date
    label: str = Field(description="The time point, e.g. '3 months'")
    due_on: dt.date
    overdue: bool = Field(description="The due date has passed and it is not answered")
    days_overdue: int
    instruments: list[str] = Field(description="What to ask (the procedure's follow-up instruments)")


class AlertOut(BaseModel):
    id: str
    patient_id: str
    response_id: str
    sign: str = Field(description="The question answered yes")
    label: str = Field(description="The question, in the patient's words")
    warning_sign: str = Field(description="The shared warning sign (content) it reports")
    urgency: str = Field(description="emergency or call_today, from the warning sign")
    action: str | None = Field(description="What the patient is told to do for this sign")
    raised_at: UtcDatetime
    acknowledged_by: str | None
    acknowledged_at: UtcDatetime | None
    note: str | None


class AckIn(In):
    note: Text2000 | None = Field(default=None, description="What was done (kept with the alert)")


def in_body(e: InputError, prefix: str = "body", query: frozenset[str] = frozenset()) -> InputError:
    """A domain error with its field(s) located in the request (``body.answers.x``, ``query.item``)."""
    def where(f: str | None) -> str:
        if f is None or f == "(resource)":
            return prefix
        return f"query.{f}" if f in query else f"{prefix}.{f}"

    problems = [Problem(p.location, p.message, where(p.field)) for p in e.problems]
    return type(e)(e.message.replace(f"{e.field}:", f"{where(e.field)}:", 1) if e.field else e.message,
                   field=where(e.field), problems=problems)


def followup_out(resp: m.FollowupResponse, alerts: list[m.FollowupAlert] | None = None) -> FollowupOut:
    base = FollowupOut.model_validate(resp)
    return base.model_copy(update={"alerts": [a.id for a in alerts or []]})


def _alert_out(svc: Any, a: m.FollowupAlert) -> AlertOut:
    kb = svc.knowledge
    label, action = a.sign, None
    for ins in kb.instruments.values():
        for it in ins.items:
            if it.id == a.sign:
                label = it.label
    for w in kb.shared.shared_warning_signs:
        if w.id == a.warning_sign:
            action = w.action
    return AlertOut(id=a.id, patient_id=a.patient_id, response_id=a.response_id, sign=a.sign, label=label,
                    warning_sign=a.warning_sign, urgency=a.urgency, action=action, raised_at=a.raised_at,
                    acknowledged_by=a.acknowledged_by, acknowledged_at=a.acknowledged_at, note=a.note)


def _patient(s: Any, who: Principal, patient_id: str) -> None:
    check_own(who, patient_id, "patient", patient_id, "path.patient_id")
    if s.get(m.Patient, patient_id) is None:
        raise not_found("patient", patient_id, "path.patient_id")


def store_answers(svc: Any, who: Principal, request: Request, patient_id: str, instrument: str,
                  answers: Mapping[str, Any], schedule_id: str | None) -> FollowupOut:
    """POST /patients/{id}/followups: validate, score and store (one transaction)."""
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        try:
            resp, alerts = followups.record_response(s, actor(who, request), svc.knowledge, patient_id, instrument,
                                                answers, schedule_id)
        except InputError as e:
            raise in_body(e) from None
        s.flush()
        return followup_out(resp, alerts)


@router.post("/patients/{patient_id}/followups/fhir", status_code=201, response_model=FollowupOut)
def submit_fhir(
    patient_id: PatientId, resource: Annotated[dict[str, Any], Body(description="A FHIR R4 QuestionnaireResponse")],
    who: PatientData, request: Request, svc: SvcDep,
    schedule_id: Annotated[str | None, Query(pattern=ID_PATTERN, description="The time point this answers")] = None,
    item: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="Our item for a linkId that "
                                      "does not name one (a pain NRS without a site: back, leg, neck, arm, face)")] = None,
) -> FollowupOut:
    """Submit follow-up answers as a FHIR R4 QuestionnaireResponse (clinician; a patient: their own).
    The instrument comes from the questionnaire URL or the linkIds; a reported total score must
    equal ours. The resource is kept as the response's answers (as our items)."""
    kb = svc.knowledge
    try:
        parsed, result = score_questionnaire_response(resource, kb, item)
    except AnswerError as e:
        raise in_body(e, query=frozenset({"item"})) from None
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        try:
            resp, alerts = followups.record_response(s, actor(who, request), kb, patient_id, parsed.instrument,
                                                parsed.answers, schedule_id, via="fhir", score=result)
        except InputError as e:
            raise in_body(e, query=frozenset({"schedule_id"})) from None
        s.flush()
        return followup_out(resp, alerts)


@router.get("/followups/due", response_model=list[DueOut])
def due(who: Clinician, request: Request, svc: SvcDep, now: NowQuery = None,
        overdue: Annotated[bool, Query(description="Only time points whose due date has passed")] = False,
        within_days: Annotated[int, Query(ge=0, le=90, description="Also those due in the next N days")] = 0,
        limit: Limit = 500, offset: Offset = 0) -> list[DueOut]:
    """Unanswered follow-up time points due by today (or overdue), oldest first (clinician)."""
    today = check_now(now)
    kb = svc.knowledge
    with svc.sessions() as s, s.begin():
        rows = followups.due_followups(s, actor(who, request), today, overdue_only=overdue, within_days=within_days,
                                  limit=limit, offset=offset)
        out = []
        for r in rows:
            pid = r.procedure.procedure_id
            known = pid in kb.procedures
            out.append(DueOut(schedule_id=r.point.id, patient_id=r.point.patient_id,
                              procedure_performed_id=r.procedure.id, procedure=pid,
                              procedure_name=kb.procedures[pid].name if known else pid,
                              performed_on=r.procedure.performed_on, label=r.point.label, due_on=r.point.due_on,
                              overdue=r.overdue, days_overdue=r.days_overdue,
                              instruments=instruments_for(kb, pid) if known else []))
        return out


@router.get("/alerts", response_model=list[AlertOut])
def alerts(who: Clinician, request: Request, svc: SvcDep,
           all: Annotated[bool, Query(description="Include acknowledged alerts")] = False,  # noqa: A002
           patient_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
           limit: Limit = 500, offset: Offset = 0) -> list[AlertOut]:
    """Urgent alerts from follow-up answers that reported a warning sign, until acknowledged
    (clinician): emergencies first, then oldest first."""
    with svc.sessions() as s, s.begin():
        rows = followups.list_alerts(s, actor(who, request), include_acknowledged=all, patient_id=patient_id,
                                limit=limit, offset=offset)
        return [_alert_out(svc, a) for a in rows]


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: AlertId, who: Clinician, request: Request, svc: SvcDep,
                body: Annotated[AckIn | None, Body(description="An optional note")] = None) -> AlertOut:
    """Acknowledge an alert: it leaves the open list, with who and when kept (clinician). An
    alert already acknowledged is 409."""
    with svc.sessions() as s, s.begin():
        alert = followups.get_alert(s, alert_id, for_update=True)
        if alert is None:
            raise not_found("alert", alert_id, "path.alert_id")
        if alert.acknowledged_at is not None:
            raise Conflict(f"alert {alert_id!r} was already acknowledged by {alert.acknowledged_by} at "
                           f"{alert.acknowledged_at.isoformat()}", field="path.alert_id")
        followups.acknowledge_alert(s, actor(who, request), alert, body.note if body else None)
        s.flush()
        return _alert_out(svc, alert)


@router.get("/patients/{patient_id}/outcomes", response_model=PatientOutcomes)
def outcomes(patient_id: PatientId, who: PatientData, request: Request, svc: SvcDep,
             policy: PolicyQuery = None, now: NowQuery = None) -> PatientOutcomes:
    """One patient's pain and ODI trajectory by time point, responder status, relief so far and
    whether a repeat procedure is reasonable under the policy (clinician; a patient: their own)."""
    today = check_now(now)
    try:
        policy_id = svc.knowledge.policy(policy or svc.settings.default_policy).id
    except PolicyError as e:
        raise policy_in_query(e) from None
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        data = followups.patient_followup(s, actor(who, request), patient_id)
        episodes = followups.outcome_episodes(data)
    return patient_outcomes(svc.knowledge, patient_id, episodes, today, policy_id)
