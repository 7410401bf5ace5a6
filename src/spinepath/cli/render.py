"""Terminal views (rich). Built to be scanned in half a minute: red flags first, then options
grouped by status with the one reason that matters, then what to ask next."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from spinepath.rules.assessment import STATUS_ORDER, Assessment, Option
from spinepath.rules.markdown import STATUS_TITLE

STATUS_STYLE = {
    "recommended": "bold green",
    "consider": "green",
    "not_yet": "yellow",
    "insufficient_information": "magenta",
    "deferred": "bold red",
    "not_indicated": "dim",
    "contraindicated": "red",
}
URGENCY_STYLE = {"emergency": "bold white on red", "urgent": "bold red", "soon": "yellow"}


def _why(o: Option) -> str:
    if o.status == "not_yet" and o.missing:
        return "needs: " + "; ".join(o.missing)
    key = [r for r in o.reasons if not r.startswith("Scope, indications")]
    text = (key or o.reasons)[:2]
    return " · ".join(t.split(" [")[0] for t in text)


def print_assessment(console: Console, a: Assessment, show_all: bool = False) -> None:
    head = Text.assemble(
        ("spinepath assessment", "bold"),
        (f"  {a.case_id}" if a.case_id else "", "cyan"),
        (f"   policy {a.policy.id} · {a.assessed_on.isoformat()}", "dim"),
    )
    console.print(head)
    if a.red_flags:
        rows = []
        for rf in a.red_flags:
            because = "; ".join(f["label"] for f in rf.fired_by)
            rows.append(Text.assemble((f" {rf.urgency.upper()} ", URGENCY_STYLE[rf.urgency]), " ",
                                      (rf.name, "bold"), f"\n   {rf.action}\n   because: {because}"))
        console.print(Panel(Group(*rows), title="RED FLAGS — elective care deferred",
                            border_style="red"))
    else:
        console.print(Text("No red flag fired", style="green")
                      + Text(" (unanswered red-flag questions are listed below)", style="dim"))
    pheno = ", ".join(p.name + ("" if p.result == "met" else " (possible)") for p in a.phenotype) or "unclear"
    st = a.stage
    console.print(Text.assemble(("Presentation: ", "bold"), pheno))
    console.print(Text.assemble(
        ("Stepped care: ", "bold"),
        f"tried step {st.tried_step if st.tried_step is not None else '?'}"
        f"{f' ({st.tried_step_name})' if st.tried_step_name else ''} → next "
        f"{st.next_step if st.next_step is not None else '—'}"
        f"{f' ({st.next_step_name})' if st.next_step_name else ''}"))
    table = Table(show_header=True, header_style="bold", expand=True, pad_edge=False)
    table.add_column("Status", no_wrap=True)
    table.add_column("Option", ratio=2)
    table.add_column("Why", ratio=5)
    for status in STATUS_ORDER:
        group = [o for o in a.options if o.status == status]
        if not group:
            continue
        if status == "not_indicated" and not show_all:
            names = ", ".join(o.name.split(" (")[0] for o in group)
            table.add_row(Text(STATUS_TITLE[status], style=STATUS_STYLE[status]),
                          Text(f"{len(group)} options", style="dim"),
                          Text(names + " — reasons in --format markdown/json", style="dim"))
            continue
        for i, o in enumerate(group):
            name = o.name + (" †" if o.content_status != "approved" else "")
            table.add_row(Text(STATUS_TITLE[status] if i == 0 else "", style=STATUS_STYLE[status]),
                          Text(name, style=STATUS_STYLE[status] if status != "not_indicated" else "dim"),
                          Text(_why(o), style="dim" if status == "not_indicated" else ""))
        table.add_section()
    console.print(table)
    cautions = {(c.id, c.text) for o in a.options if o.status in ("recommended", "consider") for c in o.cautions}
    for _, text in sorted(cautions):
        console.print(Text.assemble(("Caution: ", "yellow bold"), text))
    meds = {(at.medicine, at.drug) for o in a.options for at in o.antithrombotics}
    if meds:
        console.print(Text.assemble(("Antithrombotics: ", "yellow bold"),
                                    ", ".join(m for m, _ in sorted(meds)),
                                    " — hold/restart per option in --format json or markdown"))
    if a.gaps:
        console.print(Text("What to ask next (most decisive first):", style="bold"))
        for g in a.gaps[:8]:
            console.print(f"  • {g.question}  [dim]({g.fact})[/dim]")
        if len(a.gaps) > 8:
            console.print(f"  [dim]… and {len(a.gaps) - 8} more (see --format json)[/dim]")
    console.print(Text(f"† content under clinical review.  {a.disclaimer}", style="dim italic"))
    console.print(Text(f"knowledge {a.knowledge_hash[:23]}", style="dim"))


def items_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(show_header=True, header_style="bold")
    for col in ("id", "kind", "name", "status", "version", "review_due"):
        table.add_column(col)
    for r in rows:
        style = "" if r["status"] == "approved" else "yellow"
        table.add_row(r["id"], r["kind"], r["name"], Text(r["status"], style=style), r["version"],
                      str(r["review_due"]))
    return table
