"""The editorial workflow of a content revision: its states, who may move it, and the approval gate.

Pure: no database and no clock; the store (``spinepath.store.repo``) records each step and the
API and CLI call it. A revision is a proposed new body for one knowledge item (a condition,
procedure, red flag or policy file).

    from state          action            to state            who
    (none)              create            draft               editor
    draft               revise            draft               editor (a new body)
    changes_requested   revise            draft               editor (a new body)
    draft               submit            submitted           editor
    submitted           start-review      under_review        reviewer
    under_review        approve           approved            reviewer who is not the author; the content
                                                              check and the readability gate must pass
    under_review        request-changes   changes_requested   reviewer, with a comment
    approved            publish           published           editor or reviewer; the item's live revision
    approved            retire            retired             editor or admin
    published           retire            retired             editor or admin (the item falls back to the
                                                              bundled content)
    published           (supersede)       retired             done by publish: the previous live revision

Every other step raises TransitionForbidden (``transition-forbidden``) naming the current state,
the attempted action and what is allowed; an approval whose checks fail raises ApprovalBlocked
(``approval-blocked``) listing each problem. ``retired`` is final.

A revision's stored ``status`` stays within the content schema's six statuses, so an exported
revision is a valid content file: *published* is ``approved`` plus a publication time
(:func:`state_of`).

The approval gate (:func:`approval_problems`): the revision's body, stamped as approved, is
overlaid on the base content (the bundled files with any clinic overlay) together with the other
items' live revisions, and the whole set must pass the content check (``parse_files`` and
``build_knowledge``, as ``spinepath content check``); every patient text must read at
Flesch-Kincaid grade ``MAX_PATIENT_GRADE`` or below.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import yaml

from spinepath.education.readability import MAX_PATIENT_GRADE, TARGET_PATIENT_GRADE, fk_grade
from spinepath.errors import (
    ApprovalBlocked,
    ContentError,
    InputError,
    Problem,
    TransitionForbidden,
)
from spinepath.knowledge.loader import ITEM_DIRS, TOP_FILES, parse_files
from spinepath.knowledge.schema import EDUCATION_SECTIONS, Status
from spinepath.knowledge.snapshot import build_knowledge

State = Literal["draft", "submitted", "under_review", "changes_requested", "approved", "published", "retired"]
Action = Literal["create", "revise", "submit", "start-review", "approve", "request-changes", "publish", "retire"]
STATES: tuple[State, ...] = get_args(State)
ACTIONS: tuple[Action, ...] = get_args(Action)
SUPERSEDE = "supersede"  # not asked for: publish retires the item's previous live revision
DRAFT_STATES: frozenset[State] = frozenset({"draft", "submitted", "under_review", "changes_requested"})


@dataclass(frozen=True)
class Step:
    """One allowed kind of transition."""

    action: Action
    sources: tuple[State | None, ...]  # None: the revision does not exist yet
    target: State
    roles: tuple[str, ...]
    not_author: bool = False
    needs_comment: bool = False
    gated: bool = False  # the content check and the readability gate must pass


STEPS: dict[Action, Step] = {s.action: s for s in (
    Step("create", (None,), "draft", ("editor",)),
    Step("revise", ("draft", "changes_requested"), "draft", ("editor",)),
    Step("submit", ("draft",), "submitted", ("editor",)),
    Step("start-review", ("submitted",), "under_review", ("reviewer",)),
    Step("approve", ("under_review",), "approved", ("reviewer",), not_author=True, gated=True),
    Step("request-changes", ("under_review",), "changes_requested", ("reviewer",), needs_comment=True),
    Step("publish", ("approved",), "published", ("editor", "reviewer")),
    Step("retire", ("approved", "published"), "retired", ("editor", "admin")),
)}


def state_of(status: str, published_at: object | None) -> State:
    """The lifecycle state of a stored revision: ``published`` is approved with a publication time."""
    if status == "approved" and published_at is not None:
        return "published"
    if status not in STATES:
        raise ValueError(f"unknown revision status {status!r}")
    return status  # type: ignore[return-value]


def status_of(state: State) -> Status:
    """The status stored (and written into content files) for a state: one of the schema's six."""
    return "approved" if state == "published" else state


def is_draft(state: State) -> bool:
    """Not yet approved: shown to staff only, and marked as a draft."""
    return state in DRAFT_STATES


def allowed_from(state: State | None) -> list[Step]:
    return [s for s in STEPS.values() if state in s.sources]


