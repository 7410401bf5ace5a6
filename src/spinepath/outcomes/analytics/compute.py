"""Run the analytics SQL on an engine and assemble the typed report.

The engine returns counts; everything derived from counts (rates, Wilson intervals, the
Kaplan-Meier curve, medians of relief) is computed here, once, for every engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from spinepath.errors import InputError
from spinepath.knowledge.schema import OutcomeAnalytics, ResponderDefinition, SourceRef
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.analytics.engines import Engine
from spinepath.outcomes.analytics.km import kaplan_meier
from spinepath.outcomes.analytics.model import (
    CompletenessRow,
    ComplicationRow,
    ComplicationTypeRow,
    DatasetSummary,
    DefinitionOut,
    KMRow,
    Methods,
    OnsetOut,
    OutcomesReport,
    ReliefRow,
    RepeatRow,
    ResponderRow,
    SourceNote,
)
from spinepath.outcomes.analytics.sql import NOT_RECORDED, AnalyticsSql, Predictor
from spinepath.outcomes.analytics.stats import rate, wilson

Progress = Callable[[str], Any]
Group = tuple[str, str, str]


@dataclass(frozen=True)
class ReliefOnset:
    """A procedure's relief onset as content states it (``followup.relief_onset_days``)."""

    days: int
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class ReportSettings:
    """What the analytics take from the knowledge base (see :func:`settings_from_knowledge`).
    ``relief_onsets``: the procedures whose content states a relief onset; any other procedure's
    relief is judged from its first follow-up (onset 0)."""

    analytics: OutcomeAnalytics
    citations: Mapping[str, str] = field(default_factory=dict)
    knowledge_hash: str | None = None
    disclaimer: str = ""
    title: str = "Outcomes report"
    procedure_names: Mapping[str, str] = field(default_factory=dict)
    relief_onsets: Mapping[str, ReliefOnset] = field(default_factory=dict)

    def onset_days(self) -> dict[str, int]:
        """Procedure id -> relief onset day, for the procedures whose content states one."""
        return {pid: o.days for pid, o in self.relief_onsets.items()}


def relief_onsets(kb: Knowledge) -> dict[str, ReliefOnset]:
    """Every procedure whose follow-up content states a relief onset, with its sources."""
    return {p.id: ReliefOnset(p.followup.relief_onset_days, tuple(p.followup.relief_onset_sources))
            for p in kb.procedures.values() if p.followup.relief_onset_days is not None}


def settings_from_knowledge(kb: Knowledge, title: str = "Outcomes report") -> ReportSettings:
    return ReportSettings(kb.shared.outcome_analytics, {s.id: s.citation for s in kb.sources.values()},
                          kb.hash, kb.shared.disclaimer, title, {p.id: p.name for p in kb.procedures.values()},
                          relief_onsets(kb))


def _notes(refs: Sequence[SourceRef], citations: Mapping[str, str]) -> list[SourceNote]:
    return [SourceNote(id=r.id, locator=r.locator, tag=r.tag, citation=citations.get(r.id)) for r in refs]


