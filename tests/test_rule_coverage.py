"""Every rule in the bundled content is exercised by at least one scenario.

A rule nobody ever sees fire is a rule nobody has checked. "Exercised" means the scenario set
makes the rule *met* at least once; prerequisites must also be *not met* at least once (so the
"not yet" path and its message are seen), and red-flag features must fire.
"""

from __future__ import annotations

from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.plan import compile_plan
from tests.test_scenarios import FILES, load, run


def test_every_rule_is_exercised(kb: Knowledge) -> None:
    met: set[str] = set()
    not_met: set[str] = set()
    for path in FILES:
        data = load(path)
        for rule, result in run(kb, data).trace.items():
            if result == "met":
                met.add(rule)
            elif result == "not_met":
                not_met.add(rule)
    rules = set()
    prereqs = set()
    for pid in kb.policies:
        plan = compile_plan(kb, pid)
        for r in plan.all_rules():
            if r.section == "caution":
                continue
            rules.add(r.rule)
            if r.section == "prerequisites":
                prereqs.add(r.rule)
    never_met = sorted(rules - met)
    never_failed = sorted(prereqs - not_met)
    assert not never_met, f"{len(never_met)} rule(s) never met by any scenario: {never_met}"
    assert not never_failed, f"{len(never_failed)} prerequisite(s) never unmet: {never_failed}"
