"""Repositories: every read and write of patient data goes through here, and each one writes its
audit entry in the same transaction, so an action and its audit record stand or fall together.

Callers own the transaction (``with session.begin():``); nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from spinepath.store import models as m

_hasher = PasswordHasher()


def new_id(prefix: str) -> str:
    """Pseudonymous, unguessable record ids (never derived from patient data)."""
    return f"{prefix}_{secrets.token_urlsafe(12)}"


@dataclass(frozen=True)
class Actor:
    """Who is acting, from where: what the audit log records."""

    user_id: int | None
    username: str
    role: str
    patient_id: str | None = None
    client: str | None = None


SYSTEM = Actor(user_id=None, username="system", role="admin")


def audit(s: Session, actor: Actor, action: str, resource: str, record_id: str | None,
          patient_id: str | None) -> None:
    s.add(m.AuditEntry(user_id=actor.user_id, username=actor.username, role=actor.role, action=action,
                       resource=resource, record_id=record_id, patient_id=patient_id, client=actor.client))


# ------------------------------------------------------------------ users and tokens


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(s: Session, username: str, password: str, role: str, patient_id: str | None = None) -> m.User:
    if role not in m.ROLES:
        raise ValueError(f"role must be one of {', '.join(m.ROLES)}")
    user = m.User(username=username, password_hash=hash_password(password), role=role, patient_id=patient_id)
    s.add(user)
    s.flush()
    return user


def user_by_name(s: Session, username: str) -> m.User | None:
    return s.scalar(select(m.User).where(m.User.username == username))


def list_users(s: Session) -> Sequence[m.User]:
    return s.scalars(select(m.User).order_by(m.User.username)).all()


def set_disabled(s: Session, username: str, disabled: bool = True) -> m.User | None:
    user = user_by_name(s, username)
    if user is not None:
        user.disabled = disabled
        if disabled:
            for tok in s.scalars(select(m.Token).where(m.Token.user_id == user.id)):
                tok.revoked = True
    return user


def verify_password(user: m.User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(s: Session, user: m.User, ttl_minutes: int) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(32)
    expires = m.utcnow() + dt.timedelta(minutes=ttl_minutes)
    s.add(m.Token(token_hash=_token_hash(token), user_id=user.id, expires_at=expires))
    return token, expires


def revoke_token(s: Session, token: str) -> bool:
    """Revoke one token (logout); False if it is unknown."""
    row = s.get(m.Token, _token_hash(token))
    if row is None:
        return False
    row.revoked = True
    return True


def user_for_token(s: Session, token: str) -> m.User | None:
    """The active user a token belongs to, or None if unknown, expired, revoked or disabled."""
    row = s.get(m.Token, _token_hash(token))
    if row is None or row.revoked:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=dt.UTC)
    if expires <= m.utcnow():
        return None
    user = s.get(m.User, row.user_id)
    if user is None or user.disabled:
        return None
    return user


# ------------------------------------------------------------------ patients and cases


def create_patient(s: Session, actor: Actor, name: str | None = None, date_of_birth: dt.date | None = None,
                   sex: str | None = None, phone: str | None = None, email: str | None = None) -> m.Patient:
    p = m.Patient(id=new_id("pt"), name=name, date_of_birth=date_of_birth, sex=sex, phone=phone, email=email,
                  created_by=actor.username)
    s.add(p)
    s.flush()
    audit(s, actor, "create", "patient", p.id, p.id)
    return p


def get_patient(s: Session, actor: Actor, patient_id: str) -> m.Patient | None:
    p = s.get(m.Patient, patient_id)
    if p is not None:
        audit(s, actor, "read", "patient", p.id, p.id)
    return p


def list_patients(s: Session, actor: Actor, limit: int = 50, offset: int = 0) -> Sequence[m.Patient]:
    rows = s.scalars(select(m.Patient).order_by(m.Patient.created_at, m.Patient.id).limit(limit).offset(offset)).all()
    audit(s, actor, "read", "patient-list", None, None)
    return rows


def create_case(s: Session, actor: Actor, patient_id: str, data: dict[str, Any]) -> tuple[m.Case, m.CaseVersion]:
    case = m.Case(id=new_id("cs"), patient_id=patient_id, current_version=1)
    s.add(case)
    s.flush()
    version = m.CaseVersion(case_id=case.id, version=1, data=data, created_by=actor.username)
    s.add(version)
    audit(s, actor, "create", "case", case.id, patient_id)
    return case, version


def update_case(s: Session, actor: Actor, case: m.Case, data: dict[str, Any]) -> m.CaseVersion:
    case.current_version += 1
    case.updated_at = m.utcnow()
    version = m.CaseVersion(case_id=case.id, version=case.current_version, data=data, created_by=actor.username)
    s.add(version)
    audit(s, actor, "update", "case", case.id, case.patient_id)
    return version


def get_case(s: Session, actor: Actor, case_id: str, version: int | None = None
             ) -> tuple[m.Case, m.CaseVersion] | None:
    case = s.get(m.Case, case_id)
    if case is None:
        return None
    v = s.get(m.CaseVersion, (case_id, version or case.current_version))
    if v is None:
        return None
    audit(s, actor, "read", "case", case.id, case.patient_id)
    return case, v


def list_cases(s: Session, actor: Actor, patient_id: str) -> Sequence[m.Case]:
    rows = s.scalars(select(m.Case).where(m.Case.patient_id == patient_id).order_by(m.Case.created_at)).all()
    audit(s, actor, "read", "case-list", None, patient_id)
    return rows


# ------------------------------------------------------------------ assessments


def store_assessment(s: Session, actor: Actor, case: m.Case, version: int, result: dict[str, Any]
                     ) -> m.StoredAssessment:
    row = m.StoredAssessment(
        id=new_id("as"), case_id=case.id, case_version=version, patient_id=case.patient_id,
        policy_id=result["policy"]["id"], knowledge_hash=result["knowledge_hash"],
        assessed_on=dt.date.fromisoformat(str(result["assessed_on"])), result=result, created_by=actor.username)
    s.add(row)
    audit(s, actor, "create", "assessment", row.id, case.patient_id)
    return row


def get_assessment(s: Session, actor: Actor, assessment_id: str) -> m.StoredAssessment | None:
    row = s.get(m.StoredAssessment, assessment_id)
    if row is not None:
        audit(s, actor, "read", "assessment", row.id, row.patient_id)
    return row


def list_assessments(s: Session, actor: Actor, patient_id: str) -> Sequence[m.StoredAssessment]:
    rows = s.scalars(select(m.StoredAssessment).where(m.StoredAssessment.patient_id == patient_id)
                     .order_by(m.StoredAssessment.created_at)).all()
    audit(s, actor, "read", "assessment-list", None, patient_id)
    return rows


# ------------------------------------------------------------------ procedures and follow-up


def record_procedure(s: Session, actor: Actor, patient_id: str, procedure_id: str, performed_on: dt.date,
                     schedule: Sequence[tuple[str, int]], level: str | None = None, side: str | None = None,
                     target: str | None = None, operator: str | None = None,
                     complications: list[str] | None = None) -> tuple[m.ProcedurePerformed, list[m.FollowupSchedule]]:
    """A performed procedure and its follow-up schedule, written together (one transaction)."""
    proc = m.ProcedurePerformed(id=new_id("pr"), patient_id=patient_id, procedure_id=procedure_id,
                                performed_on=performed_on, level=level, side=side, target=target,
                                operator=operator, complications=complications or [], created_by=actor.username)
    s.add(proc)
    s.flush()
    points = [m.FollowupSchedule(id=new_id("fu"), procedure_performed_id=proc.id, patient_id=patient_id,
                                 label=label, due_on=performed_on + dt.timedelta(days=days))
              for label, days in schedule]
    s.add_all(points)
    audit(s, actor, "create", "procedure", proc.id, patient_id)
    return proc, points


def list_procedures(s: Session, actor: Actor, patient_id: str) -> Sequence[m.ProcedurePerformed]:
    rows = s.scalars(select(m.ProcedurePerformed).where(m.ProcedurePerformed.patient_id == patient_id)
                     .order_by(m.ProcedurePerformed.performed_on)).all()
    audit(s, actor, "read", "procedure-list", None, patient_id)
    return rows


def get_procedure(s: Session, actor: Actor, procedure_performed_id: str) -> m.ProcedurePerformed | None:
    row = s.get(m.ProcedurePerformed, procedure_performed_id)
    if row is not None:
        audit(s, actor, "read", "procedure", row.id, row.patient_id)
    return row


def schedule_for(s: Session, procedure_performed_id: str) -> Sequence[m.FollowupSchedule]:
    return s.scalars(select(m.FollowupSchedule).where(m.FollowupSchedule.procedure_performed_id == procedure_performed_id)
                     .order_by(m.FollowupSchedule.due_on)).all()


def submit_followup(s: Session, actor: Actor, patient_id: str, instrument: str, answers: dict[str, Any],
                    schedule_id: str | None = None, *, score: dict[str, Any] | None = None,
                    via: str = "api", submitted_at: dt.datetime | None = None,
                    ) -> tuple[m.FollowupResponse, list[m.FollowupAlert]]:
    """A response, its score, and an urgent alert for each warning sign it reports (``score``'s
    ``warnings``), written together with their audit entries. Answering a schedule point marks it
    completed."""
    resp = m.FollowupResponse(id=new_id("fr"), patient_id=patient_id, schedule_id=schedule_id,
                              instrument=instrument, answers=answers, submitted_by=actor.username,
                              score=score, warning=(score or {}).get("warning"), via=via)
    if submitted_at is not None:
        resp.submitted_at = submitted_at
    s.add(resp)
    if schedule_id is not None:
        point = s.get(m.FollowupSchedule, schedule_id)
        if point is not None:
            point.status = "completed"
    audit(s, actor, "create", "followup-response", resp.id, patient_id)
    s.flush()  # the response exists before alerts refer to it
    alerts = [m.FollowupAlert(id=new_id("al"), patient_id=patient_id, response_id=resp.id, sign=str(w["item"]),
                              warning_sign=str(w["warning_sign"]), urgency=str(w["urgency"]),
                              raised_at=resp.submitted_at or m.utcnow())
              for w in (score or {}).get("warnings") or []]
    for alert in alerts:
        s.add(alert)
        audit(s, actor, "create", "followup-alert", alert.id, patient_id)
    return resp, alerts


def list_followups(s: Session, actor: Actor, patient_id: str) -> Sequence[m.FollowupResponse]:
    rows = s.scalars(select(m.FollowupResponse).where(m.FollowupResponse.patient_id == patient_id)
                     .order_by(m.FollowupResponse.submitted_at)).all()
    audit(s, actor, "read", "followup-list", None, patient_id)
    return rows


def count_followups(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(m.FollowupResponse)) or 0)


@dataclass(frozen=True)
class DuePoint:
    """A follow-up time point that is due (or overdue) and not answered, with its procedure."""

    point: m.FollowupSchedule
    procedure: m.ProcedurePerformed
    overdue: bool
    days_overdue: int


def due_followups(s: Session, actor: Actor, today: dt.date, *, overdue_only: bool = False, within_days: int = 0,
                  patient_id: str | None = None, limit: int = 500, offset: int = 0) -> list[DuePoint]:
    """Unanswered time points due by ``today`` (+ ``within_days``), oldest due first. Overdue: the
    due date has passed (no grace window: the content sets none)."""
    until = today - dt.timedelta(days=1) if overdue_only else today + dt.timedelta(days=within_days)
    q = (select(m.FollowupSchedule, m.ProcedurePerformed)
         .join(m.ProcedurePerformed, m.ProcedurePerformed.id == m.FollowupSchedule.procedure_performed_id)
         .where(m.FollowupSchedule.status == "due", m.FollowupSchedule.due_on <= until)
         .order_by(m.FollowupSchedule.due_on, m.FollowupSchedule.id).limit(limit).offset(offset))
    if patient_id is not None:
        q = q.where(m.FollowupSchedule.patient_id == patient_id)
    rows = [DuePoint(point, proc, point.due_on < today, max(0, (today - point.due_on).days))
            for point, proc in s.execute(q)]
    audit(s, actor, "read", "followup-due-list", None, patient_id)
    return rows


def list_alerts(s: Session, actor: Actor, *, include_acknowledged: bool = False, patient_id: str | None = None,
                limit: int = 500, offset: int = 0) -> Sequence[m.FollowupAlert]:
    """Alerts, most urgent first then oldest first: unacknowledged ones unless ``include_acknowledged``."""
    urgency = case((m.FollowupAlert.urgency == "emergency", 0), (m.FollowupAlert.urgency == "call_today", 1), else_=2)
    q = select(m.FollowupAlert)
    if not include_acknowledged:
        q = q.where(m.FollowupAlert.acknowledged_at.is_(None))
    if patient_id is not None:
        q = q.where(m.FollowupAlert.patient_id == patient_id)
    rows = s.scalars(q.order_by(m.FollowupAlert.acknowledged_at.is_not(None), urgency, m.FollowupAlert.raised_at,
                                m.FollowupAlert.id).limit(limit).offset(offset)).all()
    audit(s, actor, "read", "alert-list", None, patient_id)
    return rows


def get_alert(s: Session, alert_id: str, *, for_update: bool = False) -> m.FollowupAlert | None:
    q = select(m.FollowupAlert).where(m.FollowupAlert.id == alert_id)
    return s.scalar(q.with_for_update() if for_update else q)


def acknowledge_alert(s: Session, actor: Actor, alert: m.FollowupAlert, note: str | None = None) -> m.FollowupAlert:
    """Mark an alert seen and handled by ``actor`` (once; the caller refuses a second time)."""
    alert.acknowledged_by = actor.username
    alert.acknowledged_at = m.utcnow()
    alert.note = note
    audit(s, actor, "update", "followup-alert", alert.id, alert.patient_id)
    return alert


def record_response(s: Session, actor: Actor, kb: Knowledge, patient_id: str, instrument_id: str,
                    answers: Mapping[str, Any], schedule_id: str | None = None, *, via: str = "api",
                    score: Any = None, submitted_at: dt.datetime | None = None,
                    ) -> tuple[m.FollowupResponse, list[m.FollowupAlert]]:
    """Check answers against their instrument (and, for a schedule point, against the procedure's
    follow-up instruments), score them and store response, score and alerts together. Raises
    AnswerError / InputError naming ``instrument``, ``schedule_id`` or ``answers.<item>``; nothing
    is written then. ``score`` may be passed when the caller scored already (FHIR)."""
    from spinepath.outcomes.instruments import Score, instrument
    from spinepath.outcomes.instruments import score as score_answers
    from spinepath.outcomes.schedules import instruments_for

    defn = instrument(kb, instrument_id)
    if schedule_id is not None:
        point = s.get(m.FollowupSchedule, schedule_id)
        if point is None or point.patient_id != patient_id:
            raise InputError(f"no follow-up time point {schedule_id!r} for this patient", field="schedule_id")
        proc = s.get(m.ProcedurePerformed, point.procedure_performed_id)
        if proc is not None and proc.procedure_id in kb.procedures:
            allowed = instruments_for(kb, proc.procedure_id)
            if instrument_id not in allowed:
                raise InputError(f"instrument {instrument_id!r} is not asked after {proc.procedure_id}; its follow-up "
                                 f"instruments: {', '.join(allowed)}", field="instrument")
    result = score if isinstance(score, Score) else score_answers(defn, answers)
    return submit_followup(s, actor, patient_id, instrument_id, dict(answers), schedule_id,
                           score=result.model_dump(mode="json"), via=via, submitted_at=submitted_at)


def outcome_episodes(data: PatientFollowup) -> list[Any]:
    """The store's rows as :class:`spinepath.outcomes.patient.Episode` values."""
    from spinepath.outcomes.patient import Answered, Episode, Point

    by_point: dict[str, list[Answered]] = {}
    for r in data.responses:
        if r.schedule_id is None or not r.score:
            continue
        at = r.submitted_at if r.submitted_at.tzinfo else r.submitted_at.replace(tzinfo=dt.UTC)
        by_point.setdefault(r.schedule_id, []).append(
            Answered(r.instrument, str(r.score.get("measure", r.instrument)), r.score, at))
    points: dict[str, list[Point]] = {}
    for p in data.points:
        points.setdefault(p.procedure_performed_id, []).append(
            Point(p.id, p.label, p.due_on, p.status, tuple(by_point.get(p.id, ()))))
    return [Episode(pr.id, pr.procedure_id, pr.performed_on, pr.level, pr.side, tuple(points.get(pr.id, ())))
            for pr in data.procedures]