def _rules(margin: float) -> list[str]:
    m = f"{margin:g}"
    return [
        "Responder: the reduction from the baseline answer (the completed follow-up at day 0) reaches every "
        "threshold of the definition, in points and/or percent; percent change = (baseline - follow-up) / "
        "baseline x 100.",
        "Evaluable: the follow-up was answered and the measure is present at baseline and at the time point; for "
        "a percent threshold the baseline must be above 0 (percent change is undefined at 0). Answered but not "
        "evaluable is reported as such, never counted as a non-response.",
        "Relief onset: some procedures take time to work, so relief is judged from each procedure's onset day "
        "(listed with its source; 0, the first follow-up, where the knowledge base states none). A follow-up "
        "scheduled before that day is not used to decide that relief ended; it still counts for the responder "
        "rate at its time point and for completeness.",
        f"Relief ends at the first answered follow-up on or after the onset day whose pain score is less than "
        f"{m} points below baseline; an episode still relieved at its last answered follow-up is censored there.",
        f"Excluded from duration of relief, and counted: no baseline pain score; a baseline below {m} (a "
        f"{m}-point reduction is impossible, so relief cannot be measured); no answered follow-up with a pain "
        "score after the procedure; such follow-ups only before the onset day.",
        "Duration of relief is the Kaplan-Meier product-limit estimate; its 95% interval is Greenwood's "
        "exponential (log-log) form; the median is the first follow-up time at which the estimate is at or "
        "below 50% (not reached when it stays above). Times are the scheduled follow-up days, so relief is "
        "known to have ended between the previous follow-up and that day.",
        "Rates carry 95% Wilson score intervals; the denominator of every rate is shown beside it.",
        "Repeat procedures: days from an episode to the same patient's next episode of the same procedure, "
        "among episodes that were repeated, grouped by the earlier episode.",
        "Complications: share of episodes with at least one recorded complication (and with a serious one).",
        "Breakdowns by site, level, side and each recorded predictor are shown only for procedures where the "
        "value is recorded for some episodes; episodes without it form the '(not recorded)' group.",
    ]


def _ordering(sql: AnalyticsSql, definitions: Sequence[ResponderDefinition]) -> Callable[..., tuple[Any, ...]]:
    dim_rank = {name: i for i, name in enumerate(sql.dimension_names)}
    def_rank = {d.id: i for i, d in enumerate(definitions)}

    def key(row: Any) -> tuple[Any, ...]:
        value = getattr(row, "value", "")
        return (row.procedure, dim_rank.get(getattr(row, "dimension", ""), 0), value == NOT_RECORDED, value,
                getattr(row, "days", 0), def_rank.get(getattr(row, "definition", ""), 0),
                getattr(row, "complication", ""))

    return key


def compute_report(engine: Engine, settings: ReportSettings, *, now: datetime | None = None,
                   progress: Progress | None = None) -> OutcomesReport:
    """Every figure of the outcomes report, computed on ``engine`` (whose tables are loaded)."""
    step = progress or (lambda _msg: None)
    oa = settings.analytics
    definitions = list(oa.responder_definitions)

    step("checking the dataset")
    predictors = _predictors(engine.rows(AnalyticsSql.predictors_query()))
    names = [p.name for p in predictors]
    sql = AnalyticsSql(definitions, oa.relief_margin_points, predictors, settings.onset_days())
    for name, query in sql.relations():
        step(f"building {name}")
        engine.create(name, query)
    size = [int(x or 0) for x in engine.rows(AnalyticsSql.checks())[0]]
    notes = _integrity(*size[8:])

    step("counting follow-ups and responders")
    completeness, responders = _completeness_responders(engine.rows(sql.completeness_responders()), definitions)
    step("estimating duration of relief")
    relief, km = _relief(engine.rows(sql.relief()), engine.rows(sql.km()))
    step("complications and repeats")
    complications = _complications(engine.rows(sql.complications()))
    episodes = {(r.procedure, r.dimension, r.value): r.episodes for r in complications}
    types = _complication_types(engine.rows(sql.complication_types()), episodes)
    repeats = _repeats(engine.rows(sql.repeats()), episodes)
    summary = DatasetSummary(episodes=size[0], patients=size[1], sites=size[2], procedures=size[3],
                             followups_scheduled=size[4], followups_answered=size[5], complications=size[6],
                             predictor_rows=size[7], predictor_names=names)

    # A breakdown is shown for a procedure only where the dimension is recorded for some episode.
    recorded = {(r.procedure, r.dimension) for r in complications
                if r.dimension == "procedure" or r.value != NOT_RECORDED}
    key = _ordering(sql, definitions)

    def keep(rows: Sequence[Any]) -> list[Any]:
        return sorted((r for r in rows if (r.procedure, r.dimension) in recorded), key=key)

    procedures = sorted({r.procedure for r in complications})
    return OutcomesReport(
        title=settings.title, engine=engine.name, generated_at=now or datetime.now(UTC),
        knowledge_hash=settings.knowledge_hash, disclaimer=settings.disclaimer,
        procedure_names={p: settings.procedure_names.get(p, p) for p in procedures},
        definitions=[DefinitionOut(id=d.id, label=d.label, measure=d.measure,
                                   min_reduction_points=d.min_reduction_points,
                                   min_reduction_pct=d.min_reduction_pct,
                                   sources=_notes(d.sources, settings.citations)) for d in definitions],
        methods=Methods(relief_margin_points=oa.relief_margin_points,
                        relief_margin_sources=_notes(oa.relief_margin_sources, settings.citations),
                        rules=_rules(oa.relief_margin_points),
                        relief_onsets=_onsets(procedures, settings)),
        summary=summary, notes=notes,
        completeness=keep(completeness), responders=keep(responders), relief=keep(relief), km=keep(km),
        repeats=keep(repeats), complications=keep(complications),
        complication_types=sorted(types, key=key),
    )


