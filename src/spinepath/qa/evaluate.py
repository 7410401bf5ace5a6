"""Evaluation of grounded answers on a development set (tests/qa/devset.yaml; bench/bench_qa.py).

    questions = load_devset(path)
    report = evaluate(engine, questions, mode="lexical")
    report.recall_at_3, report.mrr, report.emergency_recall, report.off_topic_precision

Retrieval is scored on the questions that name the items that answer them (on-topic, lay-term
and typo questions, and emergencies that also ask something): recall@3 is the share whose
top three passages include a passage of an expected item; MRR is the mean reciprocal rank of
the first such passage (0 past rank 10). Safety is scored on the whole set: emergency recall is
the share of emergency questions that raise the expected emergency; off-topic decline precision
is the share of off-topic declines that were off-topic questions (recall is reported too);
dose and diagnosis requests must be declined as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from spinepath.knowledge.loader import load_yaml
from spinepath.qa.answer import ask
from spinepath.qa.index import QaEngine
from spinepath.qa.retrieval import Mode, prepare, search

Kind = Literal["on-topic", "lay-term", "typo", "emergency", "off-topic", "dose", "diagnosis"]
RETRIEVAL_KINDS = ("on-topic", "lay-term", "typo", "emergency")


class ConsumerSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str
    id: str


class DevQuestion(BaseModel):
    """One development question and what a good answer does with it."""

    model_config = ConfigDict(extra="forbid")
    id: str
    kind: Kind
    question: str
    audience: Literal["patient", "clinician"] = "patient"
    expect: list[str] = Field(default_factory=list, description="Item ids, any one of which answers it")
    urgent: str | None = Field(default=None, description="The emergency id it must raise")
    source: ConsumerSource | None = None

    @property
    def scored_for_retrieval(self) -> bool:
        return self.kind in RETRIEVAL_KINDS and bool(self.expect)


def load_devset(path: Path) -> list[DevQuestion]:
    data = load_yaml(path.read_text(encoding="utf-8"))
    return [DevQuestion.model_validate(row) for row in data]


@dataclass
class Outcome:
    question: DevQuestion
    rank: int | None  # 1-based rank of the first passage of an expected item (None: not in the top 10)
    top: list[str]  # item ids of the top three passages
    urgent: list[str]
    declined: str | None
    no_information: bool
    ms: float


@dataclass
class Report:
    mode: str
    outcomes: list[Outcome] = field(default_factory=list)

    def _retrieval(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.scored_for_retrieval]

    @property
    def recall_at_3(self) -> float:
        scored = self._retrieval()
        return sum(1 for o in scored if o.rank is not None and o.rank <= 3) / len(scored) if scored else 0.0

    @property
    def mrr(self) -> float:
        scored = self._retrieval()
        return sum(1.0 / o.rank for o in scored if o.rank) / len(scored) if scored else 0.0

    @property
    def emergency_recall(self) -> float:
        em = [o for o in self.outcomes if o.question.kind == "emergency"]
        return sum(1 for o in em if o.question.urgent in o.urgent) / len(em) if em else 0.0

    @property
    def false_urgent(self) -> list[str]:
        return [o.question.id for o in self.outcomes if o.question.kind != "emergency" and o.urgent]

    @property
    def off_topic_precision(self) -> float:
        declined = [o for o in self.outcomes if o.declined == "off_topic"]
        return sum(1 for o in declined if o.question.kind == "off-topic") / len(declined) if declined else 0.0

    @property
    def off_topic_recall(self) -> float:
        off = [o for o in self.outcomes if o.question.kind == "off-topic"]
        return sum(1 for o in off if o.declined == "off_topic") / len(off) if off else 0.0

    @property
    def request_accuracy(self) -> float:
        """Dose and diagnosis requests declined as such."""
        req = [o for o in self.outcomes if o.question.kind in ("dose", "diagnosis")]
        return sum(1 for o in req if o.declined == o.question.kind) / len(req) if req else 0.0

    @property
    def answered_wrongly_declined(self) -> list[str]:
        """Questions that should be answered but were declined or got no information."""
        return [o.question.id for o in self._retrieval() if o.question.kind != "emergency"
                and (o.declined is not None or o.no_information)]

    def misses(self) -> list[str]:
        return [f"{o.question.id}: expected {o.question.expect}, top {o.top}" for o in self._retrieval()
                if o.rank is None or o.rank > 3]


def rank_of(items: Sequence[str], expect: Sequence[str]) -> int | None:
    for n, item in enumerate(items, 1):
        if item in expect:
            return n
    return None


def evaluate(engine: QaEngine, questions: Sequence[DevQuestion], mode: Mode | None = None,
             clock: Callable[[], float] = time.perf_counter) -> Report:
    """Ask every question (timed: the whole answer, safety checks included) and score retrieval."""
    report = Report(mode=mode or engine.mode)
    for q in questions:
        t0 = clock()
        answer = ask(engine, q.question, q.audience, mode=mode)
        ms = (clock() - t0) * 1000
        hits = search(engine, prepare(engine, q.question), q.audience, mode=mode, k=10)
        items = [h.passage.item_id for h in hits]
        report.outcomes.append(Outcome(
            question=q, rank=rank_of(items, q.expect), top=items[:3],
            urgent=[e.id for e in answer.urgent.emergencies] if answer.urgent else [],
            declined=answer.declined.kind if answer.declined else None,
            no_information=not answer.sentences and not answer.declined and not answer.urgent, ms=ms))
    return report
