"""A tiny language for reading facts out of a PatientCase.

A base fact is declared once as a spec (a path, or an aggregate over one of the case's lists).
Each spec compiles two ways from that single declaration: to a Python function over a validated
``PatientCase`` (single-case assessment) and to DuckDB SQL over the same case stored as nested
columns (population screening; list aggregates are rendered by ``spinepath.rules.batch`` as one
GROUP BY pass per list from the same condition objects). A test compares both on thousands of generated
cases, so the two compilations cannot drift apart silently.

Three-valued semantics, everywhere:
- an absent value is ``None`` (SQL NULL), never False;
- a list that is absent is unknown; an empty list is known to hold nothing;
- ``exists`` is TRUE if any element matches, FALSE if every element is known not to match,
  and unknown otherwise;
- ``count`` counts elements that are known to match (an element whose match is unknown is not
  counted: "documented" semantics, which never invents a positive);
- ``max``/``min`` take the known values of the matching elements; unknown if none is known.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, List, Literal  # noqa: UP035 - `list` is a field name in Agg

from pydantic import BaseModel

Value = Any  # bool | float | int | str | None
Params = Mapping[str, Value]

DAYS_PER_MONTH = 30.4375  # mean Gregorian month; used identically in Python and SQL


def _sql_lit(value: Value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _get(obj: Any, name: str) -> Any:
    # Case models first: they are what single-case assessment reads, hundreds of times per case,
    # and the Mapping check (an ABC) costs more than the read itself.
    if isinstance(obj, BaseModel):
        return getattr(obj, name, None)
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


@lru_cache(maxsize=4096)
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _get_path(obj: Any, path: str) -> Any:
    if path == "@":  # the list element itself (lists of plain strings)
        return obj
    for part in _parts(path):
        obj = _get(obj, part)
        if obj is None:
            return None
    return obj


def _sql_path(root: str, path: str) -> str:
    if path == "@":
        return root
    expr = root
    for part in path.split("."):
        expr = f"struct_extract({expr}, '{part}')"
    return expr


def _sql_case_path(path: str) -> str:
    head, _, rest = path.partition(".")
    return _sql_path(f'"{head}"', rest) if rest else f'"{head}"'


# ---------------------------------------------------------------- element conditions


@dataclass(frozen=True)
class Lit:
    value: Value


@dataclass(frozen=True)
class Param:
    """A policy parameter, resolved when the fact is compiled for a policy."""

    name: str


@dataclass(frozen=True)
class CasePath:
    """A value elsewhere in the case (e.g. the side of the leg pain)."""

    path: str


Operand = Lit | Param | CasePath
Op = Literal["=", "!=", ">", ">=", "<", "<="]


@dataclass(frozen=True)
class Cmp:
    """Element field compared with a literal, a policy parameter or a case value."""

    field: str
    op: Op
    other: Operand


@dataclass(frozen=True)
class OneOf:
    """Element field is one of a fixed set of literals."""

    field: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class InCaseList:
    """Element field is contained in a list found elsewhere in the case."""

    field: str
    case_list: str


@dataclass(frozen=True)
class All:
    parts: tuple[Cond, ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple[Cond, ...]


Cond = Cmp | OneOf | InCaseList | All | Any_

_PY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _and3(values: Sequence[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def _or3(values: Sequence[bool | None]) -> bool | None:
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def _operand_py(o: Operand, case: Any, params: Params) -> Value:
    if isinstance(o, Lit):
        return o.value
    if isinstance(o, Param):
        return params[o.name]
    return _get_path(case, o.path)


def _operand_sql(o: Operand, params: Params, case_path: Callable[[str], str] = _sql_case_path) -> str:
    if isinstance(o, Lit):
        return _sql_lit(o.value)
    if isinstance(o, Param):
        return _sql_lit(params[o.name])
    return case_path(o.path)


def cond_py(c: Cond, elem: Any, case: Any, params: Params) -> bool | None:
    """Evaluate a condition on one list element, in three-valued logic."""
    if isinstance(c, Cmp):
        a = _get_path(elem, c.field)
        b = _operand_py(c.other, case, params)
        if a is None or b is None:
            return None
        return _PY_OPS[c.op](a, b)
    if isinstance(c, OneOf):
        a = _get_path(elem, c.field)
        return None if a is None else a in c.values
    if isinstance(c, InCaseList):
        a = _get_path(elem, c.field)
        lst = _get_path(case, c.case_list)
        if a is None or lst is None:
            return None
        return a in lst
    if isinstance(c, All):
        return _and3([cond_py(p, elem, case, params) for p in c.parts])
    return _or3([cond_py(p, elem, case, params) for p in c.parts])


def cond_sql(c: Cond, params: Params, var: str = "x",
             case_path: Callable[[str], str] = _sql_case_path) -> str:
    """The same condition as SQL over element ``var``; ``case_path`` renders case values."""
    if isinstance(c, Cmp):
        return (f"({_sql_path(var, c.field)} {'<>' if c.op == '!=' else c.op} "
                f"{_operand_sql(c.other, params, case_path)})")
    if isinstance(c, OneOf):
        vals = ", ".join(_sql_lit(v) for v in c.values)
        return f"({_sql_path(var, c.field)} IN ({vals}))"
    if isinstance(c, InCaseList):
        # list_contains ignores NULL semantics; make unknown explicit.
        lst = case_path(c.case_list)
        f = _sql_path(var, c.field)
        return f"(CASE WHEN {f} IS NULL OR {lst} IS NULL THEN NULL ELSE list_contains({lst}, {f}) END)"
    joiner = " AND " if isinstance(c, All) else " OR "
    return "(" + joiner.join(cond_sql(p, params, var, case_path) for p in c.parts) + ")"


def cond_params(c: Cond | None) -> set[str]:
    """Policy parameters a condition reads."""
    if c is None:
        return set()
    if isinstance(c, Cmp):
        return {c.other.name} if isinstance(c.other, Param) else set()
    if isinstance(c, (All, Any_)):
        out: set[str] = set()
        for p in c.parts:
            out |= cond_params(p)
        return out
    return set()


# ---------------------------------------------------------------- fact specs


@dataclass(frozen=True)
class Path:
    """A scalar read straight from the case, e.g. ``pain.leg.nrs``."""

    path: str

    def py(self, case: Any, params: Params, now: date) -> Value:
        return _get_path(case, self.path)

    def sql(self, params: Params, now: date) -> str:
        return _sql_case_path(self.path)

    def params(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class PainMap:
    """A value from the pain map, read under the pain-map contract.

    When the case has a pain map, a body site it does not mark has no pain: the value is
    ``absent`` (0 for an NRS, False for a feature). A marked site whose field is blank stays
    unknown, unless ``blank_is_absent`` (for flags the map records only when present). With no
    pain map at all, everything is unknown.
    """

    path: str
    absent: Value
    blank_is_absent: bool = False

    def py(self, case: Any, params: Params, now: date) -> Value:
        obj = _get(case, "pain")
        if obj is None:
            return None
        parts = self.path.split(".")
        for part in parts[:-1]:
            obj = _get(obj, part)
            if obj is None:
                return self.absent
        value = _get(obj, parts[-1])
        if value is None and self.blank_is_absent:
            return self.absent
        return value

    def sql(self, params: Params, now: date) -> str:
        parts = self.path.split(".")
        root = '"pain"'
        conds = [f"{root} IS NULL THEN NULL"]
        for i in range(1, len(parts)):
            prefix = _sql_path(root, ".".join(parts[:i]))
            conds.append(f"{prefix} IS NULL THEN {_sql_lit(self.absent)}")
        full = _sql_path(root, self.path)
        if self.blank_is_absent:
            conds.append(f"{full} IS NULL THEN {_sql_lit(self.absent)}")
        return "(CASE " + " ".join("WHEN " + c for c in conds) + f" ELSE {full} END)"

    def params(self) -> set[str]:
        return set()


AggFn = Literal["exists", "count", "max", "min"]


@dataclass(frozen=True)
class Agg:
    """An aggregate over one of the case's lists (imaging, treatments, blocks, ...)."""

    list: str
    fn: AggFn
    where: Cond | None = None
    value: str | None = None  # element field for max/min
    #: max/min when the list is known and no element matches (e.g. 0 weeks of care when the
    #: treatment list is known to be empty); None keeps it unknown.
    empty: Value = None

    def _matches(self, case: Any, params: Params) -> List[tuple[Any, bool | None]]:  # noqa: UP006
        items = _get_path(case, self.list) or []
        if self.where is None:
            return [(e, True) for e in items]
        return [(e, cond_py(self.where, e, case, params)) for e in items]

    def py(self, case: Any, params: Params, now: date) -> Value:
        if _get_path(case, self.list) is None:
            return None
        matches = self._matches(case, params)
        if self.fn == "exists":
            return _or3([m for _, m in matches])
        if self.fn == "count":
            return len([m for _, m in matches if m is True])
        assert self.value is not None
        vals = [_get_path(e, self.value) for e, m in matches if m is True]
        if not vals:
            return self.empty
        known = [v for v in vals if v is not None]
        if not known:
            return None
        return max(known) if self.fn == "max" else min(known)

    def params(self) -> set[str]:
        return cond_params(self.where)


