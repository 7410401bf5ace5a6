"""Population screening: the same plan, rendered as one DuckDB query.

Nothing here restates a clinical rule. Base facts come from their specs' ``sql()``, derived
facts and every criterion from the criterion text via sqlglot, and the status CASE mirrors
:func:`spinepath.rules.status.decide` step by step. A test checks that screening and per-case
``assess`` agree on thousands of generated cases.

The connection is passed in: this module builds SQL and runs it on whatever DuckDB
connection the caller owns.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from spinepath.case.model import PatientCase
from spinepath.case.spec import (
    DAYS_PER_MONTH,
    Agg,
    All,
    Any_,
    CasePath,
    Cmp,
    Cond,
    InCaseList,
    LatestValue,
    MonthsSinceLatest,
    _sql_case_path,
    _sql_lit,
    cond_sql,
)
from spinepath.rules.plan import Plan, ProcedurePlan, Rule

# ------------------------------------------------------------------ DuckDB type of a case


def _duck_type(ann: Any) -> str:
    origin = get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [x for x in get_args(ann) if x is not type(None)]
        return _duck_type(args[0])
    if origin is typing.Annotated:
        return _duck_type(get_args(ann)[0])
    if origin is Literal:
        return "VARCHAR"
    if origin is list:
        return _duck_type(get_args(ann)[0]) + "[]"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        fields = ", ".join(f'"{n}" {_duck_type(f.annotation)}' for n, f in ann.model_fields.items())
        return f"STRUCT({fields})"
    return {bool: "BOOLEAN", int: "BIGINT", float: "DOUBLE", str: "VARCHAR", date: "DATE"}[ann]


def case_columns() -> dict[str, str]:
    """Column name -> DuckDB type for PatientCase stored one row per case (nested)."""
    return {name: _duck_type(f.annotation) for name, f in PatientCase.model_fields.items()}


# ------------------------------------------------------------------ SQL rendering


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _any_true(cols: list[str]) -> str:
    return "(" + " OR ".join(f"coalesce({c}, FALSE)" for c in cols) + ")" if cols else "FALSE"


def _any_false(cols: list[str]) -> str:
    return "(" + " OR ".join(f"coalesce(NOT {c}, FALSE)" for c in cols) + ")" if cols else "FALSE"


def _any_null(cols: list[str]) -> str:
    return "(" + " OR ".join(f"({c} IS NULL)" for c in cols) + ")" if cols else "FALSE"


def _all_true(cols: list[str]) -> str:
    return "(" + " AND ".join(f"coalesce({c}, FALSE)" for c in cols) + ")" if cols else "TRUE"


def _col(r: Rule) -> str:
    return _q("r:" + r.rule)


def status_sql(pp: ProcedurePlan, deferred: str, unscreened: str = "FALSE",
               col: Callable[[Rule], str] = _col) -> str:
    """CASE expression that mirrors ``decide`` for one procedure; ``col`` names a rule's column."""
    def c(rules: tuple[Rule, ...] | list[Rule]) -> list[str]:
        return [col(r) for r in rules]

    applies = col(pp.applies)
    rw = col(pp.repeat_when) if pp.repeat_when else None
    repeat_unmet = f"(coalesce({rw}, FALSE) AND {_any_false(c(pp.repeat))})" if rw else "FALSE"
    if rw:
        repeat_capped = f"({rw} IS NULL OR (coalesce({rw}, FALSE) AND {_any_null(c(pp.repeat))}))"
    else:
        repeat_capped = "FALSE"
    recommended_ok = (
        "FALSE" if pp.proc.max_status != "recommended" else
        f"({_all_true(c(pp.recommend))} AND NOT {_any_null(c([*pp.absolute, *pp.exclusions]))} "
        f"AND NOT {_any_true(c(pp.relative))} AND NOT {repeat_capped} AND NOT {unscreened})"
    )
    return (
        "CASE "
        f"WHEN {deferred} THEN 'deferred' "
        f"WHEN {applies} = FALSE THEN 'not_indicated' "
        f"WHEN {applies} IS NULL THEN 'insufficient_information' "
        f"WHEN {_any_true(c(pp.exclusions))} OR {_any_false(c(pp.indications))} THEN 'not_indicated' "
        f"WHEN {_any_true(c(pp.absolute))} THEN 'contraindicated' "
        f"WHEN {_any_null(c(pp.indications))} THEN 'insufficient_information' "
        f"WHEN {_any_false(c(pp.prerequisites))} OR {repeat_unmet} THEN 'not_yet' "
        f"WHEN {_any_null(c(pp.prerequisites))} THEN 'insufficient_information' "
        f"WHEN {recommended_ok} THEN 'recommended' "
        "ELSE 'consider' END"
    )


