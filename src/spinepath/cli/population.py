"""File I/O for the population commands: generating case files and screening them."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from spinepath.errors import InputError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.assessment import STATUS_ORDER


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


def _duckdb_connect() -> object:
    import duckdb

    return duckdb.connect()


def write_cases(n: int, seed: int, out_file: Path, console: Console) -> None:
    from spinepath.case.synthetic import generate_cases

    suffix = out_file.suffix.lower()
    if suffix not in (".jsonl", ".parquet"):
        raise InputError(f"--out must end in .jsonl or .parquet, got {out_file.name!r}", field="out")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    target = out_file if suffix == ".jsonl" else Path(tempfile.mkstemp(suffix=".jsonl")[1])
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    with _progress(console) as bar, target.open("w", encoding="utf-8") as fh:
        task = bar.add_task("generating cases", total=n)
        buf: list[str] = []
        for i, case in enumerate(generate_cases(n, seed), 1):
            buf.append(dumps(case))
            if len(buf) >= 20_000:
                fh.write("\n".join(buf) + "\n")
                buf.clear()
                bar.update(task, completed=i)
        if buf:
            fh.write("\n".join(buf) + "\n")
        bar.update(task, completed=n)
    if suffix == ".parquet":
        from spinepath.rules.batch import read_source_sql

        con = _duckdb_connect()
        con.execute(f"COPY (SELECT * FROM {read_source_sql(str(target), 'jsonl')}) "  # type: ignore[attr-defined]
                    f"TO '{out_file}' (FORMAT parquet)")
        target.unlink()
    console.print(f"[green]wrote[/green] {n:,} cases to {out_file} (seed {seed})")


def screen_file(cases: Path, out_file: Path, kb: Knowledge, policy: str | None, now: date,
                console: Console) -> None:
    from spinepath.rules.batch import screen_to_file
    from spinepath.rules.plan import compile_plan

    if not cases.exists():
        raise InputError(f"no such file: {cases}", field="CASES")
    fmt = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(cases.suffix.lower())
    if fmt is None:
        raise InputError(f"CASES must be .jsonl or .parquet, got {cases.name!r}", field="CASES")
    if out_file.suffix.lower() != ".parquet":
        raise InputError(f"--out must end in .parquet, got {out_file.name!r}", field="out")
    plan = compile_plan(kb, policy)
    con = _duckdb_connect()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  console=console) as bar:
        task = bar.add_task("screening", total=100)
        rows = screen_to_file(con, plan, str(cases), fmt, str(out_file), now,
                              progress=lambda pct: bar.update(task, completed=pct))
    summary = _summary(con, str(out_file), [pp.proc.id for pp in plan.procedures])
    console.print(f"[green]screened[/green] {rows:,} cases under policy {plan.policy.id} → {out_file}")
    console.print(summary)


def _summary(con: object, path: str, procedures: list[str]) -> Table:
    flagged = con.execute(  # type: ignore[attr-defined]
        f"SELECT count(*) FILTER (WHERE len(red_flags) > 0), count(*) FROM read_parquet('{path}')").fetchone()
    table = Table(title=f"Cases with a red flag: {flagged[0]:,} of {flagged[1]:,}", header_style="bold")
    table.add_column("procedure")
    for st in STATUS_ORDER:
        table.add_column(st.replace("_", " "), justify="right")
    for pid in procedures:
        counts: Counter[str] = Counter(dict(con.execute(  # type: ignore[attr-defined]
            f'SELECT "{pid}", count(*) FROM read_parquet(\'{path}\') GROUP BY 1').fetchall()))
        table.add_row(pid, *(f"{counts.get(st, 0):,}" for st in STATUS_ORDER))
    return table