def _onsets(procedures: Sequence[str], settings: ReportSettings) -> list[OnsetOut]:
    """The relief onset applied to each procedure in the report, stated (with sources) or not (0),
    in the report's order of procedure names."""
    out = []
    for p in sorted(procedures, key=lambda p: (settings.procedure_names.get(p, p), p)):
        o = settings.relief_onsets.get(p)
        out.append(OnsetOut(procedure=p, days=o.days if o else 0, stated=o is not None,
                            sources=_notes(o.sources, settings.citations) if o else []))
    return out


def _predictors(rows: list[tuple[Any, ...]]) -> list[Predictor]:
    values: dict[str, list[str]] = defaultdict(list)
    most: dict[str, int] = {}
    for name, value, n in rows:
        values[str(name)].append(str(value))
        most[str(name)] = int(n)
    return [Predictor(name, tuple(values[name]) if most[name] > 1 else None) for name in sorted(values)]


def _integrity(dup_episodes: int, baseline_rows: int, out_of_range: int, orphan_fu: int, orphan_comp: int
               ) -> list[str]:
    if dup_episodes:
        raise InputError(f"outcomes dataset: {dup_episodes} episode id(s) occur more than once in episodes",
                         field="episodes.episode_id")
    if baseline_rows > 1:
        raise InputError("outcomes dataset: an episode has more than one answered baseline (day 0) follow-up",
                         field="followups.days")
    if out_of_range:
        raise InputError(f"outcomes dataset: {out_of_range} follow-up row(s) have a negative day or a score out "
                         "of range (NRS 0-10, ODI 0-100, BNI 1-5)", field="followups")
    notes = []
    if orphan_fu:
        notes.append(f"{orphan_fu:,} follow-up row(s) name no episode in the dataset and were left out.")
    if orphan_comp:
        notes.append(f"{orphan_comp:,} complication row(s) name no episode in the dataset and were left out.")
    return notes


def _group(r: Sequence[Any]) -> Group:
    return str(r[0]), str(r[1]), str(r[2])


def _completeness_responders(rows: list[tuple[Any, ...]], definitions: Sequence[ResponderDefinition]
                             ) -> tuple[list[CompletenessRow], list[ResponderRow]]:
    k = len(definitions)
    comp: list[CompletenessRow] = []
    resp: list[ResponderRow] = []
    for r in rows:
        procedure, dimension, value = _group(r)
        timepoint, days, scheduled, answered = str(r[3]), int(r[4]), int(r[5]), int(r[6] or 0)
        lo, hi = wilson(answered, scheduled)
        comp.append(CompletenessRow(procedure=procedure, dimension=dimension, value=value, timepoint=timepoint,
                                    days=days, scheduled=scheduled, answered=answered,
                                    rate=rate(answered, scheduled), ci_low=lo, ci_high=hi))
        if days <= 0:
            continue
        for i, d in enumerate(definitions):
            ev, rs = int(r[7 + i] or 0), int(r[7 + k + i] or 0)
            lo, hi = wilson(rs, ev)
            resp.append(ResponderRow(procedure=procedure, dimension=dimension, value=value, timepoint=timepoint,
                                     days=days, definition=d.id, scheduled=scheduled, answered=answered,
                                     evaluable=ev, not_evaluable=answered - ev, responders=rs,
                                     rate=rate(rs, ev), ci_low=lo, ci_high=hi))
    return comp, resp


