"""The `spinepath` command. A thin adapter over the public Python API.

Every expected failure is a SpinepathError, printed as one clear message naming the field or
file at fault (or as the JSON error envelope with --json); never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.console import Console

from spinepath import assess, load_knowledge
from spinepath.case.model import PatientCase
from spinepath.case.validate import parse_case
from spinepath.errors import InputError, SpinepathError
from spinepath.knowledge.snapshot import Knowledge

app = typer.Typer(
    name="spinepath",
    help="Decision support, education and outcomes for minimally invasive treatment of "
    "nerve-compression pain. Supports a clinician's decision; not a diagnosis.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
content_app = typer.Typer(help="Browse and check the knowledge base.", no_args_is_help=True)
case_app = typer.Typer(help="The patient case input contract.", no_args_is_help=True)
app.add_typer(content_app, name="content")
app.add_typer(case_app, name="case")

out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def handled(fn: F) -> F:
    """Turn SpinepathError into a clear message and exit code 1 (2 for unusable input)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SpinepathError as e:
            if kwargs.get("as_json"):
                print(json.dumps({"error": e.to_dict()}, indent=2))
            else:
                err.print(f"[bold red]error[/bold red] [dim]({e.code})[/dim]: {e.message}", highlight=False)
                for p in e.problems[:200]:
                    err.print(f"  • {p}", highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(e, InputError) else 1) from None

    return wrapper  # type: ignore[return-value]


def _parse_date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--{name} must be a date like 2026-01-31, got {value!r}", field=name) from None


def _knowledge(content_dir: Path | None = None, today: date | None = None) -> Knowledge:
    return load_knowledge(content_dir, today=today)


# ------------------------------------------------------------------ content


KIND_GROUPS = {"condition": "conditions", "procedure": "procedures", "red_flag": "red_flags",
               "policy": "policies", "instrument": "instruments", "source": "sources"}


class Kind(StrEnum):
    condition = "condition"
    procedure = "procedure"
    red_flag = "red_flag"
    policy = "policy"
    instrument = "instrument"
    source = "source"


