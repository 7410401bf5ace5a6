"""Approved knowledge content, read-only. Patients see approved items only; the other roles also
see items under review, marked by their status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from spinepath.api.deps import AnyRole, Svc, not_found
from spinepath.api.schemas import ContentSummary
from spinepath.api.security import Principal
from spinepath.knowledge.schema import Editorial

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
    (any signed-in role)."""
    show = visible(who)
    items = svc.knowledge.items()
    return [ContentSummary(id=i.id, kind=str(getattr(i, "kind", "item")), name=_name(i), version=i.version,
                           status=i.status)
            for _, i in sorted(items.items()) if i.status in show]


@router.get("/{item_id}", response_model=dict[str, Any])
def get_content(item_id: Annotated[str, Path(max_length=80)], who: AnyRole, svc: Svc) -> dict[str, Any]:
    """One knowledge item in full (any signed-in role; patients: approved items only)."""
    item = svc.knowledge.items().get(item_id)
    if item is None or item.status not in visible(who):
        raise not_found("content item", item_id, "path.item_id")
    return item.model_dump(mode="json")
