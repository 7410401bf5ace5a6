"""Fixtures for the outcome analytics: a generated cohort and one Spark session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.calibration import load_calibration
from spinepath.outcomes.cohort import generate_cohort, plans_from_knowledge
from spinepath.outcomes.dataset import Dataset


@pytest.fixture(scope="session")
def cohort(kb: Knowledge) -> Dataset:
    """A generated registry of 3,000 patients (follow-up schedules from the knowledge base)."""
    cal = load_calibration()
    return generate_cohort(3_000, 11, cal, plans_from_knowledge(kb, cal))


@pytest.fixture(scope="session")
def cohort_dir(cohort: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cohort")
    cohort.write(d)
    return d


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local Spark session (local[2]) for the whole run; skipped without PySpark or Java."""
    pytest.importorskip("pyspark")
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Java is not installed (Spark needs Java 17)")
    from spinepath.outcomes.analytics.engines import local_spark_session

    session = local_spark_session(cores=2, app_name="spinepath-tests")
    yield session
    session.stop()
