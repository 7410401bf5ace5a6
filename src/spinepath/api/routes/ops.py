"""Liveness and readiness (no token needed; they reveal no data)."""

from __future__ import annotations

import logging

from fastapi import APIRouter

import spinepath
from spinepath.api.deps import Svc
from spinepath.api.errors import NotReady
from spinepath.api.schemas import Health, Ready
from spinepath.store.migrate import current_revision

router = APIRouter(tags=["operations"])
log = logging.getLogger("spinepath.api")


@router.get("/health", response_model=Health)
async def health() -> Health:
    """Liveness: the process answers. Checks nothing else."""
    return Health(status="ok", version=spinepath.__version__)


@router.get("/ready", response_model=Ready, responses={503: {"description": "Not ready (error envelope)"}})
def ready(svc: Svc) -> Ready:
    """Readiness: the database answers and is migrated to this version's schema, and the
    knowledge base is loaded."""
    try:
        revision = current_revision(svc.engine)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database means not ready
        log.warning("readiness check failed: %s", type(exc).__name__)
        raise NotReady("the database cannot be reached") from None
    if revision != svc.schema_head:
        raise NotReady(f"the database schema is at {revision or 'nothing'}, expected {svc.schema_head}; "
                       "run `spinepath db upgrade`")
    return Ready(status="ready", schema_revision=revision, knowledge_hash=svc.knowledge.hash)
