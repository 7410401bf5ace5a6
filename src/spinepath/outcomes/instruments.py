"""Follow-up instruments: typed definitions built from content, and pure scoring.

    defn = instrument(kb, "odi")
    result = score(defn, {"pain_intensity": 2, "lifting": 3, ...})

Every rule of scoring is content (``content/instruments/*.yaml``): the items and their ranges, the
method (per-item scores for pain NRS, percent of the answered maximum for the ODI, an ordinal
grade for BNI), how many items may be missing, what happens when several statements are marked,
and the interpretation bands. This module is the mechanism only.

Answers that do not fit the instrument are refused with :class:`AnswerError` naming the answer
(``answers.<item>``) and what is allowed; answers that fit but are too incomplete to score (the
ODI with more sections missing than the content allows) are kept, with no score and a note
saying why. A warning-sign question answered yes is reported in ``warnings``; one left
unanswered is unknown, never a no.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from spinepath.errors import AnswerError, Problem
from spinepath.knowledge import instrument_schema as s
from spinepath.knowledge.snapshot import Knowledge

_YES = frozenset({"yes", "y", "true"})
_NO = frozenset({"no", "n", "false"})


@dataclass(frozen=True)
class ItemDef:
    """One answerable item, with the instrument it belongs to (its own, or an included one)."""

    item: s.InstrumentItem
    instrument: str
    own: bool
    urgency: str | None = None  # the linked shared warning sign's urgency, for warning questions
    action: str | None = None   # what the patient is told to do for that sign


@dataclass(frozen=True)
class InstrumentDef:
    """An instrument as scoring needs it: its content plus the items of the instruments it includes."""

    content: s.Instrument
    items: Mapping[str, ItemDef]

    @property
    def id(self) -> str:
        return self.content.id

    @property
    def measure(self) -> str:
        return self.content.measure

    def own_items(self) -> list[s.InstrumentItem]:
        return list(self.content.items)


def instrument(kb: Knowledge, instrument_id: str) -> InstrumentDef:
    """The definition of ``instrument_id``; AnswerError (field ``instrument``) if there is none."""
    cache_key = f"instrument:{instrument_id}"
    cached = kb._cache.get(cache_key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    ins = kb.instruments.get(instrument_id)
    if ins is None:
        raise AnswerError(f"unknown instrument {instrument_id!r}; instruments: {', '.join(sorted(kb.instruments))}",
                          field="instrument")
    signs = {w.id: w for w in kb.shared.shared_warning_signs if w.id}
    items: dict[str, ItemDef] = {}
    for source in (ins, *(kb.instruments[i] for i in ins.includes)):
        for it in source.items:
            sign = signs.get(it.warning_sign) if it.warning_sign else None
            items[it.id] = ItemDef(it, source.id, source is ins, sign.urgency if sign else None,
                                   sign.action if sign else None)
    defn = InstrumentDef(ins, items)
    kb._cache[cache_key] = defn
    return defn


# ------------------------------------------------------------------ results


class WarningAnswer(BaseModel):
    """A warning-sign question answered yes."""

    item: str
    label: str
    warning_sign: str
    urgency: str
    action: str | None = None


class Score(BaseModel):
    """A scored response. ``value`` is the instrument's score (ODI percent, BNI grade 1-5); for
    per-item instruments (pain NRS by site) it is None and ``values`` holds each item's score."""

    instrument: str
    measure: str
    value: float | None = None
    values: dict[str, float] = Field(default_factory=dict)
    band: str | None = None
    answered: list[str] = Field(default_factory=list, description="The instrument's own items answered")
    missing: list[str] = Field(default_factory=list, description="The instrument's own items not answered")
    answers: dict[str, int | bool] = Field(default_factory=dict, description="Every answer as scored")
    warning: bool | None = Field(default=None, description="A warning sign reported: yes, no, or not asked")
    warnings: list[WarningAnswer] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    recall: str | None = None


# ------------------------------------------------------------------ answers


def _describe(it: s.InstrumentItem) -> str:
    if it.type == "integer":
        return f"a whole number {it.minimum}-{it.maximum}"
    if it.type == "yes_no":
        return "yes or no (true/false)"
    return "one of " + ", ".join(f"{c.value} ({c.label})" for c in it.choices)


def _one(it: s.InstrumentItem, value: Any) -> int | bool | None:
    """One answer value as scored, or None if it does not fit the item."""
    if it.type == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _YES | _NO:
            return value.strip().lower() in _YES
        return None
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and it.type == "choice":
        text = value.strip().lower()
        for c in it.choices:
            if text in {str(c.value), c.label.lower(), *(a.lower() for a in c.accepts)}:
                return c.value
        return None
    if number is None:
        return None
    if it.type == "integer":
        assert it.minimum is not None and it.maximum is not None
        return number if it.minimum <= number <= it.maximum else None
    return number if number in {c.value for c in it.choices} else None


