"""One patient's outcomes: pain and ODI trajectory by time point, responder status, relief so far
and whether a repeat procedure is reasonable under the policy. Pure: the caller passes what the
store holds.

Definitions (all from content):

- *Primary pain* is the pain NRS site the procedure's content names (``followup.primary_pain``).
- *Change* from baseline is kept both ways (REFERENCE §4.4): points = baseline - follow-up, and
  percent = points / baseline x 100, undefined when the baseline is 0.
- *Responder* at a time point, per ``shared.outcome_analytics.responder_definitions``: every
  threshold a definition gives is reached. Unknown (null) when a score or the baseline is
  missing, or a percent threshold meets a zero baseline.
- *Relief* is judged as the registry analytics judge it (contract:
  :mod:`spinepath.outcomes.dataset`), from the procedure's relief onset
  (``followup.relief_onset_days``, 0 when content states none): a follow-up due before the onset
  day never ends relief, because relief may not have developed yet (facet RF over 2-3 weeks). It
  ends at the first answered follow-up on or after the onset day whose primary pain reduction is
  smaller than ``relief_margin_points`` (pain back within the margin of baseline); while it has not
  ended the episode is *relieved so far*, for as long as its latest relieved follow-up. Unknown
  without a baseline, with a baseline below the margin (a reduction that large is impossible) or
  before a follow-up on or after the onset day is answered.
- *Repeat*: the procedure's own ``repeat.criteria`` (content, with the policy's parameters) are
  evaluated by the rules engine on the patient's procedures, each carrying the relief this
  follow-up documents: relief % = the largest primary-pain reduction seen at a follow-up, relief
  months = how long relief lasted (or, while it lasts, has lasted so far — a duration not yet
  known is unknown unless it already reaches the threshold); both unknown while relief cannot be
  judged. Anything unknown gives "not enough follow-up yet", never a yes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from spinepath.case.spec import DAYS_PER_MONTH  # mean Gregorian month (365.25 / 12)
from spinepath.case.validate import parse_case
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.instruments import instrument, item_band, merge_scores
from spinepath.outcomes.schedules import primary_site
from spinepath.rules.engine import evaluate_facts
from spinepath.rules.plan import Rule, compile_plan

_EPS = 1e-9


@dataclass(frozen=True)
class Answered:
    """One stored, scored response (``score`` is an instruments.Score as a dict)."""

    instrument: str
    measure: str
    score: Mapping[str, Any]
    submitted_at: dt.datetime


@dataclass(frozen=True)
class Point:
    """One schedule point of an episode, with the responses that answer it."""

    id: str
    label: str
    due_on: dt.date
    status: str
    responses: tuple[Answered, ...] = ()


@dataclass(frozen=True)
class Episode:
    """One performed procedure and its schedule."""

    id: str
    procedure: str
    performed_on: dt.date
    level: str | None = None
    side: str | None = None
    points: tuple[Point, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------ output


class Change(BaseModel):
    points: float = Field(description="baseline - follow-up (positive = better)")
    pct: float | None = Field(description="points / baseline x 100; null when the baseline is 0")


class PointOutcome(BaseModel):
    id: str
    label: str
    days: int
    due_on: dt.date
    state: Literal["answered", "due", "overdue", "upcoming"]
    nrs: float | None = Field(default=None, description="Primary pain NRS")
    nrs_sites: dict[str, float] = Field(default_factory=dict)
    nrs_band: str | None = None
    odi: float | None = None
    odi_band: str | None = None
    bni: int | None = None
    bni_band: str | None = None
    warning: bool | None = None
    nrs_change: Change | None = None
    odi_change: Change | None = None
    responders: dict[str, bool | None] = Field(default_factory=dict)
    relieved: bool | None = None


class Relief(BaseModel):
    state: Literal["relieved", "ended", "unknown"]
    months: float | None = Field(default=None, description="How long relief lasted at least (so far, while "
                                 "relieved): months to the latest relieved follow-up, to 0.1 month")
    months_before: float | None = Field(default=None, description="Relief had ended by then (months to the "
                                        "follow-up that found it over); null while relieved")
    ended_at: str | None = None
    baseline_nrs: float | None = None
    latest_nrs: float | None = None
    peak_pct: float | None = Field(default=None, description="Largest primary-pain reduction (%) at a follow-up")
    margin_points: float
    onset_days: int = Field(default=0, description="The procedure's relief onset: follow-ups due before this day "
                            "do not end relief")
    text: str


class RepeatCriterion(BaseModel):
    id: str
    label: str
    result: Literal["met", "not_met", "unknown"]
    missing: str | None = None


class RepeatCheck(BaseModel):
    verdict: Literal["reasonable", "not_reasonable", "not_enough_followup", "no_rule"]
    policy: str
    text: str
    criteria: list[RepeatCriterion] = Field(default_factory=list)
    relief_pct: float | None = None
    relief_months: float | None = None


class EpisodeOutcome(BaseModel):
    id: str
    procedure: str
    name: str
    performed_on: dt.date
    level: str | None
    side: str | None
    primary_site: str | None
    points: list[PointOutcome]
    latest: str | None = Field(description="Label of the latest answered follow-up after baseline")
    responders_latest: dict[str, bool | None]
    relief: Relief
    repeat: RepeatCheck


class ResponderLabel(BaseModel):
    id: str
    label: str
    measure: str


class PatientOutcomes(BaseModel):
    patient_id: str
    today: dt.date
    policy: str
    responder_definitions: list[ResponderLabel]
    episodes: list[EpisodeOutcome]
    disclaimer: str


# ------------------------------------------------------------------ mechanism


def change(baseline: float | None, value: float | None) -> Change | None:
    if baseline is None or value is None:
        return None
    points = baseline - value
    return Change(points=points, pct=points / baseline * 100 if baseline > 0 else None)


def responder(d: s.ResponderDefinition, ch: Change | None) -> bool | None:
    """Does a change meet definition ``d``? None when it cannot be told."""
    if ch is None:
        return None
    results: list[bool | None] = []
    if d.min_reduction_points is not None:
        results.append(ch.points + _EPS >= d.min_reduction_points)
    if d.min_reduction_pct is not None:
        results.append(None if ch.pct is None else ch.pct + _EPS >= d.min_reduction_pct)
    if False in results:
        return False
    return None if None in results else True


def _merge(responses: Sequence[Answered]) -> dict[str, Any]:
    """The point's scores: latest response per measure (pain sites merged, latest per site)."""
    return merge_scores((r.measure, r.score) for r in sorted(responses, key=lambda r: r.submitted_at))