@dataclass(frozen=True)
class PatientFollowup:
    """Everything one patient's outcomes are computed from."""

    procedures: Sequence[m.ProcedurePerformed]
    points: Sequence[m.FollowupSchedule]
    responses: Sequence[m.FollowupResponse]


def patient_followup(s: Session, actor: Actor, patient_id: str) -> PatientFollowup:
    """A patient's procedures, schedule points and responses (one audit entry: outcomes read)."""
    procs = s.scalars(select(m.ProcedurePerformed).where(m.ProcedurePerformed.patient_id == patient_id)
                      .order_by(m.ProcedurePerformed.performed_on, m.ProcedurePerformed.id)).all()
    points = s.scalars(select(m.FollowupSchedule).where(m.FollowupSchedule.patient_id == patient_id)
                       .order_by(m.FollowupSchedule.due_on, m.FollowupSchedule.id)).all()
    responses = s.scalars(select(m.FollowupResponse).where(m.FollowupResponse.patient_id == patient_id)
                          .order_by(m.FollowupResponse.submitted_at, m.FollowupResponse.id)).all()
    audit(s, actor, "read", "outcomes", None, patient_id)
    return PatientFollowup(procs, points, responses)


# ------------------------------------------------------------------ audit log


def read_audit(s: Session, limit: int = 100, offset: int = 0, patient_id: str | None = None,
               username: str | None = None) -> Sequence[m.AuditEntry]:
    q = select(m.AuditEntry).order_by(m.AuditEntry.id.desc())
    if patient_id:
        q = q.where(m.AuditEntry.patient_id == patient_id)
    if username:
        q = q.where(m.AuditEntry.username == username)
    return s.scalars(q.limit(limit).offset(offset)).all()


