"""Tables. Patient-identifying data lives only in `patients`; everything else refers to the
pseudonymous patient id. Writes that belong together (a case and its version; a procedure and
its follow-up schedule) are made in one transaction by the repositories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Json = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: Json, list[Any]: Json}


ROLES = ("clinician", "patient", "editor", "reviewer", "analyst", "admin")


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    patient_id: Mapped[str | None] = mapped_column(ForeignKey("patients.id"), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Token(Base):
    __tablename__ = "tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    sex: Mapped[str | None] = mapped_column(String(10), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseVersion(Base):
    __tablename__ = "case_versions"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class StoredAssessment(Base):
    __tablename__ = "assessments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    policy_id: Mapped[str] = mapped_column(String(80))
    knowledge_hash: Mapped[str] = mapped_column(String(80))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[dict[str, Any]] = mapped_column(Json)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class ProcedurePerformed(Base):
    __tablename__ = "procedures_performed"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    procedure_id: Mapped[str] = mapped_column(String(80))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    side: Mapped[str | None] = mapped_column(String(10), nullable=True)
    target: Mapped[str | None] = mapped_column(String(120), nullable=True)
    operator: Mapped[str | None] = mapped_column(String(120), nullable=True)
    complications: Mapped[list[Any]] = mapped_column(Json, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(80))


class FollowupSchedule(Base):
    __tablename__ = "followup_schedules"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure_performed_id: Mapped[str] = mapped_column(ForeignKey("procedures_performed.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    label: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="due")
    __table_args__ = (Index("ix_followup_due", "status", "due_on"),)


class FollowupResponse(Base):
    __tablename__ = "followup_responses"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    schedule_id: Mapped[str | None] = mapped_column(ForeignKey("followup_schedules.id"), nullable=True)
    instrument: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict[str, Any]] = mapped_column(Json)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_by: Mapped[str] = mapped_column(String(80))
    #: The scored response (spinepath.outcomes.instruments.Score), stored with the answers so that
    #: analytics never re-score; null only for rows written before scoring existed.
    score: Mapped[dict[str, Any] | None] = mapped_column(Json, nullable=True)
    #: A warning sign was reported: true, false (asked, all no), or null (not asked).
    warning: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    via: Mapped[str] = mapped_column(String(10), default="api")  # api | fhir | cli


class FollowupAlert(Base):
    """An urgent alert for the care team: a follow-up answer reported a warning sign. Listed until
    a clinician acknowledges it; acknowledging records who and when (never deleted)."""

    __tablename__ = "followup_alerts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    response_id: Mapped[str] = mapped_column(ForeignKey("followup_responses.id"), index=True)
    sign: Mapped[str] = mapped_column(String(40))            # the question answered yes (item id)
    warning_sign: Mapped[str] = mapped_column(String(80))    # shared warning sign id in content
    urgency: Mapped[str] = mapped_column(String(20))         # emergency | call_today | ...
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    __table_args__ = (Index("ix_followup_alerts_open", "acknowledged_at", "raised_at"),)


class ContentRevision(Base):
    __tablename__ = "content_revisions"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[dict[str, Any]] = mapped_column(Json)
    author: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewer: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (UniqueConstraint("item_id", "revision"),)


class AuditEntry(Base):
    """Append-only: the migration adds triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(10))  # read | create | update | delete
    resource: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    patient_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    client: Mapped[str | None] = mapped_column(String(80), nullable=True)


# ------------------------------------------------------------------ editorial workflow

#: A revision is *live* (the one patients get) when it is approved and published. At most one per
#: item: publishing retires the previous live revision in the same transaction, and this partial
#: unique index refuses a second one if two publishes race.
LIVE_WHERE = "status = 'approved' AND published_at IS NOT NULL"
Index("uq_content_revisions_live", ContentRevision.item_id, unique=True,
      sqlite_where=text(LIVE_WHERE), postgresql_where=text(LIVE_WHERE))


class ContentTransition(Base):
    """One step of a content revision through the editorial workflow: who, in which role, when.

    Append-only: the migration adds triggers that refuse UPDATE and DELETE. States are the
    lifecycle's (spinepath.knowledge.lifecycle), so a publication reads approved -> published."""

    __tablename__ = "content_transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("content_revisions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
