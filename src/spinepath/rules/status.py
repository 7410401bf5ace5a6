"""The status algorithm: from criterion results to an option's status, with the reasons.

Documented for authors in content/README.md ("How an option's status is decided"); the batch
SQL in :mod:`spinepath.rules.batch` renders the same steps as a CASE expression, and a test
compares the two on generated cases. Unknown never becomes false here: an unknown rule either
makes the option ``insufficient_information`` or caps it at ``consider``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from spinepath.rules.plan import ProcedurePlan, Rule


@dataclass
class Decision:
    status: str
    reasons: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    #: rules whose unknown result mattered, with how much (for gap ranking)
    unknown_rules: list[tuple[Rule, int]] = field(default_factory=list)


WEIGHT_ELIGIBILITY = 10  # an unknown that leaves the option undecided
WEIGHT_CAP = 4  # an unknown that only keeps the option from "recommended"


def _fmt(r: Rule) -> str:
    return f"{r.label} [{r.rule}]"


def decide(
    pp: ProcedurePlan, v: Mapping[str, bool | None], deferred_by: list[str],
    unscreened: list[str] | None = None,
) -> Decision:
    """Status of one procedure given each rule's three-valued result ``v[rule_id]``.

    ``deferred_by``: fired red flags that defer this procedure. ``unscreened``: red flags that
    would defer it but could not be ruled out (a feature is unknown); they cap it at consider.
    """
    if deferred_by:
        return Decision("deferred", [f"Deferred: red flag {', '.join(deferred_by)} must be dealt with first; "
                                     "elective treatment waits"])
    a = v[pp.applies.rule]
    if a is False:
        return Decision("not_indicated", [f"Not in scope for this presentation: {_fmt(pp.applies)} is not met"])
    if a is None:
        return Decision("insufficient_information",
                        [f"Cannot tell whether it applies: {_fmt(pp.applies)} is unknown"],
                        unknown_rules=[(pp.applies, WEIGHT_ELIGIBILITY)])
    excl = [r for r in pp.exclusions if v[r.rule] is True]
    failed = [r for r in pp.indications if v[r.rule] is False]
    if excl or failed:
        return Decision("not_indicated", [f"Not indicated: {_fmt(r)}" for r in excl]
                        + [f"Indication not met: {_fmt(r)}" for r in failed])
    hit = [r for r in pp.absolute if v[r.rule] is True]
    if hit:
        return Decision("contraindicated", [f"Contraindicated: {_fmt(r)}" for r in hit])
    unknown_ind = [r for r in pp.indications if v[r.rule] is None]
    if unknown_ind:
        return Decision("insufficient_information",
                        [f"Indication unknown: {_fmt(r)}" for r in unknown_ind],
                        unknown_rules=[(r, WEIGHT_ELIGIBILITY) for r in unknown_ind])
    unmet = [r for r in pp.prerequisites if v[r.rule] is False]
    repeat_on = pp.repeat_when is not None and v[pp.repeat_when.rule] is True
    unmet_repeat = [r for r in pp.repeat if repeat_on and v[r.rule] is False]
    if unmet or unmet_repeat:
        return Decision("not_yet",
                        [f"Not yet: {_fmt(r)} is not met" for r in unmet]
                        + [f"Not yet (repeat): {_fmt(r)} is not met" for r in unmet_repeat],
                        missing=[r.missing or r.label for r in [*unmet, *unmet_repeat]])
    unknown_pre = [r for r in pp.prerequisites if v[r.rule] is None]
    if unknown_pre:
        return Decision("insufficient_information",
                        [f"Prerequisite unknown: {_fmt(r)}" for r in unknown_pre],
                        unknown_rules=[(r, WEIGHT_ELIGIBILITY) for r in unknown_pre])
    # A candidate: recommended only if nothing that matters is unknown or cautionary.
    reasons = ["Scope, indications and prerequisites are met"]
    caps: list[tuple[Rule, int]] = []
    capped = False
    for r in [*pp.absolute, *pp.exclusions]:
        if v[r.rule] is None:
            reasons.append(f"Check before proceeding (unknown): {_fmt(r)}")
            caps.append((r, WEIGHT_CAP))
            capped = True
    for r in pp.relative:
        if v[r.rule] is True:
            reasons.append(f"Relative contraindication: {_fmt(r)}")
            capped = True
    if pp.repeat_when is not None:
        rw = v[pp.repeat_when.rule]
        if rw is None:
            reasons.append("Unknown whether it was done before, so repeat rules cannot be checked")
            caps.append((pp.repeat_when, WEIGHT_CAP))
            capped = True
        elif rw:
            for r in pp.repeat:
                if v[r.rule] is None:
                    reasons.append(f"Repeat rule unknown: {_fmt(r)}")
                    caps.append((r, WEIGHT_CAP))
                    capped = True
            if not capped:
                reasons.append("Repeat rules are met")
    if unscreened:
        reasons.append("Red-flag screen incomplete: " + ", ".join(unscreened)
                       + " cannot be ruled out yet; answer the red-flag questions first")
        capped = True
    rec_unmet = [r for r in pp.recommend if v[r.rule] is not True]
    for r in rec_unmet:
        if v[r.rule] is None:
            caps.append((r, WEIGHT_CAP))
        reasons.append(f"Not a strong fit ({'unknown' if v[r.rule] is None else 'not met'}): {_fmt(r)}")
    if pp.proc.max_status != "recommended":
        reasons.append("Evidence or consensus for this procedure supports 'consider' at most")
    if capped or rec_unmet or pp.proc.max_status != "recommended":
        return Decision("consider", reasons, unknown_rules=caps)
    for r in pp.recommend:
        reasons.append(f"Strong fit: {_fmt(r)}")
    return Decision("recommended", reasons)