def _state(p: Point, today: dt.date) -> Literal["answered", "due", "overdue", "upcoming"]:
    if p.responses or p.status == "completed":
        return "answered"
    if p.due_on > today:
        return "upcoming"
    return "due" if p.due_on == today else "overdue"


def episode_outcome(kb: Knowledge, ep: Episode, today: dt.date, policy: str | None = None,
                    earlier: Sequence[tuple[Episode, Relief]] = ()) -> tuple[EpisodeOutcome, Relief]:
    """One episode's trajectory, responders, relief and repeat check. ``earlier``: the patient's
    earlier episodes with their relief (the repeat rules read the latest of each family)."""
    proc = kb.procedures.get(ep.procedure)
    defs = kb.shared.outcome_analytics.responder_definitions
    margin = kb.shared.outcome_analytics.relief_margin_points
    points = sorted(ep.points, key=lambda p: p.due_on)
    merged = [_merge(p.responses) for p in points]
    base_i = next((i for i, p in enumerate(points) if p.due_on <= ep.performed_on), None)
    base = merged[base_i] if base_i is not None else {"nrs_sites": {}}
    site = primary_site(kb, ep.procedure, ep.level, base["nrs_sites"]) if proc else None
    nrs_def = instrument(kb, "nrs") if "nrs" in kb.instruments else None
    b_nrs = base["nrs_sites"].get(site) if site else None
    b_odi = base.get("odi")
    b_bni = base.get("bni")

    out_points: list[PointOutcome] = []
    for i, (p, m) in enumerate(zip(points, merged, strict=True)):
        nrs = m["nrs_sites"].get(site) if site else None
        po = PointOutcome(id=p.id, label=p.label, days=(p.due_on - ep.performed_on).days, due_on=p.due_on,
                          state=_state(p, today), nrs=nrs, nrs_sites=m["nrs_sites"],
                          nrs_band=item_band(nrs_def, nrs) if nrs_def and nrs is not None else None,
                          odi=m.get("odi"), odi_band=m.get("odi_band"),
                          bni=int(m["bni"]) if m.get("bni") is not None else None, bni_band=m.get("bni_band"),
                          warning=m["warning"])
        if i != base_i:
            po.nrs_change = change(b_nrs, nrs)
            po.odi_change = change(b_odi, po.odi)
            bni_change = change(b_bni, po.bni)
            by_measure = {"nrs": po.nrs_change, "odi": po.odi_change, "bni": bni_change}
            po.responders = {d.id: responder(d, by_measure[d.measure]) for d in defs}
            if po.nrs_change is not None:
                po.relieved = po.nrs_change.points + _EPS >= margin
        out_points.append(po)

    follow = [po for i, po in enumerate(out_points) if i != base_i and po.state == "answered"]
    latest = follow[-1] if follow else None
    relief = _relief(out_points, base_i, b_nrs, margin, proc.followup.onset_days if proc else 0)
    rep = repeat_check(kb, ep, relief, today, policy, earlier)
    name = proc.name if proc else ep.procedure
    return EpisodeOutcome(
        id=ep.id, procedure=ep.procedure, name=name, performed_on=ep.performed_on, level=ep.level, side=ep.side,
        primary_site=site, points=out_points, latest=latest.label if latest else None,
        responders_latest=dict(latest.responders) if latest else {d.id: None for d in defs},
        relief=relief, repeat=rep), relief


