"""Helpers for the editorial tests (and the API role matrix): bodies, actors, revisions in a state."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from spinepath.knowledge.loader import content_files
from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import models as m
from spinepath.store import repo

ITEM = "lumbar-disc-herniation"  # an approved condition with patient education
KIND = "condition"
EDITOR = repo.Actor(None, "ed.itor", "editor")
EDITOR2 = repo.Actor(None, "eve.editor", "editor")
REVIEWER = repo.Actor(None, "rita.reviewer", "reviewer")
REVIEWER2 = repo.Actor(None, "rex.reviewer", "reviewer")
ADMIN = repo.Actor(None, "ada.admin", "admin")
DAY = dt.date(2026, 3, 1)
HARD = ("Notwithstanding multitudinous considerations regarding intervertebral pathophysiology, "
        "radiculopathic manifestations predominantly necessitate comprehensive multidisciplinary "
        "evaluation incorporating electrodiagnostic characterisation.")

BASE = content_files(None)


def body(kb: Knowledge, item_id: str = ITEM, **changes: Any) -> dict[str, Any]:
    """The bundled item as a revision body (JSON), with top-level ``changes``."""
    out = copy.deepcopy(kb.items()[item_id].model_dump(mode="json"))
    out.update(changes)
    return out


def with_patient_text(data: Mapping[str, Any], section: str, text: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(data))
    out["education"]["patient"][section]["text"] = text
    return out


PATH: dict[str, list[tuple[str, repo.Actor]]] = {
    "draft": [],
    "submitted": [("submit", EDITOR)],
    "under_review": [("submit", EDITOR), ("start-review", REVIEWER)],
    "changes_requested": [("submit", EDITOR), ("start-review", REVIEWER), ("request-changes", REVIEWER)],
    "approved": [("submit", EDITOR), ("start-review", REVIEWER), ("approve", REVIEWER)],
    "published": [("submit", EDITOR), ("start-review", REVIEWER), ("approve", REVIEWER), ("publish", EDITOR)],
    "retired": [("submit", EDITOR), ("start-review", REVIEWER), ("approve", REVIEWER), ("retire", EDITOR)],
}


def revision_in(s: Session, kb: Knowledge, state: str, item_id: str = ITEM, author: repo.Actor = EDITOR,
                data: dict[str, Any] | None = None) -> m.ContentRevision:
    """A new revision of ``item_id`` moved to ``state`` through the real transitions (approval with
    the real gate)."""
    kind = str(kb.items()[item_id].model_dump()["kind"])
    rev = repo.create_revision(s, item_id, kind, data if data is not None else body(kb, item_id), author)
    for action, who in PATH[state]:
        if action == "approve":
            repo.approve_revision(s, rev, who, BASE, today=DAY)
        else:
            repo.transition(s, rev, action, who, comment="please fix" if action == "request-changes" else None)
    return rev


# ------------------------------------------------------------------ the API role matrix

#: The state a revision must be in for each route to succeed (for the roles allowed to use it).
ROUTE_STATE = {
    "submit": "draft", "start-review": "submitted", "approve": "under_review", "request-changes": "under_review",
    "revise": "changes_requested", "publish": "approved", "retire": "published",
}


def matrix_request(api: Any, route: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Path ids and request keywords for an editorial route of the role matrix: a fresh revision
    in the state the route needs (every column gets its own, so one success does not spoil the next)."""
    ids: dict[str, str] = {}
    kwargs: dict[str, Any] = {}
    kb = api.app.state.services.knowledge
    if "{revision_id}" in route:
        action = route.rsplit("/", 1)[-1]
        with api.sessions() as s, s.begin():
            ids["revision_id"] = revision_in(s, kb, ROUTE_STATE.get(action, "draft")).id
        if action == "request-changes":
            kwargs["json"] = {"comment": "Say how long the relief lasts."}
        elif action == "revise":
            kwargs["json"] = {"body": body(kb)}
    elif route == "POST /content/revisions":
        kwargs["json"] = {"item_id": ITEM, "kind": KIND, "body": body(kb)}
    elif route == "GET /content/due":
        kwargs["params"] = {"today": "2026-03-01"}
    return ids, kwargs
