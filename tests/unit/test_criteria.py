"""The criteria language: three-valued logic, the allowed syntax, and Python/DuckDB agreement."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.errors import CriteriaError
from spinepath.rules.criteria import compile_criterion

KNOWN = {"a", "b", "c", "n", "m", "t"}
T, F, U = True, False, None


@pytest.mark.parametrize(
    ("a", "b", "and_", "or_"),
    [
        (T, T, T, T), (T, F, F, T), (T, U, U, T),
        (F, T, F, T), (F, F, F, F), (F, U, F, U),
        (U, T, U, T), (U, F, F, U), (U, U, U, U),
    ],
)
def test_kleene_truth_tables(a, b, and_, or_):
    env = {"a": a, "b": b}
    assert compile_criterion("a AND b", KNOWN).evaluate(env) is and_
    assert compile_criterion("a OR b", KNOWN).evaluate(env) is or_


def test_not_and_comparisons_propagate_unknown():
    assert compile_criterion("NOT a", KNOWN).evaluate({"a": None}) is None
    assert compile_criterion("n >= 4", KNOWN).evaluate({"n": None}) is None
    assert compile_criterion("n >= 4", KNOWN).evaluate({"n": 4}) is True
    assert compile_criterion("n + m > 3", KNOWN).evaluate({"n": 2, "m": None}) is None
    assert compile_criterion("t IN ('left', 'right')", KNOWN).evaluate({"t": None}) is None
    assert compile_criterion("t IN ('left', 'right')", KNOWN).evaluate({"t": "left"}) is True
    assert compile_criterion("n BETWEEN 2 AND 5", KNOWN).evaluate({"n": 6}) is False


def test_names_are_collected():
    assert compile_criterion("a AND (n > 2 OR NOT b)", KNOWN).names == {"a", "n", "b"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a IS NULL", "not allowed"),
        ("coalesce(a, FALSE)", "not allowed"),
        ("n / 2 > 1", "not allowed"),
        ("n IN (SELECT 1)", "not allowed"),
        ("unknown_fact > 3", "unknown fact or parameter 'unknown_fact'"),
        ("a AND", "cannot parse"),
        ("t.a = 1", "not allowed"),
    ],
)
def test_disallowed_syntax_is_named(text, fragment):
    with pytest.raises(CriteriaError) as e:
        compile_criterion(text, KNOWN, "procedures/x.yaml indications[0].when")
    assert fragment in e.value.message
    assert "procedures/x.yaml indications[0].when" in e.value.message


EXPRESSIONS = [
    "a AND b", "a OR NOT b", "NOT (a AND (b OR c))", "n >= 4 AND a", "n + m > 5 OR b",
    "n * 2 <= m", "t IN ('left', 'right') AND NOT c", "n BETWEEN m AND 7", "-n < m",
    "(a OR n > 3) AND (b OR t = 'left')", "n <> m", "a = b",
]
bools = st.sampled_from([True, False, None])
nums = st.one_of(st.none(), st.integers(-5, 12))
texts = st.sampled_from(["left", "right", "bilateral", None])


@settings(max_examples=60, deadline=None)
@given(a=bools, b=bools, c=bools, n=nums, m=nums, t=texts)
def test_python_and_duckdb_agree(a, b, c, n, m, t):
    env = {"a": a, "b": b, "c": c, "n": n, "m": m, "t": t}
    con = duckdb.connect()
    con.execute("CREATE TABLE e (a BOOLEAN, b BOOLEAN, c BOOLEAN, n BIGINT, m BIGINT, t VARCHAR)")
    con.execute("INSERT INTO e VALUES (?, ?, ?, ?, ?, ?)", [a, b, c, n, m, t])
    for text in EXPRESSIONS:
        crit = compile_criterion(text, KNOWN)
        sql_value = con.execute(f"SELECT {crit.to_sql({})} FROM e").fetchone()[0]
        assert crit.evaluate(env) == sql_value, (text, env)


def test_parameters_are_inlined_in_sql():
    crit = compile_criterion("n >= limit_weeks", KNOWN | {"limit_weeks"})
    assert "4" in crit.to_sql({"limit_weeks": 4})
    assert crit.evaluate({"n": 5, "limit_weeks": 4}) is True