# ------------------------------------------------------------------ editorial workflow (content revisions)
# Content is not patient data: these writes are recorded in content_transitions (who, role, when),
# not in the audit log. The rules of each step live in spinepath.knowledge.lifecycle.

from collections.abc import Mapping  # noqa: E402

from sqlalchemy import ColumnElement, and_  # noqa: E402

from spinepath.errors import InputError, Problem, TransitionForbidden  # noqa: E402
from spinepath.knowledge import lifecycle as lc  # noqa: E402
from spinepath.knowledge.snapshot import Knowledge  # noqa: E402


def revision_state(rev: m.ContentRevision) -> lc.State:
    """draft, submitted, under_review, changes_requested, approved, published or retired."""
    return lc.state_of(rev.status, rev.published_at)


def _record(s: Session, rev: m.ContentRevision, from_state: str | None, to_state: str, action: str,
            actor: Actor, comment: str | None, at: dt.datetime) -> m.ContentTransition:
    row = m.ContentTransition(revision_id=rev.id, from_status=from_state, to_status=to_state, action=action,
                              actor=actor.username, role=actor.role, at=at, comment=comment)
    s.add(row)
    return row


def create_revision(s: Session, item_id: str, kind: str, body: dict[str, Any], author: Actor) -> m.ContentRevision:
    """A new draft revision of ``item_id`` (revision number = the item's highest + 1), by an editor."""
    lc.check(None, "create", author.role, actor=author.username)
    body = lc.prepare_body(item_id, kind, body)
    number = int(s.scalar(select(func.max(m.ContentRevision.revision))
                          .where(m.ContentRevision.item_id == item_id)) or 0) + 1
    now = m.utcnow()
    rev = m.ContentRevision(id=new_id("rv"), item_id=item_id, kind=kind, revision=number, status="draft",
                            body=body, author=author.username, created_at=now)
    s.add(rev)
    s.flush()
    _record(s, rev, None, "draft", "create", author, None, now)
    return rev


