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


# Follow-up days of the relief fixtures (the shared schedule's first four points after baseline).
RELIEF_DAYS = {"2 weeks": 14, "1 month": 30, "3 months": 91, "6 months": 182}


def relief_rows(eid: str, baseline: float | None, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow-up rows for one episode; ``answers`` maps a time point to an NRS, None (answered without
    a pain score) or 'missed'. Time points not given are missed."""
    rows = [{"episode_id": eid, "timepoint": "baseline", "days": 0, "nrs": baseline,
             "completed": baseline is not None}]
    for label, d in RELIEF_DAYS.items():
        a = answers.get(label, "missed")
        rows.append({"episode_id": eid, "timepoint": label, "days": d, "completed": a != "missed",
                     "nrs": None if a in (None, "missed") else a})
    return rows


# Not relieved at 2 weeks (8 -> 7), relieved at 1 and 3 months (8 -> 3, 4), not relieved at 6 months (8 -> 7).
SLOW_START = {"2 weeks": 7, "1 month": 3, "3 months": 4, "6 months": 7}


def onset_dataset() -> Dataset:
    """The relief-onset fixture, worked by hand in test_relief_rules.py (onsets from content: facet RF
    21 days, transforaminal ESI 10 days; relief margin 2 points).

    R1 (lumbar facet RF), SLOW_START: day 14 is before the onset, so it does not end relief; relieved
    at 30 and 91; ends at 182.
    S1 (transforaminal ESI), SLOW_START: day 14 is on or after the onset (14 >= 10), so relief ends at 14.
    R2 (RF), answered only at 2 weeks (8 -> 7): nothing on or after day 21 -> excluded, only before onset.
    R3 (RF), relieved at 2 weeks and 1 month (8 -> 3, 3), then missed: censored at 30.
    """
    rf, esi = "rf-facet-lumbar", "esi-transforaminal"
    episodes = [{"episode_id": "R1", "procedure": rf}, {"episode_id": "S1", "procedure": esi},
                {"episode_id": "R2", "procedure": rf}, {"episode_id": "R3", "procedure": rf}]
    followups = (relief_rows("R1", 8, SLOW_START) + relief_rows("S1", 8, SLOW_START)
                 + relief_rows("R2", 8, {"2 weeks": 7}) + relief_rows("R3", 8, {"2 weeks": 3, "1 month": 3}))
    return dataset(episodes, followups)

