"""The lay-term lexicon (``content/lexicon.yaml``): its schema, its cross-checks and its loading.

The lexicon is content: how a question in a patient's own words is read (lay terms, the article
section a question is about, emergency triggers, what is in scope, dose and diagnosis requests)
and the few sentences the system says in its own voice. It adds no clinical fact: urgent advice
is a reference to a warning sign that already exists in approved content.

``spinepath content check`` validates it with everything else: the loader parses it with
:class:`Lexicon` (unknown keys are errors) and the content checks call :func:`lexicon_problems`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, ValidationError

from spinepath.errors import ContentError, Problem
from spinepath.knowledge import schema as s
from spinepath.knowledge.loader import load_yaml

LEXICON_FILE = "lexicon.yaml"

PhraseText = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^A-Z]*$")]
Group = Annotated[list[PhraseText], Field(min_length=1)]
Combo = Annotated[list[Group], Field(min_length=2, description="Every group must match in one clause")]

#: The article sections a question can be about (the education sections).
Section = Literal[
    "what_it_is", "who_it_helps", "before", "during", "after", "relief_duration", "risks", "warning_signs",
    "alternatives",
]


class LayTerm(s.Strict):
    """Words people use, the clinical words they stand for, and the items they point to."""

    phrases: list[PhraseText] = Field(min_length=1)
    means: str = Field(min_length=1, description="Clinical words added to the question when a phrase matches")
    items: list[s.Id] = Field(default_factory=list, description="Knowledge items the term is about")


class SectionCue(s.Strict):
    """Words that say which part of an article a question is about."""

    section: Section
    phrases: list[PhraseText] = Field(min_length=1)
    means: str = Field(min_length=1)


class AdviceRef(s.Strict):
    """A warning sign in approved content: ``item`` is ``shared`` (shared.yaml's
    shared_warning_signs) or an item id (its ``warning_signs``); ``sign_contains`` picks the one
    sign whose text contains it (case-insensitive)."""

    item: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
    sign_contains: str = Field(min_length=3)


class Emergency(s.Strict):
    """Words that describe an emergency, and the approved warning sign that says what to do."""

    id: s.Id
    label: str = Field(min_length=3, description="What it is, in plain words")
    phrases: list[PhraseText] = Field(default_factory=list)
    combos: list[Combo] = Field(default_factory=list)
    advice: AdviceRef


class OutOfScope(s.Strict):
    topic: str
    phrases: list[PhraseText] = Field(min_length=1)


class Scope(s.Strict):
    in_scope: list[PhraseText] = Field(min_length=1)
    weak: list[PhraseText] = Field(default_factory=list)
    generic_name_words: list[PhraseText] = Field(
        default_factory=list, description="Words of item names and aliases that do not put a question in scope")
    out_of_scope: list[OutOfScope] = Field(default_factory=list)


class Requests(s.Strict):
    dose_phrases: list[PhraseText] = Field(min_length=1)
    dose_combos: list[Combo] = Field(default_factory=list)
    dose_units: list[PhraseText] = Field(min_length=1, description="A number followed by one of these is a dose")
    diagnosis_phrases: list[PhraseText] = Field(min_length=1)
    diagnosis_leads: list[PhraseText] = Field(min_length=1)


class Messages(s.Strict):
    no_information: str = Field(min_length=10)
    off_topic: str = Field(min_length=10)
    dose: str = Field(min_length=10)
    diagnosis: str = Field(min_length=10)
    urgent_intro: str = Field(min_length=3)


class Lexicon(s.Strict):
    """content/lexicon.yaml."""

    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    updated: date = Field(description="Date of the last change")
    negations: list[PhraseText] = Field(min_length=1)
    terms: list[LayTerm] = Field(min_length=1)
    sections: list[SectionCue] = Field(default_factory=list)
    emergencies: list[Emergency] = Field(min_length=1)
    scope: Scope
    requests: Requests
    messages: Messages


# ------------------------------------------------------------------ resolved urgent advice


@dataclass(frozen=True)
class Advice:
    """A resolved emergency reference: the sign, what to do, how urgent, and where it is written."""

    item_id: str
    section: str  # e.g. shared_warning_signs[2] or warning_signs[0]
    sign: str
    action: str
    urgency: str
    sources: tuple[s.SourceRef, ...]


def warning_signs_of(item_id: str, shared: s.Shared, items: Mapping[str, Any]) -> tuple[str, list[s.WarningSign]]:
    """(section name, signs) of ``shared`` or an item's own warning signs."""
    if item_id == "shared":
        return "shared_warning_signs", list(shared.shared_warning_signs)
    item = items.get(item_id)
    return "warning_signs", list(getattr(item, "warning_signs", []) or [])


