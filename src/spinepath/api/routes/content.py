"""Approved knowledge content, read-only. Patients see approved items only; the other roles also
see items under review, marked by their status.

Where an item has a live revision (approved and published through the editorial workflow,
``routes/editorial.py``), that revision's body is served instead of the bundled item, to everyone.
Staff may ask for the newest revision with ``?include_drafts=true``: it is marked with its
``status`` and ``"draft": true`` while it is not approved. Patients never get a draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from spinepath.api.deps import AnyRole, Svc, not_found
from spinepath.api.schemas import ContentSummary
from spinepath.api.security import Principal
from spinepath.knowledge import lifecycle as lc
from spinepath.knowledge.schema import Editorial
from spinepath.store import models as m
from spinepath.store import repo

router = APIRouter(prefix="/content", tags=["content"])

PATIENT_VISIBLE = frozenset({"approved"})
STAFF_VISIBLE = frozenset({"approved", "under_review"})


def visible(who: Principal) -> frozenset[str]:
    return PATIENT_VISIBLE if who.role == "patient" else STAFF_VISIBLE


def _name(item: Editorial) -> str:
    return str(getattr(item, "name", item.id))


@router.get("", response_model=list[ContentSummary])
def list_content(who: AnyRole, svc: Svc) -> list[ContentSummary]:
    """Knowledge items (conditions, procedures, red flags, policies) with their version and status
    (any signed-in role); an item with a live revision is listed as that revision."""
    show = visible(who)
    rows = {i.id: ContentSummary(id=i.id, kind=str(getattr(i, "kind", "item")), name=_name(i), version=i.version,
                                 status=i.status) for i in svc.knowledge.items().values()}
    with svc.sessions() as s:
        for rev in repo.live_revisions(s).values():
            rows[rev.item_id] = ContentSummary(id=rev.item_id, kind=rev.kind, name=str(rev.body.get("name", rev.item_id)),
                                               version=str(rev.body.get("version", "")), status="approved")
    return [row for _, row in sorted(rows.items()) if row.status in show]


def _from_revision(rev: m.ContentRevision) -> dict[str, Any]:
    state = repo.revision_state(rev)
    draft = lc.is_draft(state)
    return {**rev.body, "status": rev.status, "draft": draft,
            "revision": {"id": rev.id, "number": rev.revision, "state": state, "live": state == "published"}}


@router.get("/{item_id}", response_model=dict[str, Any])
def get_content(
    item_id: Annotated[str, Path(max_length=80)],
    who: AnyRole,
    svc: Svc,
    include_drafts: Annotated[bool, Query(description="Staff: the newest revision, even a draft (marked "
                                                      "draft: true); ignored for patients")] = False,
) -> dict[str, Any]:
    """One knowledge item in full (any signed-in role; patients: approved items only): the live
    revision when the item has one, else the bundled item."""
    if not lc.ITEM_ID.fullmatch(item_id):  # no such item; and never a query with text the database refuses
        raise not_found("content item", item_id, "path.item_id")
    with svc.sessions() as s:
        if include_drafts and who.role != "patient":
            newest = repo.newest_revision(s, item_id)
            if newest is not None:
                return _from_revision(newest)
        live = repo.live_revision(s, item_id)
        if live is not None:
            return _from_revision(live)
    item = svc.knowledge.items().get(item_id)
    if item is None or item.status not in visible(who):
        raise not_found("content item", item_id, "path.item_id")
    return item.model_dump(mode="json")
