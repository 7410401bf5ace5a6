"""The editorial workflow over HTTP: content revisions from draft to published (or retired).

Editors draft, revise, submit and publish; reviewers start reviews, approve (never their own
revision, and only when the content check and the readability gate pass), request changes (with
a comment) and publish; editors and admins retire. The rules are
``spinepath.knowledge.lifecycle``; every step is recorded in ``content_transitions`` (who, role,
when, comment). Content is not patient data, so nothing here is written to the audit log.

Clinicians may read revisions too, drafts clearly marked (``draft: true``); patients never see a
revision that is not live (403 here; ``GET /content/{item_id}`` serves them the live one).

A step that the revision's state, the caller's role or authorship forbids is 409
``transition-forbidden``; an approval blocked by the checks is 422 ``approval-blocked`` listing
every problem (file, path, reason; section and grade).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy.orm import Session

from spinepath.api.deps import Svc, actor, not_found, require
from spinepath.api.errors import ApiError, RequestInvalid
from spinepath.api.schemas import (
    EARLIEST,
    ID_PATTERN,
    LATEST,
    In,
    Out,
    UtcDatetime,
    check_json_text,
    clean_text,
)
from spinepath.api.security import Principal
from spinepath.errors import ApprovalBlocked, InputError, TransitionForbidden
from spinepath.knowledge import lifecycle as lc
from spinepath.knowledge.loader import content_files
from spinepath.store import models as m
from spinepath.store import repo

router = APIRouter(prefix="/content", tags=["editorial"])

READ_ROLES = ("clinician", "editor", "reviewer", "admin")
DUE_ROLES = ("editor", "reviewer", "admin")
Reader = Annotated[Principal, Depends(require(*READ_ROLES))]
Editor = Annotated[Principal, Depends(require(*lc.STEPS["create"].roles))]


def _step_role(action: lc.Action) -> Any:
    return Depends(require(*lc.STEPS[action].roles))


RevisionId = Annotated[str, Path(pattern=ID_PATTERN, description="Revision id (rv_...)")]
ItemId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", max_length=80,
                              description="The knowledge item, e.g. esi-caudal")]


# ------------------------------------------------------------------ bodies


def _clean_body(value: dict[str, Any]) -> dict[str, Any]:
    bad = check_json_text(value)
    if bad is not None:
        raise ValueError(f"text may not contain NUL characters or unpaired surrogates, and numbers must be "
                         f"finite (at {bad or 'the top'})")
    return value


CleanBody = Annotated[dict[str, Any], AfterValidator(_clean_body)]
Comment = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(clean_text)]


class RevisionIn(In):
    item_id: ItemId
    kind: Literal["condition", "procedure", "red_flag", "policy"]
    body: CleanBody = Field(description="The whole content item, as in its YAML file "
                            "(`spinepath content show ID --json`); id and kind are filled in when absent")


class ReviseIn(In):
    body: CleanBody = Field(description="The new body of the revision (the whole content item)")
    comment: Comment | None = None


class CommentIn(In):
    comment: Comment = Field(description="What to change (required)")


class OptionalCommentIn(In):
    comment: Comment | None = None


class TransitionOut(Out):
    from_status: str | None = Field(description="State before (none for create)")
    to_status: str = Field(description="State after")
    action: str
    actor: str = Field(description="Username")
    role: str
    at: UtcDatetime
    comment: str | None


class RevisionSummary(BaseModel):
    id: str
    item_id: str
    kind: str
    revision: int = Field(description="1, 2, ... per item")
    status: str = Field(description="Stored status, one of the content schema's: draft, submitted, "
                        "under_review, changes_requested, approved, retired")
    state: str = Field(description="Lifecycle state: the status, or published for the live revision")
    draft: bool = Field(description="Not approved yet: never shown to patients")
    live: bool = Field(description="The published revision patients get")
    author: str
    created_at: UtcDatetime
    reviewer: str | None
    reviewed_at: UtcDatetime | None
    published_at: UtcDatetime | None
    comment: str | None = Field(description="The latest comment")


class RevisionOut(RevisionSummary):
    body: dict[str, Any]
    transitions: list[TransitionOut] = Field(description="Every step, oldest first")
    allowed: list[str] = Field(description="Steps possible from this state (by role)")


class DueOut(BaseModel):
    item_id: str
    kind: str
    name: str
    version: str
    review_due: dt.date
    source: Literal["bundled", "revision"] = Field(description="bundled (or clinic) file, or the live revision")
    revision_id: str | None


def summary(rev: m.ContentRevision) -> RevisionSummary:
    state = repo.revision_state(rev)
    return RevisionSummary(id=rev.id, item_id=rev.item_id, kind=rev.kind, revision=rev.revision, status=rev.status,
                           state=state, draft=lc.is_draft(state), live=state == "published", author=rev.author,
                           created_at=rev.created_at, reviewer=rev.reviewer, reviewed_at=rev.reviewed_at,
                           published_at=rev.published_at, comment=rev.comment)


def detail(s: Session, rev: m.ContentRevision) -> RevisionOut:
    state = repo.revision_state(rev)
    return RevisionOut(**summary(rev).model_dump(), body=rev.body,
                       transitions=[TransitionOut.model_validate(t) for t in repo.list_transitions(s, rev.id)],
                       allowed=[f"{st.action} ({' or '.join(st.roles)})" for st in lc.allowed_from(state)])


# ------------------------------------------------------------------ errors


class Refused(ApiError):
    """A workflow refusal answered with its own code: 409 transition-forbidden, 422 approval-blocked."""

    def __init__(self, exc: TransitionForbidden, status: int, field: str | None) -> None:
        super().__init__(exc.message, field, exc.problems)
        self.code = exc.code
        self.status = status


@contextmanager
def answered(prefix: str = "body") -> Iterator[None]:
    """Lifecycle errors, with their place in the request."""
    try:
        yield
    except ApprovalBlocked as e:
        raise Refused(e, 422, "path.revision_id") from None
    except TransitionForbidden as e:
        raise Refused(e, 409, "path.revision_id") from None
    except InputError as e:
        raise InputError(e.message, field=f"{prefix}.{e.field}" if e.field else prefix,
                         problems=e.problems) from None


def _load(s: Session, revision_id: str) -> m.ContentRevision:
    rev = repo.get_revision(s, revision_id, for_update=True)
    if rev is None:
        raise not_found("content revision", revision_id, "path.revision_id")
    return rev


def _step(svc: Svc, request: Request, who: Principal, revision_id: str, action: lc.Action,
          comment: str | None = None, body: dict[str, Any] | None = None) -> RevisionOut:
    with answered(), svc.sessions() as s, s.begin():
        rev = _load(s, revision_id)
        by = actor(who, request)
        if action == "approve":
            repo.approve_revision(s, rev, by, content_files(svc.settings.content_dir), comment=comment)
        else:
            repo.transition(s, rev, action, by, comment=comment, body=body)
        return detail(s, rev)


# ------------------------------------------------------------------ routes


@router.post("/revisions", status_code=201, response_model=RevisionOut)
def create_revision(data: RevisionIn, who: Editor, request: Request, svc: Svc) -> RevisionOut:
    """Start a draft revision of a knowledge item (editor). Its number is the item's highest + 1."""
    with answered(), svc.sessions() as s, s.begin():
        existing = svc.knowledge.items().get(data.item_id)
        kind = str(getattr(existing, "kind", data.kind))
        if existing is not None and kind != data.kind:
            raise RequestInvalid(f"{data.item_id!r} is a {kind}, not a {data.kind}", field="body.kind")
        rev = repo.create_revision(s, data.item_id, data.kind, data.body, actor(who, request))
        return detail(s, rev)


