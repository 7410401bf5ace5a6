"""DuckDB and Spark compute identical figures from the same SQL text.

One local Spark session (local[2], session-scoped) runs the DuckDB-dialect SQL transpiled by
sqlglot on a generated cohort of 3,000 patients; every figure of the report must be equal — counts,
rates, intervals, Kaplan-Meier curves and repeat-interval quantiles alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.analytics import SparkEngine, compute_report, settings_from_knowledge
from spinepath.outcomes.analytics.engines import to_spark_sql
from tests.outcomes.support import NOW, duck_report, onset_dataset


def test_spark_and_duckdb_give_identical_figures(kb: Knowledge, cohort_dir: Path, spark: Any) -> None:
    settings = settings_from_knowledge(kb)
    duck = duck_report(cohort_dir, settings)
    engine = SparkEngine(spark, cohort_dir)
    try:
        sparked = compute_report(engine, settings, now=NOW)
    finally:
        engine.close()
    assert (duck.engine, sparked.engine) == ("duckdb", "spark")
    # a real comparison: the cohort has every kind of figure
    assert duck.responders and duck.km and duck.complication_types and any(r.repeated for r in duck.repeats)
    assert {r.dimension for r in duck.relief} >= {"procedure", "site", "level", "side"}
    assert any(d.startswith("predictor:") for d in {r.dimension for r in duck.relief})
    assert sparked.figures() == duck.figures()


def test_spark_applies_relief_onsets_like_duckdb(kb: Knowledge, spark: Any) -> None:
    """The hand-worked onset fixture (test_relief_rules.py): the onset CASE written from content runs
    the same on Spark — lumbar facet RF relief ends at 182 days, transforaminal ESI at 14."""
    settings = settings_from_knowledge(kb)
    engine = SparkEngine(spark, onset_dataset())
    try:
        sparked = compute_report(engine, settings, now=NOW)
    finally:
        engine.close()
    ends = {(k.procedure, k.days) for k in sparked.km if k.dimension == "procedure" and k.events}
    assert ends == {("rf-facet-lumbar", 182.0), ("esi-transforaminal", 14.0)}
    assert sparked.figures() == duck_report(onset_dataset(), settings).figures()


def test_quantiles_use_sparks_exact_percentile() -> None:
    sql = to_spark_sql("SELECT quantile_cont(CAST(gap AS DOUBLE), 0.25) AS q1 FROM t")
    assert "PERCENTILE(CAST(gap AS DOUBLE), 0.25)" in sql and "APPROX" not in sql.upper()
