"""Population screening: the same plan, rendered as one DuckDB query.

Nothing here restates a clinical rule. Base facts come from their specs (scalar facts from
``sql()``, list facts from the same condition objects, see :class:`_ListFacts`), derived facts
and every criterion from the criterion text via sqlglot, and the status CASE mirrors
:func:`spinepath.rules.status.decide` step by step. A test checks that screening and per-case
``assess`` agree on thousands of generated cases.

The query is one streaming pipeline: every layer only adds columns to the case row (no
unnesting, grouping or joins), so DuckDB reads, evaluates and writes in parallel, and the
results keep the input's row order.

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
    _sql_path,
    cond_sql,
)
from spinepath.rules.assessment import STATUS_ORDER
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
    """Some column is TRUE (three-valued OR is TRUE exactly then)."""
    return f"coalesce({' OR '.join(cols)}, FALSE)" if cols else "FALSE"


def _any_false(cols: list[str]) -> str:
    """Some column is FALSE (three-valued AND is FALSE exactly then)."""
    return f"(NOT coalesce({' AND '.join(cols)}, TRUE))" if cols else "FALSE"


def _any_null(cols: list[str]) -> str:
    return "(" + " OR ".join(f"({c} IS NULL)" for c in cols) + ")" if cols else "FALSE"


def _all_true(cols: list[str]) -> str:
    return f"coalesce({' AND '.join(cols)}, FALSE)" if cols else "TRUE"


_URGENCY_RANK = {"emergency": 100, "urgent": 80, "soon": 40}


def _enum(values: list[str] | tuple[str, ...]) -> str:
    """An ENUM type literal. Results are written as ENUMs: the Parquet writer then emits the
    dictionary directly instead of hashing millions of strings (read back, they are strings)."""
    return "ENUM(" + ", ".join(_sql_lit(v) for v in values) + ")"


_STATUS = _enum(STATUS_ORDER)


def _st(status: str) -> str:
    return f"'{status}'::{_STATUS}"


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
        f"WHEN {deferred} THEN {_st('deferred')} "
        f"WHEN {applies} = FALSE THEN {_st('not_indicated')} "
        f"WHEN {applies} IS NULL THEN {_st('insufficient_information')} "
        f"WHEN {_any_true(c(pp.exclusions))} OR {_any_false(c(pp.indications))} THEN {_st('not_indicated')} "
        f"WHEN {_any_true(c(pp.absolute))} THEN {_st('contraindicated')} "
        f"WHEN {_any_null(c(pp.indications))} THEN {_st('insufficient_information')} "
        f"WHEN {_any_false(c(pp.prerequisites))} OR {repeat_unmet} THEN {_st('not_yet')} "
        f"WHEN {_any_null(c(pp.prerequisites))} THEN {_st('insufficient_information')} "
        f"WHEN {recommended_ok} THEN {_st('recommended')} "
        f"ELSE {_st('consider')} END"
    )


ListSpec = Agg | LatestValue | MonthsSinceLatest

#: Three-valued condition results packed per UBIGINT mask, two bits each (1 = true, 2 = unknown).
_SLOTS_PER_MASK = 32


class _ListFacts:
    """The facts read from one of the case's lists, computed per row with DuckDB list functions.

    Every element condition the list's facts test is evaluated in a single pass over the list:
    each element yields a 2-bit code per condition (1 = true, 2 = unknown, 0 = false) packed
    into unsigned integers, and ``list_bit_or`` over the elements answers "does some element
    match" and "is some element unknown" for every condition at once. Counts, extremes and
    the latest date are list aggregates over a lambda. Per row, without unnesting and joining
    back (which cost more than the evaluation itself: one hash aggregate and one join per list).
    """

    def __init__(self, lst: str, alias: str, params: Any) -> None:
        self.lst = _sql_case_path(lst)
        self.alias = alias
        self.params = params
        self.slots: dict[str, int] = {}
        self.layer1: dict[str, str] = {}  # column -> expression over the case row
        self.layer2: dict[str, str] = {}  # column -> expression that may read layer 1
        self.latest: dict[tuple[str | None, str], str] = {}  # (condition, date field) -> column

    def pred(self, where: Cond | None) -> str | None:
        # Case values a condition compares with are read from columns of their own: a lambda
        # that captures a plain column is far cheaper than one that captures an expression.
        return None if where is None else cond_sql(where, self.params, var="x", case_path=_cp)

    def _slot(self, pred: str) -> int:
        return self.slots.setdefault(pred, len(self.slots))

    def _bits(self, pred: str) -> str:
        k = self._slot(pred)
        return f"({_q(f'{self.alias}:m{k // _SLOTS_PER_MASK}')} >> {2 * (k % _SLOTS_PER_MASK)})"

    def some_true(self, pred: str | None) -> str:
        """Some element meets ``pred`` (every element, when there is no condition)."""
        return f"(len({self.lst}) > 0)" if pred is None else f"({self._bits(pred)} & 1 = 1)"

    def exists(self, pred: str) -> str:
        """Three-valued "some element meets ``pred``": the two bits 0 = false, 2 = unknown,
        1 or 3 = true; NULL when the list is absent."""
        return f"(nullif({self._bits(pred)} & 3, 2) > 0)"

    def column(self, key: str, expr: str, layer: int = 1, when: str | None = None) -> str:
        """A helper column, NULL unless ``when`` (default: the list has elements). Its lambdas
        then run only on those rows: DuckDB evaluates a CASE branch on its selected rows."""
        name = f"{self.alias}:{key}"
        when = when or f"len({self.lst}) > 0"
        (self.layer1 if layer == 1 else self.layer2)[name] = f"CASE WHEN {when} THEN {expr} END"
        return _q(name)

    def matching(self, pred: str | None, then: str) -> str:
        """Lambda over the list: ``then`` for elements meeting ``pred``, else NULL."""
        body = then if pred is None else f"CASE WHEN coalesce({pred}, FALSE) THEN {then} END"
        return f"list_transform({self.lst}, lambda x: {body})"

    def masks(self) -> dict[str, str]:
        codes = [f"(coalesce(({p})::UBIGINT, 2::UBIGINT) << {2 * (k % _SLOTS_PER_MASK)})"
                 for p, k in self.slots.items()]
        out = {}
        for m in range(0, len(codes), _SLOTS_PER_MASK):
            body = " | ".join(codes[m:m + _SLOTS_PER_MASK])
            # an empty list matches nothing (0); an absent one stays NULL
            out[f"{self.alias}:m{m // _SLOTS_PER_MASK}"] = (
                f"CASE WHEN len({self.lst}) = 0 THEN 0::UBIGINT "
                f"ELSE list_bit_or(list_transform({self.lst}, lambda x: {body})) END")
        return out

    def fact(self, sp: ListSpec, name: str, now: date) -> str:
        """The final SQL of one fact; three-valued semantics as in :mod:`spinepath.case.spec`."""
        lst, pred = self.lst, self.pred(sp.where)
        if isinstance(sp, Agg):
            if sp.fn == "exists":
                return f"(len({lst}) > 0)" if pred is None else self.exists(pred)
            if sp.fn == "count":
                if pred is None:
                    return f"len({lst})"
                n = self.column("n:" + name, f"len(list_filter({lst}, lambda x: coalesce({pred}, FALSE)))")
                return f"CASE WHEN {lst} IS NULL THEN NULL ELSE coalesce({n}, 0) END"
            assert sp.value is not None
            agg = self.column("v:" + name, f"list_{sp.fn}({self.matching(pred, _sql_path('x', sp.value))})")
            return (f"CASE WHEN {lst} IS NULL THEN NULL WHEN NOT {self.some_true(pred)} "
                    f"THEN {_sql_lit(sp.empty)} ELSE {agg} END")
        date_ = _sql_path("x", sp.date_field)
        hit = "TRUE" if pred is None else f"coalesce({pred}, FALSE)"
        key = (pred, sp.date_field)
        if key not in self.latest:
            self.latest[key] = self.column(f"latest{len(self.latest)}", f"list_max({self.matching(pred, date_)})")
        latest = self.latest[key]
        # no latest date: absent list, nothing matches, or no match is dated
        unknown = f"{latest} IS NULL OR {self.some_true(f'({hit} AND {date_} IS NULL)')}"
        if isinstance(sp, MonthsSinceLatest):
            return (f"CASE WHEN {unknown} THEN NULL ELSE date_diff('day', {latest}, "
                    f"DATE '{now.isoformat()}') / {DAYS_PER_MONTH} END")
        # LatestValue: the values on the latest matching date must agree and be known
        at_latest = f"{hit} AND {date_} = {latest}"
        vals = self.column("v:" + name, f"list_transform(list_filter({lst}, lambda x: {at_latest}), "
                                        f"lambda x: {_sql_path('x', sp.value)})",
                           layer=2, when=f"{latest} IS NOT NULL")
        return (f"CASE WHEN {unknown} THEN NULL WHEN list_count({vals}) < len({vals}) THEN NULL "
                f"WHEN list_min({vals}) = list_max({vals}) THEN list_min({vals}) END")


def _cp(path: str) -> str:
    return _q("cp:" + path)


def _case_paths(c: Cond | None) -> set[str]:
    """Case values a list condition compares with (see :func:`_cp`)."""
    if c is None:
        return set()
    if isinstance(c, Cmp) and isinstance(c.other, CasePath):
        return {c.other.path}
    if isinstance(c, InCaseList):
        return {c.case_list}
    if isinstance(c, (All, Any_)):
        return set().union(*(_case_paths(p) for p in c.parts))
    return set()


def facts_sql(plan: Plan, source: str, now: date) -> tuple[list[str], str]:
    """The base-fact layer: (CTEs, SELECT of case_id and every base fact), reading ``source``.

    Scalar facts come from their specs' ``sql()``; list facts from :class:`_ListFacts`, with
    the three-valued semantics of :class:`spinepath.case.spec.Agg` and friends. The CTEs
    only add columns row by row, so DuckDB runs them as one pipeline.
    """
    lists: dict[str, _ListFacts] = {}
    final: dict[str, str] = {}
    layer0: dict[str, str] = {}
    for name, spec in plan.base:
        if isinstance(spec, (Agg, LatestValue, MonthsSinceLatest)):
            layer0.update({"cp:" + p: _sql_case_path(p) for p in sorted(_case_paths(spec.where))})
            lf = lists.setdefault(spec.list, _ListFacts(spec.list, f"l{len(lists)}", plan.params))
            final[name] = lf.fact(spec, name, now)
        else:
            final[name] = spec.sql(plan.params, now)  # type: ignore[union-attr]
    layer1 = {k: v for lf in lists.values() for k, v in {**lf.masks(), **lf.layer1}.items()}
    layer2 = {k: v for lf in lists.values() for k, v in lf.layer2.items()}
    ctes = []
    last = source
    for i, layer in enumerate((layer0, layer1, layer2)):
        if layer:
            cols = ", ".join(f"{expr} AS {_q(col)}" for col, expr in layer.items())
            ctes.append(f"lists{i} AS (SELECT *, {cols} FROM {last})")
            last = f"lists{i}"
    facts = ",\n  ".join(f"{final[name]} AS {_q(name)}" for name, _ in plan.base)
    return ctes, f"SELECT \"id\" AS case_id,\n  {facts}\nFROM {last}"


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


def screening_sql(plan: Plan, source: str, now: date) -> str:
    """One query: case rows from ``source`` -> case_id, red_flags (list of ids), one status column
    per procedure, in the input's row order."""
    plan = screening_plan(plan)
    params = plan.params
    ctes, base_select = facts_sql(plan, "src", now)
    layers = [f"src AS (SELECT * FROM {source})", *ctes, f"facts0 AS ({base_select})"]
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
    flag_cols = "".join(f", {expr} AS {_q('rf:' + fid)}" for fid, expr in fired.items())
    layers.append(f"flags AS (SELECT *{flag_cols} FROM rules)")
    all_flags = [rfp for rfp in plan.red_flags
                 if rfp.flag.urgency in ("emergency", "urgent") or rfp.flag.defers == "all_elective"]
    # Most procedures share the same deferring flags: each distinct gate is one column.
    gates: dict[str, str] = {}
    status_exprs = []
    for pp in plan.procedures:
        some_flags = [rfp for rfp in plan.red_flags
                      if isinstance(rfp.flag.defers, list) and pp.proc.id in rfp.flag.defers
                      and rfp not in all_flags]
        relevant = [*all_flags, *some_flags]
        deferred = gates.setdefault(_any_true([_q("rf:" + r.flag.id) for r in relevant]), _q(f"d:{len(gates)}"))
        # reached only when no relevant flag fired: any unknown feature means "not screened"
        unscreened = gates.setdefault(_any_null([col(f) for rfp in relevant for f in rfp.features]),
                                      _q(f"d:{len(gates)}"))
        status_exprs.append(f"{status_sql(pp, deferred, unscreened, col)} AS {_q(pp.proc.id)}")
    gate_cols = "".join(f", {expr} AS {name}" for expr, name in gates.items())
    layers.append(f"gates AS (SELECT *{gate_cols} FROM flags)")
    order = sorted(plan.red_flags, key=lambda r: (-_URGENCY_RANK[r.flag.urgency], r.flag.id))
    flag_type = _enum([r.flag.id for r in order])
    rf_list = ", ".join(f"CASE WHEN {_q('rf:' + r.flag.id)} THEN {_sql_lit(r.flag.id)}::{flag_type} END" for r in order)
    # most cases have no red flag: build the list only for those that do
    any_flag = _any_true([_q("rf:" + r.flag.id) for r in order])
    red_flags = (f"CASE WHEN {any_flag} THEN list_filter([{rf_list}], lambda x: x IS NOT NULL) "
                 f"ELSE []::{flag_type}[] END" if order else "[]::VARCHAR[]")
    selects = ["case_id", f"{red_flags} AS red_flags", *status_exprs]
    return "WITH " + ",\n".join(layers) + "\nSELECT " + ",\n  ".join(selects) + " FROM gates"


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

    sql = screening_sql(plan, read_source_sql(path, fmt), now)
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
