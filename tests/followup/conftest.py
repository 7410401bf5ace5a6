"""Follow-up tests reuse the API fixtures (an app on SQLite and PostgreSQL, one account per role)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import api, fast_password_hashing  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT.parent / "shared" / "external" / "questionnaires" / "cms-access-msk"


def external(name: str) -> Path:
    """A file of the shared external FHIR examples (skips the test where shared/ is absent)."""
    path = QUESTIONNAIRES / name
    if not path.is_file():
        pytest.skip(f"{path} not available")
    return path
