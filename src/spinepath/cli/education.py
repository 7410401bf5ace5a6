"""Education commands: `spinepath article` and `spinepath discharge`.

Registered on the main app by :func:`register`, which ``spinepath.cli.app`` calls; this module
imports ``spinepath.cli.app`` only inside functions, so either module may be imported first.
Markdown and HTML go to standard output unless ``--out`` is given; a PDF needs ``--out``.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from spinepath.errors import InputError

if TYPE_CHECKING:
    from spinepath.education.articles import Article
    from spinepath.education.discharge import DischargeSheet


class Audience(StrEnum):
    patient = "patient"
    clinician = "clinician"


class ArticleFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


class SheetFormat(StrEnum):
    html = "html"
    pdf = "pdf"


def _emit(doc: Article | DischargeSheet, fmt: str, out_file: Path | None) -> None:
    from spinepath.cli import app as cli
    from spinepath.education.render import render_html, render_markdown, render_pdf

    if fmt == "pdf" and out_file is None:
        raise InputError("--format pdf needs --out FILE (a PDF is not printed to the terminal)", field="out")
    data: bytes | str
    if fmt == "pdf":
        data = render_pdf(doc)
    elif fmt == "html":
        data = render_html(doc)
    else:
        data = render_markdown(doc)
    if out_file is None:
        assert isinstance(data, str)
        sys.stdout.write(data)
        return
    try:
        if isinstance(data, bytes):
            out_file.write_bytes(data)
        else:
            out_file.write_text(data, encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot write --out {out_file}: {e.strerror or e}", field="out") from None
    cli.err.print(f"wrote {out_file} ({fmt}, {out_file.stat().st_size:,} bytes)", highlight=False)


def article_cmd(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="Condition or procedure id, e.g. rf-facet-lumbar")],
    audience: Annotated[Audience, typer.Option("--audience", help="Who the article is for")] = Audience.patient,
    fmt: Annotated[ArticleFormat, typer.Option("--format", help="md or html (standard output), or pdf")] = ArticleFormat.md,
    out_file: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write here (required for pdf)",
                                                  dir_okay=False)] = None,
) -> None:
    """An education article for one condition or procedure (patients: approved items only)."""
    from spinepath.cli.app import _knowledge
    from spinepath.education.articles import build_article

    _emit(build_article(_knowledge(), item_id, audience.value), fmt.value, out_file)


def discharge_cmd(
    procedure: Annotated[str, typer.Option("--procedure", metavar="ID", help="Procedure id, e.g. rf-facet-lumbar")],
    date: Annotated[str, typer.Option("--date", metavar="DATE", help="Date of the procedure, e.g. 2026-03-03")],
    level: Annotated[str | None, typer.Option("--level", metavar="LEVEL", help="Spinal level, e.g. L4-L5")] = None,
    side: Annotated[str | None, typer.Option("--side", metavar="SIDE", help="left, right or bilateral")] = None,
    patient: Annotated[str | None, typer.Option("--patient", metavar="NAME", help="Patient name to print")] = None,
    clinic_phone: Annotated[str | None, typer.Option("--clinic-phone", metavar="NUMBER",
                                                     help="Number the patient should call")] = None,
    medicine: Annotated[list[str] | None, typer.Option("--medicine", metavar="NAME",
                                                       help="A medicine the patient takes (repeatable); "
                                                            "blood thinners get their restart time")] = None,
    fmt: Annotated[SheetFormat, typer.Option("--format", help="html (standard output) or pdf")] = SheetFormat.html,
    out_file: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write here (required for pdf)",
                                                  dir_okay=False)] = None,
) -> None:
    """A discharge sheet for a patient going home after a procedure."""
    from spinepath.cli.app import _knowledge, _parse_date
    from spinepath.education.discharge import build_discharge

    when = _parse_date(date, "date")
    assert when is not None
    if when > dt.date.today() + dt.timedelta(days=366):
        raise InputError(f"--date {date} is more than a year ahead; give the date of the procedure", field="date")
    sheet = build_discharge(_knowledge(), procedure, when, level=level, side=side, patient=patient,
                            clinic_phone=clinic_phone, medicines=tuple(medicine or ()))
    _emit(sheet, fmt.value, out_file)


def register(app: typer.Typer) -> None:
    """Add the education commands to the `spinepath` app."""
    from spinepath.cli.app import handled

    app.command("article")(handled(article_cmd))
    app.command("discharge")(handled(discharge_cmd))