@content_app.command("list")
@handled
def content_list(
    kind: Annotated[Kind | None, typer.Option("--kind", help="Only this kind of item")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """List knowledge items with their review status."""
    from spinepath.cli.render import items_table

    kb = _knowledge()
    rows: list[dict[str, Any]] = []
    kinds = [kind.value] if kind else ["condition", "procedure", "red_flag", "policy", "instrument"]
    for k in kinds:
        if k == "source":
            for src in kb.sources.values():
                rows.append({"id": src.id, "kind": "source", "name": src.citation[:70], "status": f"tag {src.tag}",
                             "version": "-", "review_due": "-"})
            continue
        for item in getattr(kb, KIND_GROUPS[k]).values():
            rows.append({"id": item.id, "kind": k, "name": item.name, "status": item.status,
                         "version": item.version, "review_due": item.review_due.isoformat()})
    if as_json:
        print(json.dumps({"knowledge_hash": kb.hash, "items": rows}, indent=2))
        return
    out.print(items_table(rows))
    approved = sum(1 for r in rows if r["status"] == "approved")
    out.print(f"[dim]{len(rows)} items, {approved} approved · knowledge {kb.hash[:23]}[/dim]")


@content_app.command("show")
@handled
def content_show(
    item_id: Annotated[str, typer.Argument(help="Item or source id, e.g. esi-transforaminal or NG59")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Show one knowledge item in full."""
    kb = _knowledge()
    item = kb.find(item_id)
    data = item.model_dump(mode="json", exclude_defaults=False)
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from rich.syntax import Syntax

    origin = kb.origin.get(item_id, "content/sources.yaml")
    out.print(f"[bold]{getattr(item, 'name', item_id)}[/bold]  [dim]{origin}[/dim]")
    out.print(Syntax(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), "yaml",
                     word_wrap=True, theme="ansi_dark"))


@content_app.command("check")
@handled
def content_check(
    content_dir: Annotated[Path | None, typer.Option("--dir", help="Overlay directory (default: $SPINEPATH_CONTENT_DIR)")] = None,
    today: Annotated[str | None, typer.Option(help="Date for review-due warnings (default: today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Check every content file; exit 1 naming file, path and reason for each problem."""
    day = _parse_date(today, "today") or date.today()
    kb = _knowledge(content_dir, today=day)
    counts = {k: len(getattr(kb, k)) for k in ("sources", "conditions", "procedures", "red_flags", "policies",
                                               "instruments")}
    if as_json:
        print(json.dumps({"ok": True, "knowledge_hash": kb.hash, "counts": counts,
                          "warnings": [str(w) for w in kb.warnings]}, indent=2))
        return
    for w in kb.warnings:
        err.print(f"[yellow]warning[/yellow]: {w}", highlight=False)
    summary = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())
    out.print(f"[green]content OK[/green]: {summary}; {len(kb.warnings)} warning(s) · {kb.hash[:23]}")


# ------------------------------------------------------------------ case and assess


@case_app.command("schema")
def case_schema() -> None:
    """Print the PatientCase JSON Schema."""
    print(json.dumps(PatientCase.model_json_schema(), indent=2))


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def _read_json(path: Path) -> Any:
    if not path.exists():
        raise InputError(f"no such file: {path}", field="CASE")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InputError(f"{path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}",
                         field="CASE") from None


@app.command("assess")
@handled
def assess_cmd(
    case_file: Annotated[Path, typer.Argument(metavar="CASE.json", help="A PatientCase as JSON")],
    policy: Annotated[str | None, typer.Option(help="Policy profile id (default: the content's default)")] = None,
    now: Annotated[str | None, typer.Option(help="Assessment date, e.g. 2026-01-31 (default: today)")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text (terminal), json (stable) or markdown")] = Format.text,
) -> None:
    """Assess one case: red flags, every option with its status and reasons, and what is missing."""
    day = _parse_date(now, "now")
    case = parse_case(_read_json(case_file))
    result = assess(case, _knowledge(), policy=policy, now=day)
    if fmt is Format.json:
        print(result.model_dump_json(indent=2))
    elif fmt is Format.markdown:
        from spinepath.rules.markdown import render_markdown

        print(render_markdown(result), end="")
    else:
        from spinepath.cli.render import print_assessment

        print_assessment(out, result)


# ------------------------------------------------------------------ population


@app.command("generate-cases")
@handled
def generate_cases_cmd(
    n: Annotated[int, typer.Argument(min=1, max=50_000_000, help="How many cases")],
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same cases)")] = 1,
    out_file: Annotated[Path, typer.Option("--out", help="Output .jsonl or .parquet")] = Path("cases.jsonl"),
) -> None:
    """Write clinically plausible synthetic cases (JSON Lines or Parquet)."""
    from spinepath.cli.population import write_cases

    write_cases(n, seed, out_file, out)


class Engine(StrEnum):
    duckdb = "duckdb"


@app.command("screen")
@handled
def screen_cmd(
    cases: Annotated[Path, typer.Argument(metavar="CASES", help="Cases as .jsonl or .parquet")],
    out_file: Annotated[Path, typer.Option("--out", help="Results .parquet")] = Path("results.parquet"),
    engine: Annotated[Engine, typer.Option(help="Batch engine")] = Engine.duckdb,
    policy: Annotated[str | None, typer.Option(help="Policy profile id")] = None,
    now: Annotated[str | None, typer.Option(help="Assessment date (default: today)")] = None,
) -> None:
    """Screen many cases: red-flag ids and each option's status, per case, vectorised in DuckDB."""
    from spinepath.cli.population import screen_file

    screen_file(cases, out_file, _knowledge(), policy, _parse_date(now, "now") or date.today(), out)


# ------------------------------------------------------------------ service (db, user, audit, serve, demo)

from spinepath.cli.ask import register as register_ask  # noqa: E402
from spinepath.cli.editorial import register as register_editorial  # noqa: E402
from spinepath.cli.education import register as register_education  # noqa: E402
from spinepath.cli.followup import register as register_followup  # noqa: E402
from spinepath.cli.outcomes import register as register_outcomes  # noqa: E402
from spinepath.cli.service import register  # noqa: E402

register(app)
register_education(app)
register_followup(app)
register_outcomes(app)
register_editorial(content_app)
register_ask(app)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
