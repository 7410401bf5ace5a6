"""assess(case, knowledge, policy, now) -> Assessment. Deterministic and free of I/O.

The order of work mirrors how a clinician reads the result: red flags first (they defer all
elective care), then what kind of pain this is, then every procedure with its status and the
criteria that decided it, then what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from spinepath.case.model import PatientCase
from spinepath.case.spec import Derived
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules import assessment as a
from spinepath.rules.plan import Plan, Rule, compile_plan
from spinepath.rules.status import decide

RED_FLAG_WEIGHT = {"emergency": 100, "urgent": 80, "soon": 40}
DEFERS_ALL = frozenset({"emergency", "urgent"})


def evaluate_facts(plan: Plan, case: PatientCase, now: date) -> dict[str, Any]:
    """Every fact for this case (None = unknown), plus the policy's parameters."""
    env: dict[str, Any] = dict(plan.params)
    for name, read in plan.readers:
        env[name] = read(case, now)
    for name, expr in plan.derived:
        env[name] = expr.evaluate(env)
    return env


def _result(value: Any) -> a.Result:
    return "unknown" if value is None else ("met" if value else "not_met")


def _refs(refs: tuple[s.SourceRef, ...] | list[s.SourceRef]) -> list[a.Ref]:
    return [a.Ref(id=r.id, locator=r.locator, tag=r.tag) for r in refs]


class _Static:
    """Per-plan output parts that never change between cases (built once, then shared).

    Output models are assembled with ``model_construct``: every value comes from validated
    content or from the engine itself, so validating them again per case would only cost time.
    """

    def __init__(self, plan: Plan) -> None:
        self.refs: dict[str, list[a.Ref]] = {}
        self.names: dict[str, list[str]] = {}
        for r in plan.all_rules():
            self.refs[r.rule] = _refs(r.sources)
            self.names[r.rule] = sorted(n for n in r.expr.names if n not in plan.params)
        #: a criteria row's fixed parts, in output order, looked up once per row
        self.row_parts = {r.rule: (r.section, r.label, r.when, self.names[r.rule], r.missing, self.refs[r.rule])
                          for r in plan.all_rules()}
        #: the rules every case evaluates, in trace (sorted) order
        self.trace_order = sorted(r.rule for r in plan.always_evaluated)
        self.outcomes: dict[str, list[a.OutcomeItem]] = {
            pp.proc.id: [a.OutcomeItem(measure=o.measure, result=o.result, timepoint=o.timepoint,
                                       population=o.population, sources=_refs(o.sources))
                         for o in pp.proc.outcomes]
            for pp in plan.procedures
        }
        self.flag_refs = {rfp.flag.id: _refs(rfp.flag.sources) for rfp in plan.red_flags}
        self.cautions = {ca.id: a.CautionResult(id=ca.id, text=ca.text, sources=_refs(ca.sources))
                         for ca, _ in plan.cautions}
        self.antithrombotic_by_name = {
            n.lower(): row for row in plan.knowledge.shared.antithrombotics for n in row.names
        }
        self.antithrombotic_refs = {row.id: _refs(row.sources) for row in plan.knowledge.shared.antithrombotics}


def _static(plan: Plan) -> _Static:
    key = f"static:{plan.policy.id}"
    cache = plan.knowledge._cache
    if key not in cache:
        cache[key] = _Static(plan)
    return cache[key]  # type: ignore[no-any-return]


class _Run:
    """One evaluation: facts and rule values, memoised so the trace reports each rule once."""

    def __init__(self, plan: Plan, env: dict[str, Any]) -> None:
        self.plan = plan
        self.env = env
        self.static = _static(plan)
        self.values: dict[str, bool | None] = {r.rule: r.expr.evaluate(env) for r in plan.always_evaluated}

    def value(self, r: Rule) -> bool | None:
        if r.rule not in self.values:
            v = r.expr.evaluate(self.env)
            self.values[r.rule] = v
        return self.values[r.rule]

    def row(self, r: Rule) -> a.CriterionResult:
        env, rule = self.env, r.rule
        section, label, when, names, missing, sources = self.static.row_parts[rule]
        value = self.values[rule] if rule in self.values else self.value(r)
        return {
            "rule": rule, "section": section, "label": label, "when": when,
            "result": _result(value), "facts": {n: env[n] for n in names},
            "missing": missing, "sources": sources,
        }

    def trace(self) -> dict[str, a.Result]:
        """Every rule evaluated for this case, by id (sorted), with its result."""
        values = self.values
        order = self.static.trace_order
        if len(values) > len(order):  # some cautions were evaluated too
            order = sorted(values)
        return {rule: _result(values[rule]) for rule in order}

    def unknown_base_facts(self, names: frozenset[str] | set[str]) -> set[str]:
        """Base facts behind an unknown result (derived facts are expanded)."""
        out: set[str] = set()
        stack = [n for n in names if n not in self.plan.params]
        seen: set[str] = set()
        facts = self.plan.knowledge.facts
        while stack:
            n = stack.pop()
            if n in seen or self.env.get(n) is not None:
                continue
            seen.add(n)
            spec = facts[n].spec
            if isinstance(spec, Derived):
                stack += [m for m in self.plan.derived_map[n].names if m not in self.plan.params]
            else:
                out.add(n)
        return out