def _case_paths(c: Cond | None) -> set[str]:
    """Case values a list condition reads; only these ride along in the unnested rows."""
    if c is None:
        return set()
    if isinstance(c, Cmp) and isinstance(c.other, CasePath):
        return {c.other.path}
    if isinstance(c, InCaseList):
        return {c.case_list}
    if isinstance(c, (All, Any_)):
        return set().union(*(_case_paths(p) for p in c.parts))
    return set()


def _agg_parts(sp: Agg, name: str, hit: str, pred: str, alias: str, lst_sql: str,
               aggs: list[str], final: dict[str, str]) -> None:
    col, ncol = _q("g:" + name), _q("n:" + name)
    if sp.fn == "exists":
        aggs.append(f"CASE WHEN bool_or({hit}) THEN TRUE WHEN bool_or(({pred}) IS NULL) THEN NULL "
                    f"ELSE FALSE END AS {col}")
        # an empty list has no group row (FALSE); a group's NULL means unknown and stays NULL
        final[name] = (f"CASE WHEN {lst_sql} IS NULL THEN NULL WHEN len({lst_sql}) = 0 THEN FALSE "
                       f"ELSE {alias}.{col} END")
    elif sp.fn == "count":
        aggs.append(f"count(*) FILTER (WHERE {hit}) AS {col}")
        final[name] = f"CASE WHEN {lst_sql} IS NULL THEN NULL ELSE coalesce({alias}.{col}, 0) END"
    else:
        assert sp.value is not None
        val = "x" if sp.value == "@" else f"struct_extract(x, '{sp.value}')"
        aggs.append(f"{sp.fn}({val}) FILTER (WHERE {hit}) AS {col}")
        aggs.append(f"count(*) FILTER (WHERE {hit}) AS {ncol}")
        final[name] = (f"CASE WHEN {lst_sql} IS NULL THEN NULL WHEN coalesce({alias}.{ncol}, 0) = 0 "
                       f"THEN {_sql_lit(sp.empty)} ELSE {alias}.{col} END")


def _cp(path: str) -> str:
    return _q("cp:" + path)


ListSpec = Agg | LatestValue | MonthsSinceLatest