def _relief(points: list[PointOutcome], base_i: int | None, baseline: float | None, margin: float,
            onset: int = 0) -> Relief:
    scored = [p for i, p in enumerate(points) if i != base_i and p.nrs is not None and p.nrs_change is not None]
    latest_nrs = scored[-1].nrs if scored else None
    pcts = [p.nrs_change.pct for p in scored if p.nrs_change and p.nrs_change.pct is not None]
    peak = max(pcts) if pcts else None
    common = {"baseline_nrs": baseline, "latest_nrs": latest_nrs, "peak_pct": peak, "margin_points": margin,
              "onset_days": onset}
    if baseline is None:
        return Relief(state="unknown", text="no baseline pain score for the primary site: relief cannot be told",
                      **common)
    if baseline + _EPS < margin:
        return Relief(state="unknown", text=f"baseline pain {baseline:g} is below the {margin:g}-point margin: a "
                                            f"{margin:g}-point reduction is impossible, so relief cannot be measured",
                      **common)
    if not scored:
        return Relief(state="unknown", text="no follow-up pain score after baseline yet", **common)
    judged = [p for p in scored if p.days >= onset]
    if not judged:
        return Relief(state="unknown", text=f"relief takes time to develop after this procedure and is judged from "
                                            f"day {onset}: no follow-up pain score on or after then yet", **common)
    last_relieved: PointOutcome | None = None
    for p in judged:
        if not p.relieved:
            months = _months(last_relieved.days) if last_relieved else 0.0
            text = (f"relief ended by {p.label} (pain back within {margin:g} points of baseline)" if last_relieved
                    else f"no relief at {p.label} (pain within {margin:g} points of baseline)")
            return Relief(state="ended", months=months, months_before=_months(p.days), ended_at=p.label,
                          text=text, **common)
        last_relieved = p
    assert last_relieved is not None
    months = _months(last_relieved.days)
    return Relief(state="relieved", months=months,
                  text=f"relieved so far: {months:g} months (at {last_relieved.label})", **common)


def _months(days: int) -> float:
    """Days to months (mean Gregorian month), to 0.1 month: schedule points are nominal (182 days is
    the "6 months" point), so finer precision would only make 6-month rules miss by a day."""
    return round(days / DAYS_PER_MONTH, 1)