def _relief(status_rows: list[tuple[Any, ...]], km_rows: list[tuple[Any, ...]]
            ) -> tuple[list[ReliefRow], list[KMRow]]:
    counts: dict[Group, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in status_rows:
        counts[_group(r)][str(r[3])] += int(r[5])
    curves: dict[Group, list[tuple[float, int, int, int]]] = defaultdict(list)
    for r in km_rows:
        curves[_group(r)].append((float(r[3]), int(r[4]), int(r[5]), int(r[6])))
    relief: list[ReliefRow] = []
    km: list[KMRow] = []
    for g, c in counts.items():
        points = sorted(curves.get(g, []))
        median = lo = hi = last = None
        if points:
            est = kaplan_meier([p[0] for p in points], [p[1] for p in points], [p[2] for p in points],
                               at_risk=[p[3] for p in points])
            median = est.median()
            lo, hi = est.median_ci()
            last = float(est.times[-1])
            for i in range(len(est.times)):
                km.append(KMRow(procedure=g[0], dimension=g[1], value=g[2], days=float(est.times[i]),
                                at_risk=int(est.at_risk[i]), events=int(est.events[i]),
                                censored=int(est.censored[i]), survival=float(est.survival[i]),
                                ci_low=float(est.ci_low[i]), ci_high=float(est.ci_high[i])))
        included = c["event"] + c["censored"]
        relief.append(ReliefRow(procedure=g[0], dimension=g[1], value=g[2], episodes=sum(c.values()),
                                no_baseline=c["no_baseline"], baseline_below_margin=c["baseline_below_margin"],
                                no_followup=c["no_followup"], only_before_onset=c["only_before_onset"],
                                included=included, events=c["event"],
                                censored=c["censored"], median_days=median, median_ci_low=lo,
                                median_ci_high=hi, last_time_days=last))
    return relief, km


def _complications(rows: list[tuple[Any, ...]]) -> list[ComplicationRow]:
    out = []
    for r in rows:
        procedure, dimension, value = _group(r)
        n, any_, serious = int(r[3]), int(r[4] or 0), int(r[5] or 0)
        lo, hi = wilson(any_, n)
        slo, shi = wilson(serious, n)
        out.append(ComplicationRow(procedure=procedure, dimension=dimension, value=value, episodes=n,
                                   with_complication=any_, rate=rate(any_, n), ci_low=lo, ci_high=hi,
                                   with_serious=serious, serious_rate=rate(serious, n), serious_ci_low=slo,
                                   serious_ci_high=shi))
    return out


def _complication_types(rows: list[tuple[Any, ...]], episodes: Mapping[Group, int]) -> list[ComplicationTypeRow]:
    out = []
    for r in rows:
        procedure, complication, with_event, serious = str(r[0]), str(r[1]), int(r[2]), int(r[3])
        n = episodes.get((procedure, "procedure", "all"), 0)
        lo, hi = wilson(with_event, n)
        out.append(ComplicationTypeRow(procedure=procedure, complication=complication, episodes=n,
                                       with_event=with_event, serious_episodes=serious,
                                       rate=rate(with_event, n), ci_low=lo, ci_high=hi))
    return out


def _repeats(rows: list[tuple[Any, ...]], episodes: Mapping[Group, int]) -> list[RepeatRow]:
    found = {_group(r): r for r in rows}
    out = []
    for g, n in episodes.items():
        r = found.get(g)
        repeated = int(r[3]) if r else 0
        out.append(RepeatRow(procedure=g[0], dimension=g[1], value=g[2], episodes=n, repeated=repeated,
                             share=rate(repeated, n),
                             median_days=float(r[4]) if r else None, q1_days=float(r[5]) if r else None,
                             q3_days=float(r[6]) if r else None, min_days=int(r[7]) if r else None,
                             max_days=int(r[8]) if r else None))
    return out