def _latest_matches(case: Any, lst: str, where: Cond | None, date_field: str, params: Params
                    ) -> tuple[date, list[Any]] | None:
    """(latest date, elements on it) among matching elements; None when that is unknowable:
    list absent, nothing matches, or a matching element has no date."""
    items = _get_path(case, lst)
    if items is None:
        return None
    matched = [e for e in items if where is None or cond_py(where, e, case, params) is True]
    dates = [_get_path(e, date_field) for e in matched]
    if not dates or any(d is None for d in dates):
        return None
    latest = max(dates)
    return latest, [e for e, d in zip(matched, dates, strict=True) if d == latest]


@dataclass(frozen=True)
class MonthsSinceLatest:
    """Months from the most recent dated matching element to ``now``.

    Unknown when the list is absent, when nothing matches, or when a matching element has no
    date (the most recent one cannot then be known).
    """

    list: str
    where: Cond | None = None
    date_field: str = "date"

    def py(self, case: Any, params: Params, now: date) -> Value:
        found = _latest_matches(case, self.list, self.where, self.date_field, params)
        return None if found is None else (now - found[0]).days / DAYS_PER_MONTH

    def params(self) -> set[str]:
        return cond_params(self.where)


@dataclass(frozen=True)
class LatestValue:
    """A field of the most recent dated matching element (e.g. relief after the last RF).

    Unknown in the same cases as :class:`MonthsSinceLatest`, and when two matching elements
    share the latest date but disagree on the value.
    """

    list: str
    value: str
    where: Cond | None = None
    date_field: str = "date"

    def py(self, case: Any, params: Params, now: date) -> Value:
        found = _latest_matches(case, self.list, self.where, self.date_field, params)
        if found is None:
            return None
        vals = {_get_path(e, self.value) for e in found[1]}
        return vals.pop() if len(vals) == 1 else None

    def params(self) -> set[str]:
        return cond_params(self.where)


@dataclass(frozen=True)
class Derived:
    """A fact defined as a criteria-language expression over other facts and parameters."""

    expr: str


Spec = Path | PainMap | Agg | MonthsSinceLatest | LatestValue | Derived
FactType = Literal["bool", "number", "text"]


@dataclass(frozen=True)
class FactDef:
    """One named fact: how it is read, what it means, and what to ask when it is unknown."""

    name: str
    type: FactType
    spec: Spec
    doc: str
    ask: str
