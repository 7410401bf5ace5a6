"""Patient data: patients, versioned cases, stored assessments, procedures and follow-up.

Roles: a clinician reads and writes all of it; a patient reads only their own records and may
submit their own follow-up answers; every other role gets 403. A patient asking for anyone
else's record gets 404 ``not-found``, the same answer as for a record that does not exist.

Every read and write goes through the repositories, which write the audit entry (who, what,
which record, when, from where) in the same transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from sqlalchemy.orm import Session

from spinepath.api.body import CASE_BODY, case_from_body, check_now, stored_form
from spinepath.api.deps import Clinician, PatientData, actor, check_own, not_found
from spinepath.api.deps import Svc as SvcDep
from spinepath.api.errors import NotFound, RequestInvalid, policy_in_query
from spinepath.api.routes.assess import NowQuery, PolicyQuery
from spinepath.api.schemas import (
    ID_PATTERN,
    CaseOut,
    CaseSummary,
    FollowupIn,
    FollowupOut,
    PatientIn,
    PatientOut,
    ProcedureDetail,
    ProcedureIn,
    ProcedureOut,
    SchedulePoint,
    StoredAssessmentOut,
    StoredAssessmentSummary,
)
from spinepath.api.security import Principal
from spinepath.case.validate import parse_case
from spinepath.errors import PolicyError
from spinepath.outcomes.schedules import schedule_pairs
from spinepath.rules.engine import assess
from spinepath.store import followups, repo
from spinepath.store import models as m

router = APIRouter(tags=["patients"])

PatientId = Annotated[str, Path(pattern=ID_PATTERN, description="Patient id (pt_...)")]
CaseId = Annotated[str, Path(pattern=ID_PATTERN, description="Case id (cs_...)")]
AssessmentId = Annotated[str, Path(pattern=ID_PATTERN, description="Stored assessment id (as_...)")]
ProcedureId = Annotated[str, Path(pattern=ID_PATTERN, description="Performed procedure id (pr_...)")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _patient(s: Session, who: Principal, patient_id: str) -> None:
    """404 unless the patient exists and the caller may see them (no audit entry: nothing read)."""
    check_own(who, patient_id, "patient", patient_id, "path.patient_id")
    if s.get(m.Patient, patient_id) is None:
        raise not_found("patient", patient_id, "path.patient_id")


def _case_out(case: m.Case, version: m.CaseVersion) -> CaseOut:
    return CaseOut(id=case.id, patient_id=case.patient_id, version=version.version,
                   current_version=case.current_version, created_at=version.created_at,
                   created_by=version.created_by, data=version.data)


def _procedure_detail(s: Session, proc: m.ProcedurePerformed) -> ProcedureDetail:
    base = ProcedureOut.model_validate(proc)
    points = [SchedulePoint.model_validate(p) for p in followups.schedule_for(s, proc.id)]
    return ProcedureDetail(**base.model_dump(), schedule=points)


# ------------------------------------------------------------------ patients


@router.post("/patients", status_code=201, response_model=PatientOut)
def create_patient(body: PatientIn, who: Clinician, request: Request, svc: SvcDep) -> PatientOut:
    """Register a patient (clinician). The only table that holds identifying data."""
    with svc.sessions() as s, s.begin():
        p = repo.create_patient(s, actor(who, request), **body.model_dump())
        return PatientOut.model_validate(p)


@router.get("/patients", response_model=list[PatientOut])
def list_patients(who: Clinician, request: Request, svc: SvcDep,
                  limit: Limit = 50, offset: Offset = 0) -> list[PatientOut]:
    """Patients, oldest first (clinician)."""
    with svc.sessions() as s, s.begin():
        rows = repo.list_patients(s, actor(who, request), limit=limit, offset=offset)
        return [PatientOut.model_validate(p) for p in rows]


@router.get("/patients/{patient_id}", response_model=PatientOut)
def get_patient(patient_id: PatientId, who: PatientData, request: Request, svc: SvcDep) -> PatientOut:
    """One patient (clinician; a patient: only themselves)."""
    check_own(who, patient_id, "patient", patient_id, "path.patient_id")
    with svc.sessions() as s, s.begin():
        p = repo.get_patient(s, actor(who, request), patient_id)
        if p is None:
            raise not_found("patient", patient_id, "path.patient_id")
        return PatientOut.model_validate(p)


# ------------------------------------------------------------------ cases


@router.post("/patients/{patient_id}/cases", status_code=201, response_model=CaseOut,
             openapi_extra=CASE_BODY)
def create_case(patient_id: PatientId, case: Annotated[Any, Body()], who: Clinician, request: Request,
                svc: SvcDep) -> CaseOut:
    """Store a new case (version 1) for a patient (clinician). The body is a PatientCase."""
    data = stored_form(case_from_body(case))
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        c, v = repo.create_case(s, actor(who, request), patient_id, data)
        s.flush()
        return _case_out(c, v)


@router.get("/patients/{patient_id}/cases", response_model=list[CaseSummary])
def list_cases(patient_id: PatientId, who: PatientData, request: Request, svc: SvcDep) -> list[CaseSummary]:
    """A patient's cases (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        return [CaseSummary.model_validate(c) for c in repo.list_cases(s, actor(who, request), patient_id)]