@router.get("/revisions", response_model=list[RevisionSummary])
def list_revisions(
    _who: Reader,
    svc: Svc,
    item_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", max_length=80)] = None,
) -> list[RevisionSummary]:
    """Revisions (one item's, or all), by item and number, drafts marked ``draft: true`` (clinician,
    editor, reviewer, admin)."""
    with svc.sessions() as s:
        return [summary(r) for r in repo.list_revisions(s, item_id)]


@router.get("/revisions/{revision_id}", response_model=RevisionOut)
def get_revision(revision_id: RevisionId, _who: Reader, svc: Svc) -> RevisionOut:
    """One revision with its body, every transition (who, role, when, comment) and the steps allowed
    next (clinician, editor, reviewer, admin)."""
    with svc.sessions() as s:
        rev = repo.get_revision(s, revision_id)
        if rev is None:
            raise not_found("content revision", revision_id, "path.revision_id")
        return detail(s, rev)


Note = Annotated[OptionalCommentIn | None, Body(description="An optional comment, kept with the transition")]


@router.post("/revisions/{revision_id}/submit", response_model=RevisionOut)
def submit(revision_id: RevisionId, request: Request, svc: Svc,
           who: Annotated[Principal, _step_role("submit")], note: Note = None) -> RevisionOut:
    """draft → submitted (editor): ready for review."""
    return _step(svc, request, who, revision_id, "submit", note.comment if note else None)