def get_revision(s: Session, revision_id: str, *, for_update: bool = False) -> m.ContentRevision | None:
    q = select(m.ContentRevision).where(m.ContentRevision.id == revision_id)
    if for_update:
        q = q.with_for_update()
    return s.scalar(q)


def list_revisions(s: Session, item_id: str | None = None) -> Sequence[m.ContentRevision]:
    """Revisions, by item and then revision number (one item's, or all)."""
    q = select(m.ContentRevision).order_by(m.ContentRevision.item_id, m.ContentRevision.revision)
    if item_id is not None:
        q = q.where(m.ContentRevision.item_id == item_id)
    return s.scalars(q).all()


def _live() -> ColumnElement[bool]:
    return and_(m.ContentRevision.status == "approved", m.ContentRevision.published_at.is_not(None))


def live_revision(s: Session, item_id: str) -> m.ContentRevision | None:
    """The item's published revision (what patients get), if it has one."""
    return s.scalar(select(m.ContentRevision).where(m.ContentRevision.item_id == item_id, _live()))


def live_revisions(s: Session) -> dict[str, m.ContentRevision]:
    """Every item's live revision, by item id."""
    return {r.item_id: r for r in s.scalars(select(m.ContentRevision).where(_live()))}


def newest_revision(s: Session, item_id: str) -> m.ContentRevision | None:
    """The item's highest-numbered revision that is not retired (a draft, possibly)."""
    return s.scalar(select(m.ContentRevision)
                    .where(m.ContentRevision.item_id == item_id, m.ContentRevision.status != "retired")
                    .order_by(m.ContentRevision.revision.desc()).limit(1))