def resolve_advice(ref: AdviceRef, shared: s.Shared, items: Mapping[str, Any]) -> Advice | str:
    """The warning sign ``ref`` names, or a message saying why it names none (or several)."""
    if ref.item != "shared":
        item = items.get(ref.item)
        if item is None:
            return f"unknown item {ref.item!r} (use 'shared' or the id of an approved item with warning signs)"
        if getattr(item, "status", None) != "approved":
            return f"item {ref.item!r} is {item.status!r}: urgent advice must come from approved content"
    section, signs = warning_signs_of(ref.item, shared, items)
    hits = [(i, w) for i, w in enumerate(signs) if ref.sign_contains.lower() in w.sign.lower()]
    if len(hits) != 1:
        where = "shared_warning_signs" if ref.item == "shared" else f"{ref.item} warning_signs"
        return (f"{ref.sign_contains!r} matches {len(hits)} of the {len(signs)} signs in {where}; "
                "it must pick exactly one")
    i, w = hits[0]
    return Advice(ref.item, f"{section}[{i}]", " ".join(w.sign.split()), " ".join(w.action.split()), w.urgency,
                  tuple(w.sources))


def lexicon_problems(where: str, lexicon: Lexicon, shared: s.Shared, items: Mapping[str, Any]) -> list[Problem]:
    """Cross-file problems of a parsed lexicon: unknown item ids, urgent advice that does not pick
    exactly one warning sign of approved content, duplicate emergency ids, empty emergencies."""
    problems: list[Problem] = []
    for i, term in enumerate(lexicon.terms):
        for j, item_id in enumerate(term.items):
            if item_id not in items:
                problems.append(Problem(where, f"unknown item id {item_id!r}", f"terms[{i}].items[{j}]"))
    seen: set[str] = set()
    for i, em in enumerate(lexicon.emergencies):
        if em.id in seen:
            problems.append(Problem(where, f"duplicate emergency id {em.id!r}", f"emergencies[{i}].id"))
        seen.add(em.id)
        if not em.phrases and not em.combos:
            problems.append(Problem(where, "an emergency needs phrases or combos to match", f"emergencies[{i}]"))
        resolved = resolve_advice(em.advice, shared, items)
        if isinstance(resolved, str):
            problems.append(Problem(where, resolved, f"emergencies[{i}].advice"))
        elif resolved.urgency == "mention_at_followup":
            problems.append(Problem(where, "urgent advice must be a sign of urgency emergency or call_today, "
                                           f"not {resolved.urgency!r}", f"emergencies[{i}].advice"))
    return problems


# ------------------------------------------------------------------ loading


def parse_lexicon(text: str, where: str = f"content/{LEXICON_FILE}") -> Lexicon:
    """Parse and validate lexicon text; ContentError naming the file and path on any problem."""
    from spinepath.knowledge.loader import validation_problems

    try:
        data = load_yaml(text)
    except yaml.YAMLError as e:
        raise ContentError(f"{where} is not valid YAML: {e}", field=LEXICON_FILE) from None
    try:
        return Lexicon.model_validate(data)
    except ValidationError as e:
        problems = validation_problems(where, Lexicon, e)
        raise ContentError(f"the lexicon is invalid: {len(problems)} problem(s)", problems=problems) from None


def load_lexicon(override: Path | str | None = None) -> Lexicon:
    """The lexicon as the content loader sees it: the bundled file, or the clinic overlay's
    ``lexicon.yaml`` when ``override`` (a content directory) holds one. The cross-checks ran when
    the knowledge snapshot was loaded from the same directory."""
    from spinepath.knowledge.loader import content_files

    files = content_files(Path(override) if override is not None else None)
    if LEXICON_FILE not in files:
        raise ContentError(f"content/{LEXICON_FILE} is missing", field=LEXICON_FILE)
    where, text = files[LEXICON_FILE]
    return parse_lexicon(text, where)


def lexicon_hash(lexicon: Lexicon) -> str:
    blob = lexicon.model_dump_json()
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def condition_phrases(lexicon: Lexicon, conditions: Iterable[Any]) -> list[str]:
    """Every way of naming a condition: names, aliases and the lay terms that point to a condition."""
    out: list[str] = []
    ids = set()
    for c in conditions:
        ids.add(c.id)
        out.append(c.name.lower())
        out.extend(a.lower() for a in c.aliases)
    for term in lexicon.terms:
        if any(i in ids for i in term.items):
            out.extend(term.phrases)
    return out


def lexicon_file_problems(files: Mapping[str, tuple[str, str]], parsed: Mapping[str, Any]) -> list[Problem]:
    """Every problem of the lexicon among content ``files`` (relative path -> (display name, text)):
    its schema, then (when shared.yaml parsed) its references into ``parsed`` content. Called by
    :func:`spinepath.knowledge.loader.load_knowledge`, so `spinepath content check` reports them."""
    if LEXICON_FILE not in files:
        return [Problem(f"content/{LEXICON_FILE}", "required file is missing")]
    where, text = files[LEXICON_FILE]
    try:
        lexicon = parse_lexicon(text, where)
    except ContentError as e:
        return e.problems or [Problem(where, e.message)]
    shared_entry = parsed.get("files", {}).get("shared.yaml")
    if shared_entry is None:
        return []
    items = {item.id: item for entries in parsed.get("items", {}).values() for _, item in entries}
    return lexicon_problems(where, lexicon, shared_entry[1], items)
