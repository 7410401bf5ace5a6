"""Cross-file content checks: the rules a schema alone cannot express.

Errors (the snapshot is refused): duplicate ids, dangling source ids, malformed codes, a hard
rule (one that can make an option contraindicated or not indicated) resting only on [NV]
sources, a procedure's relief onset (it decides when the analytics find that relief ended)
resting only on [NV] sources or falling after its last follow-up, criteria with unknown fact
names or disallowed syntax, constant criteria (they can never change and so are unreachable or
always-on), unknown cross-references, policy profiles that do not set exactly the declared
parameters, and non-approved items without a review note.
Warnings: approved items past their review date.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel

from spinepath.case.spec import Derived, FactDef
from spinepath.errors import CriteriaError, Problem
from spinepath.knowledge import instrument_schema as si
from spinepath.knowledge import schema as s
from spinepath.knowledge.codes import code_problem
from spinepath.rules.criteria import compile_criterion

HARD_SECTIONS = ("applies_when", "indications", "exclusions", "contraindications.absolute")


def _refs(obj: Any, path: str = "") -> Iterator[tuple[str, s.SourceRef]]:
    if isinstance(obj, s.SourceRef):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _refs(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _refs(v, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _refs(v, f"{path}.{k}")


def _codes(obj: Any, path: str = "") -> Iterator[tuple[str, s.Code]]:
    if isinstance(obj, s.Code):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _codes(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _codes(v, f"{path}[{i}]")


def procedure_criteria(p: s.Procedure) -> Iterator[tuple[str, s.Criterion]]:
    """(section path, criterion) for every criterion of a procedure."""
    yield "applies_when", p.applies_when
    for section in ("indications", "exclusions", "prerequisites", "recommend_when"):
        for i, c in enumerate(getattr(p, section)):
            yield f"{section}[{i}]", c
    for i, c in enumerate(p.contraindications.absolute):
        yield f"contraindications.absolute[{i}]", c
    for i, c in enumerate(p.contraindications.relative):
        yield f"contraindications.relative[{i}]", c
    for i, c in enumerate(p.predictors.favourable):
        yield f"predictors.favourable[{i}]", c
    for i, c in enumerate(p.predictors.unfavourable):
        yield f"predictors.unfavourable[{i}]", c
    if p.repeat:
        for i, c in enumerate(p.repeat.criteria):
            yield f"repeat.criteria[{i}]", c


def effective_tag(ref: s.SourceRef, sources: Mapping[str, s.Source]) -> str | None:
    if ref.tag:
        return ref.tag
    src = sources.get(ref.id)
    return src.tag if src else None


def run_checks(
    parsed: dict[str, Any], facts: Mapping[str, FactDef], today: date | None
) -> tuple[list[Problem], list[Problem]]:
    errors: list[Problem] = []
    warnings: list[Problem] = []
    reg_where, register = parsed["files"]["sources.yaml"]
    shared_where, shared = parsed["files"]["shared.yaml"]
    sources: dict[str, s.Source] = {}
    for i, src in enumerate(register.sources):
        if src.id in sources:
            errors.append(Problem(reg_where, f"duplicate source id {src.id!r}", f"sources[{i}].id"))
        sources[src.id] = src

    params = {p.name: p for p in shared.parameters}
    if len(params) != len(shared.parameters):
        errors.append(Problem(shared_where, "duplicate parameter name", "parameters"))
    clash = set(params) & set(facts)
    for name in sorted(clash):
        errors.append(Problem(shared_where, f"parameter {name!r} has the same name as a fact", "parameters"))
    known = set(facts) | set(params)

    def check_expr(where: str, path: str, text: str) -> None:
        try:
            crit = compile_criterion(text, known, path)
        except CriteriaError as e:
            errors.append(Problem(where, e.message.split(": ", 1)[-1], path))
            return
        if not crit.names:
            errors.append(Problem(where, f"criterion {text!r} names no fact, so it can never change "
                                         "(always met or never met): remove it or name a fact", path))

    # derived facts must themselves be valid (they are code, but a bad one breaks every load)
    for f in facts.values():
        if isinstance(f.spec, Derived):
            check_expr("spinepath/case/facts.py", f"fact {f.name}", f.spec.expr)

    # ---- ids unique across item kinds
    seen: dict[str, str] = {}
    all_items: list[tuple[str, str, s.Editorial]] = []
    for kind, entries in parsed["items"].items():
        for where, item in entries:
            if item.id in seen:
                errors.append(Problem(where, f"duplicate id {item.id!r} (also in {seen[item.id]})", "id"))
            seen[item.id] = where
            all_items.append((kind, where, item))
    procedures = {i.id for k, _, i in all_items if k == "procedures"}
    conditions = {i.id for k, _, i in all_items if k == "conditions"}
    phenotypes = {p.id for p in shared.phenotypes}

    # ---- source references and codes everywhere
    def check_refs(where: str, obj: Any) -> None:
        for path, ref in _refs(obj):
            if ref.id not in sources:
                errors.append(Problem(where, f"source id {ref.id!r} is not in the source register "
                                             "(content/sources.yaml)", path))

    def check_codes(where: str, obj: Any) -> None:
        for path, code in _codes(obj):
            msg = code_problem(code.system, code.code)
            if msg:
                errors.append(Problem(where, msg, path + ".code"))

    check_refs(shared_where, shared)
    for _, where, item in all_items:
        check_refs(where, item)
        check_codes(where, item)
        if item.status != "approved" and not item.review_note:
            errors.append(Problem(where, f"status is {item.status!r}: review_note must say what a "
                                         "reviewer still needs to check", "review_note"))
        if item.status == "approved" and today is not None and item.review_due < today:
            warnings.append(Problem(where, f"approved item is past its review date {item.review_due}",
                                    "review_due"))

    # ---- criteria: syntax, known names, hard rules not resting on [NV] only
    for i, ph in enumerate(shared.phenotypes):
        check_expr(shared_where, f"phenotypes[{i}].when", ph.when)
    for i, ca in enumerate(shared.cautions):
        check_expr(shared_where, f"cautions[{i}].when", ca.when)
    for _kind, where, item in all_items:
        if isinstance(item, s.Procedure):
            for path, crit in procedure_criteria(item):
                check_expr(where, f"{path}.when", crit.when)
                if path.split("[")[0] in HARD_SECTIONS or path == "applies_when":
                    tags = {effective_tag(r, sources) for r in crit.sources}
                    if tags and tags <= {"NV", None}:
                        errors.append(Problem(
                            where,
                            f"hard rule {crit.id!r} rests only on [NV] sources; a rule that can make an "
                            "option contraindicated or not indicated needs a [V] or [S] source (or move "
                            "it to contraindications.relative, predictors or prerequisites)",
                            f"{path}.sources"))
            if item.followup.relief_onset_days is not None:
                # The onset decides when the outcome analytics may find that relief ended: a rule.
                tags = {effective_tag(r, sources) for r in item.followup.relief_onset_sources}
                if tags <= {"NV", None}:
                    errors.append(Problem(
                        where, "followup.relief_onset_days rests only on [NV] sources; it decides when relief can "
                               "be found to have ended, so it needs a [V] or [S] source (or leave it unset: relief "
                               "is then judged from the first follow-up)", "followup.relief_onset_sources"))
            if item.repeat:
                check_expr(where, "repeat.when", item.repeat.when)
            for j, t in enumerate(item.treats):
                if t not in conditions:
                    errors.append(Problem(where, f"unknown condition id {t!r}", f"treats[{j}]"))
        elif isinstance(item, s.RedFlag):
            for j, feat in enumerate(item.features):
                check_expr(where, f"features[{j}].when", feat.when)
            if isinstance(item.defers, list):
                for j, pid in enumerate(item.defers):
                    if pid not in procedures:
                        errors.append(Problem(where, f"unknown procedure id {pid!r}", f"defers[{j}]"))
        elif isinstance(item, s.Condition):
            for j, pid in enumerate(item.procedures):
                if pid not in procedures:
                    errors.append(Problem(where, f"unknown procedure id {pid!r}", f"procedures[{j}]"))
            for j, ph in enumerate(item.phenotypes):
                if ph not in phenotypes:
                    errors.append(Problem(where, f"unknown phenotype id {ph!r}; allowed: "
                                                 f"{', '.join(sorted(phenotypes))}", f"phenotypes[{j}]"))
        elif isinstance(item, s.Policy):
            missing = sorted(set(params) - set(item.values))
            extra = sorted(set(item.values) - set(params))
            if missing:
                errors.append(Problem(where, f"policy does not set parameter(s): {', '.join(missing)}", "values"))
            for name in extra:
                errors.append(Problem(where, f"unknown parameter {name!r}; declared parameters: "
                                             f"{', '.join(sorted(params))}", f"values.{name}"))
            for name, pv in item.values.items():
                decl = params.get(name)
                if decl is None:
                    continue
                v = pv.value
                if decl.type == "bool" and not isinstance(v, bool):
                    errors.append(Problem(where, "must be true or false", f"values.{name}.value"))
                if decl.type == "number":
                    if isinstance(v, bool):
                        errors.append(Problem(where, "must be a number", f"values.{name}.value"))
                    elif (decl.minimum is not None and v < decl.minimum) or (
                        decl.maximum is not None and v > decl.maximum
                    ):
                        errors.append(Problem(where, f"{v} is outside {decl.minimum}..{decl.maximum}",
                                              f"values.{name}.value"))
    check_followup(parsed, shared_where, shared, all_items, errors)
    policies = [i for k, _, i in all_items if k == "policies"]
    defaults = [p.id for p in policies if isinstance(p, s.Policy) and p.default]
    if len(defaults) != 1:
        errors.append(Problem("content/policies", f"exactly one policy must have default: true "
                                                  f"(found {len(defaults)}: {', '.join(defaults) or 'none'})"))
    return errors, warnings


def check_followup(parsed: dict[str, Any], shared_where: str, shared: s.Shared,
                   all_items: list[tuple[str, str, s.Editorial]], errors: list[Problem]) -> None:
    """Follow-up content: instruments, the warning signs their questions raise, procedures' follow-up
    blocks and the outcome-analytics responder definitions."""
    sign_ids: set[str] = set()
    for i, sign in enumerate(shared.shared_warning_signs):
        if sign.id is None:
            errors.append(Problem(shared_where, "a shared warning sign needs an id (follow-up questions link to it)",
                                  f"shared_warning_signs[{i}].id"))
        elif sign.id in sign_ids:
            errors.append(Problem(shared_where, f"duplicate warning sign id {sign.id!r}", f"shared_warning_signs[{i}].id"))
        else:
            sign_ids.add(sign.id)
    seen_defs: set[str] = set()
    for i, d in enumerate(shared.outcome_analytics.responder_definitions):
        if d.id in seen_defs:
            errors.append(Problem(shared_where, f"duplicate responder definition id {d.id!r}",
                                  f"outcome_analytics.responder_definitions[{i}].id"))
        seen_defs.add(d.id)
    points = [p.days_after for p in shared.followup_schedule]
    if not points or points[0] != 0 or points != sorted(set(points)):
        errors.append(Problem(shared_where, "the follow-up schedule starts with a baseline (days_after 0) and "
                                            "its points are in increasing order of days_after", "followup_schedule"))

    instruments: dict[str, tuple[str, si.Instrument]] = {
        i.id: (w, i) for k, w, i in all_items if k == "instruments" and isinstance(i, si.Instrument)}
    urls: dict[str, str] = {}
    for iid, (where, ins) in instruments.items():
        own = {it.id for it in ins.items}
        for j, inc in enumerate(ins.includes):
            if inc == iid or inc not in instruments:
                errors.append(Problem(where, f"includes {inc!r}, which is not another instrument; instruments: "
                                             f"{', '.join(sorted(instruments))}", f"includes[{j}]"))
                continue
            other = instruments[inc][1]
            if other.includes:
                errors.append(Problem(where, f"{inc!r} includes other instruments itself; includes go one level deep",
                                      f"includes[{j}]"))
            clash = own & {it.id for it in other.items}
            if clash:
                errors.append(Problem(where, f"item id(s) {', '.join(sorted(clash))} also in included {inc!r}",
                                      f"includes[{j}]"))
        for j, it in enumerate(ins.items):
            if it.warning_sign is not None and it.warning_sign not in sign_ids:
                errors.append(Problem(where, f"unknown warning sign {it.warning_sign!r}; shared warning signs: "
                                             f"{', '.join(sorted(sign_ids))}", f"items[{j}].warning_sign"))
            values = [c.value for c in it.choices]
            if len(set(values)) != len(values):
                errors.append(Problem(where, "choice values must be unique", f"items[{j}].choices"))
        if ins.measure == "nrs":
            odd = sorted(own - set(s.PAIN_SITES))
            if odd:
                errors.append(Problem(where, f"a pain NRS instrument's items are pain sites ({', '.join(s.PAIN_SITES)}); "
                                             f"not: {', '.join(odd)}", "items"))
        if ins.fhir is not None:
            mapped = {link for it in ins.items for link in it.fhir_link_ids}
            for j, link in enumerate(ins.fhir.item_from_request):
                if link in mapped:
                    errors.append(Problem(where, f"linkId {link!r} is mapped to an item and also left to the request",
                                          f"fhir.item_from_request[{j}]"))
            for j, url in enumerate(ins.fhir.questionnaires):
                if url in urls:
                    errors.append(Problem(where, f"questionnaire {url!r} is also mapped by {urls[url]!r}",
                                          f"fhir.questionnaires[{j}]"))
                urls[url] = iid

    for kind, where, item in all_items:
        if kind != "procedures" or not isinstance(item, s.Procedure):
            continue
        fu = item.followup
        nrs_items: set[str] = set()
        for j, iid in enumerate(fu.instruments):
            if iid not in instruments:
                errors.append(Problem(where, f"unknown instrument {iid!r}; instruments: {', '.join(sorted(instruments))}",
                                      f"followup.instruments[{j}]"))
            elif instruments[iid][1].measure == "nrs":
                nrs_items |= {it.id for it in instruments[iid][1].items}
        if all(i in instruments for i in fu.instruments):
            for path, site in (("followup.primary_pain.default", fu.primary_pain.default),
                               ("followup.primary_pain.cervical", fu.primary_pain.cervical)):
                if site not in (None, "worst") and site not in nrs_items:
                    errors.append(Problem(where, f"primary pain site {site!r} is not an item of a pain NRS instrument "
                                                 "in followup.instruments", path))
        if fu.schedule != "inherit":
            days = [p.days_after for p in fu.schedule]
            labels = [p.label for p in fu.schedule]
            if days != sorted(set(days)) or len(set(labels)) != len(labels):
                errors.append(Problem(where, "schedule points need unique labels and increasing days_after",
                                      "followup.schedule"))
        schedule = fu.schedule if fu.schedule != "inherit" else shared.followup_schedule
        last = max((p.days_after for p in schedule), default=0)
        if fu.relief_onset_days is not None and fu.relief_onset_days > last:
            errors.append(Problem(where, f"relief_onset_days {fu.relief_onset_days} is after the last follow-up "
                                         f"(day {last}), so relief could never be judged", "followup.relief_onset_days"))
