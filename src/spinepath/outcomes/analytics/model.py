"""The outcomes report as typed data: every table the report shows, with its denominators.

One model serves the HTML report, the terminal tables, ``--json`` and the CSV/Parquet exports, so
every output shows the same numbers. Each table row names its group: the ``procedure``, the
``dimension`` it is broken down by (``procedure`` for the procedure as a whole, ``site``,
``level``, ``side`` or ``predictor:<name>``) and the ``value`` of that dimension (``all`` for the
procedure as a whole; ``(not recorded)`` where the episode has no value). A rate is ``None`` when
its denominator is 0 — nothing was evaluable — never 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceNote(_Row):
    id: str
    locator: str | None = None
    tag: str | None = None
    citation: str | None = None


class DefinitionOut(_Row):
    """A responder definition as applied (from content ``shared.outcome_analytics``)."""

    id: str
    label: str
    measure: Literal["nrs", "odi", "bni"]
    min_reduction_points: float | None
    min_reduction_pct: float | None
    sources: list[SourceNote]


class OnsetOut(_Row):
    """The relief onset applied to a procedure: follow-ups before ``days`` do not end relief.
    ``stated`` is false (and ``days`` 0) where the knowledge base gives no onset."""

    procedure: str
    days: int
    stated: bool
    sources: list[SourceNote]


class Methods(_Row):
    relief_margin_points: float
    relief_margin_sources: list[SourceNote]
    rules: list[str]
    relief_onsets: list[OnsetOut]


class DatasetSummary(_Row):
    episodes: int
    patients: int
    sites: int
    procedures: int
    followups_scheduled: int
    followups_answered: int
    complications: int
    predictor_rows: int
    predictor_names: list[str]


class GroupRow(_Row):
    procedure: str
    dimension: str
    value: str


class CompletenessRow(GroupRow):
    timepoint: str
    days: int
    scheduled: int
    answered: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


class ResponderRow(GroupRow):
    timepoint: str
    days: int
    definition: str
    scheduled: int
    answered: int
    evaluable: int
    not_evaluable: int
    responders: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


class ReliefRow(GroupRow):
    """Duration of relief: who was included, why others were not, and the Kaplan-Meier median.
    ``only_before_onset``: episodes whose scored follow-ups all fall before the procedure's relief
    onset day, so relief could not yet be judged."""

    episodes: int
    no_baseline: int
    baseline_below_margin: int
    no_followup: int
    only_before_onset: int
    included: int
    events: int
    censored: int
    median_days: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    last_time_days: float | None


class KMRow(GroupRow):
    days: float
    at_risk: int
    events: int
    censored: int
    survival: float
    ci_low: float
    ci_high: float


class RepeatRow(GroupRow):
    """Repeat procedures: days from an episode to the same patient's next episode of the same
    procedure, among episodes that were repeated (not censoring-aware: a share, not a survival)."""

    episodes: int
    repeated: int
    share: float | None
    median_days: float | None
    q1_days: float | None
    q3_days: float | None
    min_days: int | None
    max_days: int | None


class ComplicationRow(GroupRow):
    episodes: int
    with_complication: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    with_serious: int
    serious_rate: float | None
    serious_ci_low: float | None
    serious_ci_high: float | None


class ComplicationTypeRow(_Row):
    procedure: str
    complication: str
    episodes: int
    with_event: int
    serious_episodes: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


TABLES = ("completeness", "responders", "relief", "km", "repeats", "complications", "complication_types")


class OutcomesReport(_Row):
    """Everything `spinepath outcomes report` shows. ``engine`` and ``generated_at`` describe the
    run; every other field is a figure, identical whichever engine computed it."""

    title: str
    engine: str
    generated_at: datetime
    knowledge_hash: str | None
    disclaimer: str
    procedure_names: dict[str, str]
    definitions: list[DefinitionOut]
    methods: Methods
    summary: DatasetSummary
    notes: list[str]
    completeness: list[CompletenessRow]
    responders: list[ResponderRow]
    relief: list[ReliefRow]
    km: list[KMRow]
    repeats: list[RepeatRow]
    complications: list[ComplicationRow]
    complication_types: list[ComplicationTypeRow]

    def tables(self) -> dict[str, list[_Row]]:
        """Every result table by name (the exports write one file per table)."""
        return {name: list(getattr(self, name)) for name in TABLES}

    def figures(self) -> dict[str, object]:
        """The report without the run's metadata: what two engines must agree on."""
        return self.model_dump(mode="json", exclude={"engine", "generated_at"})