@router.get("/cases/{case_id}", response_model=CaseOut)
def get_case(case_id: CaseId, who: PatientData, request: Request, svc: SvcDep,
             version: Annotated[int | None, Query(ge=1, le=1_000_000, description="Default: current")] = None,
             ) -> CaseOut:
    """A case at its current (or a given) version (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        row = s.get(m.Case, case_id)
        check_own(who, row.patient_id if row else None, "case", case_id, "path.case_id")
        if row is None:
            raise not_found("case", case_id, "path.case_id")
        got = repo.get_case(s, actor(who, request), case_id, version)
        if got is None:
            raise NotFound(f"case {case_id!r} has no version {version} (current: {row.current_version})",
                           field="query.version")
        return _case_out(*got)


@router.put("/cases/{case_id}", response_model=CaseOut, openapi_extra=CASE_BODY)
def update_case(case_id: CaseId, case: Annotated[Any, Body()], who: Clinician, request: Request,
                svc: SvcDep) -> CaseOut:
    """Store a new version of a case (clinician); earlier versions stay readable."""
    data = stored_form(case_from_body(case))
    with svc.sessions() as s, s.begin():
        row = s.get(m.Case, case_id, with_for_update=True)  # versions are numbered one writer at a time
        if row is None:
            raise not_found("case", case_id, "path.case_id")
        v = repo.update_case(s, actor(who, request), row, data)
        s.flush()
        return _case_out(row, v)


# ------------------------------------------------------------------ stored assessments


@router.post("/cases/{case_id}/assessments", status_code=201, response_model=StoredAssessmentOut)
def create_assessment(case_id: CaseId, who: Clinician, request: Request, svc: SvcDep,
                      policy: PolicyQuery = None, now: NowQuery = None) -> StoredAssessmentOut:
    """Assess the current version of a case and store the result with the knowledge hash and the
    policy profile (clinician)."""
    on = check_now(now)
    with svc.sessions() as s, s.begin():
        who_ = actor(who, request)
        got = repo.get_case(s, who_, case_id)
        if got is None:
            raise not_found("case", case_id, "path.case_id")
        case, version = got
        try:
            result = assess(parse_case(version.data), svc.knowledge, policy or svc.settings.default_policy, on)
        except PolicyError as e:
            raise policy_in_query(e) from None
        row = repo.store_assessment(s, who_, case, version.version, result.model_dump(mode="json"))
        s.flush()
        return StoredAssessmentOut.model_validate(row)


@router.get("/assessments/{assessment_id}", response_model=StoredAssessmentOut)
def get_assessment(assessment_id: AssessmentId, who: PatientData, request: Request,
                   svc: SvcDep) -> StoredAssessmentOut:
    """A stored assessment (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        row = s.get(m.StoredAssessment, assessment_id)
        check_own(who, row.patient_id if row else None, "assessment", assessment_id, "path.assessment_id")
        if row is None or repo.get_assessment(s, actor(who, request), assessment_id) is None:
            raise not_found("assessment", assessment_id, "path.assessment_id")
        return StoredAssessmentOut.model_validate(row)


@router.get("/patients/{patient_id}/assessments", response_model=list[StoredAssessmentSummary])
def list_assessments(patient_id: PatientId, who: PatientData, request: Request,
                     svc: SvcDep) -> list[StoredAssessmentSummary]:
    """A patient's stored assessments, without the result bodies (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        rows = repo.list_assessments(s, actor(who, request), patient_id)
        return [StoredAssessmentSummary.model_validate(r) for r in rows]


# ------------------------------------------------------------------ procedures


@router.post("/patients/{patient_id}/procedures", status_code=201, response_model=ProcedureDetail)
def record_procedure(patient_id: PatientId, body: ProcedureIn, who: Clinician, request: Request,
                     svc: SvcDep) -> ProcedureDetail:
    """Record a performed procedure and create its follow-up schedule (from the knowledge base)
    in the same transaction (clinician)."""
    kb = svc.knowledge
    if body.procedure not in kb.procedures:
        raise RequestInvalid(f"unknown procedure {body.procedure!r}; use an id from GET /content "
                             f"(kind procedure), e.g. {next(iter(kb.procedures))}", field="body.procedure")
    schedule = schedule_pairs(kb, body.procedure)  # the procedure's own schedule, or the shared default
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        proc, _points = followups.record_procedure(
            s, actor(who, request), patient_id, body.procedure, body.performed_on, schedule,
            level=body.level, side=body.side, target=body.target, operator=body.operator,
            complications=list(body.complications))
        s.flush()
        return _procedure_detail(s, proc)


@router.get("/patients/{patient_id}/procedures", response_model=list[ProcedureOut])
def list_procedures(patient_id: PatientId, who: PatientData, request: Request,
                    svc: SvcDep) -> list[ProcedureOut]:
    """A patient's performed procedures (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        return [ProcedureOut.model_validate(p) for p in followups.list_procedures(s, actor(who, request), patient_id)]


@router.get("/procedures/{procedure_id}", response_model=ProcedureDetail)
def get_procedure(procedure_id: ProcedureId, who: PatientData, request: Request, svc: SvcDep) -> ProcedureDetail:
    """A performed procedure with its follow-up schedule (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        row = s.get(m.ProcedurePerformed, procedure_id)
        check_own(who, row.patient_id if row else None, "procedure", procedure_id, "path.procedure_id")
        if row is None or followups.get_procedure(s, actor(who, request), procedure_id) is None:
            raise not_found("procedure", procedure_id, "path.procedure_id")
        return _procedure_detail(s, row)


# ------------------------------------------------------------------ follow-up


@router.post("/patients/{patient_id}/followups", status_code=201, response_model=FollowupOut)
def submit_followup(patient_id: PatientId, body: FollowupIn, who: PatientData, request: Request,
                    svc: SvcDep) -> FollowupOut:
    """Submit follow-up answers (clinician; a patient: for themselves). The answers are checked
    against the instrument (and the procedure's follow-up instruments) and scored; a bad answer is
    a 422 naming it and writes nothing. Answering a schedule point marks it completed; a reported
    warning sign raises an urgent alert (GET /alerts)."""
    from spinepath.api.routes.followup import store_answers

    return store_answers(svc, who, request, patient_id, body.instrument, dict(body.answers), body.schedule_id)


@router.get("/patients/{patient_id}/followups", response_model=list[FollowupOut])
def list_followups(patient_id: PatientId, who: PatientData, request: Request,
                   svc: SvcDep) -> list[FollowupOut]:
    """A patient's follow-up answers (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        _patient(s, who, patient_id)
        return [FollowupOut.model_validate(r) for r in followups.list_followups(s, actor(who, request), patient_id)]