def facts_sql(plan: Plan, source: str, now: date) -> tuple[list[str], str]:
    """The base-fact layer: (CTEs, SELECT of case_id and every base fact).

    ``source`` must have a stable ``__rid`` column. Aggregates over a case's lists run as one
    UNNEST ... GROUP BY pass per list (DuckDB's hash aggregation beats per-row list lambdas by
    2-3x here) and are joined back on ``__rid``; three-valued semantics are those of
    :class:`spinepath.case.spec.Agg`.
    """
    params = plan.params
    by_list: dict[str, list[tuple[str, ListSpec]]] = {}
    for name, spec in plan.base:
        if isinstance(spec, (Agg, LatestValue, MonthsSinceLatest)):
            by_list.setdefault(spec.list, []).append((name, spec))
    ctes: list[str] = []
    joins: list[str] = []
    final: dict[str, str] = {}
    for i, (lst, facts) in enumerate(sorted(by_list.items())):
        alias = f"g{i}"
        paths = sorted(set().union(*(_case_paths(sp.where) for _, sp in facts)))
        extra = "".join(f", {_sql_case_path(p)} AS {_cp(p)}" for p in paths)
        lst_sql = _sql_case_path(lst)
        aggs: list[str] = []
        windows: dict[tuple[str, str], str] = {}  # (condition SQL, date field) -> latest-date column
        for name, sp in facts:
            pred = cond_sql(sp.where, params, case_path=_cp) if sp.where is not None else "TRUE"
            hit = f"coalesce({pred}, FALSE)"
            col, ncol = _q("g:" + name), _q("n:" + name)
            if isinstance(sp, Agg):
                _agg_parts(sp, name, hit, pred, alias, lst_sql, aggs, final)
                continue
            date = f"struct_extract(x, '{sp.date_field}')"
            undated = _q("u:" + name)
            aggs.append(f"count(*) FILTER (WHERE {hit}) AS {ncol}")
            aggs.append(f"bool_or({hit} AND {date} IS NULL) AS {undated}")
            unknown = (f"{lst_sql} IS NULL OR coalesce({alias}.{ncol}, 0) = 0 "
                       f"OR coalesce({alias}.{undated}, FALSE)")
            if isinstance(sp, MonthsSinceLatest):
                aggs.append(f"max({date}) FILTER (WHERE {hit}) AS {col}")
                final[name] = (f"CASE WHEN {unknown} THEN NULL ELSE date_diff('day', {alias}.{col}, "
                               f"DATE '{now.isoformat()}') / {DAYS_PER_MONTH} END")
                continue
            # LatestValue: values at the latest matching date must agree, else unknown
            latest = windows.setdefault((pred, sp.date_field), _q(f"w:{len(windows)}"))
            at_latest = f"{hit} AND {date} = {latest}"
            val = f"struct_extract(x, '{sp.value}')"
            vmin, vmax, vnull = _q("lo:" + name), _q("hi:" + name), _q("vn:" + name)
            aggs.append(f"min({val}) FILTER (WHERE {at_latest}) AS {vmin}")
            aggs.append(f"max({val}) FILTER (WHERE {at_latest}) AS {vmax}")
            aggs.append(f"bool_or({at_latest} AND {val} IS NULL) AS {vnull}")
            final[name] = (f"CASE WHEN {unknown} OR coalesce({alias}.{vnull}, FALSE) THEN NULL "
                           f"WHEN {alias}.{vmin} = {alias}.{vmax} THEN {alias}.{vmin} ELSE NULL END")
        win = "".join(
            f", max(CASE WHEN coalesce({pred}, FALSE) THEN struct_extract(x, '{field}') END) "
            f"OVER (PARTITION BY __rid) AS {w}" for (pred, field), w in windows.items())
        inner = f"SELECT __rid, unnest({lst_sql}) AS x{extra} FROM src"
        if windows:
            inner = f"SELECT *{win} FROM ({inner})"
        ctes.append(f"{alias} AS (SELECT __rid, {', '.join(aggs)} FROM ({inner}) GROUP BY __rid)")
        joins.append(f"LEFT JOIN {alias} ON {alias}.__rid = src.__rid")
    cols = []
    for name, spec in plan.base:
        expr = final[name] if name in final else spec.sql(params, now)  # type: ignore[union-attr]
        cols.append(f"{expr} AS {_q(name)}")
    select = "SELECT src.\"id\" AS case_id,\n  " + ",\n  ".join(cols) + f"\nFROM src {' '.join(joins)}"
    return ctes, select


def screening_plan(plan: Plan) -> Plan:
    """The plan cut down to what screening outputs: facts read by red-flag features and decision
    rules (and the derived facts they depend on). Predictors, phenotypes and cautions are not part
    of a screening row, so the facts only they read are not computed."""
    import dataclasses

    need: set[str] = set()
    for r in plan.decision_rules().values():
        need |= r.expr.names
    derived = plan.derived_map
    stack = list(need)
    while stack:
        name = stack.pop()
        if name in derived:
            for dep in derived[name].names - need:
                need.add(dep)
                stack.append(dep)
    return dataclasses.replace(
        plan,
        base=tuple((n, s) for n, s in plan.base if n in need),
        derived=tuple((n, e) for n, e in plan.derived if n in need),
    )