def assess(
    case: PatientCase | Mapping[str, Any],
    knowledge: Knowledge,
    policy: str | None = None,
    now: date | None = None,
) -> a.Assessment:
    """Assess one case. ``now`` pins the date (required for reproducible output; defaults to today)."""
    if not isinstance(case, PatientCase):
        from spinepath.case.validate import parse_case

        case = parse_case(case)
    today = now or date.today()
    plan = compile_plan(knowledge, policy)
    run = _Run(plan, evaluate_facts(plan, case, today))
    # A gap's rank: how decisive one answer is. Each unknown rule spreads its weight over the
    # unknown facts it reads (one answer settles a one-fact rule; a two-fact rule needs both),
    # and a fact ranks by its most decisive rule, then by how many rules it touches.
    gap_best: dict[str, float] = {}
    gap_total: dict[str, float] = {}
    gap_affects: dict[str, list[str]] = {}

    def add_gaps(rule: Rule, weight: int) -> None:
        unknown = run.unknown_base_facts(rule.expr.names)
        for fact in unknown:
            share = weight / len(unknown)
            gap_best[fact] = max(gap_best.get(fact, 0.0), share)
            gap_total[fact] = gap_total.get(fact, 0.0) + share
            gap_affects.setdefault(fact, [])
            if rule.rule not in gap_affects[fact]:
                gap_affects[fact].append(rule.rule)

    # ---- red flags
    red_flags: list[a.RedFlagResult] = []
    defer_all: list[str] = []
    defer_some: dict[str, list[str]] = {}
    unscreened_all: list[str] = []
    unscreened_some: dict[str, list[str]] = {}
    for rfp in plan.red_flags:
        fired = [f for f in rfp.features if run.value(f) is True]
        if fired:
            flag = rfp.flag
            red_flags.append(a.RedFlagResult.model_construct(
                id=flag.id, name=flag.name, urgency=flag.urgency, action=flag.action,
                fired_by=[run.row(f) for f in fired], defers=flag.defers,
                content_status=flag.status, sources=run.static.flag_refs[flag.id],
            ))
            if flag.urgency in DEFERS_ALL or flag.defers == "all_elective":
                defer_all.append(flag.id)
            else:
                for pid in flag.defers:
                    defer_some.setdefault(pid, []).append(flag.id)
        else:
            unknown = [f for f in rfp.features if run.value(f) is None]
            for f in unknown:
                add_gaps(f, RED_FLAG_WEIGHT[rfp.flag.urgency])
            if unknown:
                flag = rfp.flag
                if flag.urgency in DEFERS_ALL or flag.defers == "all_elective":
                    unscreened_all.append(flag.id)
                else:
                    for pid in flag.defers:
                        unscreened_some.setdefault(pid, []).append(flag.id)
    red_flags.sort(key=lambda r: (-RED_FLAG_WEIGHT[r.urgency], r.id))

    # ---- phenotype
    phenotype = [
        a.PhenotypeResult.model_construct(id=ph.id, name=ph.name, result=_result(run.value(r)),
                                          because=ph.because, facts=run.row(r)["facts"])
        for ph, r in plan.phenotypes if run.value(r) is not False
    ]
    phenotype.sort(key=lambda p: (p.result != "met", p.id))

    # ---- options
    meds = [m.name for m in (case.medicines or [])]
    options: list[a.Option] = []
    for pp in plan.procedures:
        p = pp.proc
        d = decide(pp, run.values, defer_all or defer_some.get(p.id, []),
                   unscreened_all + unscreened_some.get(p.id, []))
        if d.status != "deferred":
            for rule, w in d.unknown_rules:
                add_gaps(rule, w)
        live = p.is_intervention and d.status not in ("not_indicated", "contraindicated")
        cautions = [
            run.static.cautions[ca.id]
            for ca, r in plan.cautions
            if (ca.applies_to == "all" or getattr(p, ca.applies_to)) and run.value(r) is True
        ] if live else []
        options.append(a.Option.model_construct(
            procedure=p.id, name=p.name, status=d.status,  # type: ignore[arg-type]
            reasons=d.reasons, missing=d.missing,
            criteria=[run.row(r) for r in pp.decision_rules()],
            favourable=[run.row(r) for r in pp.favourable if run.value(r) is True],
            unfavourable=[run.row(r) for r in pp.unfavourable if run.value(r) is True],
            outcomes=run.static.outcomes[p.id],
            cautions=cautions,
            antithrombotics=_antithrombotics(run.static, meds, p) if live else [],
            asra_risk_class=p.asra_risk_class, ladder_step=p.ladder_step, content_status=p.status,
        ))
    rank = {st: i for i, st in enumerate(a.STATUS_ORDER)}
    procs = {pp.proc.id: pp.proc for pp in plan.procedures}
    options.sort(key=lambda o: (rank[o.status], procs[o.procedure].ladder_step,
                                procs[o.procedure].invasiveness, o.procedure))

    ranked = sorted(gap_best, key=lambda f: (-gap_best[f], -gap_total[f], f))
    gaps = [
        a.Gap.model_construct(fact=f, question=knowledge.facts[f].ask, affects=gap_affects[f],
                              weight=round(gap_best[f]))
        for f in ranked
    ]
    trace = run.trace()
    pol = plan.policy
    return a.Assessment.model_construct(
        case_id=case.id, assessed_on=today, policy=a.PolicyRef(id=pol.id, name=pol.name),
        knowledge_hash=knowledge.hash, disclaimer=knowledge.shared.disclaimer,
        red_flags=red_flags, phenotype=phenotype, stage=_stage(knowledge, case, options),
        options=options, gaps=gaps, trace=trace,
    )


