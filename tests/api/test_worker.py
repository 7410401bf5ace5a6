"""A serving process (`spinepath serve`): its long-lived heap is frozen, and under load the
garbage collector stays out of the requests' way. An assessment builds thousands of objects;
with CPython's default young-generation threshold a collection ran in most requests, promoting
the results in flight into the older generations and setting off full collections about every
0.3 s (docs/performance.md §2)."""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from spinepath.api.app import create_app
from spinepath.api.worker import YOUNG_GC_THRESHOLD, ready_to_serve
from spinepath.case.synthetic import generate_cases
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.assessment import assessment_json
from spinepath.rules.engine import assess
from tests.api.conftest import make_settings

CASES = list(generate_cases(50, seed=3))


@pytest.fixture
def serving(kb: Knowledge, tmp_path: Path) -> Iterator[None]:
    """This test process set up as a serving worker; the collector restored afterwards."""
    from spinepath.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'spinepath.db'}"
    upgrade(url)
    threshold = gc.get_threshold()
    try:
        ready_to_serve(create_app(make_settings(url, tmp_path), knowledge=kb))
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


@pytest.mark.usefixtures("serving")
def test_assessments_in_a_serving_process_run_without_garbage_collections(kb: Knowledge) -> None:
    assert gc.get_threshold()[0] == YOUNG_GC_THRESHOLD
    assert gc.get_freeze_count() > 100_000, "the knowledge base and compiled plans are frozen"
    collections = sum(s["collections"] for s in gc.get_stats())
    for case in CASES:
        assert assessment_json(assess(case, kb, None, dt.date(2026, 3, 1)))
    assert sum(s["collections"] for s in gc.get_stats()) - collections <= 1


def test_the_default_threshold_collects_inside_assessments(kb: Knowledge) -> None:
    # The contrast that makes the test above mean something: CPython's default collects often.
    threshold = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        collections = sum(s["collections"] for s in gc.get_stats())
        for case in CASES:
            assert assessment_json(assess(case, kb, None, dt.date(2026, 3, 1)))
        assert sum(s["collections"] for s in gc.get_stats()) - collections >= len(CASES) // 5
    finally:
        gc.set_threshold(*threshold)
