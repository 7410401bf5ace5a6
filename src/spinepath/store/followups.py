"""Follow-up repository: performed procedures and their schedules, patient responses (scored),
the urgent alerts those raise and their acknowledgement, due lists, and the rows a patient's
outcomes are computed from.

Like :mod:`spinepath.store.repo` (whose ``Actor``, ``audit`` and ``new_id`` it uses), every read
and write of patient data writes its audit entry in the same transaction; callers own the
transaction and nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from spinepath.errors import InputError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import models as m
from spinepath.store.repo import Actor, audit, new_id


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
