"""What a performed procedure's follow-up is, read from its content (``followup`` block): the
schedule (its own, or the shared default it inherits), the instruments it asks for, and which
pain NRS site is its primary outcome."""

from __future__ import annotations

from collections.abc import Mapping

from spinepath.errors import InputError
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge


def _procedure(kb: Knowledge, procedure_id: str) -> s.Procedure:
    proc = kb.procedures.get(procedure_id)
    if proc is None:
        raise InputError(f"unknown procedure {procedure_id!r}; procedures: {', '.join(sorted(kb.procedures))}",
                         field="procedure")
    return proc


def schedule_for(kb: Knowledge, procedure_id: str) -> list[s.FollowupPoint]:
    """The procedure's follow-up time points (baseline first)."""
    fu = _procedure(kb, procedure_id).followup
    return list(kb.shared.followup_schedule if fu.schedule == "inherit" else fu.schedule)


def schedule_pairs(kb: Knowledge, procedure_id: str) -> list[tuple[str, int]]:
    """(label, days after the procedure) for each point: what the store writes."""
    return [(p.label, p.days_after) for p in schedule_for(kb, procedure_id)]


def instruments_for(kb: Knowledge, procedure_id: str) -> list[str]:
    """Instruments a follow-up of this procedure may be answered with (with those they include)."""
    out: list[str] = []
    for iid in _procedure(kb, procedure_id).followup.instruments:
        for i in (iid, *kb.instruments[iid].includes):
            if i not in out:
                out.append(i)
    return out


def is_cervical(level: str | None) -> bool:
    """A cervical motion segment (C1-C2 ... C7-T1)."""
    return bool(level) and str(level).upper().startswith("C")


def primary_site(kb: Knowledge, procedure_id: str, level: str | None,
                 baseline: Mapping[str, float] | None = None) -> str | None:
    """The pain NRS site that is this procedure's primary outcome. ``worst`` sites take the site
    with the highest baseline score (ties: the order back, leg, neck, arm, face); None when that
    needs a baseline there is not."""
    pp = _procedure(kb, procedure_id).followup.primary_pain
    site = pp.cervical if (pp.cervical and is_cervical(level)) else pp.default
    if site != "worst":
        return site
    if not baseline:
        return None
    scored = [(v, -s.PAIN_SITES.index(k), k) for k, v in baseline.items() if k in s.PAIN_SITES]
    return max(scored)[2] if scored else None