def list_transitions(s: Session, revision_id: str) -> Sequence[m.ContentTransition]:
    return s.scalars(select(m.ContentTransition).where(m.ContentTransition.revision_id == revision_id)
                     .order_by(m.ContentTransition.id)).all()


def transition(s: Session, rev: m.ContentRevision, action: str, actor: Actor, *, comment: str | None = None,
               body: dict[str, Any] | None = None, problems: Sequence[Problem] | None = None,
               today: dt.date | None = None) -> m.ContentRevision:
    """Move ``rev`` one step (lifecycle.check decides; it raises TransitionForbidden, ApprovalBlocked
    or InputError) and record the transition. ``body`` is the new body for ``revise``; ``problems``
    the approval gate's findings for ``approve`` (lifecycle.approval_problems on the stamped body,
    :func:`approval_body`). Publishing retires the item's previous live revision (``supersede``)."""
    before = revision_state(rev)
    step = lc.check(before, action, actor.role, actor=actor.username, author=rev.author, comment=comment,
                    problems=problems)
    now = m.utcnow()
    if step.action == "revise":
        if body is None:
            raise InputError("revise needs the new body", field="body")
        rev.body = lc.prepare_body(rev.item_id, rev.kind, body)
    elif step.action == "approve":
        rev.body = approval_body(rev, actor, today or now.date())
    if step.action in ("approve", "request-changes"):
        rev.reviewer = actor.username
        rev.reviewed_at = now
    if step.action == "publish":
        current = live_revision(s, rev.item_id)
        if current is not None and current.id != rev.id:
            if current.revision > rev.revision:
                raise TransitionForbidden(
                    f"revision {current.revision} of {rev.item_id!r} is live and newer than revision {rev.revision}; "
                    "publishing would go back to older content (retire the live revision first)", field="status")
            current.status = "retired"
            _record(s, current, "published", "retired", lc.SUPERSEDE, actor,
                    f"superseded by revision {rev.revision} ({rev.id})", now)
            s.flush()  # the old live revision is gone before the new one goes live (unique index)
        rev.published_at = now
    if comment is not None and comment.strip():
        rev.comment = comment.strip()
    rev.status = lc.status_of(step.target)
    _record(s, rev, before, step.target, step.action, actor, comment.strip() if comment else None, now)
    s.flush()
    return rev


