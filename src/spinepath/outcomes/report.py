"""The outcomes report as a standalone HTML page (tables and inline SVG charts) or as terminal tables.

    html = render_html(report)               # one file, no external assets
    print_report(console, report)            # rich tables for the terminal

Both read only the typed :class:`~spinepath.outcomes.analytics.model.OutcomesReport`, so every
number on the page is one of its figures. The page puts a denominator beside every rate, lists the
definitions and their sources, says who was excluded and why, and shows each breakdown (site,
level, side, predictors) per procedure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files

from jinja2 import Environment, FunctionLoader, StrictUndefined
from rich import box
from rich.console import Console
from rich.table import Table

from spinepath.outcomes.analytics.model import (
    CompletenessRow,
    ComplicationRow,
    KMRow,
    OutcomesReport,
    ReliefRow,
    RepeatRow,
    ResponderRow,
)
from spinepath.outcomes.analytics.sql import NOT_RECORDED

_PACKAGE = "spinepath.outcomes"
Group = tuple[str, str, str]


# ------------------------------------------------------------------ formatting


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def ci(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{low * 100:.1f}–{high * 100:.1f}%"


def count(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def days(value: float | None) -> str:
    return "not reached" if value is None else f"{value:,.0f} d"


def days_ci(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return ""
    return f"{'–' if low is None else f'{low:,.0f}'} to {'not reached' if high is None else f'{high:,.0f}'} d"


def dimension_label(dimension: str) -> str:
    return dimension.split(":", 1)[1].replace("_", " ") if dimension.startswith("predictor:") else dimension


# ------------------------------------------------------------------ view model


@dataclass
class View:
    """The report indexed for the template: rows by group, time points per procedure."""

    report: OutcomesReport
    procedures: list[str] = field(default_factory=list)
    timepoints: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    dimensions: list[str] = field(default_factory=list)
    values: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    responders: dict[tuple[str, str, str, int, str], ResponderRow] = field(default_factory=dict)
    completeness: dict[tuple[str, str, str, int], CompletenessRow] = field(default_factory=dict)
    relief: dict[Group, ReliefRow] = field(default_factory=dict)
    km: dict[Group, list[KMRow]] = field(default_factory=dict)
    repeats: dict[Group, RepeatRow] = field(default_factory=dict)
    complications: dict[Group, ComplicationRow] = field(default_factory=dict)

    @staticmethod
    def of(report: OutcomesReport) -> View:
        v = View(report)
        tps: dict[str, set[tuple[str, int]]] = defaultdict(set)
        values: dict[tuple[str, str], list[str]] = defaultdict(list)
        dims: list[str] = []
        for c in report.completeness:
            v.completeness[(c.procedure, c.dimension, c.value, c.days)] = c
            if c.dimension == "procedure":
                tps[c.procedure].add((c.timepoint, c.days))
        for r in report.responders:
            v.responders[(r.procedure, r.dimension, r.value, r.days, r.definition)] = r
        for x in report.complications:
            g = (x.procedure, x.dimension, x.value)
            v.complications[g] = x
            if x.dimension != "procedure":
                if x.dimension not in dims:
                    dims.append(x.dimension)
                values[(x.dimension, x.procedure)].append(x.value)
        for rr in report.relief:
            v.relief[(rr.procedure, rr.dimension, rr.value)] = rr
        km: dict[Group, list[KMRow]] = defaultdict(list)
        for k in report.km:
            km[(k.procedure, k.dimension, k.value)].append(k)
        v.km = dict(km)
        for rp in report.repeats:
            v.repeats[(rp.procedure, rp.dimension, rp.value)] = rp
        names = report.procedure_names
        v.procedures = sorted({x.procedure for x in report.complications}, key=lambda p: (names.get(p, p), p))
        v.timepoints = {p: sorted(tps.get(p, set()), key=lambda t: (t[1], t[0])) for p in v.procedures}
        v.dimensions = dims
        v.values = dict(values)
        return v

    def followup_timepoints(self, procedure: str) -> list[tuple[str, int]]:
        return [t for t in self.timepoints.get(procedure, []) if t[1] > 0]

    def citations(self) -> list[tuple[str, str]]:
        """Each cited source once, in order of first use."""
        seen: dict[str, str] = {}
        refs = [src for d in self.report.definitions for src in d.sources] + list(
            self.report.methods.relief_margin_sources) + [
            src for o in self.report.methods.relief_onsets for src in o.sources]
        for src in refs:
            if src.citation and src.id not in seen:
                seen[src.id] = src.citation
        return list(seen.items())

    def dimension_procedures(self, dimension: str) -> list[str]:
        return [p for p in self.procedures if (dimension, p) in self.values]


# ------------------------------------------------------------------ HTML


def _template_source(name: str) -> str:
    return (files(_PACKAGE) / "templates" / name).read_text(encoding="utf-8")


@cache
def _env() -> Environment:
    env = Environment(loader=FunctionLoader(_template_source), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, count=count, days=days, dim=dimension_label)
    env.globals.update(ci=ci, days_ci=days_ci, NOT_RECORDED=NOT_RECORDED)
    return env


def render_html(report: OutcomesReport, charts: bool = True) -> str:
    """The report as one standalone HTML page (charts as inline SVG)."""
    from spinepath.outcomes import charts as ch

    names = report.procedure_names
    figures = {
        "completeness": ch.completeness_chart(report, names) if charts else None,
        "responders": ch.responder_chart(report, names) if charts else None,
        "km": ch.km_chart(report, names) if charts else None,
    }
    return _env().get_template("report.html.j2").render(r=report, v=View.of(report), charts=figures,
                                                         names=names)


# ------------------------------------------------------------------ terminal


def _table(title: str, columns: Iterable[tuple[str, str]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


def print_report(console: Console, report: OutcomesReport) -> None:
    """The procedure-level tables of the report, readable in a terminal."""
    v = View.of(report)
    s = report.summary
    name: Callable[[str], str] = lambda p: report.procedure_names.get(p, p)  # noqa: E731
    console.print(f"[bold]{report.title}[/bold]  [dim]{report.engine} · knowledge "
                  f"{(report.knowledge_hash or '-')[:23]}[/dim]")
    console.print(f"{s.episodes:,} episodes · {s.patients:,} patients · {s.sites:,} sites · {s.procedures} "
                  f"procedures · {s.followups_answered:,} of {s.followups_scheduled:,} follow-ups answered · "
                  f"{s.complications:,} complications")
    for note in report.notes:
        console.print(f"[yellow]note[/yellow]: {note}")
    onsets = {o.procedure: o.days for o in report.methods.relief_onsets}

    t = _table("Follow-up completeness (answered / scheduled)", [("procedure", "left"), ("time point", "left"),
                                                                  ("answered", "right"), ("rate", "right"),
                                                                  ("95% CI", "right")])
    for p in v.procedures:
        for label, d in v.timepoints[p]:
            c = v.completeness.get((p, "procedure", "all", d))
            if c:
                t.add_row(name(p), label, f"{c.answered:,} / {c.scheduled:,}", pct(c.rate), ci(c.ci_low, c.ci_high))
    console.print(t)

    defs = report.definitions
    t = _table("Responders (responders / evaluable at each time point; n.e. = answered but not evaluable)",
               [("procedure", "left"), ("time point", "left")] + [(d.id, "right") for d in defs])
    for p in v.procedures:
        for label, d in v.followup_timepoints(p):
            cells = []
            for df in defs:
                r = v.responders.get((p, "procedure", "all", d, df.id))
                cells.append("–" if r is None else f"{pct(r.rate)} {r.responders:,}/{r.evaluable:,}"
                             + (f" n.e.{r.not_evaluable:,}" if r.not_evaluable else ""))
            t.add_row(name(p), label, *cells)
    console.print(t)

    t = _table(f"Duration of relief (ends when pain is back within {report.methods.relief_margin_points:g} points of "
               "baseline, judged from each procedure's relief onset day; Kaplan-Meier)",
               [("procedure", "left"), ("onset", "right"), ("episodes", "right"), ("included", "right"),
                ("ended", "right"), ("censored", "right"), ("excluded", "right"), ("median", "right"),
                ("95% CI", "right")])
    for p in v.procedures:
        rr = v.relief.get((p, "procedure", "all"))
        if rr:
            excluded = f"{rr.no_baseline + rr.baseline_below_margin + rr.no_followup + rr.only_before_onset:,}"
            t.add_row(name(p), f"day {onsets.get(p, 0)}", f"{rr.episodes:,}", f"{rr.included:,}", f"{rr.events:,}", f"{rr.censored:,}",
                      excluded, days(rr.median_days), days_ci(rr.median_ci_low, rr.median_ci_high))
    console.print(t)

    t = _table("Repeat procedures (same patient, same procedure)", [
        ("procedure", "left"), ("episodes", "right"), ("repeated", "right"), ("share", "right"),
        ("median interval", "right"), ("IQR", "right")])
    for p in v.procedures:
        rp = v.repeats.get((p, "procedure", "all"))
        if rp:
            iqr = "" if rp.q1_days is None else f"{rp.q1_days:,.0f}–{rp.q3_days or 0:,.0f} d"
            t.add_row(name(p), f"{rp.episodes:,}", f"{rp.repeated:,}", pct(rp.share), days(rp.median_days)
                      if rp.median_days is not None else "–", iqr)
    console.print(t)

    t = _table("Complications (episodes with at least one)", [
        ("procedure", "left"), ("episodes", "right"), ("any", "right"), ("rate", "right"), ("95% CI", "right"),
        ("serious", "right"), ("serious rate", "right")])
    for p in v.procedures:
        x = v.complications.get((p, "procedure", "all"))
        if x:
            t.add_row(name(p), f"{x.episodes:,}", f"{x.with_complication:,}", pct(x.rate, 2), ci(x.ci_low, x.ci_high),
                      f"{x.with_serious:,}", pct(x.serious_rate, 2))
    console.print(t)
    if v.dimensions:
        console.print(f"[dim]Breakdowns by {', '.join(dimension_label(d) for d in v.dimensions)}: "
                      "--out report.html, --csv DIR or --json.[/dim]")
