"""`spinepath ask "QUESTION"`: a grounded answer from approved content.

Registered on the main app by :func:`register`. Reads the bundled content (with the clinic
overlay, ``SPINEPATH_CONTENT_DIR``), not the database: answers use the same approved set as
`spinepath article`. Dense retrieval follows ``SPINEPATH_QA_DENSE`` (auto, on, off); passage
embeddings are kept under ``$SPINEPATH_DATA_DIR/qa-cache`` so only the first hybrid run embeds.
"""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from spinepath.cli.education import Audience

if TYPE_CHECKING:
    from rich.console import Console

    from spinepath.qa.answer import Answer


class Retrieval(StrEnum):
    auto = "auto"
    hybrid = "hybrid"
    lexical = "lexical"


def print_answer(console: Console, answer: Answer, sources: dict[str, str]) -> None:
    """Urgent advice in a red panel first, then the answer with numbered citation markers, then
    the sources."""
    from rich.panel import Panel
    from rich.text import Text

    if answer.urgent:
        body = Text()
        for e in answer.urgent.emergencies:
            body.append(f"{e.action}\n", style="bold")
            body.append(f"  ({e.label}; you wrote “{e.matched}”) [{e.citation}]\n", style="dim")
        console.print(Panel(body, title="[bold]Urgent[/bold]", border_style="red", title_align="left"))
    if answer.declined:
        console.print(Panel(answer.declined.reason, title="Not answered", border_style="yellow", title_align="left"))
    elif answer.sentences:
        text = Text()
        for sent in answer.sentences:
            text.append(sent.text)
            text.append(f" [{sent.citation}] ", style="cyan")
        console.print(Panel(text, title=f"Answer ({answer.audience})", border_style="green", title_align="left"))
    elif not answer.urgent:
        console.print(Panel(answer.answer, title="No answer", border_style="yellow", title_align="left"))
    cites = (answer.urgent.citations if answer.urgent else []) + answer.citations
    if cites:
        console.print("[bold]Sources[/bold]")
        urgent_n = len(answer.urgent.citations) if answer.urgent else 0
        for i, c in enumerate(cites):
            label = "urgent " if i < urgent_n else ""
            rev = f", revision {c.revision_id}" if c.revision_id else ""
            console.print(f" [cyan]{label}[{c.n}][/cyan] {c.item_name} — {c.heading} ([dim]{c.item_id} · "
                          f"{c.section}{rev}[/dim])", highlight=False)
            for sid in c.source_ids:
                console.print(f"      {sid}: {sources.get(sid, '')}", highlight=False, soft_wrap=True)
    if answer.corrections:
        fixes = ", ".join(f"{a} → {b}" for a, b in answer.corrections.items())
        console.print(f"[dim]read as: {fixes}[/dim]", highlight=False)
    console.print(f"[dim]{answer.retrieval} retrieval · {answer.disclaimer}[/dim]", highlight=False)


def ask_cmd(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question, in your own words")],
    audience: Annotated[Audience, typer.Option("--audience", help="Who is asking")] = Audience.patient,
    retrieval: Annotated[Retrieval, typer.Option("--retrieval", help="auto (hybrid when the model is installed "
                                                 "and SPINEPATH_QA_DENSE allows), hybrid, or lexical")] = Retrieval.auto,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Answer a question from approved content only, with sources; urgent advice comes first."""
    from spinepath.cli import app as cli
    from spinepath.knowledge.loader import CONTENT_ENV
    from spinepath.qa.answer import ask, check_question
    from spinepath.qa.lexicon import load_lexicon
    from spinepath.qa.service import Engines
    from spinepath.settings import Settings

    check_question(question)
    settings = Settings()
    dense = settings.qa_dense
    if retrieval is Retrieval.lexical:
        dense = "off"
    elif retrieval is Retrieval.hybrid:
        dense = "on"
    kb = cli._knowledge()
    lexicon = load_lexicon(os.environ.get(CONTENT_ENV) or None)  # the overlay load_knowledge read
    engines = Engines(dense=dense, cache_dir=settings.data_dir / "qa-cache")
    # dense "on" (--retrieval hybrid) without the model package fails in Engines.get, naming qa_dense
    status = cli.err.status("preparing answers (the first hybrid run embeds the passages)…") \
        if dense != "off" and not as_json else nullcontext()
    with status:
        engine = engines.get(kb, lexicon)
    answer = ask(engine, question, audience.value)
    if as_json:
        print(json.dumps(answer.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    sources = {sid: " ".join(src.citation.split()) for sid, src in kb.sources.items()}
    print_answer(cli.out, answer, sources)


def register(app: typer.Typer) -> None:
    """Add `spinepath ask` to the app."""
    from spinepath.cli.app import handled

    app.command("ask")(handled(ask_cmd))
