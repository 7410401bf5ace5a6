"""The immutable knowledge snapshot and its content hash.

Every assessment records the hash, so any output can be traced to the exact content it came
from. The hash covers the validated content (canonical JSON), not file formatting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from spinepath.case.facts import build_catalogue
from spinepath.case.spec import FactDef
from spinepath.errors import ContentError, PolicyError, Problem
from spinepath.knowledge import instrument_schema as si
from spinepath.knowledge import schema as s

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True)
class Knowledge:
    """Everything the engine and the content commands read; never mutated after load."""

    sources: Mapping[str, s.Source]
    shared: s.Shared
    conditions: Mapping[str, s.Condition]
    procedures: Mapping[str, s.Procedure]
    red_flags: Mapping[str, s.RedFlag]
    policies: Mapping[str, s.Policy]
    instruments: Mapping[str, si.Instrument]
    facts: Mapping[str, FactDef]
    origin: Mapping[str, str]
    default_policy: str
    hash: str
    warnings: tuple[Problem, ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def parameters(self) -> dict[str, s.Parameter]:
        return {p.name: p for p in self.shared.parameters}

    def policy(self, policy_id: str | None = None) -> s.Policy:
        pid = policy_id or self.default_policy
        if pid not in self.policies:
            raise PolicyError(
                f"unknown policy {pid!r}; available: {', '.join(sorted(self.policies))}",
                field="policy",
            )
        return self.policies[pid]

    def items(self) -> dict[str, s.Editorial]:
        """All editorial items by id (conditions, procedures, red flags, policies, instruments)."""
        out: dict[str, s.Editorial] = {}
        for group in (self.conditions, self.procedures, self.red_flags, self.policies, self.instruments):
            out.update(group)
        return out

    def find(self, item_id: str) -> s.Editorial | s.Source:
        items = self.items()
        if item_id in items:
            return items[item_id]
        if item_id in self.sources:
            return self.sources[item_id]
        raise ContentError(f"no content item or source with id {item_id!r}", field="id")


def _canonical(obj: Any) -> Any:
    if isinstance(obj, s.Strict):
        return obj.model_dump(mode="json")
    return obj


def content_hash(parts: dict[str, Any]) -> str:
    blob = json.dumps(parts, sort_keys=True, default=_canonical, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def build_knowledge(parsed: dict[str, Any], today: date | None = None) -> Knowledge:
    """Cross-check parsed content and freeze it. Raises ContentError on any error."""
    from spinepath.knowledge.checks import run_checks

    register: s.SourceRegister = parsed["files"]["sources.yaml"][1]
    shared: s.Shared = parsed["files"]["shared.yaml"][1]
    antithrombotic_names = tuple(sorted({n.lower() for a in shared.antithrombotics for n in a.names}))
    facts = build_catalogue(antithrombotic_names)
    errors, warnings = run_checks(parsed, facts, today)
    if errors:
        raise ContentError(f"content is invalid: {len(errors)} problem(s)", problems=errors)
    groups: dict[str, dict[str, Any]] = {}
    origin: dict[str, str] = {}
    for kind, entries in parsed["items"].items():
        groups[kind] = {}
        for where, item in sorted(entries, key=lambda e: e[1].id):
            groups[kind][item.id] = item
            origin[item.id] = where
    default = next(p.id for p in groups["policies"].values() if p.default)
    digest = content_hash(
        {
            "sources": register,
            "shared": shared,
            **{k: list(v.values()) for k, v in groups.items()},
        }
    )
    return Knowledge(
        sources=MappingProxyType({src.id: src for src in register.sources}),
        shared=shared,
        conditions=MappingProxyType(groups["conditions"]),
        procedures=MappingProxyType(groups["procedures"]),
        red_flags=MappingProxyType(groups["red_flags"]),
        policies=MappingProxyType(groups["policies"]),
        instruments=MappingProxyType(groups["instruments"]),
        facts=MappingProxyType(facts),
        origin=MappingProxyType(origin),
        default_policy=default,
        hash=digest,
        warnings=tuple(warnings),
    )