def describe_allowed(state: State | None) -> str:
    steps = allowed_from(state)
    if not steps:
        return "nothing: a retired revision is final (create a new draft instead)"
    return ", ".join(f"{s.action} ({' or '.join(s.roles)})" for s in steps)


def check(state: State | None, action: str, role: str, *, actor: str, author: str | None = None,
          comment: str | None = None, problems: Sequence[Problem] | None = None) -> Step:
    """The step ``actor`` (in ``role``) asks for, if it is allowed; else raise.

    ``problems`` are the approval gate's findings (:func:`approval_problems`), computed by the
    caller; ``approve`` requires them to have been computed and to be empty.
    """
    if action not in STEPS:
        raise InputError(f"unknown action {action!r}; actions: {', '.join(ACTIONS)}", field="action")
    step = STEPS[action]  # type: ignore[index]
    if state not in step.sources:
        if state is None:
            msg = f"there is no revision to {action}; create a draft first"
        elif action == "create":
            msg = f"the revision already exists (state {state!r}); create makes a new draft revision"
        else:
            msg = f"the revision is {state!r} and cannot {action}; from {state!r} allowed: {describe_allowed(state)}"
        raise TransitionForbidden(msg, field="status")
    if role not in step.roles:
        raise TransitionForbidden(f"the {role} role may not {action} a revision (allowed: "
                                  f"{', '.join(step.roles)})", field="role")
    if step.not_author and author is not None and actor == author:
        raise TransitionForbidden(f"{actor} wrote this revision and may not {action} it; another "
                                  f"{' or '.join(step.roles)} must", field="author")
    if step.needs_comment and not (comment or "").strip():
        raise InputError(f"{action} needs a comment saying what to change", field="comment")
    if step.gated:
        if problems is None:
            raise ApprovalBlocked("the content check and the readability gate have not been run", field="body")
        if problems:
            raise ApprovalBlocked(f"the revision cannot be approved: {len(problems)} problem(s) with the content "
                                  "check or the readability gate", field="body", problems=list(problems))
    return step


# ------------------------------------------------------------------ the approval gate

KIND_DIRS: dict[str, str] = {str(model.model_fields["kind"].default): d for d, model in ITEM_DIRS.items()}
KINDS: tuple[str, ...] = tuple(KIND_DIRS)
ITEM_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,78}[a-z0-9]")


def content_path(kind: str, item_id: str) -> str:
    """Where the item's file lives in the content layout, e.g. procedures/esi-caudal.yaml."""
    if kind not in KIND_DIRS:
        raise InputError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}", field="kind")
    return f"{KIND_DIRS[kind]}/{item_id}.yaml"


def prepare_body(item_id: str, kind: str, body: Any) -> dict[str, Any]:
    """A revision body as stored: a mapping for item ``item_id`` of ``kind`` (``id`` and ``kind``
    filled in when absent, refused when they name another item or kind), JSON-safe."""
    if not ITEM_ID.fullmatch(item_id):
        raise InputError(f"item id {item_id!r} is not valid: lower-case letters, digits and '-', 2-80 "
                         "characters, starting and ending with a letter or digit", field="item_id")
    content_path(kind, item_id)
    if not isinstance(body, Mapping):
        raise InputError("a revision body is one content item: a mapping (key: value) at the top", field="body")
    out: dict[str, Any] = json_safe(dict(body))
    if out.setdefault("id", item_id) != item_id:
        raise InputError(f"the body's id {out['id']!r} is not the item {item_id!r}", field="body.id")
    if out.setdefault("kind", kind) != kind:
        raise InputError(f"the body's kind {out['kind']!r} is not {kind!r}", field="body.kind")
    return out


def to_yaml(body: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(body), sort_keys=False, allow_unicode=True, width=100)


def json_safe(value: Any) -> Any:
    """A YAML value as JSON can hold it (dates as ISO strings)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def stamp_approved(body: Mapping[str, Any], reviewer: str, day: dt.date) -> dict[str, Any]:
    """The body as it is approved: status ``approved`` and the reviewer added to ``reviewers``."""
    out = copy.deepcopy(dict(body))
    out["status"] = "approved"
    reviewers = out.get("reviewers")
    entry = {"name": reviewer, "date": day.isoformat(), "role": "reviewer"}
    if reviewers is None:
        out["reviewers"] = [entry]
    elif isinstance(reviewers, list) and entry not in reviewers:
        out["reviewers"] = [*reviewers, entry]
    return out


def _texts(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path, text) of every patient text in a body: education sections and discharge periods."""
    out: list[tuple[str, str]] = []
    education = body.get("education")
    patient = education.get("patient") if isinstance(education, Mapping) else None
    if isinstance(patient, Mapping):
        for name in EDUCATION_SECTIONS:
            section = patient.get(name)
            if isinstance(section, Mapping) and isinstance(section.get("text"), str):
                out.append((f"education.patient.{name}.text", section["text"]))
    discharge = body.get("discharge")
    if isinstance(discharge, Mapping):
        for period, steps in discharge.items():
            if isinstance(steps, list):
                text = " ".join(st["text"] for st in steps if isinstance(st, Mapping) and isinstance(st.get("text"), str))
                if text.strip():
                    out.append((f"discharge.{period}", text))
    return out


