"""Render articles and discharge sheets as Markdown, HTML (print-ready) or PDF.

    from spinepath.education.render import render_html, render_markdown, render_pdf
    html = render_html(article)            # or a DischargeSheet
    pdf = render_pdf(sheet)                # bytes, via WeasyPrint

The templates and the print stylesheet are package data (``spinepath/education/templates``),
read with importlib.resources. HTML templates autoescape everything; the stylesheet is inlined
so that the HTML stands alone (A4, 12 pt text, headings kept with the text that follows them).
``printed`` is the date shown as "Printed on" (default: today).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup, escape

from spinepath.education.articles import Article
from spinepath.education.discharge import DischargeSheet
from spinepath.errors import InputError

with warnings.catch_warnings():
    # WeasyPrint 70 warns once, at import, when the system lacks libharfbuzz-subset (Debian
    # libharfbuzz-subset0): it then subsets fonts with fontTools instead, which is harmless.
    warnings.filterwarnings("ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning)
    from weasyprint import HTML  # type: ignore[import-untyped]

_PACKAGE = "spinepath.education"
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_MARKER = re.compile(r"\[(\d+)\]")

Document = Article | DischargeSheet


@dataclass(frozen=True)
class Block:
    """A paragraph, or a bulleted list (lines of the source text that start with '- ')."""

    kind: str  # p | ul
    items: tuple[str, ...]


def text_blocks(text: str) -> list[Block]:
    out: list[Block] = []
    bullets: list[str] = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line.startswith("- "):
            bullets.append(line[2:])
            continue
        if bullets:
            out.append(Block("ul", tuple(bullets)))
            bullets = []
        if line:
            out.append(Block("p", (line,)))
    if bullets:
        out.append(Block("ul", tuple(bullets)))
    return out


def long_date(d: dt.date) -> str:
    """Tuesday 3 March 2026 (English, whatever the locale)."""
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def short_date(d: dt.date | None) -> str:
    return "not yet reviewed" if d is None else f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def cite_html(text: str) -> Markup:
    """Escaped text with citation markers [n] linked to the reference list."""
    safe = str(escape(text))
    return Markup(_MARKER.sub(lambda m: f'<a class="cite" href="#ref-{m.group(1)}">[{m.group(1)}]</a>', safe))


def _template_source(name: str) -> str:
    return files(_PACKAGE).joinpath("templates", name).read_text(encoding="utf-8")


@cache
def _env(html: bool) -> Environment:
    env = Environment(loader=FunctionLoader(_template_source), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(blocks=text_blocks, long_date=long_date, short_date=short_date, cite=cite_html)
    return env


@cache
def stylesheet() -> str:
    return _template_source("print.css")


def _context(doc: Document, printed: dt.date | None) -> tuple[str, dict[str, Any]]:
    when = printed or dt.date.today()
    if isinstance(doc, Article):
        return "article", {"a": doc, "printed": when}
    if isinstance(doc, DischargeSheet):
        return "discharge", {"d": doc, "printed": when}
    raise InputError(f"cannot render a {type(doc).__name__}; expected an Article or a DischargeSheet")


def render_markdown(doc: Document, printed: dt.date | None = None) -> str:
    name, ctx = _context(doc, printed)
    text = _env(False).get_template(f"{name}.md").render(ctx)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(doc: Document, printed: dt.date | None = None) -> str:
    name, ctx = _context(doc, printed)
    return _env(True).get_template(f"{name}.html").render(ctx, css=Markup(stylesheet()))


def render_pdf(doc: Document, printed: dt.date | None = None) -> bytes:
    """A4 PDF bytes (WeasyPrint), from the same HTML as :func:`render_html`."""
    pdf = HTML(string=render_html(doc, printed)).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when no target is given
    return bytes(pdf)
