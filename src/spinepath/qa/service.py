"""One engine per content signature, kept between questions: what the CLI and the REST API hold.

    engines = Engines(dense="auto", cache_dir=data_dir / "qa-cache")
    engine = engines.get(kb, lexicon, live={...}, revision_ids={...})   # rebuilt when they change

The encoder is loaded once, lazily, on the first hybrid build (``dense``: ``auto`` uses the
packaged MiniLM model when it is installed, ``on`` requires it, ``off`` never loads it). Passage
embeddings are kept on disk under ``cache_dir`` by the texts they embed, so a restart or a
content change that leaves most passages alone does not pay for them again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from spinepath.errors import InputError
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge
from spinepath.qa.dense import DiskVectorCache, Encoder, load_encoder
from spinepath.qa.index import QaEngine, build_engine, content_signature
from spinepath.qa.lexicon import Lexicon

Dense = Literal["auto", "on", "off"]
DENSE_CHOICES: tuple[Dense, ...] = ("auto", "on", "off")


class Engines:
    """The current engine, rebuilt when the content signature changes (thread-safe)."""

    def __init__(self, dense: Dense = "auto", cache_dir: Path | None = None) -> None:
        if dense not in DENSE_CHOICES:
            raise InputError(f"dense retrieval must be auto, on or off, got {dense!r}", field="qa_dense")
        self.dense = dense
        self.cache = DiskVectorCache(cache_dir) if cache_dir is not None else None
        self._encoder: Encoder | None = None
        self._encoder_tried = False
        self._engine: QaEngine | None = None
        self._lock = threading.Lock()

    def encoder(self) -> Encoder | None:
        if self.dense == "off":
            return None
        if not self._encoder_tried:
            self._encoder_tried = True
            self._encoder = load_encoder()
        if self._encoder is None and self.dense == "on":
            raise InputError("dense retrieval is on but the model package is not installed: install the "
                             "embeddings extra (pip install 'spinepath[embeddings]') or set it to auto or off",
                             field="qa_dense")
        return self._encoder

    def get(self, kb: Knowledge, lexicon: Lexicon, live: Mapping[str, s.Editorial] | None = None,
            revision_ids: Mapping[str, str] | None = None) -> QaEngine:
        signature = content_signature(kb, lexicon, revision_ids)
        current = self._engine
        if current is not None and current.signature == signature:
            return current
        with self._lock:
            current = self._engine
            if current is not None and current.signature == signature:
                return current
            engine = build_engine(kb, lexicon, live=live, revision_ids=revision_ids, encoder=self.encoder(),
                                  cache=self.cache)
            self._engine = engine
            return engine

    def peek(self) -> QaEngine | None:
        """The engine built last, if any."""
        return self._engine
