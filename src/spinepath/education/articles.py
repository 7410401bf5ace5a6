"""Education articles: one condition or procedure, for patients or for clinicians.

    from spinepath.education.articles import build_article
    article = build_article(kb, "rf-facet-lumbar", "clinician")

Pure: reads only the knowledge snapshot. An article holds the nine education sections in a
fixed order under headings that suit the audience and the kind of item, and one numbered list
of references. References are numbered in order of first use across the sections and
de-duplicated by (source id, locator). Clinician text cites with per-section markers — ``[k]``
is the k-th source of that section — which are rewritten to the article's global numbers.

Patients get approved items only: a patient article for an item that is not approved raises
:class:`~spinepath.errors.InputError` (field ``audience``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from spinepath.errors import ContentError, InputError
from spinepath.knowledge import schema as s
from spinepath.knowledge.checks import effective_tag
from spinepath.knowledge.snapshot import Knowledge

AUDIENCES: tuple[s.Audience, ...] = ("patient", "clinician")

#: Section headings by (kind, audience), in the order of EDUCATION_SECTIONS.
HEADINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("procedure", "patient"): (
        "What is it?", "Who does it help?", "Before", "During", "After", "How long does relief last?",
        "Risks", "When to get help", "Other options",
    ),
    ("procedure", "clinician"): (
        "Description", "Indications and selection", "Before the procedure", "Technique", "Aftercare",
        "Duration of relief and repeats", "Complications and risks", "Warning signs", "Alternatives",
    ),
    ("condition", "patient"): (
        "What is it?", "Who gets it?", "Finding out what is wrong", "Treatment", "Looking after yourself",
        "How long does it last?", "Risks", "When to get help", "Treatment options",
    ),
    ("condition", "clinician"): (
        "Definition", "Epidemiology and presentation", "Assessment", "Management", "Follow-up",
        "Course and prognosis", "Risks and complications", "Red flags and warning signs",
        "Treatment options",
    ),
}

AUDIENCE_LABELS = {"patient": "Information for patients", "clinician": "Summary for clinicians"}
STATUS_LABELS = {
    "approved": "Approved", "under_review": "Under review (not yet approved)", "draft": "Draft",
    "submitted": "Submitted for review", "changes_requested": "Changes requested", "retired": "Retired",
}
TAG_LABELS = {"V": "verified", "S": "secondary source", "NV": "not verified"}

_MARKER = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Reference:
    """One numbered entry of an article's reference list."""

    number: int
    source_id: str
    locator: str | None
    citation: str
    doi: str | None
    url: str | None
    tag: str
    tag_label: str

    @property
    def link(self) -> str | None:
        """The DOI as a resolvable address, else the source's URL."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url


@dataclass(frozen=True)
class ArticleSection:
    key: str
    heading: str
    text: str  # clinician text with citation markers renumbered to the article's numbers
    refs: tuple[int, ...]  # the article numbers of this section's sources, in order


@dataclass(frozen=True)
class Related:
    id: str
    kind: str
    name: str


@dataclass(frozen=True)
class Article:
    id: str
    kind: str  # condition | procedure
    title: str
    audience: str
    audience_label: str
    version: str
    status: str
    status_label: str
    updated: date
    last_reviewed: date | None
    reviewers: tuple[s.Review, ...]
    sections: tuple[ArticleSection, ...]
    references: tuple[Reference, ...]
    related: tuple[Related, ...]
    disclaimer: str

    @property
    def approved(self) -> bool:
        return self.status == "approved"


def renumber_citations(text: str, numbers: Sequence[int], where: str = "text") -> str:
    """Rewrite per-section markers ``[k]`` to ``[numbers[k-1]]``.

    Raises ContentError when a marker points past the section's sources."""

    def sub(m: re.Match[str]) -> str:
        k = int(m.group(1))
        if not 1 <= k <= len(numbers):
            raise ContentError(f"{where} cites [{k}] but lists {len(numbers)} source(s)", field=where)
        return f"[{numbers[k - 1]}]"

    return _MARKER.sub(sub, text)


