"""The question-answering engine for one content signature: passages per audience with a BM25
index (bm25s), optional dense embeddings, the typo vocabulary and the compiled lexicon.

    engine = build_engine(kb, lexicon)                                  # lexical only
    engine = build_engine(kb, lexicon, encoder=load_encoder(), cache=DiskVectorCache(dir))  # hybrid

An engine is immutable and built once per *content signature* (knowledge hash, lexicon hash and
the live revision ids): adapters keep it and rebuild only when the signature changes, e.g. when
an editor publishes a revision. Passage embeddings are computed once per set of passage texts
and model, and may be kept on disk by a cache the adapter supplies.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import bm25s
import numpy as np

from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge
from spinepath.qa.dense import Encoder, Vectors, vectors_key
from spinepath.qa.lexicon import Lexicon, lexicon_hash
from spinepath.qa.passages import AUDIENCES, Passage, approved_items, build_passages
from spinepath.qa.safety import Safety
from spinepath.qa.text import Corrector, PhraseSet, content_terms, words


class VectorCache(Protocol):
    def load(self, key: str) -> Vectors | None: ...

    def save(self, key: str, vectors: Vectors) -> None: ...


@dataclass
class AudienceIndex:
    """Passages of one audience and their BM25 index (and embeddings, in hybrid mode)."""

    passages: list[Passage]
    bm25: bm25s.BM25
    vocab: frozenset[str]
    items: np.ndarray  # item id per passage (object array), for boosts
    sections: np.ndarray  # section key per passage
    terms: list[frozenset[str]]  # stemmed terms per passage, for the relevance floor
    idf: dict[str, float]  # inverse document frequency per term
    unknown_idf: float  # the weight of a word the content never uses: a rare word's (upper-quartile idf)
    vectors: Vectors | None = None


@dataclass
class LayTermSet:
    phrases: PhraseSet
    means: dict[str, tuple[str, tuple[str, ...]]]  # phrase text -> (means, item ids)


@dataclass
class QaEngine:
    """Everything :func:`spinepath.qa.answer.ask` needs, built once per content signature."""

    signature: str
    knowledge: Knowledge
    lexicon: Lexicon
    indexes: dict[str, AudienceIndex]
    corrector: Corrector
    safety: Safety
    lay_terms: LayTermSet
    section_cues: list[tuple[str, PhraseSet, str]]  # (section, phrases, means)
    encoder: Encoder | None = None
    disclaimer: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        """``hybrid`` when passages have embeddings and an encoder is at hand, else ``lexical``."""
        return "hybrid" if self.encoder is not None and all(
            i.vectors is not None for i in self.indexes.values()) else "lexical"


def content_signature(kb: Knowledge, lexicon: Lexicon, revision_ids: Mapping[str, str] | None = None) -> str:
    """What an engine depends on: the knowledge hash, the lexicon and the live revisions."""
    h = hashlib.sha256(kb.hash.encode())
    h.update(lexicon_hash(lexicon).encode())
    for item_id, rid in sorted((revision_ids or {}).items()):
        h.update(f"\0{item_id}={rid}".encode())
    return "sha256:" + h.hexdigest()


def _index(passages: list[Passage]) -> AudienceIndex:
    corpus = [content_terms(words(p.index_text)) or ["_empty_"] for p in passages]
    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.index(corpus, show_progress=False)
    sets = [frozenset(doc) for doc in corpus]
    df: Counter[str] = Counter(t for doc in sets for t in doc)
    n = max(len(sets), 1)
    idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
    idfs = sorted(idf.values())
    return AudienceIndex(
        passages=passages, bm25=bm25, vocab=frozenset(df),
        items=np.array([p.item_id for p in passages], dtype=object),
        sections=np.array([p.section_key for p in passages], dtype=object),
        terms=sets, idf=idf, unknown_idf=idfs[(3 * len(idfs)) // 4] if idfs else 1.0,
    )


def build_engine(kb: Knowledge, lexicon: Lexicon, *, live: Mapping[str, s.Editorial] | None = None,
                 revision_ids: Mapping[str, str] | None = None, encoder: Encoder | None = None,
                 cache: VectorCache | None = None) -> QaEngine:
    """Build the engine for ``kb`` with ``live`` revisions (item id -> validated body) laid over it.

    With ``encoder``, passages are embedded (or read from ``cache``) and retrieval is hybrid."""
    passages = build_passages(kb, live, revision_ids)
    indexes = {aud: _index([p for p in passages if p.audience == aud]) for aud in AUDIENCES}
    freq: Counter[str] = Counter()
    for p in passages:
        freq.update(words(p.index_text))
    phrases = [ph for t in lexicon.terms for ph in t.phrases] + [ph for c in lexicon.sections for ph in c.phrases]
    phrases += [ph for e in lexicon.emergencies for ph in e.phrases]
    phrases += [ph for e in lexicon.emergencies for combo in e.combos for g in combo for ph in g]
    phrases += [ph for o in lexicon.scope.out_of_scope for ph in o.phrases]
    phrases += [*lexicon.scope.in_scope, *lexicon.scope.weak, *lexicon.requests.dose_phrases,
                *lexicon.requests.diagnosis_phrases]
    # whole words only: "lasagn*" must not make "lasagn" a word to correct "lasagne" to
    lex_words = [w for ph in phrases for part in ph.split() if not part.endswith("*") for w in words(part)]
    for w in lex_words:
        freq[w] += 2
    items = approved_items(kb, live)
    all_items = {**kb.items(), **items}
    names = [n for it in items.values() if isinstance(it, (s.Condition, s.Procedure))
             for n in [it.name, *it.aliases]]
    safety = Safety(lexicon, kb.shared, all_items, fallback_items=kb.items(), conditions=[
        c for c in items.values() if isinstance(c, s.Condition)], in_scope_names=names)
    lay = LayTermSet(PhraseSet([p for t in lexicon.terms for p in t.phrases]),
                     {p: (t.means, tuple(t.items)) for t in lexicon.terms for p in t.phrases})
    cues: list[tuple[str, PhraseSet, str]] = [(c.section, PhraseSet(c.phrases), c.means) for c in lexicon.sections]
    engine = QaEngine(
        signature=content_signature(kb, lexicon, revision_ids), knowledge=kb, lexicon=lexicon, indexes=indexes,
        corrector=Corrector(dict(freq)), safety=safety, lay_terms=lay, section_cues=cues,
        disclaimer=" ".join(kb.shared.disclaimer.split()),
        stats={"passages": len(passages), **{f"passages_{a}": len(i.passages) for a, i in indexes.items()}},
    )
    if encoder is not None:
        embed(engine, encoder, cache)
    return engine


def embed(engine: QaEngine, encoder: Encoder, cache: VectorCache | None = None) -> None:
    """Give every passage of ``engine`` its embedding (from ``cache`` when it has them) and make
    the engine hybrid."""
    for index in engine.indexes.values():
        texts = [p.index_text for p in index.passages]
        key = vectors_key(encoder.name, texts)
        vectors = cache.load(key) if cache is not None else None
        if vectors is None or vectors.shape[0] != len(texts):
            vectors = encoder.encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)
            if cache is not None:
                cache.save(key, vectors)
        index.vectors = vectors
    engine.encoder = encoder
