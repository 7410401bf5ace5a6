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


def status_sql(pp: ProcedurePlan, deferred: str, unscreened: str = "FALSE") -> str:
    """CASE expression that mirrors ``decide`` for one procedure."""
    def c(rules: tuple[Rule, ...] | list[Rule]) -> list[str]:
        return [_col(r) for r in rules]

    applies = _col(pp.applies)
    rw = _col(pp.repeat_when) if pp.repeat_when else None
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


def screening_sql(plan: Plan, source: str, now: date) -> str:
    """One query: case rows from ``source`` -> case_id, red_flags (list of ids), one status column per procedure."""
    params = plan.params
    base = ",\n  ".join(f"{spec.sql(params, now)} AS {_q(name)}" for name, spec in plan.base)  # type: ignore[union-attr]
    layers = [f"facts0 AS (SELECT \"id\" AS case_id,\n  {base}\nFROM {source})"]
    # derived facts: one layer per dependency depth so each may read the previous ones
    depth: dict[str, int] = {}
    for name, expr in plan.derived:
        deps = [depth[d] for d in expr.names if d in depth]
        depth[name] = 1 + max(deps, default=0)
    for level in range(1, max(depth.values(), default=0) + 1):
        cols = ", ".join(f"{expr.to_sql(params)} AS {_q(n)}" for n, expr in plan.derived if depth[n] == level)
        layers.append(f"facts{level} AS (SELECT *, {cols} FROM facts{level - 1})")
    last = f"facts{max(depth.values(), default=0)}"
    rules: dict[str, Rule] = {}
    for rfp in plan.red_flags:
        for f in rfp.features:
            rules[f.rule] = f
    for pp in plan.procedures:
        for r in pp.decision_rules():
            rules[r.rule] = r
    rule_cols = ",\n  ".join(f"{r.expr.to_sql(params)} AS {_col(r)}" for r in rules.values())
    layers.append(f"rules AS (SELECT case_id,\n  {rule_cols}\nFROM {last})")
    fired = {rfp.flag.id: _any_true([_col(f) for f in rfp.features]) for rfp in plan.red_flags}
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
        unscreened = _any_null([_col(f) for rfp in [*all_flags, *some_flags] for f in rfp.features])
        selects.append(f"{status_sql(pp, deferred, unscreened)} AS {_q(pp.proc.id)}")
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

    src = read_source_sql(path, fmt)
    sql = screening_sql(plan, src, now)
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
