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
from typing import Any, Literal

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


def _operand_sql(o: Operand, params: Params, case_path: Callable[[str], str] = _sql_case_path) -> str:
    if isinstance(o, Lit):
        return _sql_lit(o.value)
    if isinstance(o, Param):
        return _sql_lit(params[o.name])
    return case_path(o.path)


Getter = Callable[[Any], Any]
#: A base fact compiled for one policy: ``(case, now) -> value`` (None = unknown).
Reader = Callable[[Any, date], Value]
CondFn = Callable[[Any, Any], "bool | None"]  # (element, case) -> three-valued


def _getter(path: str) -> Getter:
    """A reader for ``path``, split once (the per-case work is then only attribute reads)."""
    if path == "@":  # the list element itself (lists of plain strings)
        return lambda obj: obj
    parts = _parts(path)
    if len(parts) == 1:
        (only,) = parts
        return lambda obj: _get(obj, only)
    return lambda obj: _get_path(obj, path)


def cond_fn(c: Cond, params: Params) -> CondFn:
    """A condition compiled for one policy's parameters: ``(element, case) -> True/False/None``."""
    if isinstance(c, Cmp):
        field_of, op, other = _getter(c.field), _PY_OPS[c.op], c.other
        if isinstance(other, CasePath):
            case_value = _getter(other.path)

            def cmp_case(elem: Any, case: Any) -> bool | None:
                a, b = field_of(elem), case_value(case)
                return None if a is None or b is None else op(a, b)

            return cmp_case
        b = other.value if isinstance(other, Lit) else params[other.name]

        def cmp_fixed(elem: Any, case: Any) -> bool | None:
            a = field_of(elem)
            return None if a is None or b is None else op(a, b)

        return cmp_fixed
    if isinstance(c, OneOf):
        field_of, values = _getter(c.field), c.values

        def one_of(elem: Any, case: Any) -> bool | None:
            a = field_of(elem)
            return None if a is None else a in values

        return one_of
    if isinstance(c, InCaseList):
        field_of, list_of = _getter(c.field), _getter(c.case_list)

        def in_case_list(elem: Any, case: Any) -> bool | None:
            a, lst = field_of(elem), list_of(case)
            return None if a is None or lst is None else a in lst

        return in_case_list
    fns = [cond_fn(p, params) for p in c.parts]
    combine = _and3 if isinstance(c, All) else _or3
    return lambda elem, case: combine([f(elem, case) for f in fns])


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

    def reader(self, params: Params) -> Reader:
        get = _getter(self.path)
        return lambda case, now: get(case)

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

    def reader(self, params: Params) -> Reader:
        *parents, last = _parts(self.path)
        absent, blank_is_absent = self.absent, self.blank_is_absent

        def read(case: Any, now: date) -> Value:
            obj = _get(case, "pain")
            if obj is None:
                return None
            for part in parents:
                obj = _get(obj, part)
                if obj is None:
                    return absent
            value = _get(obj, last)
            if value is None and blank_is_absent:
                return absent
            return value

        return read

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

    def reader(self, params: Params) -> Reader:
        items_of = _getter(self.list)
        where = cond_fn(self.where, params) if self.where is not None else None
        if self.fn == "exists":
            def exists(case: Any, now: date) -> Value:
                items = items_of(case)
                if items is None:
                    return None
                return _or3([True if where is None else where(e, case) for e in items])

            return exists
        if self.fn == "count":
            def count(case: Any, now: date) -> Value:
                items = items_of(case)
                if items is None:
                    return None
                return len(items) if where is None else sum(1 for e in items if where(e, case) is True)

            return count
        assert self.value is not None
        value_of, empty, pick = _getter(self.value), self.empty, max if self.fn == "max" else min

        def extreme(case: Any, now: date) -> Value:
            items = items_of(case)
            if items is None:
                return None
            vals = [value_of(e) for e in items if where is None or where(e, case) is True]
            if not vals:
                return empty
            known = [v for v in vals if v is not None]
            return pick(known) if known else None

        return extreme

    def params(self) -> set[str]:
        return cond_params(self.where)


def _latest_matches(lst: str, where: Cond | None, date_field: str, params: Params
                    ) -> Callable[[Any], tuple[date, list[Any]] | None]:
    """A reader of (latest date, elements on it) among matching elements; None when that is
    unknowable: list absent, nothing matches, or a matching element has no date."""
    items_of, date_of = _getter(lst), _getter(date_field)
    match = cond_fn(where, params) if where is not None else None

    def latest_matches(case: Any) -> tuple[date, list[Any]] | None:
        items = items_of(case)
        if items is None:
            return None
        matched = [e for e in items if match is None or match(e, case) is True]
        dates = [date_of(e) for e in matched]
        if not dates or any(d is None for d in dates):
            return None
        latest = max(dates)
        return latest, [e for e, d in zip(matched, dates, strict=True) if d == latest]

    return latest_matches


@dataclass(frozen=True)
class MonthsSinceLatest:
    """Months from the most recent dated matching element to ``now``.

    Unknown when the list is absent, when nothing matches, or when a matching element has no
    date (the most recent one cannot then be known).
    """

    list: str
    where: Cond | None = None
    date_field: str = "date"

    def reader(self, params: Params) -> Reader:
        latest = _latest_matches(self.list, self.where, self.date_field, params)

        def months(case: Any, now: date) -> Value:
            found = latest(case)
            return None if found is None else (now - found[0]).days / DAYS_PER_MONTH

        return months

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

    def reader(self, params: Params) -> Reader:
        latest, value_of = _latest_matches(self.list, self.where, self.date_field, params), _getter(self.value)

        def latest_value(case: Any, now: date) -> Value:
            found = latest(case)
            if found is None:
                return None
            vals = {value_of(e) for e in found[1]}
            return vals.pop() if len(vals) == 1 else None

        return latest_value

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
