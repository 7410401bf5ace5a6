"""Benchmark: the full outcomes report on a synthetic registry, against pandas + lifelines.

    .venv/bin/python bench/bench_outcomes.py [--patients 1000000] [--seed 2027] [--runs 3] [--spark]

1. A cohort of N patients (seed 2027) is generated once under bench/out/ (reused when present;
   the generation time is reported when it runs).
2. spinepath, timed end to end, best of --runs: open the Parquet dataset in DuckDB, compute every
   figure (responders per definition and time point, completeness, Kaplan-Meier relief with
   medians, repeats, complications — by procedure, site, level, side and predictor), draw the three
   charts and render the HTML page. The knowledge snapshot is loaded once before timing (it is the
   same for every report).
3. The peer, in the same process: pandas + lifelines computing the same figures (bench/outcomes_peer.py),
   timed once from reading the Parquet files; its figures are compared with spinepath's.
4. With --spark, the same report on Spark local[2] (informational), checked for identical figures.

Results are printed and written to bench/out/outcomes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import outcomes_peer  # noqa: E402

from spinepath import load_knowledge  # noqa: E402
from spinepath.outcomes.analytics import DuckDBEngine, compute_report, settings_from_knowledge  # noqa: E402
from spinepath.outcomes.calibration import load_calibration  # noqa: E402
from spinepath.outcomes.cohort import plans_from_knowledge, write_cohort  # noqa: E402
from spinepath.outcomes.report import render_html  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def cohort(kb, patients: int, seed: int) -> tuple[Path, float | None]:
    d = OUT / f"cohort_{patients}_{seed}"
    if (d / "followups.parquet").is_file():
        return d, None
    cal = load_calibration()
    t0 = time.perf_counter()
    write_cohort(patients, seed, cal, plans_from_knowledge(kb, cal), d)
    return d, time.perf_counter() - t0


def full_report(data: Path, settings) -> tuple[float, object, str]:
    t0 = time.perf_counter()
    con = duckdb.connect()
    report = compute_report(DuckDBEngine(con, data), settings)
    html = render_html(report)
    con.close()
    elapsed = time.perf_counter() - t0
    return elapsed, report, html


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--spark", action="store_true", help="also time Spark local[2] (informational)")
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    console = Console()

    kb = load_knowledge(use_env=False)
    settings = settings_from_knowledge(kb)
    data, gen_seconds = cohort(kb, args.patients, args.seed)
    sizes = {n: duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{data}/{n}.parquet')").fetchone()[0]
             for n in ("episodes", "followups", "complications", "predictors")}

    times, report, html = [], None, ""
    for _ in range(args.runs):
        t, report, html = full_report(data, settings)
        times.append(t)
        console.print(f"spinepath full report: {t:.2f} s")
    (OUT / "outcomes_report.html").write_text(html, encoding="utf-8")  # the page the last timed run rendered
    html_bytes = len(html.encode())

    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "duckdb": duckdb.__version__},
        "patients": args.patients, "seed": args.seed, "rows": sizes,
        "generate_seconds": None if gen_seconds is None else round(gen_seconds, 2),
        "report": {"runs": [round(t, 3) for t in times], "best_seconds": round(min(times), 3),
                   "median_seconds": round(statistics.median(times), 3), "html_bytes": html_bytes,
                   "target_seconds": 10.0, "met": min(times) <= 10.0},
        "figures": {name: len(rows) for name, rows in report.tables().items()},
    }

    if not args.no_peer:
        t0 = time.perf_counter()
        peer = outcomes_peer.compute(data, settings.analytics.responder_definitions,
                                     settings.analytics.relief_margin_points, settings.onset_days())
        peer_seconds = time.perf_counter() - t0
        agreement = outcomes_peer.compare(peer, report)
        result["peer"] = {"name": "pandas + lifelines", "seconds": round(peer_seconds, 3),
                          "agreement": agreement, "ratio_vs_best": round(peer_seconds / min(times), 2),
                          "target_ratio": 10.0, "met": peer_seconds / min(times) >= 10.0}

    if args.spark:
        from spinepath.outcomes.analytics import SparkEngine, local_spark_session

        t0 = time.perf_counter()
        spark = local_spark_session(cores=2)
        started = time.perf_counter() - t0
        t1 = time.perf_counter()
        eng = SparkEngine(spark, data)
        sp = compute_report(eng, settings)
        spark_seconds = time.perf_counter() - t1
        eng.close()
        spark.stop()
        result["spark"] = {"session_start_seconds": round(started, 2), "figures_seconds": round(spark_seconds, 2),
                           "identical_figures": sp.figures() == report.figures()}

    (OUT / "outcomes.json").write_text(json.dumps(result, indent=2))
    console.print(f"[bold]Outcomes report[/bold]: {args.patients:,} patients, {sizes['episodes']:,} episodes, "
                  f"{sizes['followups']:,} follow-ups")
    t = Table(header_style="bold")
    t.add_column("measure")
    t.add_column("target", justify="right")
    t.add_column("measured", justify="right")
    t.add_row("full report (DuckDB, best)", "≤ 10 s", f"{min(times):.2f} s")
    t.add_row("full report (median)", "", f"{statistics.median(times):.2f} s")
    if "peer" in result:
        p = result["peer"]
        t.add_row("pandas + lifelines, same figures", "", f"{p['seconds']:.2f} s")
        t.add_row("ratio", "≥ 10×", f"{p['ratio_vs_best']:.1f}×")
        t.add_row("peer agrees on every figure", "yes", "yes" if p["agreement"]["all_equal"] else "NO")
    if "spark" in result:
        s = result["spark"]
        t.add_row("Spark local[2]: figures (session start)", "",
                  f"{s['figures_seconds']:.1f} s ({s['session_start_seconds']:.1f} s)")
        t.add_row("Spark identical figures", "yes", "yes" if s["identical_figures"] else "NO")
    if gen_seconds is not None:
        t.add_row("cohort generation", "", f"{gen_seconds:.1f} s")
    console.print(t)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
