"""Turn raw input into a PatientCase, or a CaseError that names every bad field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from spinepath.case.model import PatientCase
from spinepath.errors import CaseError, Problem


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown field (see `spinepath case schema` for the allowed fields)"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{err['input']!r} is out of range: {err['msg'].lower()}"
    if kind == "literal_error":
        return f"{err['input']!r} is not allowed; expected {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return f"{err['msg']} (got {err.get('input')!r})"


def parse_case(data: Any) -> PatientCase:
    """Validate ``data``; raise CaseError listing every problem, each with its field path."""
    if isinstance(data, PatientCase):
        return data
    if not isinstance(data, Mapping):
        raise CaseError("a case must be a JSON object", field="(case)")
    try:
        return PatientCase.model_validate(data)
    except ValidationError as e:
        problems = [Problem("case", _message(err), _loc(tuple(err["loc"])))
                    for err in e.errors(include_url=False)]
        first = problems[0]
        raise CaseError(
            f"the case is invalid: {first.field}: {first.message}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            field=first.field, problems=problems,
        ) from None
