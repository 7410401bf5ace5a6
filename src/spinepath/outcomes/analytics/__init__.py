"""Registry outcome analytics: responder rates, duration of relief (Kaplan-Meier), repeat
procedures, follow-up completeness and complications, by procedure and by site, level, side and
each recorded predictor.

The figures are SQL written once (:mod:`.sql`, DuckDB dialect) and run on DuckDB or, transpiled,
on Spark (:mod:`.engines`); :mod:`.compute` turns the engine's counts into the typed report
(:mod:`.model`), with Wilson intervals (:mod:`.stats`) and the Kaplan-Meier estimate (:mod:`.km`).
"""

from spinepath.outcomes.analytics.compute import (
           ReliefOnset,
           ReportSettings,
           compute_report,
           settings_from_knowledge,
)
from spinepath.outcomes.analytics.engines import DuckDBEngine, SparkEngine, local_spark_session
from spinepath.outcomes.analytics.model import OutcomesReport

__all__ = ["DuckDBEngine", "OutcomesReport", "ReliefOnset", "ReportSettings", "SparkEngine", "compute_report",
           "local_spark_session", "settings_from_knowledge"]
