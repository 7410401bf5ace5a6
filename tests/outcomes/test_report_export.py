"""The HTML report, the terminal tables, and the CSV/Parquet exports show the report's own numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from markupsafe import escape
from rich.console import Console
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.analytics import OutcomesReport, settings_from_knowledge
from spinepath.outcomes.export import ROW_MODELS, read_csv_table, write_csv, write_parquet
from spinepath.outcomes.report import View, ci, count, pct, print_report, render_html
from tests.outcomes.support import duck_report

runner = CliRunner()


@pytest.fixture(scope="module")
def report(kb: Knowledge, cohort_dir: Path) -> OutcomesReport:
    return duck_report(cohort_dir, settings_from_knowledge(kb))


@pytest.fixture(scope="module")
def html(report: OutcomesReport) -> str:
    return render_html(report)


def test_html_has_the_three_charts(html: str, report: OutcomesReport) -> None:
    assert html.count("<svg") == 3
    # text stays text in the SVG: the KM panels name each procedure and its median
    km_svg = html.split('id="relief"', 1)[1].split("</svg>", 1)[0]
    for rr in (r for r in report.relief if r.dimension == "procedure"):
        label = "not reached" if rr.median_days is None else f"{rr.median_days:.0f} d"
        assert f"n={rr.included:,} · median {label}" in km_svg


def test_html_numbers_are_the_models(html: str, report: OutcomesReport) -> None:
    v = View.of(report)
    text = re.sub(r"\s+", " ", html)
    for p in v.procedures:
        name = report.procedure_names[p]
        rr = v.relief[(p, "procedure", "all")]
        assert (f"<td class=\"l\">{name}</td><td>{count(rr.episodes)}</td><td>{count(rr.no_baseline)}</td>"
                f"<td>{count(rr.baseline_below_margin)}</td><td>{count(rr.no_followup)}</td>"
                f"<td>{count(rr.only_before_onset)}</td><td>{count(rr.included)}</td><td>{count(rr.events)}</td><td>{count(rr.censored)}</td>") in text
        cx = v.complications[(p, "procedure", "all")]
        assert f"<td>{count(cx.with_complication)}</td><td>{pct(cx.rate, 2)}</td><td>{ci(cx.ci_low, cx.ci_high)}</td>" in text
    for r in (r for r in report.responders if r.dimension == "procedure"):
        cell = f"{pct(r.rate)} <span class=\"d\">{count(r.responders)} / {count(r.evaluable)} · {ci(r.ci_low, r.ci_high)}"
        assert cell in text, (r.procedure, r.definition, r.timepoint)


def test_html_lists_definitions_sources_and_exclusions(html: str, report: OutcomesReport) -> None:
    for d in report.definitions:
        assert f"<code>{d.id}</code>" in html
        for src in d.sources:
            assert src.id in html
    assert "baseline below margin" in html and "no follow-up" in html and "censored" in html
    assert "only before onset" in html
    assert report.disclaimer and str(escape(report.disclaimer[:60])) in html


def test_html_lists_each_procedures_relief_onset_with_its_source(html: str, report: OutcomesReport,
                                                                 kb: Knowledge) -> None:
    """One row per procedure in the report: the onset the knowledge base states, with its sources, or 0
    and 'not stated'; the citation of each onset source is in the references."""
    section = re.sub(r"\s+", " ", html.split('id="relief-onset"', 1)[1].split("</table>", 1)[0])
    onsets = {o.procedure: o for o in report.methods.relief_onsets}
    assert set(onsets) == set(report.procedure_names)
    for pid, o in onsets.items():
        fu = kb.procedures[pid].followup
        assert (o.days, o.stated) == (fu.onset_days, fu.relief_onset_days is not None)
        row = section.split(f'<td class="l">{escape(report.procedure_names[pid])}</td>', 1)[1].split("</tr>", 1)[0]
        assert row.startswith(f"<td>{o.days} d</td>"), row
        if o.stated:
            for src in fu.relief_onset_sources:
                assert f"{src.id} [{src.tag}]" in row and str(escape(src.locator or "")) in row
                assert str(escape(kb.sources[src.id].citation[:40])) in html
        else:
            assert "not stated" in row
    # the cohort holds procedures with and without a stated onset
    assert {o.days for o in onsets.values()} >= {0, 10, 21} and not all(o.stated for o in onsets.values())


def test_terminal_tables(report: OutcomesReport) -> None:
    console = Console(record=True, width=200)
    print_report(console, report)
    text = console.export_text()
    whole = next(r for r in report.relief if r.dimension == "procedure")
    assert report.procedure_names[whole.procedure] in text
    assert f"{whole.included:,}" in text and "Duration of relief" in text and "Breakdowns by" in text
    # each procedure's relief row starts with its onset day
    for o in report.methods.relief_onsets:
        name = report.procedure_names[o.procedure]
        line = next(ln.strip() for ln in text.splitlines() if ln.strip().startswith(name) and " day " in ln)
        assert line[len(name):].split()[:2] == ["day", str(o.days)], line


def test_parquet_and_csv_round_trip(report: OutcomesReport, tmp_path: Path) -> None:
    write_parquet(report, tmp_path / "pq")
    write_csv(report, tmp_path / "csv")
    for name, model in ROW_MODELS.items():
        rows = getattr(report, name)
        assert rows, name
        from_parquet = [model(**r) for r in pq.read_table(tmp_path / "pq" / f"{name}.parquet").to_pylist()]
        from_csv = [model(**r) for r in read_csv_table(tmp_path / "csv" / f"{name}.csv", name).to_pylist()]
        assert from_parquet == rows, name
        assert from_csv == rows, name
    defs = read_csv_table(tmp_path / "csv" / "definitions.csv", "definitions").to_pylist()
    assert [d["id"] for d in defs] == [d.id for d in report.definitions]


def test_cli_report_html_exports_and_json(cohort_dir: Path, tmp_path: Path, report: OutcomesReport) -> None:
    out = tmp_path / "report.html"
    r = runner.invoke(app, ["outcomes", "report", "--data", str(cohort_dir), "--out", str(out),
                            "--csv", str(tmp_path / "csv"), "--parquet", str(tmp_path / "pq")])
    assert r.exit_code == 0, r.stderr
    assert out.read_text(encoding="utf-8").count("<svg") == 3
    assert {p.name for p in (tmp_path / "csv").iterdir()} == {f"{n}.csv" for n in [*ROW_MODELS, "definitions"]}
    r = runner.invoke(app, ["outcomes", "report", "--data", str(cohort_dir), "--json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["engine"] == "duckdb" and data["summary"] == report.summary.model_dump()
    assert data["responders"] == [x.model_dump(mode="json") for x in report.responders]


def test_cli_report_prints_tables_without_out(cohort_dir: Path) -> None:
    r = runner.invoke(app, ["outcomes", "report", "--data", str(cohort_dir)])
    assert r.exit_code == 0, r.stderr
    assert "Responders" in r.stdout and "Duration of relief" in r.stdout and "Complications" in r.stdout


def test_cli_report_rejects_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    r = runner.invoke(app, ["outcomes", "report", "--data", str(tmp_path), "--json"])
    assert r.exit_code == 2
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "input-invalid" and err["field"] == "data" and "episodes.parquet" in err["message"]


def test_cli_json_doc_names_every_report_field() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli-json.md").read_text(encoding="utf-8")
    line = next(ln for ln in doc.splitlines() if ln.startswith("| `spinepath outcomes report"))
    fields = set(OutcomesReport.model_fields)
    for model in ROW_MODELS.values():
        fields |= set(model.model_fields)
    missing = [f for f in sorted(fields) if f'"{f}"' not in line]
    assert not missing, missing
