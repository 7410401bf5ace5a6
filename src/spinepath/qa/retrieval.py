"""Retrieval: read a question (clauses, typo fixes, lay terms, section cues), score passages
lexically (BM25 over stemmed terms, lexicon expansions weighted lower, boosts for the items a lay
term names and the section a cue asks for) and densely (cosine of MiniLM embeddings), and fuse
the two rankings by reciprocal rank.

    query = prepare(engine, "will I be awake for my epidural?")
    hits = search(engine, query, "patient")           # hybrid when the engine has embeddings
    hits = search(engine, query, "patient", mode="lexical")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from spinepath.qa.index import AudienceIndex, QaEngine
from spinepath.qa.passages import Passage
from spinepath.qa.text import STOPWORDS, clauses, content_terms, words

Mode = Literal["hybrid", "lexical"]

RRF_K = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
DEPTH = 50  # how deep each ranking goes into the fusion
W_OWN, W_LAY, W_CUE = 1.0, 0.6, 0.35  # term weights: the question's own words, lay-term meanings, section cues
ITEM_BOOST, SECTION_BOOST = 0.5, 0.35  # score multipliers for the items a lay term names, the section a cue asks
#: Below these the best passage is not about the question: "no approved information".
MIN_LEXICAL, MIN_DENSE = 1.2, 0.40
#: Share of the question's words (weighted by rarity; words the content never uses weigh most)
#: that the best passages must contain, or that a lay term of the lexicon accounts for.
MIN_COVERAGE = 0.5


@dataclass(frozen=True)
class Query:
    """A question as retrieval reads it."""

    text: str
    raw: list[list[str]]  # clauses of normalised words, as written
    corrected: list[list[str]]  # the same after typo correction
    corrections: dict[str, str]
    terms: tuple[str, ...]  # stemmed content terms of the (corrected) question
    lay: tuple[str, ...]  # stemmed terms the lay terms stand for
    cue: tuple[str, ...]  # stemmed terms of the section cues
    items: tuple[str, ...]  # items the lay terms name
    sections: tuple[str, ...]  # sections the cues ask for
    lay_matched: tuple[str, ...]  # the lay phrases found
    lay_words: frozenset[str] = frozenset()  # stemmed words of the lay phrases and section cues found

    @property
    def dense_text(self) -> str:
        """What the dense encoder reads: the corrected question and what its lay terms mean."""
        text = " ".join(" ".join(c) for c in self.corrected)
        return f"{text}. {' '.join(self.lay)}" if self.lay else text


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float  # fused (or lexical / dense alone)
    lexical: float  # boosted BM25
    dense: float | None  # cosine similarity
    position: int = 0  # the passage's place in its audience index


def prepare(engine: QaEngine, question: str) -> Query:
    raw = clauses(question)
    fixes: dict[str, str] = {}
    corrected: list[list[str]] = []
    for clause in raw:
        out = []
        for tok in clause:
            fixed = tok if tok in STOPWORDS else engine.corrector.correct(tok)
            if fixed != tok:
                fixes[tok] = fixed
            out.append(fixed)
        corrected.append(out)
    lay_terms: list[str] = []
    items: list[str] = []
    matched: list[str] = []
    lay_words: set[str] = set()
    for clause in corrected:
        for start, end, phrase in engine.lay_terms.phrases.find(clause):
            means, ids = engine.lay_terms.means[phrase.text]
            matched.append(phrase.text)
            lay_words.update(content_terms(clause[start:end]))
            lay_terms.extend(content_terms(words(means)))
            items.extend(ids)
    cue_terms: list[str] = []
    sections: list[str] = []
    for section, phrases, means in engine.section_cues:
        found = [(c, a, b) for c in corrected for a, b, _p in phrases.find(c)]
        if found:
            sections.append(section)
            cue_terms.extend(content_terms(words(means)))
            for c, a, b in found:  # words that say which section, not what about: never missing
                lay_words.update(content_terms(c[a:b]))
    terms = tuple(dict.fromkeys(content_terms(t for c in corrected for t in c)))
    return Query(question, raw, corrected, fixes, terms, tuple(dict.fromkeys(lay_terms)),
                 tuple(dict.fromkeys(cue_terms)), tuple(dict.fromkeys(items)), tuple(dict.fromkeys(sections)),
                 tuple(dict.fromkeys(matched)), frozenset(lay_words))


def lexical_scores(index: AudienceIndex, query: Query) -> tuple[npt.NDArray[np.float64], float]:
    """Boosted BM25 score per passage, and the best unboosted score of the question's own words
    and lay terms (section cues alone never make a passage relevant)."""
    n = len(index.passages)
    total = np.zeros(n)
    own = np.zeros(n)
    seen: set[str] = set()
    for terms, weight in ((query.terms, W_OWN), (query.lay, W_LAY), (query.cue, W_CUE)):
        for t in terms:
            if t in seen or t not in index.vocab:
                continue
            seen.add(t)
            scores = np.asarray(index.bm25.get_scores([t]), dtype=np.float64)
            total += weight * scores
            if weight != W_CUE:  # the relevance floor counts the question's words and its lay terms
                own += scores
    if query.items:
        total *= 1.0 + ITEM_BOOST * np.isin(index.items, list(query.items))
    if query.sections:
        total *= 1.0 + SECTION_BOOST * np.isin(index.sections, list(query.sections))
    best_own = float(own.max()) if n else 0.0
    return total, best_own


def _ranks(scores: npt.NDArray[np.float64], depth: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")[:depth]
    return [int(i) for i in order if scores[i] > 0]


def search(engine: QaEngine, query: Query, audience: str, mode: Mode | None = None, k: int = 10) -> list[Hit]:
    """The ``k`` best passages of ``audience`` for ``query``: reciprocal rank fusion of the
    lexical and dense rankings (``hybrid``), or the lexical ranking alone (``lexical``)."""
    hits, _ = search_with_floor(engine, query, audience, mode, k)
    return hits


def search_with_floor(engine: QaEngine, query: Query, audience: str, mode: Mode | None = None,
                      k: int = 10) -> tuple[list[Hit], bool]:
    """:func:`search`, and whether the best passage clears the relevance floor."""
    index = engine.indexes[audience]
    mode = mode or engine.mode  # type: ignore[assignment]
    lex, best_own = lexical_scores(index, query)
    lex_rank = _ranks(lex, DEPTH)
    dense: npt.NDArray[np.float64] | None = None
    if mode == "hybrid":
        if engine.encoder is None or index.vectors is None:
            raise ValueError("hybrid retrieval needs an engine built with an encoder")
        qvec = engine.encoder.encode([query.dense_text])[0]
        dense = np.asarray(index.vectors @ qvec, dtype=np.float64)
    if dense is None:
        ranked = [(i, float(lex[i])) for i in lex_rank]
    else:
        fused: dict[int, float] = {}
        for rank, i in enumerate(lex_rank):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, i in enumerate(np.argsort(-dense, kind="stable")[:DEPTH]):
            fused[int(i)] = fused.get(int(i), 0.0) + 1.0 / (RRF_K + rank + 1)
        ranked = sorted(fused.items(), key=lambda kv: (-kv[1], -lex[kv[0]]))
    hits = [Hit(index.passages[i], score, float(lex[i]), None if dense is None else float(dense[i]), i)
            for i, score in ranked[:k]]
    relevant = best_own >= MIN_LEXICAL or (dense is not None and float(dense.max(initial=0.0)) >= MIN_DENSE)
    if not query.terms and not query.lay:
        relevant = False
    best = [h.position for h in hits[:3]] + lex_rank[:3]  # the fused and the lexical best
    return hits, relevant and bool(hits) and coverage(index, query, best) >= MIN_COVERAGE


def coverage(index: AudienceIndex, query: Query, positions: list[int]) -> float:
    """How much of the question the best passages speak to: the rarity-weighted share of its
    words found in them (or accounted for by a lay term or section cue). A word the content
    never uses weighs as a rare word, so "spinal cord stimulator cost" is not answered by a passage on the spinal cord."""
    if not query.terms:
        return 1.0 if query.lay else 0.0
    found: frozenset[str] = frozenset().union(*(index.terms[i] for i in positions))
    total = covered = 0.0
    for t in query.terms:
        weight = index.idf.get(t, index.unknown_idf)
        total += weight
        if t in found or t in query.lay_words:
            covered += weight
    return covered / total if total else 0.0
