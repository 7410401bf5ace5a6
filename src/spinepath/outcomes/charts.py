"""Charts for the outcomes report: inline SVG strings drawn with matplotlib.

Figures are built with the object API (``matplotlib.figure.Figure``), never ``pyplot``, so no
global backend or window is involved and the charts render the same on a headless server. Text
stays text in the SVG (searchable, small) and the output is deterministic: no date, fixed ids.
Each chart shows the procedure as a whole; breakdowns are in the tables.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from spinepath.case.spec import DAYS_PER_MONTH
from spinepath.outcomes.analytics.model import OutcomesReport

NCOLS = 4
RC: Any = {"svg.fonttype": "none", "svg.hashsalt": "spinepath-outcomes", "font.size": 8,
      "axes.titlesize": 8, "axes.spines.top": False, "axes.spines.right": False}


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and doctype: the SVG is inlined in HTML


def _title(names: Mapping[str, str], pid: str, width: int = 34) -> str:
    name = names.get(pid, pid)
    return name if len(name) <= width else name[: width - 1] + "…"


def _by_name(procs: set[str] | list[str], names: Mapping[str, str]) -> list[str]:
    return sorted(procs, key=lambda p: (names.get(p, p), p))


def _month_ticks(ax: Axes, last_month: float) -> None:
    step = 3 if last_month <= 15 else 6 if last_month <= 30 else 12
    ax.set_xticks([m for m in range(0, int(last_month) + step, step) if m <= last_month * 1.02 + 0.01])


def _grid(n: int, row_height: float, top: float, bottom: float) -> tuple[Figure, list[Axes]]:
    """A grid of small multiples with fixed margins (in inches); a layout engine would double the
    drawing time for no visible gain on a regular grid."""
    rows = max(1, math.ceil(n / NCOLS))
    height = row_height * rows + top + bottom
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(11, height))
        axes = fig.subplots(rows, NCOLS, squeeze=False, gridspec_kw={
            "left": 0.06, "right": 0.99, "top": 1 - top / height, "bottom": bottom / height,
            "hspace": 0.95, "wspace": 0.22}).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def km_chart(report: OutcomesReport, names: Mapping[str, str]) -> str | None:
    """Duration of relief per procedure: the Kaplan-Meier curve with its 95% band."""
    curves: dict[str, list[tuple[float, float, float, float]]] = defaultdict(list)
    for r in report.km:
        if r.dimension == "procedure":
            curves[r.procedure].append((r.days, r.survival, r.ci_low, r.ci_high))
    relief = {r.procedure: r for r in report.relief if r.dimension == "procedure"}
    procs = _by_name(list(curves), names)
    if not procs:
        return None
    with matplotlib.rc_context(RC):
        fig, axes = _grid(len(procs), 2.3, top=0.5, bottom=0.1)
        for ax, pid in zip(axes, procs, strict=False):
            pts = sorted(curves[pid])
            x = [0.0] + [p[0] / DAYS_PER_MONTH for p in pts]
            s = [1.0] + [p[1] for p in pts]
            lo = [1.0] + [p[2] for p in pts]
            hi = [1.0] + [p[3] for p in pts]
            ax.fill_between(x, lo, hi, step="post", alpha=0.25, linewidth=0, color="#2b6cb0")
            ax.step(x, s, where="post", color="#2b6cb0", linewidth=1.5)
            ax.axhline(0.5, color="#999999", linewidth=0.6, linestyle="--")
            ax.set_ylim(0, 1.02)
            ax.set_xlim(0, x[-1] * 1.02 or 1)
            _month_ticks(ax, x[-1])
            ax.set_yticks([0, 0.5, 1.0], ["0%", "50%", "100%"])
            rr = relief.get(pid)
            med = "not reached" if rr is None or rr.median_days is None else f"{rr.median_days:.0f} d"
            n = 0 if rr is None else rr.included
            ax.set_title(f"{_title(names, pid)}\nn={n:,} · median {med}", loc="left")
            ax.set_xlabel("months after the procedure")
        fig.suptitle("Still relieved (Kaplan-Meier, 95% Greenwood band)", x=0.01, y=0.995, ha="left", va="top")
        return _svg(fig)


def responder_chart(report: OutcomesReport, names: Mapping[str, str]) -> str | None:
    """Responder rate at each follow-up time point, one line per definition."""
    series: dict[str, dict[str, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in report.responders:
        if r.dimension == "procedure" and r.rate is not None:
            series[r.procedure][r.definition].append((r.days, r.rate))
    procs = _by_name(list(series), names)
    if not procs:
        return None
    labels = {d.id: d.label for d in report.definitions}
    order = [d.id for d in report.definitions]
    with matplotlib.rc_context(RC):
        fig, axes = _grid(len(procs), 2.1, top=0.4, bottom=0.9)
        handles: dict[str, Artist] = {}
        for ax, pid in zip(axes, procs, strict=False):
            for did in order:
                pts = sorted(series[pid].get(did, []))
                if not pts:
                    continue
                (line,) = ax.plot([p[0] / DAYS_PER_MONTH for p in pts], [p[1] * 100 for p in pts], marker="o",
                                  markersize=3, linewidth=1.2, label=labels.get(did, did))
                handles.setdefault(did, line)
            ax.set_ylim(0, 100)
            ax.set_xlim(0, None)
            _month_ticks(ax, max(p[0] for s in series[pid].values() for p in s) / DAYS_PER_MONTH)
            ax.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
            ax.set_title(_title(names, pid), loc="left")
            ax.set_xlabel("months after the procedure")
        fig.legend([handles[d] for d in order if d in handles], [labels[d] for d in order if d in handles],
                   loc="lower center", ncols=3, frameon=False)
        fig.suptitle("Responders among evaluable follow-ups", x=0.01, y=0.995, ha="left", va="top")
        return _svg(fig)


def _rate(row: object) -> float:
    value = getattr(row, "rate", None)
    return math.nan if value is None else float(value)


def completeness_chart(report: OutcomesReport, names: Mapping[str, str]) -> str | None:
    """Share of scheduled follow-ups answered, by procedure and time point."""
    rows = [r for r in report.completeness if r.dimension == "procedure"]
    if not rows:
        return None
    first_day: dict[str, int] = {}
    for r in rows:
        first_day[r.timepoint] = min(first_day.get(r.timepoint, r.days), r.days)
    cols = sorted(first_day, key=lambda t: (first_day[t], t))
    procs = _by_name({r.procedure for r in rows}, names)
    cell = {(r.procedure, r.timepoint): r for r in rows}
    with matplotlib.rc_context(RC):
        width, height = 3.2 + 0.9 * len(cols) + 1.0, 0.3 * len(procs) + 0.9
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((3.2 / width, 0.45 / height, 0.9 * len(cols) / width, 0.3 * len(procs) / height))
        cax = fig.add_axes(((3.4 + 0.9 * len(cols)) / width, 0.45 / height, 0.15 / width,
                            0.3 * len(procs) / height))
        data = np.array([[_rate(cell.get((p, c))) for c in cols] for p in procs], dtype=float)
        img = ax.imshow(data, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(len(procs)):
            for j in range(len(cols)):
                v = float(data[i, j])
                if not math.isnan(v):
                    ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                            color="white" if v > 0.6 else "black")
        ax.set_xticks(range(len(cols)), cols)
        ax.set_yticks(range(len(procs)), [_title(names, p, 44) for p in procs])
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        fig.colorbar(img, cax=cax, format=lambda v, _pos: f"{v:.0%}")
        ax.set_title("Follow-ups answered of those scheduled", loc="left")
        return _svg(fig)
