"""Request text checks: the fast path (one C-level JSON encode) must agree with the walk that
names the offending field, on any JSON value, including NUL, unpaired surrogates, non-finite
numbers and the literal text backslash-u0000."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from spinepath.api.schemas import _bad_json_text, check_json_text

texts = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfffy", "\\u0000", "ok"]),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts,
                    st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_check_agrees_with_the_walk(value: Any) -> None:
    assert check_json_text(value) == _bad_json_text(value, "")


def test_each_kind_of_bad_value_is_named() -> None:
    assert check_json_text({"pain": {"leg": {"note": "a\x00"}}}) == "pain.leg.note"
    assert check_json_text({"imaging": [{"level": "\ud800"}]}) == "imaging[0].level"
    assert check_json_text({"age": math.inf}) == "age"
    assert check_json_text({"bad\x00key": 1}) == "(key)"
    assert check_json_text({"note": "\\u0000 is fine as text"}) is None
