"""Markdown rendering of an Assessment, for notes, tickets and printing.

Same order as the terminal view: red flags, phenotype, options by status, gaps, provenance.
"""

from __future__ import annotations

from spinepath.rules.assessment import STATUS_ORDER, Assessment, CriterionResult

STATUS_TITLE = {
    "recommended": "Recommended",
    "consider": "Consider",
    "not_yet": "Not yet",
    "insufficient_information": "Insufficient information",
    "deferred": "Deferred (red flag first)",
    "not_indicated": "Not indicated",
    "contraindicated": "Contraindicated",
}
RESULT_MARK = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def _facts(c: CriterionResult) -> str:
    return ", ".join(f"{k}={'unknown' if v is None else v}" for k, v in c["facts"].items())


def render_markdown(a: Assessment) -> str:
    lines = [f"# spinepath assessment{f' — {a.case_id}' if a.case_id else ''}", ""]
    lines.append(f"*{a.disclaimer}*")
    lines.append("")
    lines.append("## Red flags")
    if a.red_flags:
        for rf in a.red_flags:
            lines.append(f"- **{rf.urgency.upper()}: {rf.name}** — {rf.action}")
            for f in rf.fired_by:
                lines.append(f"  - because: {f['label']} ({_facts(f)})")
    else:
        lines.append("- None fired. Unknown red-flag answers are listed under *What is missing*.")
    lines.append("")
    lines.append("## Presentation")
    for p in a.phenotype:
        lines.append(f"- {p.name} ({RESULT_MARK[p.result]}) — {p.because}")
    st = a.stage
    lines.append(f"- Stepped care: tried step {st.tried_step if st.tried_step is not None else 'unknown'}"
                 f"{f' ({st.tried_step_name})' if st.tried_step_name else ''}; "
                 f"next step {st.next_step if st.next_step is not None else '—'}"
                 f"{f' ({st.next_step_name})' if st.next_step_name else ''}")
    lines.append("")
    lines.append("## Options")
    for status in STATUS_ORDER:
        group = [o for o in a.options if o.status == status]
        if not group:
            continue
        lines.append(f"### {STATUS_TITLE[status]}")
        for o in group:
            review = " *(content under review)*" if o.content_status != "approved" else ""
            lines.append(f"- **{o.name}** (`{o.procedure}`, step {o.ladder_step}, ASRA {o.asra_risk_class}){review}")
            for r in o.reasons:
                lines.append(f"  - {r}")
            for m in o.missing:
                lines.append(f"  - missing: {m}")
            for c in o.cautions:
                lines.append(f"  - caution: {c.text}")
            for at in o.antithrombotics:
                lines.append(f"  - {at.medicine} (ASRA {at.asra_risk_class} risk): before — "
                             f"{at.hold.rstrip('.')}; restart — {at.restart.rstrip('.')} [{at.tag}]")
        lines.append("")
    lines.append("## What is missing")
    if a.gaps:
        for g in a.gaps[:15]:
            lines.append(f"- {g.question} (`{g.fact}`; affects {len(g.affects)} rule(s))")
    else:
        lines.append("- Nothing that would change the result.")
    lines.append("")
    lines.append(f"Policy: {a.policy.name} (`{a.policy.id}`) · knowledge {a.knowledge_hash[:19]} · "
                 f"assessed {a.assessed_on.isoformat()}")
    return "\n".join(lines) + "\n"
