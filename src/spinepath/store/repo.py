"""Repositories: every read and write of patient data goes through here, and each one writes its
audit entry in the same transaction, so an action and its audit record stand or fall together.

Callers own the transaction (``with session.begin():``); nothing here commits. Procedures, follow-up
responses and alerts live in :mod:`spinepath.store.followups`, which uses ``Actor``, ``audit`` and
``new_id`` from here.
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
from sqlalchemy import func, select
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
