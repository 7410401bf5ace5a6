"""Every outcome figure as SQL, written once in the DuckDB dialect.

DuckDB runs this text as it is; Spark runs the same text transpiled by sqlglot (see
:mod:`spinepath.outcomes.analytics.engines`). Nothing here depends on the engine, and nothing is
computed in floating point that could differ between engines: the queries return integer counts
(and exact quantiles of integer day counts); rates, Wilson intervals and the Kaplan-Meier
product are computed afterwards from those counts in Python, the same for every engine.

Shape of the computation (relations built in order, see :meth:`AnalyticsSql.relations`):

1. ``ep_raw``: one row per episode with its grouping values (site, level, side, each predictor
   pivoted to columns; a missing value becomes ``(not recorded)``) and its baseline answer (the
   completed follow-up at day 0). ``fine_keys`` numbers every distinct combination of grouping
   values (a few thousand at most) and ``ep`` carries that number, ``key_id``.
2. Per-episode and "fine" aggregates keyed by ``key_id`` — follow-up counts and responder flags
   per time point (``fu_fine``), relief status and time (``relief_ep`` → ``relief_fine``),
   complications (``comp_fine``), intervals to the next same procedure (``repeat_ep``) — so each
   pass over the follow-ups happens once, whatever the number of breakdowns.
3. Each figure is then rolled up to one row per (procedure, dimension, value) in one aggregation
   over the fine rows crossed with the list of dimensions (:meth:`AnalyticsSql.exploded`), which
   is exact because the fine measures are counts (quantiles of repeat intervals are taken over the
   per-episode intervals themselves).

The rules (all from content, ``shared.outcome_analytics``):

- A follow-up responds to a definition when the reduction from baseline reaches every threshold
  it gives: points ``baseline - value >= p`` and percent ``(baseline - value) * 100 >= pct *
  baseline`` (the division-free form of ``(b - v) / b * 100 >= pct``, so no rounding decides a
  borderline case). It is evaluable only when answered, with the measure present at baseline and
  at the time point, and — for a percent threshold — a baseline above 0 (percent change is
  undefined at 0). Answered but not evaluable is reported, never counted as a non-response.
- Relief is judged on completed post-procedure follow-ups with a pain score, from the episode's
  relief onset day (its procedure's ``followup.relief_onset_days``, 0 when content states none;
  ``ep.onset_days``, a CASE generated from content by :meth:`AnalyticsSql.onset_expr`): a
  follow-up before that day never ends relief. Relief ends at the first follow-up on or after
  the onset day whose reduction from baseline is below the margin; an episode still relieved at
  its last such follow-up is censored there. Episodes without a baseline score, with a baseline
  below the margin (no reduction of that size is possible, so relief cannot be measured), without
  any such follow-up, or with such follow-ups only before the onset day are excluded and counted
  by reason (see :mod:`spinepath.outcomes.dataset`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from spinepath.knowledge.schema import ResponderDefinition

NOT_RECORDED = "(not recorded)"
ALL = "all"
MEASURES = {"nrs": "nrs", "odi": "odi", "bni": "bni"}


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def num(value: float) -> str:
    """A DOUBLE literal (a bare 30.0 is DECIMAL in both engines)."""
    return f"CAST({float(value)!r} AS DOUBLE)"


@dataclass(frozen=True)
class Predictor:
    """A predictor name in the data. ``values`` is None when every episode has at most one value
    (one pivoted column); otherwise some episode has several (e.g. every phenotype an assessment
    found) and each value gets its own yes/no column, so an episode counts in each of its groups."""

    name: str
    values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Dimension:
    """A grouping: ``procedure`` alone, or procedure by one episode attribute held in ``column``.
    ``keep`` limits the rows a column contributes (multi-valued predictors: a value column gives
    only its recorded group, the ``any`` column only the not-recorded group)."""

    name: str        # procedure | site | level | side | predictor:<name>
    column: str      # column of ``ep_raw`` holding the value ('' for procedure)
    keep: str = "all"  # all | recorded | not_recorded


@dataclass(frozen=True)
class AnalyticsSql:
    """The SQL for one dataset: the responder definitions, the relief margin, the predictors
    present in the data (each becomes pivoted columns ``d_p0``, ``d_p1_0``, …) and each
    procedure's relief onset in days (procedures not named: 0, judged from the first follow-up)."""

    definitions: Sequence[ResponderDefinition]
    margin: float
    predictors: Sequence[Predictor]
    onsets: Mapping[str, int] = field(default_factory=dict)

    def onset_expr(self, column: str) -> str:
        """The relief onset day of the procedure in ``column``: one CASE written from content, so
        DuckDB and Spark read the same numbers and no table has to be shipped to the engine."""
        cases = " ".join(f"WHEN {lit(p)} THEN {int(d)}" for p, d in sorted(self.onsets.items()) if d > 0)
        return f"CASE {column} {cases} ELSE 0 END" if cases else "0"

    # ------------------------------------------------------------ dimensions

    def _predictor_columns(self) -> list[tuple[Dimension, str]]:
        """(dimension, SQL expression over the pivot ``p``) per predictor column."""
        nr = lit(NOT_RECORDED)
        out = []
        for i, pr in enumerate(self.predictors):
            dim = f"predictor:{pr.name}"
            if pr.values is None:
                out.append((Dimension(dim, f"d_p{i}"), f"coalesce(p.p{i}, {nr})"))
                continue
            for j, v in enumerate(pr.values):
                out.append((Dimension(dim, f"d_p{i}_{j}", "recorded"),
                            f"CASE WHEN p.p{i}_{j} > 0 THEN {lit(v)} ELSE {nr} END"))
            out.append((Dimension(dim, f"d_p{i}_any", "not_recorded"),
                        f"CASE WHEN p.n{i} > 0 THEN {lit('recorded')} ELSE {nr} END"))
        return out

    @property
    def dimensions(self) -> list[Dimension]:
        dims = [Dimension("procedure", ""), Dimension("site", "d_site"), Dimension("level", "d_level"),
                Dimension("side", "d_side")]
        return dims + [d for d, _ in self._predictor_columns()]

    @property
    def dimension_names(self) -> list[str]:
        """Each dimension once, in report order."""
        return list(dict.fromkeys(d.name for d in self.dimensions))

    @property
    def fine_keys(self) -> list[str]:
        return ["procedure"] + [d.column for d in self.dimensions if d.column]

    def exploded(self, source: str, columns: Sequence[str]) -> str:
        """``source`` (a relation with ``key_id``) once per dimension: (procedure, dimension, value,
        *columns). One cross join with the list of dimensions instead of a UNION of one GROUP BY per
        dimension, so each figure is a single aggregation (one shuffle on Spark, not one per dimension)."""
        dims = self.dimensions
        nr = lit(NOT_RECORDED)
        name = " ".join(f"WHEN {i} THEN {lit(d.name)}" for i, d in enumerate(dims))
        value = " ".join(f"WHEN {i} THEN {f'k.{d.column}' if d.column else lit(ALL)}" for i, d in enumerate(dims))
        keep = " ".join(f"WHEN {i} THEN k.{d.column} {'<>' if d.keep == 'recorded' else '='} {nr}"
                        for i, d in enumerate(dims) if d.keep != "all")
        where = f" WHERE CASE dims.k {keep} ELSE TRUE END" if keep else ""
        values = ", ".join(f"({i})" for i in range(len(dims)))
        cols = "".join(f", s.{c}" for c in columns)
        return (f"(SELECT k.procedure, CASE dims.k {name} END AS dimension, CASE dims.k {value} END AS value{cols} "
                f"FROM {source} s JOIN fine_keys k ON k.key_id = s.key_id "
                f"CROSS JOIN (VALUES {values}) AS dims(k){where}) x")

    def rollup(self, source: str, extra_keys: Sequence[str], measures: Sequence[str]) -> str:
        """One row per (procedure, dimension, value, *extra_keys) with each measure summed."""
        sums = ", ".join(f"sum({m}) AS {m}" for m in measures)
        extra = "".join(f", {k}" for k in extra_keys)
        return (f"SELECT procedure, dimension, value{extra}, {sums} FROM {self.exploded(source, [*extra_keys, *measures])} "
                f"GROUP BY procedure, dimension, value{extra}")

    # ------------------------------------------------------------ relations (created in order)

    def relations(self) -> list[tuple[str, str]]:
        """(name, SELECT) pairs; each is materialised before the next is built."""
        return [
            ("ep_raw", self._ep_raw()),
            ("fine_keys", self._keys()),
            ("ep", self._ep()),
            ("fu_fine", self._fu_fine()),
            ("relief_ep", self._relief_ep()),
            ("relief_fine", self._relief_fine()),
            ("comp_fine", self._comp_fine()),
            ("repeat_ep", self._repeat_ep()),
            ("relief_groups", self.rollup("relief_fine", ["status", "time"], ["n"])),
        ]

    def _ep_raw(self) -> str:
        """Episodes with their grouping values, pivoted predictors and baseline answer."""
        nr = lit(NOT_RECORDED)
        cols = [f"coalesce(e.site, {nr}) AS d_site", f"coalesce(e.level, {nr}) AS d_level",
                f"coalesce(e.side, {nr}) AS d_side"]
        cols += [f"{expr} AS {d.column}" for d, expr in self._predictor_columns()]
        sql = ("SELECT e.episode_id, e.patient_id, e.procedure, e.performed_on, " + ", ".join(cols)
               + ", b.b_nrs, b.b_odi, b.b_bni, coalesce(b.n_base, 0) AS baseline_rows FROM episodes e ")
        if self.predictors:
            pivots = []
            for i, pr in enumerate(self.predictors):
                is_name = f"name = {lit(pr.name)}"
                if pr.values is None:
                    pivots.append(f"max(CASE WHEN {is_name} THEN value END) AS p{i}")
                else:
                    pivots += [f"max(CASE WHEN {is_name} AND value = {lit(v)} THEN 1 ELSE 0 END) AS p{i}_{j}"
                               for j, v in enumerate(pr.values)]
                    pivots.append(f"sum(CASE WHEN {is_name} THEN 1 ELSE 0 END) AS n{i}")
            sql += (f"LEFT JOIN (SELECT episode_id, {', '.join(pivots)} FROM predictors GROUP BY episode_id) p "
                    "ON p.episode_id = e.episode_id ")
        sql += ("LEFT JOIN (SELECT episode_id, max(nrs) AS b_nrs, max(odi) AS b_odi, "
                "max(CAST(bni AS DOUBLE)) AS b_bni, count(*) AS n_base FROM followups "
                "WHERE days = 0 AND completed GROUP BY episode_id) b ON b.episode_id = e.episode_id")
        return sql

    def _keys(self) -> str:
        """Every distinct combination of grouping values, numbered (a few thousand rows at most)."""
        cols = ", ".join(self.fine_keys)
        return (f"SELECT row_number() OVER (ORDER BY {cols}) AS key_id, {cols} "
                f"FROM (SELECT DISTINCT {cols} FROM ep_raw) k")

    def _ep(self) -> str:
        on = " AND ".join(f"k.{c} = e.{c}" for c in self.fine_keys)
        return ("SELECT e.episode_id, e.patient_id, e.procedure, e.performed_on, k.key_id, e.b_nrs, e.b_odi, "
                f"e.b_bni, {self.onset_expr('e.procedure')} AS onset_days FROM ep_raw e JOIN fine_keys k ON {on}")

    def _flags(self) -> list[tuple[str, str]]:
        """(evaluable, responder) expressions per definition, over followups ``f`` and episodes ``b``."""
        out = []
        for d in self.definitions:
            v = f"CAST(f.{MEASURES[d.measure]} AS DOUBLE)"
            b = f"b.b_{d.measure}"
            cond = f"f.days > 0 AND f.completed AND {v} IS NOT NULL AND {b} IS NOT NULL"
            if d.min_reduction_pct is not None:
                cond += f" AND {b} > 0"
            hit = []
            if d.min_reduction_points is not None:
                hit.append(f"{b} - {v} >= {num(d.min_reduction_points)}")
            if d.min_reduction_pct is not None:
                hit.append(f"({b} - {v}) * {num(100)} >= {num(d.min_reduction_pct)} * {b}")
            out.append((f"CASE WHEN {cond} THEN 1 ELSE 0 END",
                        f"CASE WHEN {cond} AND {' AND '.join(hit)} THEN 1 ELSE 0 END"))
        return out

    def _fu_fine(self) -> str:
        flags = "".join(f", sum({ev}) AS ev{i}, sum({rs}) AS rs{i}" for i, (ev, rs) in enumerate(self._flags()))
        bad = ("CASE WHEN f.days < 0 OR f.nrs < 0 OR f.nrs > 10 OR f.odi < 0 OR f.odi > 100 OR f.bni < 1 "
               "OR f.bni > 5 THEN 1 ELSE 0 END")
        return ("SELECT b.key_id, f.timepoint, f.days, count(*) AS scheduled, "
                f"sum(CASE WHEN f.completed THEN 1 ELSE 0 END) AS answered{flags}, sum({bad}) AS out_of_range "
                "FROM followups f JOIN ep b ON b.episode_id = f.episode_id "
                "GROUP BY b.key_id, f.timepoint, f.days")

    def _relief_ep(self) -> str:
        """Per episode with a measurable baseline: the first day relief is found over and the last
        day it was judged (both on or after the onset day), and how many scored follow-ups it has."""
        m = num(self.margin)
        judged = "f.days >= b.onset_days"
        return ("SELECT b.episode_id, "
                f"min(CASE WHEN {judged} AND b.b_nrs - f.nrs < {m} THEN f.days END) AS end_day, "
                f"max(CASE WHEN {judged} THEN f.days END) AS last_day, count(*) AS scored "
                "FROM followups f JOIN ep b ON b.episode_id = f.episode_id "
                f"WHERE f.days > 0 AND f.completed AND f.nrs IS NOT NULL AND b.b_nrs >= {m} "
                "GROUP BY b.episode_id")

    def _relief_fine(self) -> str:
        m = num(self.margin)
        status = (f"CASE WHEN e.b_nrs IS NULL THEN 'no_baseline' WHEN e.b_nrs < {m} THEN 'baseline_below_margin' "
                  "WHEN r.scored IS NULL THEN 'no_followup' WHEN r.last_day IS NULL THEN 'only_before_onset' "
                  "WHEN r.end_day IS NOT NULL THEN 'event' "
                  "ELSE 'censored' END")
        time = "CASE WHEN r.end_day IS NOT NULL THEN r.end_day ELSE r.last_day END"
        return (f"SELECT e.key_id, {status} AS status, {time} AS time, count(*) AS n FROM ep e "
                "LEFT JOIN relief_ep r ON r.episode_id = e.episode_id "
                f"GROUP BY e.key_id, {status}, {time}")

    @staticmethod
    def _comp_fine() -> str:
        return ("SELECT e.key_id, count(*) AS episodes, sum(CASE WHEN c.episode_id IS NULL THEN 0 ELSE 1 END) "
                "AS with_complication, sum(coalesce(c.serious, 0)) AS with_serious FROM ep e "
                "LEFT JOIN (SELECT episode_id, max(CASE WHEN serious THEN 1 ELSE 0 END) AS serious "
                "FROM complications GROUP BY episode_id) c ON c.episode_id = e.episode_id "
                "GROUP BY e.key_id")

    @staticmethod
    def _repeat_ep() -> str:
        """Days from each repeated episode to the same patient's next episode of the same procedure
        (only patients with more than one episode can have one)."""
        nxt = ("lead(performed_on) OVER (PARTITION BY patient_id, procedure "
               "ORDER BY performed_on, episode_id)")
        return ("SELECT key_id, gap FROM (SELECT key_id, "
                f"date_diff('day', performed_on, {nxt}) AS gap FROM ep WHERE patient_id IN "
                "(SELECT patient_id FROM ep GROUP BY patient_id HAVING count(*) > 1)) g WHERE gap IS NOT NULL")

    # ------------------------------------------------------------ result queries

    def completeness_responders(self) -> str:
        k = len(self.definitions)
        measures = ["scheduled", "answered"] + [f"ev{i}" for i in range(k)] + [f"rs{i}" for i in range(k)]
        return self.rollup("fu_fine", ["timepoint", "days"], measures)

    @staticmethod
    def relief() -> str:
        """Episodes per (group, relief status, time)."""
        return "SELECT procedure, dimension, value, status, time, n FROM relief_groups"

    def km(self) -> str:
        """(group, time, events, censored, at risk): at risk counts every included episode whose
        time is at or after ``time``."""
        grouped = ("SELECT procedure, dimension, value, time, "
                   "sum(CASE WHEN status = 'event' THEN n ELSE 0 END) AS events, "
                   "sum(CASE WHEN status = 'censored' THEN n ELSE 0 END) AS censored "
                   "FROM relief_groups WHERE status IN ('event', 'censored') "
                   "GROUP BY procedure, dimension, value, time")
        return ("SELECT procedure, dimension, value, time, events, censored, "
                "sum(events + censored) OVER (PARTITION BY procedure, dimension, value ORDER BY time DESC "
                "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS at_risk "
                f"FROM ({grouped}) g")

    def complications(self) -> str:
        measures = ["episodes", "with_complication", "with_serious"]
        return self.rollup("comp_fine", [], measures)

    @staticmethod
    def complication_types() -> str:
        return ("SELECT e.procedure, c.complication, count(DISTINCT c.episode_id) AS with_event, "
                "count(DISTINCT CASE WHEN c.serious THEN c.episode_id END) AS serious_episodes "
                "FROM complications c JOIN ep e ON e.episode_id = c.episode_id "
                "GROUP BY e.procedure, c.complication")

    def repeats(self) -> str:
        """Intervals to the next same procedure, attributed to the earlier episode's groups."""
        gap = "CAST(gap AS DOUBLE)"
        return ("SELECT procedure, dimension, value, count(*) AS repeated, "
                f"quantile_cont({gap}, 0.5) AS median, quantile_cont({gap}, 0.25) AS q1, "
                f"quantile_cont({gap}, 0.75) AS q3, min(gap) AS min_gap, max(gap) AS max_gap "
                f"FROM {self.exploded('repeat_ep', ['gap'])} GROUP BY procedure, dimension, value")

    @staticmethod
    def predictors_query() -> str:
        """Each predictor name with its distinct values and the most rows any one episode has for it
        (more than 1: a multi-valued predictor, such as every phenotype an assessment found)."""
        return ("SELECT name, value, max(n) OVER (PARTITION BY name) AS most FROM (SELECT p.name, p.value, "
                "m.n FROM (SELECT DISTINCT name, value FROM predictors) p JOIN (SELECT name, max(k) AS n FROM "
                "(SELECT episode_id, name, count(*) AS k FROM predictors GROUP BY episode_id, name) c "
                "GROUP BY name) m ON m.name = p.name) x ORDER BY name, value")

    @staticmethod
    def checks() -> str:
        """One row: the dataset's size (episodes, patients, sites, procedures, follow-ups scheduled and
        answered, complications, predictor rows), then counts that make it ambiguous — episode ids
        used twice, two baseline answers, scores out of range — and rows that name no episode
        (follow-ups, complications)."""
        return ("SELECT (SELECT count(*) FROM ep), (SELECT count(DISTINCT patient_id) FROM ep), "
                "(SELECT count(DISTINCT site) FROM episodes), (SELECT count(DISTINCT procedure) FROM ep), "
                "(SELECT count(*) FROM followups), "
                "(SELECT sum(CASE WHEN completed THEN 1 ELSE 0 END) FROM followups), "
                "(SELECT count(*) FROM complications), (SELECT count(*) FROM predictors), "
                "(SELECT count(*) - count(DISTINCT episode_id) FROM ep_raw), "
                "(SELECT coalesce(max(baseline_rows), 0) FROM ep_raw), "
                "(SELECT coalesce(sum(out_of_range), 0) FROM fu_fine), "
                "(SELECT count(*) FROM followups) - (SELECT coalesce(sum(scheduled), 0) FROM fu_fine), "
                "(SELECT count(*) FROM complications) - (SELECT count(*) FROM complications c JOIN ep e "
                "ON e.episode_id = c.episode_id)")
