"""Outcome analytics commands: `spinepath outcomes report` and `spinepath generate-cohort`.

Registered on the main app by :func:`register`, which ``spinepath.cli.app`` calls; this module
imports ``spinepath.cli.app`` only inside functions, so either module may be imported first.

`outcomes report` reads an outcomes dataset directory (``--data``, e.g. one written by
`generate-cohort` or a registry export) or, by default, the clinic database named by the settings,
runs the analytics on DuckDB (or Spark) and prints tables, writes the HTML report, exports every
table as CSV and/or Parquet, or prints the whole report as JSON.
"""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from spinepath.errors import InputError

if TYPE_CHECKING:
    from spinepath.outcomes.analytics.model import OutcomesReport
    from spinepath.outcomes.dataset import Dataset


class EngineChoice(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _consoles() -> tuple[Console, Console]:
    from spinepath.cli import app as cli

    return cli.out, cli.err


def _dataset_from_database(database_url: str | None) -> Dataset:
    """The clinic's own outcomes dataset, extracted from the configured database."""
    from spinepath.cli.app import _knowledge
    from spinepath.cli.service import _settings, require_migrated

    settings = _settings(database_url)
    require_migrated(settings)
    from spinepath.outcomes.extract import dataset_from_store

    return dataset_from_store(settings.url, _knowledge())


def compute(data: Path | Dataset, engine: EngineChoice, title: str, progress: Any = None) -> OutcomesReport:
    """Run the analytics on ``data`` with the chosen engine (the engine is stopped afterwards)."""
    from spinepath.cli.app import _knowledge
    from spinepath.outcomes.analytics import compute_report, settings_from_knowledge
    from spinepath.outcomes.analytics.engines import DuckDBEngine, SparkEngine, local_spark_session

    settings = settings_from_knowledge(_knowledge(), title=title)
    if engine is EngineChoice.spark:
        spark = local_spark_session()
        eng = SparkEngine(spark, data)
        try:
            return compute_report(eng, settings, progress=progress)
        finally:
            eng.close()
            spark.stop()
    import duckdb

    con = duckdb.connect()
    try:
        return compute_report(DuckDBEngine(con, data), settings, progress=progress)
    finally:
        con.close()


def report_cmd(
    data: Annotated[Path | None, typer.Option("--data", metavar="DIR", help="Outcomes dataset directory "
                                              "(episodes/followups/complications/predictors .parquet); "
                                              "default: the clinic database from the settings")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", metavar="FILE", help="Write the HTML report here",
                                                  dir_okay=False)] = None,
    engine: Annotated[EngineChoice, typer.Option(help="duckdb (embedded) or spark (local mode; needs "
                                                 "pyspark and Java 17)")] = EngineChoice.duckdb,
    csv_dir: Annotated[Path | None, typer.Option("--csv", metavar="DIR", help="Export every table as CSV")] = None,
    parquet_dir: Annotated[Path | None, typer.Option("--parquet", metavar="DIR",
                                                     help="Export every table as Parquet")] = None,
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: from the settings)")] = None,
    title: Annotated[str, typer.Option(help="Report title")] = "Outcomes report",
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole report as JSON")] = False,
) -> None:
    """Responder rates, duration of relief, repeats, completeness and complications, by procedure,
    site, level, side and predictor."""
    from spinepath.outcomes.export import write_csv, write_parquet
    from spinepath.outcomes.report import print_report, render_html

    out, err = _consoles()
    if data is not None:
        from spinepath.outcomes.dataset import Dataset

        Dataset.check_dir(data)
    started = time.perf_counter()
    source: Path | Dataset = data if data is not None else _dataset_from_database(database_url)
    if as_json:
        report = compute(source, engine, title)
    else:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                      transient=True) as bar:
            task = bar.add_task(f"outcomes on {engine.value}", total=None)
            report = compute(source, engine, title,
                             progress=lambda msg: bar.update(task, description=f"{engine.value}: {msg}"))
    written: list[str] = []
    if out_file is not None:
        html = render_html(report)
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            out_file.write_text(html, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write --out {out_file}: {e.strerror or e}", field="out") from None
        written.append(f"{out_file} (HTML, {len(html.encode()):,} bytes)")
    if csv_dir is not None:
        written.append(f"{csv_dir}/ ({len(write_csv(report, csv_dir))} CSV tables)")
    if parquet_dir is not None:
        written.append(f"{parquet_dir}/ ({len(write_parquet(report, parquet_dir))} Parquet tables)")
    elapsed = time.perf_counter() - started
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    if out_file is None:
        print_report(out, report)
    for w in written:
        err.print(f"[green]wrote[/green] {w}", highlight=False)
    err.print(f"[dim]{report.summary.episodes:,} episodes on {report.engine} in {elapsed:.1f} s[/dim]",
              highlight=False)


def generate_cohort_cmd(
    patients: Annotated[int, typer.Option("--patients", min=1, max=50_000_000, help="How many patients")],
    seed: Annotated[int, typer.Option(help="Random seed (same patients and seed, same cohort)")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Dataset directory to write",
                                          file_okay=False)] = Path("cohort"),
    as_json: Annotated[bool, typer.Option("--json", help="Print counts as JSON")] = False,
) -> None:
    """Write a synthetic registry cohort calibrated to the reference outcome figures (Parquet)."""
    from spinepath.cli.app import _knowledge
    from spinepath.outcomes.calibration import load_calibration
    from spinepath.outcomes.cohort import plans_from_knowledge, write_cohort

    out, err = _consoles()
    calibration = load_calibration()
    plans = plans_from_knowledge(_knowledge(), calibration)
    started = time.perf_counter()
    if as_json:
        summary = write_cohort(patients, seed, calibration, plans, out_dir)
    else:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err) as bar:
            task = bar.add_task("generating patients", total=patients)
            summary = write_cohort(patients, seed, calibration, plans, out_dir,
                                   progress=lambda done: bar.update(task, completed=done))
    elapsed = time.perf_counter() - started
    counts = {"patients": summary.patients, "episodes": summary.episodes, "followups": summary.followups,
              "complications": summary.complications, "predictors": summary.predictors}
    if as_json:
        print(json.dumps({"out": str(out_dir), "seed": seed, **counts, "seconds": round(elapsed, 2)}, indent=2))
        return
    out.print(f"[green]wrote[/green] cohort to {out_dir} (seed {seed}) in {elapsed:.1f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()), highlight=False)


def register(app: typer.Typer) -> None:
    """Add `outcomes report` and `generate-cohort` to the `spinepath` app."""
    from spinepath.cli.app import handled

    outcomes_app = typer.Typer(help="Registry outcome analytics: responders, duration of relief, repeats, "
                               "completeness, complications.", no_args_is_help=True)
    outcomes_app.command("report")(handled(report_cmd))
    app.add_typer(outcomes_app, name="outcomes")
    app.command("generate-cohort")(handled(generate_cohort_cmd))
