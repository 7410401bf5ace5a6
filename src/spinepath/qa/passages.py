"""What an answer may quote: passages of approved content, per audience, each with its item,
section and sources.

    passages = build_passages(kb, live={"esi-caudal": procedure_model})

A passage is one education section (patient or clinician text), one discharge period, one
warning sign (an item's own or a shared post-procedure sign) or, for clinicians, one red flag's
action. Only approved content is used: an item whose status is ``approved``, or an item's live
(published) revision, which replaces the bundled item. Shared warning signs are part of the
bundled content that every discharge sheet already gives patients.

Each passage carries ``index_text`` (what retrieval searches: the item's name and aliases, the
section heading and the text) and ``text`` (what may be quoted, sentence by sentence).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spinepath.education.articles import HEADINGS
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge

AUDIENCES: tuple[str, ...] = ("patient", "clinician")
DISCHARGE_HEADINGS = {"day_0": "On the day", "days_1_2": "The next 1 to 2 days", "week_1": "The first week",
                      "later": "After the first week"}
SHARED_ITEM = "shared"


@dataclass(frozen=True)
class Passage:
    """One quotable piece of approved content."""

    id: int
    item_id: str
    item_name: str
    kind: str  # condition | procedure | red_flag | shared
    section: str  # what_it_is … alternatives, discharge.day_0, warning_signs[0], shared_warning_signs[1], action
    heading: str
    audience: str
    text: str
    sources: tuple[s.SourceRef, ...]
    index_text: str
    revision_id: str | None = None  # the live revision it comes from, if any

    @property
    def section_key(self) -> str:
        """The article section this passage belongs to (discharge periods count as ``after``,
        warning signs as ``warning_signs``)."""
        if self.section.startswith("discharge."):
            return "after"
        if "warning_signs" in self.section or self.kind == "red_flag":
            return "warning_signs"
        return self.section


def _names(item: Any) -> str:
    return ". ".join([item.name, *getattr(item, "aliases", [])])


def approved_items(kb: Knowledge, live: Mapping[str, s.Editorial] | None = None) -> dict[str, Any]:
    """Conditions, procedures and red flags that are approved: live revisions first, then bundled
    items whose status is approved."""
    live = dict(live or {})
    out: dict[str, Any] = {}
    for group in (kb.conditions, kb.procedures, kb.red_flags):
        for item_id, item in group.items():
            chosen = live.get(item_id, item)
            if chosen.status == "approved":
                out[item_id] = chosen
    return out


def build_passages(kb: Knowledge, live: Mapping[str, s.Editorial] | None = None,
                   revisions: Mapping[str, str] | None = None) -> list[Passage]:
    """Every passage of approved content, for both audiences, in a stable order.

    ``live`` maps item ids to validated live revision bodies (they replace the bundled items);
    ``revisions`` maps those item ids to their revision ids, kept on each passage."""
    revisions = dict(revisions or {})
    out: list[Passage] = []

    def add(item_id: str, name: str, kind: str, section: str, heading: str, audience: str, text: str,
            sources: tuple[s.SourceRef, ...], names: str) -> None:
        text = text.strip()
        if not text:
            return
        out.append(Passage(len(out), item_id, name, kind, section, heading, audience, text, sources,
                           f"{names}. {heading}. {text}", revisions.get(item_id)))

    items = approved_items(kb, live)
    for item_id in sorted(items):
        item = items[item_id]
        names = _names(item)
        if isinstance(item, (s.Condition, s.Procedure)):
            for audience in AUDIENCES:
                texts: s.AudienceText = getattr(item.education, audience)
                for key, heading in zip(s.EDUCATION_SECTIONS, HEADINGS[(item.kind, audience)], strict=True):
                    sec: s.EducationSection | None = getattr(texts, key)
                    if sec is not None:
                        add(item_id, item.name, item.kind, key, heading, audience, sec.text, tuple(sec.sources), names)
        if isinstance(item, s.Procedure):
            if item.discharge is not None:
                for period, heading in DISCHARGE_HEADINGS.items():
                    steps: list[s.CourseStep] = getattr(item.discharge, period)
                    refs = tuple(dict.fromkeys(r for step in steps for r in step.sources))
                    add(item_id, item.name, item.kind, f"discharge.{period}", f"After {item.name}: {heading}",
                        "patient", "\n".join(" ".join(step.text.split()) for step in steps), refs, names)
            for j, w in enumerate(item.warning_signs):
                for audience in AUDIENCES:
                    add(item_id, item.name, item.kind, f"warning_signs[{j}]", "Warning sign", audience,
                        sign_text(w), tuple(w.sources), names)
        if isinstance(item, s.RedFlag):
            add(item_id, item.name, "red_flag", "action", "Red flag", "clinician", item.action, tuple(item.sources),
                names)
    for j, w in enumerate(kb.shared.shared_warning_signs):
        for audience in AUDIENCES:
            add(SHARED_ITEM, "Warning signs after a procedure", SHARED_ITEM, f"shared_warning_signs[{j}]",
                "Warning sign after any procedure", audience,
                sign_text(w), tuple(w.sources), "Warning signs after a procedure")
    return out


def sign_text(w: s.WarningSign) -> str:
    """A warning sign and what to do, as two sentences."""
    sign = " ".join(w.sign.split()).rstrip(". ")
    return f"{sign}. {' '.join(w.action.split())}"
