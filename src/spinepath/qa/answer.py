"""Grounded answers: urgent advice first, polite declines, and otherwise one to four sentences
copied from retrieved approved passages, each with its citation.

    answer = ask(engine, "I can't pee and my legs are numb, is that normal after an epidural?")
    answer.urgent            # UrgentAdvice: what to do now, from an approved warning sign
    answer.sentences         # the rest of the question, answered from approved text
    answer.model_dump(mode="json")   # the JSON of `spinepath ask --json` and POST /ask

No text is generated: a sentence of an answer is a sentence of an approved education text,
discharge period or warning sign (clinician citation markers removed and turned into the
sentence's own sources); urgent advice is an approved warning sign's action; the other words the
system says (no information, declines) are the lexicon's messages. A sentence carrying a dose is
never used; a request for a dose or a diagnosis is declined.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spinepath.errors import InputError
from spinepath.qa.index import QaEngine
from spinepath.qa.passages import Passage
from spinepath.qa.retrieval import Hit, Mode, Query, prepare, search_with_floor
from spinepath.qa.safety import Decline, Urgent
from spinepath.qa.text import citation_markers, content_terms, sentences, words

Audience = Literal["patient", "clinician"]
MAX_QUESTION = 1000
MAX_SENTENCES = 4
WORD_BUDGET = {"patient": 70, "clinician": 110}
LONG_SENTENCE = {"patient": 24, "clinician": 45}
CANDIDATES = 4  # how many of the best passages an answer may quote


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Citation(Out):
    """Where a sentence comes from: the item, its section and the section's (or sentence's) sources."""

    n: int = Field(description="The number the answer's sentences use for it")
    item_id: str
    item_name: str
    section: str
    heading: str
    source_ids: list[str]
    revision_id: str | None = Field(default=None, description="The live revision quoted, if not the bundled item")


class Sentence(Out):
    text: str
    citation: int = Field(description="Number of the citation in `citations`")


class Emergency(Out):
    id: str
    label: str
    matched: str = Field(description="The words of the question that matched")
    sign: str
    action: str
    urgency: Literal["emergency", "call_today"]
    citation: int


class UrgentAdvice(Out):
    urgent: Literal[True] = True
    level: Literal["emergency", "call_today"]
    advice: str = Field(description="What to do now, from approved warning signs")
    matched: list[str]
    emergencies: list[Emergency]
    citations: list[Citation]


class Declined(Out):
    declined: Literal[True] = True
    kind: Literal["off_topic", "dose", "diagnosis"]
    reason: str


class Answer(Out):
    """The answer to one question (the JSON of `spinepath ask --json` and POST /ask)."""

    question: str
    audience: Audience
    urgent: UrgentAdvice | Literal[False] = Field(description="Urgent advice, first; false when none")
    declined: Declined | Literal[False] = Field(description="Why the question is not answered; false when it is")
    answer: str = Field(description="The answer text, with citation markers [n]")
    sentences: list[Sentence]
    citations: list[Citation]
    retrieval: Literal["hybrid", "lexical"]
    corrections: dict[str, str] = Field(default_factory=dict, description="Words read as another (typos)")
    disclaimer: str


# ------------------------------------------------------------------ composition


def _source_ids(passage: Passage, markers: tuple[int, ...]) -> list[str]:
    refs = passage.sources
    chosen = [refs[k - 1] for k in markers if 1 <= k <= len(refs)] if markers else list(refs)
    return list(dict.fromkeys(r.id for r in chosen))


def _candidates(engine: QaEngine, hits: list[Hit], query: Query, audience: str
                ) -> list[tuple[float, int, int, str, Passage, list[str]]]:
    """(score, passage rank, position, text, passage, source ids) for every usable sentence."""
    own, lay, cue = set(query.terms), set(query.lay), set(query.cue)
    wanted = own | lay
    out = []
    for rank, hit in enumerate(hits[:CANDIDATES]):
        p = hit.passage
        for pos, raw in enumerate(sentences(p.text)):
            text, markers = citation_markers(raw)
            toks = words(text)
            if not toks or engine.safety.has_dose(toks):
                continue
            terms = set(content_terms(toks))
            overlap = len(terms & own) + 0.5 * len(terms & lay) + 0.25 * len(terms & cue)
            if not terms & wanted and not (pos == 0 and rank == 0):
                continue
            score = overlap / math.sqrt(max(len(terms), 4)) + 1.0 / (rank + 1) + (0.4 if pos < 2 else 0.0)
            if len(toks) > LONG_SENTENCE[audience]:
                score -= 0.3
            out.append((score, rank, pos, text, p, _source_ids(p, markers)))
    return out


def compose(engine: QaEngine, hits: list[Hit], query: Query, audience: str) -> tuple[list[Sentence], list[Citation]]:
    """Up to four sentences, best first by relevance, then put back in reading order (passage
    rank, position in the passage) within a word budget for the audience."""
    cands = _candidates(engine, hits, query, audience)
    if not cands:
        return [], []
    chosen: list[tuple[float, int, int, str, Passage, list[str]]] = []
    budget = WORD_BUDGET[audience]
    top_item = hits[0].passage.item_id
    for cand in sorted(cands, key=lambda c: (-c[0], c[1], c[2])):
        if len(chosen) >= MAX_SENTENCES:
            break
        n_words = len(cand[3].split())
        used = sum(len(c[3].split()) for c in chosen)
        if chosen and used + n_words > budget:
            continue
        if chosen and cand[4].item_id != top_item and cand[0] < chosen[0][0] * 0.6:
            continue  # another item's sentence only when it is nearly as good
        if any(c[3] == cand[3] for c in chosen):
            continue
        chosen.append(cand)
    chosen.sort(key=lambda c: (c[1], c[2]))
    citations: list[Citation] = []
    keys: dict[tuple[str, str, tuple[str, ...]], int] = {}
    out: list[Sentence] = []
    for _score, _rank, _pos, text, p, ids in chosen:
        key = (p.item_id, p.section, tuple(ids))
        if key not in keys:
            keys[key] = len(citations) + 1
            citations.append(Citation(n=keys[key], item_id=p.item_id, item_name=p.item_name, section=p.section,
                                      heading=p.heading, source_ids=ids, revision_id=p.revision_id))
        out.append(Sentence(text=text, citation=keys[key]))
    return out, citations


def urgent_advice(found: list[Urgent]) -> UrgentAdvice | None:
    if not found:
        return None
    ordered = sorted(found, key=lambda u: 0 if u.advice.urgency == "emergency" else 1)
    citations: list[Citation] = []
    emergencies = []
    actions: list[str] = []
    for u in ordered:
        a = u.advice
        n = len(citations) + 1
        citations.append(Citation(n=n, item_id=a.item_id, item_name="Warning signs after a procedure"
                                  if a.item_id == "shared" else a.item_id, section=a.section, heading="Warning sign",
                                  source_ids=list(dict.fromkeys(r.id for r in a.sources))))
        urgency: Literal["emergency", "call_today"] = "emergency" if a.urgency == "emergency" else "call_today"
        emergencies.append(Emergency(id=u.id, label=u.label, matched=u.matched, sign=a.sign, action=a.action,
                                     urgency=urgency, citation=n))
        if a.action not in actions:
            actions.append(a.action)
    level: Literal["emergency", "call_today"] = emergencies[0].urgency
    return UrgentAdvice(level=level, advice=" ".join(actions), matched=[e.matched for e in emergencies],
                        emergencies=emergencies, citations=citations)


def check_question(question: object) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InputError("the question is empty: ask something, e.g. 'will I be awake for an epidural?'",
                         field="question")
    if len(question) > MAX_QUESTION:
        raise InputError(f"the question is {len(question)} characters long; the limit is {MAX_QUESTION}",
                         field="question")
    if "\x00" in question:
        raise InputError("the question may not contain NUL characters", field="question")
    return question.strip()


def ask(engine: QaEngine, question: str, audience: str = "patient", mode: Mode | None = None) -> Answer:
    """Answer ``question`` for ``audience`` (patient or clinician) from the engine's approved content.

    Emergencies are looked for first, on every question; their advice comes first and the rest
    of the question is still answered. A dose or diagnosis request, or a question outside spine
    and nerve pain, is declined; a question nothing approved answers gets the lexicon's
    "no approved information" message. ``mode`` forces lexical retrieval on a hybrid engine."""
    question = check_question(question)
    if audience not in ("patient", "clinician"):
        raise InputError(f"audience must be patient or clinician, got {audience!r}", field="audience")
    aud: Audience = "patient" if audience == "patient" else "clinician"
    query = prepare(engine, question)
    found, urgent_clauses = engine.safety.urgent(query.raw, query.corrected)
    urgent = urgent_advice(found)
    # after urgent advice, answer only what else the question asks (the clauses with no emergency in them)
    rest = [n for n, c in enumerate(query.corrected) if n not in urgent_clauses and content_terms(c)]
    corrections = query.corrections
    decline: Decline | None = engine.safety.request(query.corrected)
    if decline is None and urgent is None:
        decline = engine.safety.off_topic(query.raw, query.corrected)
    retrieval: Literal["hybrid", "lexical"] = "lexical" if (mode or engine.mode) == "lexical" else "hybrid"
    sents: list[Sentence] = []
    cites: list[Citation] = []
    text = ""
    if decline is not None:
        text = decline.reason
    elif urgent is None or rest:
        if urgent is not None:
            query = prepare(engine, ". ".join(" ".join(query.raw[n]) for n in rest))
        hits, relevant = search_with_floor(engine, query, aud, retrieval)
        if relevant:
            sents, cites = compose(engine, hits, query, aud)
        if sents:
            text = " ".join(f"{s.text} [{s.citation}]" for s in sents)
        elif urgent is None:
            text = " ".join(engine.lexicon.messages.no_information.split())
    return Answer(
        question=question, audience=aud, urgent=urgent if urgent is not None else False,
        declined=Declined(kind=decline.kind, reason=decline.reason) if decline else False,
        answer=text, sentences=sents, citations=cites, retrieval=retrieval, corrections=corrections,
        disclaimer=engine.disclaimer,
    )