def screening_sql(plan: Plan, source: str, now: date, key: str = "file_row_number") -> str:
    """One query: case rows from ``source`` -> case_id, red_flags (list of ids), one status column per procedure.

    ``key`` is a column of ``source`` that numbers its rows stably across scans.
    """
    plan = screening_plan(plan)
    params = plan.params
    ctes, base_select = facts_sql(plan, "src", now)
    layers = [f"src AS (SELECT *, {key} AS __rid FROM {source})", *ctes, f"facts0 AS ({base_select})"]
    # derived facts: one layer per dependency depth so each may read the previous ones
    depth: dict[str, int] = {}
    for name, expr in plan.derived:
        deps = [depth[d] for d in expr.names if d in depth]
        depth[name] = 1 + max(deps, default=0)
    for level in range(1, max(depth.values(), default=0) + 1):
        cols = ", ".join(f"{expr.to_sql(params)} AS {_q(n)}" for n, expr in plan.derived if depth[n] == level)
        layers.append(f"facts{level} AS (SELECT *, {cols} FROM facts{level - 1})")
    last = f"facts{max(depth.values(), default=0)}"
    rules = plan.decision_rules()
    # Identical criteria recur across procedures (infection, refusal, ...): compute each distinct
    # expression once and let every rule that has it read the same column.
    distinct: dict[str, str] = {}
    column: dict[str, str] = {}
    for r in rules.values():
        text = r.expr.to_sql(params)
        column[r.rule] = distinct.setdefault(text, _q(f"r:{len(distinct)}"))

    def col(r: Rule) -> str:
        return column[r.rule]

    rule_cols = ",\n  ".join(f"{text} AS {name}" for text, name in distinct.items())
    layers.append(f"rules AS (SELECT case_id,\n  {rule_cols}\nFROM {last})")
    fired = {rfp.flag.id: _any_true([col(f) for f in rfp.features]) for rfp in plan.red_flags}
    flag_cols = ", ".join(f"{expr} AS {_q('rf:' + fid)}" for fid, expr in fired.items())
    layers.append(f"flags AS (SELECT *, {flag_cols} FROM rules)")
    defer_all = [_q("rf:" + rfp.flag.id) for rfp in plan.red_flags
                 if rfp.flag.urgency in ("emergency", "urgent") or rfp.flag.defers == "all_elective"]
    selects = ["case_id"]
    ids = [rfp.flag.id for rfp in plan.red_flags]
    order = sorted(plan.red_flags, key=lambda r: (-{"emergency": 100, "urgent": 80, "soon": 40}[r.flag.urgency], r.flag.id))
    rf_list = ", ".join(f"CASE WHEN {_q('rf:' + r.flag.id)} THEN '{r.flag.id}' END" for r in order)
    selects.append(f"list_filter([{rf_list}], lambda x: x IS NOT NULL) AS red_flags" if ids else "[]::VARCHAR[] AS red_flags")
    all_flags = [rfp for rfp in plan.red_flags
                 if rfp.flag.urgency in ("emergency", "urgent") or rfp.flag.defers == "all_elective"]
    for pp in plan.procedures:
        some_flags = [rfp for rfp in plan.red_flags
                      if isinstance(rfp.flag.defers, list) and pp.proc.id in rfp.flag.defers
                      and rfp not in all_flags]
        deferred = _any_true([*defer_all, *(_q("rf:" + r.flag.id) for r in some_flags)])
        # reached only when no relevant flag fired: any unknown feature means "not screened"
        unscreened = _any_null([col(f) for rfp in [*all_flags, *some_flags] for f in rfp.features])
        selects.append(f"{status_sql(pp, deferred, unscreened, col)} AS {_q(pp.proc.id)}")
    return "WITH " + ",\n".join(layers) + "\nSELECT " + ",\n  ".join(selects) + " FROM flags"


# ------------------------------------------------------------------ running it


def read_source_sql(path: str, fmt: str) -> str:
    """A FROM-clause for a case file, typed from PatientCase so every row has every column."""
    cols = case_columns()
    if fmt == "parquet":
        return f"read_parquet('{path}')"
    struct = "{" + ", ".join(f"'{k}': '{v}'" for k, v in cols.items()) + "}"
    return f"read_json('{path}', format='newline_delimited', columns={struct}, dateformat='%Y-%m-%d')"


def screen_to_file(
    con: Any, plan: Plan, path: str, fmt: str, out: str, now: date,
    progress: Callable[[float], None] | None = None,
) -> int:
    """Screen every case in ``path`` and write results to Parquet ``out``. Returns the row count.

    One query does all the work. With ``progress``, the query runs on a worker thread while
    this thread polls DuckDB's own progress estimate (0-100) and reports it.
    """
    import threading

    if fmt == "parquet":
        sql = screening_sql(plan, f"read_parquet('{path}', file_row_number=true)", now)
    else:
        # JSON has no stable row number: number the rows once into a temporary table.
        con.execute(f"CREATE OR REPLACE TEMP TABLE spinepath_cases AS "
                    f"SELECT *, row_number() OVER () AS spinepath_rn FROM {read_source_sql(path, fmt)}")
        sql = screening_sql(plan, "spinepath_cases", now, key="spinepath_rn")
    copy = f"COPY ({sql}) TO '{out}' (FORMAT parquet)"
    if progress is None:
        con.execute(copy)
    else:
        errors: list[BaseException] = []

        def work() -> None:
            try:
                con.execute(copy)
            except BaseException as e:  # noqa: BLE001 - re-raised on the caller's thread
                errors.append(e)

        t = threading.Thread(target=work, daemon=True)
        t.start()
        while t.is_alive():
            t.join(0.1)
            try:
                pct = float(con.query_progress())
            except Exception:  # noqa: BLE001 - progress is best-effort
                pct = -1.0
            if pct >= 0:
                progress(pct)
        if errors:
            raise errors[0]
        progress(100.0)
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0])


def iter_rows(con: Any, sql: str) -> Iterator[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    for row in cur.fetchall():
        yield dict(zip(names, row, strict=True))