@router.post("/revisions/{revision_id}/start-review", response_model=RevisionOut)
def start_review(revision_id: RevisionId, request: Request, svc: Svc,
                 who: Annotated[Principal, _step_role("start-review")], note: Note = None) -> RevisionOut:
    """submitted → under_review (reviewer)."""
    return _step(svc, request, who, revision_id, "start-review", note.comment if note else None)


@router.post("/revisions/{revision_id}/approve", response_model=RevisionOut)
def approve(revision_id: RevisionId, request: Request, svc: Svc,
            who: Annotated[Principal, _step_role("approve")], note: Note = None) -> RevisionOut:
    """under_review → approved (reviewer, not the author). The body, stamped approved with the
    reviewer's name, must pass the content check (with the bundled content and the other live
    revisions) and every patient text must read at grade 8 or below; else 422 approval-blocked."""
    return _step(svc, request, who, revision_id, "approve", note.comment if note else None)


@router.post("/revisions/{revision_id}/request-changes", response_model=RevisionOut)
def request_changes(revision_id: RevisionId, data: CommentIn, request: Request, svc: Svc,
                    who: Annotated[Principal, _step_role("request-changes")]) -> RevisionOut:
    """under_review → changes_requested (reviewer), with a comment saying what to change."""
    return _step(svc, request, who, revision_id, "request-changes", data.comment)


@router.post("/revisions/{revision_id}/revise", response_model=RevisionOut)
def revise(revision_id: RevisionId, data: ReviseIn, request: Request, svc: Svc,
           who: Annotated[Principal, _step_role("revise")]) -> RevisionOut:
    """draft or changes_requested → draft (editor), with the new body."""
    return _step(svc, request, who, revision_id, "revise", data.comment, data.body)


@router.post("/revisions/{revision_id}/publish", response_model=RevisionOut)
def publish(revision_id: RevisionId, request: Request, svc: Svc,
            who: Annotated[Principal, _step_role("publish")], note: Note = None) -> RevisionOut:
    """approved → published (editor or reviewer): the item's live revision, served to patients by
    GET /content/{item_id}. The previous live revision is retired (superseded)."""
    return _step(svc, request, who, revision_id, "publish", note.comment if note else None)


@router.post("/revisions/{revision_id}/retire", response_model=RevisionOut)
def retire(revision_id: RevisionId, request: Request, svc: Svc,
           who: Annotated[Principal, _step_role("retire")], note: Note = None) -> RevisionOut:
    """approved or published → retired (editor or admin). Retiring the live revision puts the
    bundled item back."""
    return _step(svc, request, who, revision_id, "retire", note.comment if note else None)


@router.get("/due", response_model=list[DueOut])
def due(
    _who: Annotated[Principal, Depends(require(*DUE_ROLES))],
    svc: Svc,
    today: Annotated[dt.date | None, Query(description="As of this date (ISO); default today")] = None,
) -> list[DueOut]:
    """Approved items past their review date (the live revision where there is one), oldest first
    (editor, reviewer, admin)."""
    day = today or dt.date.today()
    if not EARLIEST <= day <= LATEST:
        raise RequestInvalid(f"{day} is out of range: use a date from {EARLIEST} to {LATEST}", field="query.today")
    with svc.sessions() as s:
        return [DueOut(**vars(d)) for d in repo.items_due(s, svc.knowledge, day)]