def _normalise(defn: InstrumentDef, answers: Mapping[str, Any]) -> tuple[dict[str, int | bool], list[str], list[Problem]]:
    """Answers as scored (unanswered items left out), notes, and every problem found."""
    out: dict[str, int | bool] = {}
    notes: list[str] = []
    problems: list[Problem] = []
    rule = defn.content.scoring.multiple_marks
    for key, value in answers.items():
        where = f"answers.{key}"
        item = defn.items.get(key)
        if item is None:
            problems.append(Problem("answers", f"unknown item {key!r} for instrument {defn.id!r}; items: "
                                               f"{', '.join(defn.items)}", where))
            continue
        it = item.item
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue  # unanswered
        if isinstance(value, (list, tuple)):
            values = [_one(it, v) for v in value]
            if any(v is None for v in values):
                problems.append(Problem("answers", f"{key!r} must be {_describe(it)}, got {value!r}", where))
                continue
            if len(values) == 1:
                out[key] = values[0]  # type: ignore[assignment]
                continue
            if rule != "highest" or it.type == "yes_no" or not item.own:
                problems.append(Problem("answers", f"{key!r} has {len(values)} answers; give one", where))
                continue
            out[key] = max(int(v) for v in values if v is not None)
            notes.append(f"{it.label}: {len(values)} answers marked; the highest ({out[key]}) is scored")
            continue
        got = _one(it, value)
        if got is None:
            problems.append(Problem("answers", f"{key!r} must be {_describe(it)}, got {value!r}", where))
            continue
        out[key] = got
    return out, notes, problems


def _band(bands: list[s.Band], value: float | None) -> str | None:
    if value is None:
        return None
    for b in bands:
        if value <= b.max:
            return b.label
    return bands[-1].label if bands else None


def score(defn: InstrumentDef, answers: Mapping[str, Any]) -> Score:
    """Score ``answers`` (item id -> answer). Raises AnswerError listing every answer that does not
    fit, each named ``answers.<item>``; nothing is scored then."""
    ins = defn.content
    rules = ins.scoring
    normal, notes, problems = _normalise(defn, answers)
    own = [it.id for it in ins.items]
    answered = [i for i in own if i in normal]
    missing = [i for i in own if i not in normal]
    if not problems and len(answered) < rules.min_answered:
        first = own[0]
        problems.append(Problem("answers", f"answer at least {rules.min_answered} of: {', '.join(own)}",
                                f"answers.{first}"))
    if problems:
        first_p = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise AnswerError(f"the answers do not fit instrument {ins.id!r}: {first_p.field}: {first_p.message}{more}",
                          field=first_p.field, problems=problems)

    value: float | None = None
    values: dict[str, float] = {}
    if rules.method == "items":
        values = {i: float(normal[i]) for i in answered}
    elif rules.method == "percent_of_answered":
        top = ins.items[0].maximum or 0
        if rules.max_missing is not None and len(missing) > rules.max_missing:
            notes.append(f"not scored: {len(missing)} of {len(own)} items unanswered "
                         f"(more than {rules.max_missing} are not scored)")
        else:
            total = sum(int(normal[i]) for i in answered)
            value = total / (top * len(answered)) * 100
            if missing:
                notes.append(f"{len(missing)} item(s) unanswered ({', '.join(missing)}): scored over the "
                             f"{len(answered)} answered")
    elif rules.method == "ordinal":
        value = float(normal[own[0]])

    warnings: list[WarningAnswer] = []
    asked = False
    for key, got in normal.items():
        item = defn.items[key]
        if item.item.warning_sign is None:
            continue
        asked = True
        if got is True:
            warnings.append(WarningAnswer(item=key, label=item.item.label, warning_sign=item.item.warning_sign,
                                          urgency=item.urgency or "call_today", action=item.action))
    warning = True if warnings else (False if asked else None)
    band = _band(rules.bands, value) if rules.method != "items" else None
    if rules.method == "items" and len(values) == 1:
        band = _band(rules.bands, next(iter(values.values())))
    return Score(instrument=ins.id, measure=ins.measure, value=value, values=values, band=band,
                 answered=answered, missing=missing, answers=normal, warning=warning, warnings=warnings,
                 notes=notes, recall=ins.recall)


def item_band(defn: InstrumentDef, value: float | None) -> str | None:
    """The instrument's interpretation band for one value (e.g. one pain NRS site)."""
    return _band(defn.content.scoring.bands, value)


def merge_scores(scored: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """One schedule point's scores from its stored responses, given as (measure, Score dict) in
    submission order: the latest score per measure, pain NRS sites merged (latest per site), and
    ``warning`` true if any response reported a warning sign, false if warning questions were
    answered and all no, else None (unknown). Keys: ``nrs_sites``, ``warning``, and where answered
    ``odi`` (percent) / ``bni`` (grade) with ``odi_band`` / ``bni_band``."""
    out: dict[str, Any] = {"nrs_sites": {}, "warning": None}
    for measure, sc in scored:
        if measure == "nrs":
            out["nrs_sites"].update({k: float(v) for k, v in (sc.get("values") or {}).items()})
        elif measure in ("odi", "bni") and sc.get("value") is not None:
            out[measure] = float(sc["value"]) if measure == "odi" else int(sc["value"])
            out[f"{measure}_band"] = sc.get("band")
        w = sc.get("warning")
        if w is True or (w is False and out["warning"] is None):
            out["warning"] = w
    return out

