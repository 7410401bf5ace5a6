"""Grounded answers over HTTP: ``POST /ask`` (any signed-in role).

The answer comes from approved content only: bundled approved items with every live (published)
revision laid over them, so publishing a revision changes the answers at once. The engine is kept
per content signature (the knowledge hash, the lexicon and the set of live revision ids): each
request reads only the live revision ids, and the engine is rebuilt when they change.

A patient always gets the patient audience. The question is not stored, logged or audited: it is
not a patient record, and it may hold symptoms, so nothing of it leaves the response.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import AfterValidator, Field, ValidationError
from sqlalchemy import select

from spinepath.api.deps import AnyRole, Services, Svc
from spinepath.api.schemas import In, clean_text
from spinepath.knowledge import lifecycle as lc
from spinepath.knowledge import schema as s
from spinepath.knowledge.loader import ITEM_DIRS
from spinepath.qa.answer import MAX_QUESTION, Answer, ask
from spinepath.qa.index import content_signature
from spinepath.qa.lexicon import Lexicon, load_lexicon
from spinepath.qa.service import Engines
from spinepath.store import models as m

router = APIRouter(tags=["questions"])
_LOCK = threading.Lock()


class AskIn(In):
    question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION,
                                   description="The question in the asker's own words"),
                        AfterValidator(clean_text)]
    audience: Literal["patient", "clinician"] = Field(
        default="patient", description="Who the answer is for (a patient account always gets patient)")
    retrieval: Literal["auto", "lexical"] = Field(
        default="auto", description="auto: hybrid when the server has the embedding model; lexical: BM25 only")


class QaState:
    """What the app keeps for answers: the lexicon and the engine of the current signature."""

    def __init__(self, svc: Services) -> None:
        self.lexicon: Lexicon = load_lexicon(svc.settings.content_dir)
        self.engines = Engines(dense=svc.settings.qa_dense, cache_dir=svc.settings.data_dir / "qa-cache")


def _state(request: Request, svc: Services) -> QaState:
    state: QaState | None = getattr(request.app.state, "qa", None)
    if state is None:
        with _LOCK:
            state = getattr(request.app.state, "qa", None)
            if state is None:
                state = QaState(svc)
                request.app.state.qa = state
    return state


def _live(svc: Services, ids: dict[str, str]) -> dict[str, s.Editorial]:
    """The live revisions' bodies, validated as the items they replace (one that no longer
    validates is left out: the bundled item stays)."""
    out: dict[str, s.Editorial] = {}
    with svc.sessions() as sess:
        rows = sess.scalars(select(m.ContentRevision).where(m.ContentRevision.id.in_(list(ids.values()))))
        for rev in rows:
            model = ITEM_DIRS.get(lc.KIND_DIRS.get(rev.kind, ""))
            if model is None:
                continue
            try:
                out[rev.item_id] = model.model_validate(rev.body)
            except ValidationError:
                continue
    return out


@router.post("/ask", response_model=Answer)
def ask_question(data: AskIn, who: AnyRole, request: Request, svc: Svc) -> Answer:
    """Answer a question from approved content with its sources; urgent advice first (any
    signed-in role; a patient gets the patient audience)."""
    state = _state(request, svc)
    with svc.sessions() as sess:
        ids = {item_id: rid for item_id, rid in sess.execute(
            select(m.ContentRevision.item_id, m.ContentRevision.id).where(
                m.ContentRevision.status == "approved", m.ContentRevision.published_at.is_not(None)))}
    kb = svc.knowledge
    current = state.engines.peek()
    if current is not None and current.signature == content_signature(kb, state.lexicon, ids):
        engine = current
    else:
        engine = state.engines.get(kb, state.lexicon, live=_live(svc, ids), revision_ids=ids)
    audience = "patient" if who.role == "patient" else data.audience
    return ask(engine, data.question, audience, mode="lexical" if data.retrieval == "lexical" else None)
