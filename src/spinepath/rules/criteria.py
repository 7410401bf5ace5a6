"""The criteria language: a small, safe subset of SQL boolean expressions over fact names.

Why SQL: it already has the three-valued logic clinical rules need (TRUE / FALSE / UNKNOWN for
missing data), and the same text runs per case here, in DuckDB over a million cases, and in any
other SQL engine. One criterion text, two evaluators: :meth:`Criterion.evaluate` walks compiled
Python closures for a single case; :meth:`Criterion.to_sql` renders DuckDB SQL for batches.

Allowed: AND, OR, NOT, parentheses, = <> != < <= > >=, IN (literal list), BETWEEN, + - *,
unary minus, numbers, strings, TRUE/FALSE, and identifiers naming a fact or a policy parameter.
Not allowed, on purpose: IS NULL / COALESCE (they would let a rule treat unknown as false, and
they break the guarantee that more information never turns a met criterion into unknown),
division (SQL engines disagree on division by zero), functions, subqueries.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from spinepath.errors import CriteriaError

Env = Mapping[str, Any]
Fn = Callable[[Env], Any]

_CMP: dict[type[exp.Expression], tuple[str, Callable[[Any, Any], bool]]] = {
    exp.EQ: ("=", operator.eq),
    exp.NEQ: ("<>", operator.ne),
    exp.GT: (">", operator.gt),
    exp.GTE: (">=", operator.ge),
    exp.LT: ("<", operator.lt),
    exp.LTE: ("<=", operator.le),
}
_ARITH: dict[type[exp.Expression], Callable[[Any, Any], Any]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
}

ALLOWED_SYNTAX = (
    "AND, OR, NOT, ( ), = <> != < <= > >=, IN (...), BETWEEN, + - *, numbers, 'text', "
    "TRUE, FALSE, fact names and policy parameter names"
)


def _and(values: list[Any]) -> bool | None:
    result: bool | None = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


@dataclass(frozen=True)
class Criterion:
    """A compiled criterion: the names it reads, a Python evaluator, and its SQL form."""

    text: str
    names: frozenset[str]
    _fn: Fn = field(repr=False, compare=False)
    _tree: exp.Expression = field(repr=False, compare=False)

    def evaluate(self, env: Env) -> Any:
        """Value under three-valued logic: True, False, or None for unknown."""
        return self._fn(env)

    def to_sql(self, params: Mapping[str, Any], quote: Callable[[str], str] | None = None) -> str:
        """DuckDB SQL for this criterion, with policy parameters inlined as literals."""
        q = quote or (lambda n: f'"{n}"')

        def swap(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Column):
                name = node.name
                if name in params:
                    return _literal(params[name])
                return exp.column(q(name).strip('"'), quoted=True)
            return node

        return self._tree.copy().transform(swap).sql(dialect="duckdb")


def _literal(value: Any) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def compile_criterion(text: str, known: frozenset[str] | set[str], where: str = "") -> Criterion:
    """Parse and check ``text``; every identifier must be in ``known``.

    Raises CriteriaError naming the offending token and what is allowed.
    """
    if not isinstance(text, str) or not text.strip():
        raise CriteriaError(f"{where}: a criterion must be a non-empty expression", field=where)
    try:
        tree = cast(exp.Expression, sqlglot.parse_one(text, dialect="duckdb"))
    except ParseError as e:
        raise CriteriaError(
            f"{where}: cannot parse criterion {text!r}: {e.errors[0]['description'] if e.errors else e}. "
            f"Allowed: {ALLOWED_SYNTAX}",
            field=where,
        ) from None
    names: set[str] = set()
    fn = _compile(tree, known, names, text, where)
    return Criterion(text=text, names=frozenset(names), _fn=fn, _tree=tree)


def _bad(node: exp.Expression, text: str, where: str) -> CriteriaError:
    return CriteriaError(
        f"{where}: {node.sql()!r} ({type(node).__name__}) is not allowed in a criterion "
        f"({text!r}). Allowed: {ALLOWED_SYNTAX}",
        field=where,
    )


def _compile(
    node: exp.Expression, known: frozenset[str] | set[str], names: set[str], text: str, where: str
) -> Fn:
    def c(n: exp.Expression) -> Fn:
        return _compile(n, known, names, text, where)

    if isinstance(node, exp.Paren):
        return c(node.this)
    if isinstance(node, exp.Column):
        if node.table or not isinstance(node.this, exp.Identifier):
            raise _bad(node, text, where)
        name = node.name
        if name not in known:
            raise CriteriaError(
                f"{where}: unknown fact or parameter {name!r} in {text!r}; "
                f"see docs/facts.md for the fact names",
                field=where,
            )
        names.add(name)
        return lambda env: env.get(name)
    if isinstance(node, exp.Boolean):
        v = bool(node.this)
        return lambda env: v
    if isinstance(node, exp.Literal):
        if node.is_string:
            s = node.this
            return lambda env: s
        num = float(node.this) if any(ch in node.this for ch in ".eE") else int(node.this)
        return lambda env: num
    if isinstance(node, exp.Neg):
        inner = c(node.this)

        def neg(env: Env) -> Any:
            v = inner(env)
            return None if v is None else -v

        return neg
    if isinstance(node, exp.Not):
        inner = c(node.this)

        def not_(env: Env) -> Any:
            v = inner(env)
            return None if v is None else not v

        return not_
    if isinstance(node, (exp.And, exp.Or)):
        parts = _flatten(node, type(node))
        fns = tuple(c(p) for p in parts)
        # Three-valued AND / OR as loops (no list per call): a few hundred rules run per case.
        if isinstance(node, exp.And):
            def and_(env: Env) -> Any:
                result: bool | None = True
                for f in fns:
                    v = f(env)
                    if v is False:
                        return False
                    if v is None:
                        result = None
                return result

            return and_

        def or_(env: Env) -> Any:
            result: bool | None = False
            for f in fns:
                v = f(env)
                if v is True:
                    return True
                if v is None:
                    result = None
            return result

        return or_
    binary = {**{k: op for k, (_, op) in _CMP.items()}, **_ARITH}
    if type(node) in binary and isinstance(node, exp.Binary):
        left, right = cast(exp.Expression, node.left), cast(exp.Expression, node.right)
        op = binary[type(node)]
        if isinstance(left, exp.Column) and isinstance(right, exp.Literal | exp.Boolean):
            # The commonest shape, ``fact >= 6``, without the two inner calls.
            c(left)
            name, const = left.name, c(right)({})

            def fact_vs_literal(env: Env) -> Any:
                a = env.get(name)
                return None if a is None else op(a, const)

            return fact_vs_literal
        return _strict(c(left), c(right), op)
    if isinstance(node, exp.In):
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise _bad(node, text, where)
        subject = c(node.this)
        options = []
        for o in node.expressions:
            if not isinstance(o, (exp.Literal, exp.Boolean, exp.Neg)):
                raise CriteriaError(
                    f"{where}: IN (...) takes literal values only, got {o.sql()!r} in {text!r}",
                    field=where,
                )
            options.append(c(o)({}))

        def in_(env: Env) -> Any:
            v = subject(env)
            return None if v is None else v in options

        return in_
    if isinstance(node, exp.Between):
        subject, low, high = c(node.this), c(node.args["low"]), c(node.args["high"])

        def between(env: Env) -> Any:
            v, lo, hi = subject(env), low(env), high(env)
            return _and([None if v is None or lo is None else v >= lo,
                         None if v is None or hi is None else v <= hi])

        return between
    raise _bad(node, text, where)


def _strict(left: Fn, right: Fn, op: Callable[[Any, Any], Any]) -> Fn:
    """A binary operator that is unknown when either side is unknown (SQL semantics)."""

    def apply(env: Env) -> Any:
        a, b = left(env), right(env)
        if a is None or b is None:
            return None
        return op(a, b)

    return apply


def _flatten(node: exp.Expression, kind: type[exp.Expression]) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, kind):
            stack.append(n.expression)
            stack.append(n.this)
        elif isinstance(n, exp.Paren) and isinstance(n.this, kind):
            stack.append(n.this)
        else:
            out.append(n)
    return out
