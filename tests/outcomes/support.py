"""Helpers for the outcome analytics tests: literal datasets and a DuckDB report of them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from spinepath.knowledge.schema import OutcomeAnalytics, ResponderDefinition, SourceRef
from spinepath.outcomes.analytics import DuckDBEngine, OutcomesReport, ReportSettings, compute_report
from spinepath.outcomes.dataset import COMPLICATIONS, EPISODES, FOLLOWUPS, PREDICTORS, Dataset

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
SRC = [SourceRef(id="Farrar2001", locator="test", tag="V")]

# The definitions written out here (not read from content) so that the hand-checked numbers in the
# tests depend only on this file. test_definitions_match_content checks they are the content's.
DEFINITIONS = [
    ResponderDefinition(id="nrs_30pct", label="NRS -30%", measure="nrs", min_reduction_pct=30, sources=SRC),
    ResponderDefinition(id="nrs_2pt", label="NRS -2", measure="nrs", min_reduction_points=2, sources=SRC),
    ResponderDefinition(id="nrs_30pct_and_2pt", label="NRS -30% and -2", measure="nrs", min_reduction_points=2,
                        min_reduction_pct=30, sources=SRC),
    ResponderDefinition(id="nrs_50pct", label="NRS -50%", measure="nrs", min_reduction_pct=50, sources=SRC),
    ResponderDefinition(id="odi_10pt", label="ODI -10", measure="odi", min_reduction_points=10, sources=SRC),
]
SETTINGS = ReportSettings(OutcomeAnalytics(responder_definitions=DEFINITIONS, relief_margin_points=2,
                                           relief_margin_sources=SRC))


def dataset(episodes: Sequence[dict[str, Any]], followups: Sequence[dict[str, Any]],
            complications: Sequence[dict[str, Any]] = (), predictors: Sequence[dict[str, Any]] = ()) -> Dataset:
    """A dataset from literal rows; episode columns not given default to a plain episode."""
    base = {"patient_id": None, "site": "site-a", "procedure": "esi-transforaminal",
            "performed_on": dt.date(2025, 1, 1), "level": "L4-L5", "side": "left", "age": 50, "sex": "female"}
    eps = [{**base, "patient_id": e["episode_id"].replace("E", "P"), **e} for e in episodes]
    fus = [{"completed": True, "nrs": None, "odi": None, "bni": None, "warning": False, **f} for f in followups]
    return Dataset(episodes=pa.Table.from_pylist(eps, schema=EPISODES),
                   followups=pa.Table.from_pylist(fus, schema=FOLLOWUPS),
                   complications=pa.Table.from_pylist(list(complications), schema=COMPLICATIONS),
                   predictors=pa.Table.from_pylist(list(predictors), schema=PREDICTORS))


def duck_report(data: Dataset | Path, settings: ReportSettings = SETTINGS) -> OutcomesReport:
    con = duckdb.connect()
    try:
        return compute_report(DuckDBEngine(con, data), settings, now=NOW)
    finally:
        con.close()
