from __future__ import annotations

from datetime import date

import pytest

from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge

NOW = date(2026, 3, 1)


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge(use_env=False, today=NOW)
