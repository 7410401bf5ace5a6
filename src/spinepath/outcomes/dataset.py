"""The outcomes dataset: the one tabular shape every analytics engine reads.

Three producers write it — the store (a clinic's own patients), `spinepath generate-cohort`
(synthetic registries) and any registry export — and every consumer (DuckDB report, Spark,
pandas peer in the benchmark) reads exactly these columns. Keeping the contract in one place is
what lets the engines be checked against each other figure for figure.

Tables (Parquet files of the same names in a dataset directory):

``episodes`` — one row per performed procedure.
``followups`` — one row per scheduled follow-up time point of an episode, answered or not
  (``completed`` false and scores null when missed), so completeness can be computed. The
  baseline row has ``days`` 0; its scores are the reference for responders and relief.
``complications`` — zero or more rows per episode.
``predictors`` — long form (episode, name, value) so any recorded predictor can be a grouping.

How every consumer reads these tables (content ``shared.outcome_analytics`` gives the responder
definitions and the relief margin; each procedure's ``followup.relief_onset_days`` its relief
onset, 0 where the content states none):

- *Baseline*: the completed ``days`` 0 row. *Follow-ups*: completed rows with ``days`` > 0;
  ``days`` is the scheduled day, so every figure is by time point.
- *Responder* at a time point: the reduction from baseline reaches every threshold of the
  definition. Evaluable only when answered with the measure present at baseline and at the time
  point (and, for a percent threshold, a baseline above 0). Every follow-up counts here and for
  completeness, whatever the relief onset.
- *Duration of relief* (primary pain NRS): follow-ups scheduled before the procedure's relief
  onset day are not used to decide that relief ended — relief takes time to develop after some
  procedures (facet RF over 2-3 weeks; an epidural steroid within about 10 days), so pain not yet
  relieved then is not an end of relief. Relief ends at the first completed follow-up with a pain
  score ON OR AFTER the onset day whose reduction from baseline is below the margin (the event
  time is that follow-up's day); an episode still relieved at its last completed follow-up with a
  pain score is censored there.
- Excluded from duration of relief, each counted under its reason: ``no_baseline`` (no baseline
  pain score); ``baseline_below_margin`` (baseline below the margin: a reduction of the margin is
  impossible, so relief cannot be measured); ``no_followup`` (no completed follow-up with a pain
  score after the procedure); ``only_before_onset`` (such follow-ups, but all before the onset
  day).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spinepath.errors import InputError

EPISODES = pa.schema([
    pa.field("episode_id", pa.string(), nullable=False),
    pa.field("patient_id", pa.string(), nullable=False),
    pa.field("site", pa.string(), nullable=False),          # clinic or registry site id
    pa.field("procedure", pa.string(), nullable=False),     # procedure id from the knowledge base
    pa.field("performed_on", pa.date32(), nullable=False),
    pa.field("level", pa.string()),                         # e.g. L4-L5; null where not applicable
    pa.field("side", pa.string()),                          # left | right | bilateral | null
    pa.field("age", pa.int16()),
    pa.field("sex", pa.string()),
])

FOLLOWUPS = pa.schema([
    pa.field("episode_id", pa.string(), nullable=False),
    pa.field("timepoint", pa.string(), nullable=False),     # schedule label, e.g. "3 months"
    pa.field("days", pa.int32(), nullable=False),           # scheduled days after the procedure
    pa.field("completed", pa.bool_(), nullable=False),
    pa.field("nrs", pa.float64()),                          # primary pain NRS 0-10 for the procedure
    pa.field("odi", pa.float64()),                          # ODI v2.1a percent 0-100
    pa.field("bni", pa.int8()),                             # BNI pain intensity 1-5 (I-V)
    pa.field("warning", pa.bool_()),                        # a warning sign was reported
])

COMPLICATIONS = pa.schema([
    pa.field("episode_id", pa.string(), nullable=False),
    pa.field("complication", pa.string(), nullable=False),
    pa.field("days", pa.int32()),                           # days after the procedure, if known
    pa.field("serious", pa.bool_()),
])

PREDICTORS = pa.schema([
    pa.field("episode_id", pa.string(), nullable=False),
    pa.field("name", pa.string(), nullable=False),
    pa.field("value", pa.string(), nullable=False),
])

SCHEMAS: dict[str, pa.Schema] = {
    "episodes": EPISODES, "followups": FOLLOWUPS, "complications": COMPLICATIONS, "predictors": PREDICTORS,
}


@dataclass(frozen=True)
class Dataset:
    """The four tables, each conforming to its schema (checked on construction)."""

    episodes: pa.Table
    followups: pa.Table
    complications: pa.Table
    predictors: pa.Table

    def __post_init__(self) -> None:
        for name, schema in SCHEMAS.items():
            table: pa.Table = getattr(self, name)
            missing = [f.name for f in schema if f.name not in table.column_names]
            if missing:
                raise InputError(f"outcomes dataset table {name!r} lacks column(s) {', '.join(missing)}",
                                 field=f"{name}.{missing[0]}")
            try:
                object.__setattr__(self, name, table.select(schema.names).cast(schema))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InputError(f"outcomes dataset table {name!r} does not match its schema: {exc}",
                                 field=name) from exc

    def tables(self) -> dict[str, pa.Table]:
        return {name: getattr(self, name) for name in SCHEMAS}

    @staticmethod
    def empty() -> Dataset:
        return Dataset(**{name: schema.empty_table() for name, schema in SCHEMAS.items()})

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, table in self.tables().items():
            pq.write_table(table, directory / f"{name}.parquet")

    @staticmethod
    def check_dir(directory: Path) -> None:
        """Refuse a path that is not a dataset directory (before an engine reads its files)."""
        if not directory.is_dir():
            raise InputError(f"--data {directory} is not a directory", field="data")
        missing = [f"{n}.parquet" for n in SCHEMAS if not (directory / f"{n}.parquet").is_file()]
        if missing:
            raise InputError(f"--data {directory} is not an outcomes dataset: missing {', '.join(missing)}",
                             field="data")

    @staticmethod
    def read(directory: Path) -> Dataset:
        Dataset.check_dir(directory)
        return Dataset(**{n: pq.read_table(directory / f"{n}.parquet") for n in SCHEMAS})