def _antithrombotics(static: _Static, meds: list[str], p: s.Procedure) -> list[a.AntithromboticResult]:
    out = []
    for med in meds:
        row = static.antithrombotic_by_name.get(med)
        if row is not None:
            out.append(a.AntithromboticResult.model_construct(
                medicine=med, drug=row.id, asra_risk_class=p.asra_risk_class,
                hold=row.hold.get(p.asra_risk_class, "see table"), restart=row.restart,
                tag=row.tag, sources=static.antithrombotic_refs[row.id]))
    return out


def _stage(knowledge: Knowledge, case: PatientCase, options: list[a.Option]) -> a.Stage:
    ladder = {st.step: st.name for st in knowledge.shared.ladder}
    reasons: list[str] = []
    tried: int | None = None
    steps: list[int] = []
    if case.procedures is not None:
        for pr in case.procedures:
            proc = knowledge.procedures.get(pr.procedure)
            if proc is not None:
                steps.append(proc.ladder_step)
                reasons.append(f"Had {proc.name} (step {proc.ladder_step})")
    if case.surgery:
        for sx in case.surgery:
            step = 6 if sx.kind == "fusion" else 5
            steps.append(step)
            reasons.append(f"Had {sx.kind} surgery (step {step})")
    if case.treatments:
        steps.append(1)
        reasons.append("Has tried conservative care (step 1)")
    if steps:
        tried = max(steps)
    elif case.procedures is not None and case.surgery is not None and case.treatments is not None:
        tried = 0
        reasons.append("No treatment tried yet")
    else:
        reasons.append("Treatment history is incomplete, so the step reached is unknown")
    candidates = [o for o in options if o.status in ("recommended", "consider")]
    # The next step is the first candidate beyond what was tried (conservative care continues
    # alongside); if nothing lies beyond, the first candidate.
    beyond = [o for o in candidates if tried is None or o.ladder_step > tried]
    nxt = (beyond or candidates)[0] if (beyond or candidates) else None
    if nxt:
        reasons.append(f"Most appropriate next: {nxt.name} (step {nxt.ladder_step}, {nxt.status})")
    return a.Stage(
        tried_step=tried, tried_step_name=ladder.get(tried) if tried else None,
        next_step=nxt.ladder_step if nxt else None,
        next_step_name=ladder.get(nxt.ladder_step) if nxt else None, reasons=reasons,
    )