def approve_revision(s: Session, rev: m.ContentRevision, reviewer: Actor, base_files: Mapping[str, tuple[str, str]],
                     *, comment: str | None = None, today: dt.date | None = None) -> m.ContentRevision:
    """Approve ``rev``: state, role and authorship are checked first, then the approval gate
    (:func:`approval_problems`, which takes a moment), then the transition."""
    lc.check(revision_state(rev), "approve", reviewer.role, actor=reviewer.username, author=rev.author, problems=[])
    day = today or m.utcnow().date()
    problems = approval_problems(s, rev, reviewer, base_files, day)
    return transition(s, rev, "approve", reviewer, comment=comment, problems=problems, today=day)


def approval_body(rev: m.ContentRevision, reviewer: Actor, day: dt.date) -> dict[str, Any]:
    """The body as it will be approved (status approved, the reviewer named): what the gate checks."""
    return lc.stamp_approved(rev.body, reviewer.username, day)


def live_overlay(s: Session, exclude_item: str | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """Other items' live revisions as a content overlay: relative path -> (display name, body)."""
    return {lc.content_path(r.kind, r.item_id): (f"revision {r.id} ({r.item_id} r{r.revision}, live)", r.body)
            for r in live_revisions(s).values() if r.item_id != exclude_item}


def approval_problems(s: Session, rev: m.ContentRevision, reviewer: Actor,
                      base_files: Mapping[str, tuple[str, str]], day: dt.date) -> list[Problem]:
    """The approval gate for ``rev``: the content check (base content + live revisions + this body)
    and the readability gate. ``base_files`` is ``spinepath.knowledge.loader.content_files(...)``."""
    where = f"revision {rev.id} ({lc.content_path(rev.kind, rev.item_id)})"
    return lc.approval_problems(approval_body(rev, reviewer, day), rev.kind, rev.item_id, where,
                                base_files, live_overlay(s, exclude_item=rev.item_id))


@dataclass(frozen=True)
class DueItem:
    """An approved item past its review date, and where its approved text comes from."""

    item_id: str
    kind: str
    name: str
    version: str
    review_due: dt.date
    source: str  # "bundled" or "revision"
    revision_id: str | None = None


def items_due(s: Session, kb: Knowledge, today: dt.date) -> list[DueItem]:
    """Approved items whose review_due is before ``today``: the live revision where an item has one,
    else the bundled (or clinic) item. Oldest due date first."""
    live = live_revisions(s)
    out: list[DueItem] = []
    for item_id, item in kb.items().items():
        if item_id in live:
            continue
        if item.status == "approved" and item.review_due < today:
            out.append(DueItem(item_id, str(getattr(item, "kind", "item")), str(getattr(item, "name", item_id)),
                               item.version, item.review_due, "bundled"))
    for item_id, rev in live.items():
        try:
            due = dt.date.fromisoformat(str(rev.body.get("review_due")))
        except ValueError:
            continue  # approval checked the body; a live body always has one
        if due < today:
            out.append(DueItem(item_id, rev.kind, str(rev.body.get("name", item_id)), str(rev.body.get("version", "")),
                               due, "revision", rev.id))
    return sorted(out, key=lambda d: (d.review_due, d.item_id))