def readability_problems(body: Mapping[str, Any], where: str) -> list[Problem]:
    """Every patient text above ``MAX_PATIENT_GRADE`` (Flesch-Kincaid), with its grade."""
    problems = []
    for path, text in _texts(body):
        grade = fk_grade(text)
        if grade > MAX_PATIENT_GRADE:
            problems.append(Problem(where, f"patient text reads at Flesch-Kincaid grade {grade:.1f}; the limit "
                                           f"is {MAX_PATIENT_GRADE:g} (aim for {TARGET_PATIENT_GRADE:g}): use "
                                           "shorter sentences and everyday words", path))
    return problems


_PARSED: dict[str, tuple[dict[str, Any], list[Problem]]] = {}


def _parse_base(files: Mapping[str, tuple[str, str]]) -> tuple[dict[str, Any], list[Problem]]:
    """parse_files of the base content, remembered by content (parsing YAML takes seconds)."""
    digest = hashlib.sha256()
    for rel, (where, text) in sorted(files.items()):
        digest.update(f"{rel}\0{where}\0{len(text)}\0".encode())
        digest.update(text.encode())
    key = digest.hexdigest()
    if key not in _PARSED:
        if len(_PARSED) >= 4:
            _PARSED.clear()
        _PARSED[key] = parse_files(dict(files))
    return _PARSED[key]


def content_problems(base_files: Mapping[str, tuple[str, str]],
                     overlay: Mapping[str, tuple[str, Mapping[str, Any]]]) -> list[Problem]:
    """Problems of the content made of ``base_files`` (``content_files()``) with ``overlay``
    (relative path -> (display name, item body)) laid over it, file by file."""
    base, problems = _parse_base(base_files)
    files = {rel: (where, to_yaml(body)) for rel, (where, body) in overlay.items()}
    files.update({rel: base_files[rel] for rel in TOP_FILES if rel in base_files})
    over, over_problems = parse_files(files)
    problems = [*problems, *(p for p in over_problems if p not in problems)]
    # an overlay item replaces the base item of its id; one that does not parse leaves the base item in
    # place, so that its own problems are reported rather than every reference to it
    replaced = {(group, item.id) for group, entries in over["items"].items() for _, item in entries}
    parsed: dict[str, Any] = {"files": base["files"], "items": {}}
    for group, entries in base["items"].items():
        kept = [(w, item) for w, item in entries if (group, item.id) not in replaced]
        parsed["items"][group] = kept + list(over["items"].get(group, []))
    if "sources.yaml" in parsed["files"] and "shared.yaml" in parsed["files"]:
        try:
            build_knowledge(parsed)
        except ContentError as e:
            problems.extend(p for p in e.problems if p not in problems)
    return problems


def approval_problems(body: Mapping[str, Any], kind: str, item_id: str, where: str,
                      base_files: Mapping[str, tuple[str, str]],
                      others: Mapping[str, tuple[str, Mapping[str, Any]]] | None = None) -> list[Problem]:
    """Everything that blocks approving ``body`` as item ``item_id``: the content check of the
    base content with ``others`` (other items' live revisions, by relative path) and this body
    overlaid, then the readability gate on its patient texts."""
    rel = content_path(kind, item_id)
    problems: list[Problem] = []
    if body.get("id") != item_id:
        problems.append(Problem(where, f"id must be {item_id!r}, the item this revision is for", "id"))
    if body.get("kind", kind) != kind:
        problems.append(Problem(where, f"kind must be {kind!r}, the kind of this revision", "kind"))
    overlay = {r: v for r, v in (others or {}).items() if r != rel}
    overlay[rel] = (where, body)
    problems.extend(content_problems(base_files, overlay))
    problems.extend(readability_problems(body, where))
    return problems
