"""docs/facts.md, generated from the fact catalogue (a test keeps the file in step)."""

from __future__ import annotations

from spinepath.case.facts import build_catalogue
from spinepath.case.spec import Agg, Derived, LatestValue, MonthsSinceLatest, PainMap, Path


def _how(spec: object) -> str:
    if isinstance(spec, Path):
        return f"case `{spec.path}`"
    if isinstance(spec, PainMap):
        return f"pain map `pain.{spec.path}` (unmarked site → {spec.absent})"
    if isinstance(spec, Agg):
        return f"{spec.fn} over `{spec.list}`" + (f" of `{spec.value}`" if spec.value else "")
    if isinstance(spec, MonthsSinceLatest):
        return f"months since latest in `{spec.list}`"
    if isinstance(spec, LatestValue):
        return f"`{spec.value}` of latest in `{spec.list}`"
    if isinstance(spec, Derived):
        return f"`{spec.expr}`"
    return type(spec).__name__


def render_facts_doc() -> str:
    facts = build_catalogue()
    lines = [
        "# Facts",
        "",
        "Generated from `src/spinepath/case/facts.py` by `python tools/gen_docs.py`; a test fails",
        "if this page and the catalogue differ. Criteria in content files may use these names and",
        "the policy parameters declared in `content/shared.yaml`.",
        "",
        "Unknown is `null`: a fact is unknown when the case does not say. An empty list is known",
        "to be empty (e.g. `procedures: []` means no prior procedures). Under the pain-map",
        "contract, a body site the pain map leaves unmarked has no pain.",
        "",
        "| fact | type | read from | meaning |",
        "|---|---|---|---|",
    ]
    for f in facts.values():
        lines.append(f"| `{f.name}` | {f.type} | {_how(f.spec).replace('|', '/')} | {f.doc} |")
    return "\n".join(lines) + "\n"