def _item(kb: Knowledge, item_id: str) -> s.Condition | s.Procedure:
    if item_id in kb.conditions:
        return kb.conditions[item_id]
    if item_id in kb.procedures:
        return kb.procedures[item_id]
    hint = " (a red flag or policy has no article)" if item_id in kb.items() else ""
    raise InputError(f"no condition or procedure with id {item_id!r}{hint}; see `spinepath content list`",
                     field="id")


def _related(kb: Knowledge, item: s.Condition | s.Procedure, audience: str) -> tuple[Related, ...]:
    out: dict[str, Related] = {}
    if isinstance(item, s.Condition):
        ids = list(item.procedures) + [p.id for p in kb.procedures.values() if item.id in p.treats]
        for pid in ids:
            p = kb.procedures.get(pid)
            if p is not None and pid not in out and (audience != "patient" or p.status == "approved"):
                out[pid] = Related(pid, "procedure", p.name)
    else:
        ids = list(item.treats) + [c.id for c in kb.conditions.values() if item.id in c.procedures]
        for cid in ids:
            c = kb.conditions.get(cid)
            if c is not None and cid not in out and (audience != "patient" or c.status == "approved"):
                out[cid] = Related(cid, "condition", c.name)
    return tuple(out.values())


def build_article(kb: Knowledge, item_id: str, audience: str) -> Article:
    """The article for one condition or procedure and one audience (patient | clinician)."""
    if audience not in AUDIENCES:
        raise InputError(f"audience must be patient or clinician, got {audience!r}", field="audience")
    item = _item(kb, item_id)
    if audience == "patient" and item.status != "approved":
        raise InputError(
            f"{item.id} is {STATUS_LABELS.get(item.status, item.status).lower()}: patient articles are "
            "published for approved items only (use audience clinician to read it)", field="audience")
    text: s.AudienceText = getattr(item.education, audience)
    numbers: dict[tuple[str, str | None], int] = {}
    references: list[Reference] = []
    sections: list[ArticleSection] = []
    headings = HEADINGS[(item.kind, audience)]
    for key, heading in zip(s.EDUCATION_SECTIONS, headings, strict=True):
        sec: s.EducationSection | None = getattr(text, key)
        if sec is None:
            continue
        local: list[int] = []
        for ref in sec.sources:
            n = numbers.get((ref.id, ref.locator))
            if n is None:
                n = numbers[(ref.id, ref.locator)] = len(numbers) + 1
                references.append(_reference(kb, ref, n))
            local.append(n)
        body = sec.text.strip()
        if audience == "clinician":
            body = renumber_citations(body, local, f"{item.id}.education.clinician.{key}")
        sections.append(ArticleSection(key, heading, body, tuple(dict.fromkeys(local))))
    reviewed = max((r.date for r in item.reviewers), default=None)
    return Article(
        id=item.id, kind=item.kind, title=item.name, audience=audience,
        audience_label=AUDIENCE_LABELS[audience], version=item.version, status=item.status,
        status_label=STATUS_LABELS.get(item.status, item.status), updated=item.updated,
        last_reviewed=reviewed, reviewers=tuple(item.reviewers), sections=tuple(sections),
        references=tuple(references), related=_related(kb, item, audience),
        disclaimer=" ".join(kb.shared.disclaimer.split()),
    )


def _reference(kb: Knowledge, ref: s.SourceRef, number: int) -> Reference:
    src = kb.sources.get(ref.id)
    if src is None:  # the content checks make this impossible for a loaded snapshot
        raise ContentError(f"source {ref.id!r} is not in the source register", field="sources")
    tag = effective_tag(ref, kb.sources) or src.tag
    return Reference(number=number, source_id=src.id, locator=ref.locator, citation=" ".join(src.citation.split()),
                     doi=src.doi, url=src.url, tag=tag, tag_label=TAG_LABELS.get(tag, tag))
