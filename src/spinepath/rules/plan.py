"""Compile a knowledge snapshot under one policy profile into an executable plan.

Compilation happens once per (snapshot, policy) and is cached on the snapshot; per-case work is
then only fact extraction and closure calls. The same plan renders to DuckDB SQL for batches
(:mod:`spinepath.rules.batch`), so both paths read one set of criteria.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from graphlib import TopologicalSorter
from typing import Any

from spinepath.case.spec import Derived, Reader, Spec
from spinepath.knowledge import schema as s
from spinepath.knowledge.checks import procedure_criteria
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.criteria import Criterion, compile_criterion

#: Content statuses the engine evaluates. Drafts, submitted, changes-requested and retired
#: items never drive an assessment; under_review items do, and are labelled as such.
ACTIVE_STATUSES = frozenset({"approved", "under_review"})


@dataclass(frozen=True)
class Rule:
    """A compiled criterion with everything needed to explain it."""

    rule: str
    section: str
    label: str
    when: str
    expr: Criterion
    sources: tuple[s.SourceRef, ...] = ()
    missing: str | None = None


@dataclass(frozen=True)
class ProcedurePlan:
    proc: s.Procedure
    applies: Rule
    indications: tuple[Rule, ...]
    exclusions: tuple[Rule, ...]
    prerequisites: tuple[Rule, ...]
    absolute: tuple[Rule, ...]
    relative: tuple[Rule, ...]
    recommend: tuple[Rule, ...]
    favourable: tuple[Rule, ...]
    unfavourable: tuple[Rule, ...]
    repeat_when: Rule | None
    repeat: tuple[Rule, ...]

    def decision_rules(self) -> tuple[Rule, ...]:
        """Rules that take part in the status decision, in table order."""
        return self._decision

    @cached_property
    def _decision(self) -> tuple[Rule, ...]:
        rw = (self.repeat_when,) if self.repeat_when else ()
        return (self.applies, *self.indications, *self.exclusions, *self.absolute,
                *self.prerequisites, *rw, *self.repeat, *self.relative, *self.recommend)


@dataclass(frozen=True)
class RedFlagPlan:
    flag: s.RedFlag
    features: tuple[Rule, ...]


@dataclass(frozen=True)
class Plan:
    knowledge: Knowledge
    policy: s.Policy
    params: dict[str, Any]
    base: tuple[tuple[str, Spec], ...]
    #: each base fact compiled for this policy (what single-case assessment runs)
    readers: tuple[tuple[str, Reader], ...]
    derived: tuple[tuple[str, Criterion], ...]
    red_flags: tuple[RedFlagPlan, ...]
    phenotypes: tuple[tuple[s.Phenotype, Rule], ...]
    cautions: tuple[tuple[s.Caution, Rule], ...]
    procedures: tuple[ProcedurePlan, ...]

    @property
    def derived_map(self) -> dict[str, Criterion]:
        return dict(self.derived)

    def decision_rules(self) -> dict[str, Rule]:
        """Red-flag features and every procedure's decision rules, by rule id: what screening
        outputs depend on."""
        rules: dict[str, Rule] = {}
        for rfp in self.red_flags:
            for f in rfp.features:
                rules[f.rule] = f
        for pp in self.procedures:
            for r in pp.decision_rules():
                rules[r.rule] = r
        return rules

    @cached_property
    def always_evaluated(self) -> tuple[Rule, ...]:
        """Rules every assessment evaluates, each once: red-flag features, phenotypes and every
        procedure's decision, favourable and unfavourable rules (cautions are evaluated only for
        live options)."""
        rules: dict[str, Rule] = {}
        for rfp in self.red_flags:
            rules.update((f.rule, f) for f in rfp.features)
        rules.update((r.rule, r) for _, r in self.phenotypes)
        for pp in self.procedures:
            rules.update((r.rule, r) for r in (*pp.decision_rules(), *pp.favourable, *pp.unfavourable))
        return tuple(rules.values())

    def all_rules(self) -> list[Rule]:
        out: list[Rule] = []
        for rf in self.red_flags:
            out += rf.features
        out += [r for _, r in self.phenotypes]
        out += [r for _, r in self.cautions]
        for pp in self.procedures:
            out += [*pp.decision_rules(), *pp.favourable, *pp.unfavourable]
        return out


def _rule(rule_id: str, section: str, c: s.Criterion, known: set[str]) -> Rule:
    return Rule(
        rule=rule_id,
        section=section,
        label=c.label,
        when=c.when,
        expr=compile_criterion(c.when, known, rule_id),
        sources=tuple(c.sources),
        missing=getattr(c, "missing", None),
    )


def compile_plan(knowledge: Knowledge, policy_id: str | None = None) -> Plan:
    """The executable plan for ``policy_id`` (default policy if None); cached per snapshot."""
    policy = knowledge.policy(policy_id)
    key = f"plan:{policy.id}"
    cached = knowledge._cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    params = {name: pv.value for name, pv in policy.values.items()}
    known = set(knowledge.facts) | set(params)

    base: list[tuple[str, Spec]] = []
    derived_exprs: dict[str, Criterion] = {}
    for name, f in knowledge.facts.items():
        if isinstance(f.spec, Derived):
            derived_exprs[name] = compile_criterion(f.spec.expr, known, f"fact {name}")
        else:
            base.append((name, f.spec))
    order = TopologicalSorter(
        {n: [d for d in e.names if d in derived_exprs] for n, e in derived_exprs.items()}
    ).static_order()
    derived = tuple((n, derived_exprs[n]) for n in order)

    red_flags = tuple(
        RedFlagPlan(rf, tuple(_rule(f"{rf.id}.features.{c.id}", "features", c, known) for c in rf.features))
        for rf in knowledge.red_flags.values()
        if rf.status in ACTIVE_STATUSES
    )
    phenotypes = tuple(
        (ph, Rule(f"phenotype.{ph.id}", "phenotype", ph.name, ph.when,
                  compile_criterion(ph.when, known, f"phenotype.{ph.id}"), tuple(ph.sources)))
        for ph in knowledge.shared.phenotypes
    )
    cautions = tuple(
        (ca, Rule(f"caution.{ca.id}", "caution", ca.text, ca.when,
                  compile_criterion(ca.when, known, f"caution.{ca.id}"), tuple(ca.sources)))
        for ca in knowledge.shared.cautions
    )
    procs: list[ProcedurePlan] = []
    for p in knowledge.procedures.values():
        if p.status not in ACTIVE_STATUSES:
            continue
        sections: dict[str, list[Rule]] = {}
        applies: Rule | None = None
        for path, c in procedure_criteria(p):
            sec = path.split("[")[0]
            if sec == "applies_when":
                applies = _rule(f"{p.id}.applies_when", sec, c, known)
                continue
            sections.setdefault(sec, []).append(_rule(f"{p.id}.{sec}.{c.id}", sec, c, known))
        assert applies is not None
        repeat_when = None
        if p.repeat:
            repeat_when = Rule(f"{p.id}.repeat.when", "repeat.when", "Done before", p.repeat.when,
                               compile_criterion(p.repeat.when, known, f"{p.id}.repeat.when"),
                               tuple(p.repeat.sources))
        def g(k: str, sections: dict[str, list[Rule]] = sections) -> tuple[Rule, ...]:
            return tuple(sections.get(k, ()))

        procs.append(ProcedurePlan(
            proc=p, applies=applies, indications=g("indications"), exclusions=g("exclusions"),
            prerequisites=g("prerequisites"), absolute=g("contraindications.absolute"),
            relative=g("contraindications.relative"), recommend=g("recommend_when"),
            favourable=g("predictors.favourable"), unfavourable=g("predictors.unfavourable"),
            repeat_when=repeat_when, repeat=g("repeat.criteria"),
        ))
    plan = Plan(
        knowledge=knowledge, policy=policy, params=params, base=tuple(base),
        readers=tuple((name, spec.reader(params)) for name, spec in base),  # type: ignore[union-attr]
        derived=derived,
        red_flags=red_flags, phenotypes=phenotypes, cautions=cautions,
        procedures=tuple(sorted(procs, key=lambda pp: (pp.proc.ladder_step, pp.proc.invasiveness, pp.proc.id))),
    )
    knowledge._cache[key] = plan
    return plan