def _prior(ep: Episode, relief: Relief, months: float | None) -> dict[str, Any]:
    # Relief that cannot be judged yet (e.g. every answer is before the procedure's onset day) has no
    # relief % for the repeat rules: unknown, never a "no".
    pct = None if relief.peak_pct is None or relief.state == "unknown" else max(0.0, min(100.0, relief.peak_pct))
    return {"procedure": ep.procedure, "date": ep.performed_on.isoformat(), "level": ep.level,
            "side": ep.side, "relief_pct": pct, "relief_months": None if months is None else min(600.0, months)}


def repeat_check(kb: Knowledge, ep: Episode, relief: Relief, today: dt.date, policy: str | None = None,
                 earlier: Sequence[tuple[Episode, Relief]] = ()) -> RepeatCheck:
    """Whether repeating ``ep``'s procedure is reasonable under the policy (content repeat rules)."""
    plan = compile_plan(kb, policy)
    pid = plan.policy.id
    pp = next((x for x in plan.procedures if x.proc.id == ep.procedure), None)
    if pp is None or pp.repeat_when is None or not pp.repeat:
        return RepeatCheck(verdict="no_rule", policy=pid,
                           text="the knowledge base sets no repeat criteria for this procedure under this policy; "
                                "a repeat is a clinical decision")
    # Relief lasted at least `months` and (when it has ended) less than `months_before`: a duration
    # rule (relief months >= X) is met on the lower bound, not met on the upper, unknown between.
    before = [_prior(e, r, r.months) for e, r in earlier if e.performed_on <= ep.performed_on]
    priors = [*before, _prior(ep, relief, relief.months)]
    env_low = evaluate_facts(plan, parse_case({"procedures": priors}), today)
    env_high = evaluate_facts(plan, parse_case({"procedures": [*before, _prior(ep, relief, relief.months_before)]}),
                              today)

    def value(r: Rule) -> bool | None:
        v: bool | None = r.expr.evaluate(env_low)
        if v is False:
            high = r.expr.evaluate(env_high)
            v = False if high is False else None
        return v

    rows = []
    for r in pp.repeat:
        v = value(r)
        rows.append(RepeatCriterion(id=r.rule.rsplit(".", 1)[-1], label=r.label,
                                    result="unknown" if v is None else ("met" if v else "not_met"),
                                    missing=r.missing))
    if any(c.result == "not_met" for c in rows):
        unmet = "; ".join(c.missing or c.label for c in rows if c.result == "not_met")
        verdict: Literal["reasonable", "not_reasonable", "not_enough_followup", "no_rule"] = "not_reasonable"
        text = f"not reasonable under {pid} now: {unmet}"
    elif any(c.result == "unknown" for c in rows):
        verdict, text = "not_enough_followup", "not enough follow-up yet to tell: " + "; ".join(
            c.label for c in rows if c.result == "unknown")
    else:
        verdict, text = "reasonable", f"reasonable under {pid}: every repeat criterion is met"
    return RepeatCheck(verdict=verdict, policy=pid, text=text, criteria=rows, relief_pct=priors[-1]["relief_pct"],
                       relief_months=priors[-1]["relief_months"])


def patient_outcomes(kb: Knowledge, patient_id: str, episodes: Sequence[Episode], today: dt.date,
                     policy: str | None = None) -> PatientOutcomes:
    """Every episode of one patient, oldest first."""
    pid = kb.policy(policy).id
    done: list[tuple[Episode, Relief]] = []
    out: list[EpisodeOutcome] = []
    for ep in sorted(episodes, key=lambda e: (e.performed_on, e.id)):
        eo, relief = episode_outcome(kb, ep, today, pid, done)
        done.append((ep, relief))
        out.append(eo)
    defs = [ResponderLabel(id=d.id, label=d.label, measure=d.measure)
            for d in kb.shared.outcome_analytics.responder_definitions]
    return PatientOutcomes(patient_id=patient_id, today=today, policy=pid, responder_definitions=defs,
                           episodes=out, disclaimer=" ".join(kb.shared.disclaimer.split()))
