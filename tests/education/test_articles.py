"""Education articles: sections and headings, global citation numbering, references, related
items, the approved-only rule for patients, rendering (golden HTML, PDF text), the `spinepath
article` command and the GET /articles route.

Golden files live in tests/education/golden; regenerate them with SPINEPATH_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import io
import os
import re
from pathlib import Path
from types import MappingProxyType

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from spinepath.cli.app import app as cli_app
from spinepath.education.articles import HEADINGS, build_article, renumber_citations
from spinepath.education.render import render_html, render_markdown, render_pdf, text_blocks
from spinepath.errors import ContentError, InputError
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge
from tests.api.conftest import Api, envelope
from tests.api.conftest import api as api  # noqa: F401 - the REST API fixture
from tests.api.conftest import fast_password_hashing as fast_password_hashing  # noqa: F401 - autouse

GOLDEN = Path(__file__).parent / "golden"
PATIENT_ITEM = "ulnar-perineural-injection"  # approved
CLINICIAN_ITEM = "rf-facet-lumbar"  # under review: clinicians only

_SCRUB = (
    (re.compile(r"Printed on \d{1,2} [A-Z][a-z]+ \d{4}"), "Printed on <date>"),
    (re.compile(r"sha256:[0-9a-f]+"), "sha256:<hash>"),
    (re.compile(r"content version \d+\.\d+\.\d+"), "content version <version>"),
)


def scrub(text: str) -> str:
    """Remove what changes between runs or with unrelated edits: the date of rendering, hashes,
    content versions."""
    for pattern, repl in _SCRUB:
        text = pattern.sub(repl, text)
    return text


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    text = scrub(text)
    if os.environ.get("SPINEPATH_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run with SPINEPATH_UPDATE_GOLDEN=1 to create it"
    want = path.read_text(encoding="utf-8")
    if text != want:
        diff = "".join(difflib.unified_diff(want.splitlines(True), text.splitlines(True), "golden", "rendered", n=1))
        pytest.fail(f"{name} differs from its golden file (SPINEPATH_UPDATE_GOLDEN=1 to accept):\n{diff[:6000]}")


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def with_procedure(kb: Knowledge, proc: s.Procedure) -> Knowledge:
    return dataclasses.replace(kb, procedures=MappingProxyType({**kb.procedures, proc.id: proc}))


# ------------------------------------------------------------------ citations and references


def test_renumber_citations_maps_section_markers_to_global_numbers() -> None:
    assert renumber_citations("a [2] b [1] c [2][1].", [7, 3]) == "a [3] b [7] c [3][7]."
    assert renumber_citations("no markers", []) == "no markers"
    with pytest.raises(ContentError, match=r"cites \[3\] but lists 2"):
        renumber_citations("x [3]", [1, 2], "item.section")


def test_clinician_markers_are_renumbered_across_sections(kb: Knowledge) -> None:
    base = kb.procedures[CLINICIAN_ITEM]
    ref = s.SourceRef
    clinician = base.education.clinician.model_copy(update={
        "what_it_is": s.EducationSection(text="First [2], then [1].", sources=[
            ref(id="NG59", locator="L1"), ref(id="Cohen2020", locator="L2")]),
        # NG59 with the same locator is the same reference; with another locator it is a new one
        "who_it_helps": s.EducationSection(text="Again [2] and new [1]; more [3].", sources=[
            ref(id="NG59", locator="other"), ref(id="NG59", locator="L1"), ref(id="Juch2017", locator="L3")]),
    })
    proc = base.model_copy(update={"education": base.education.model_copy(update={"clinician": clinician})})
    article = build_article(with_procedure(kb, proc), proc.id, "clinician")
    first, second = article.sections[0], article.sections[1]
    assert first.text == "First [2], then [1]."  # NG59/L1 = 1, Cohen2020/L2 = 2
    assert first.refs == (1, 2)
    assert second.text == "Again [1] and new [3]; more [4]."
    assert second.refs == (3, 1, 4)
    refs = article.references
    assert [(r.number, r.source_id, r.locator) for r in refs[:4]] == [
        (1, "NG59", "L1"), (2, "Cohen2020", "L2"), (3, "NG59", "other"), (4, "Juch2017", "L3")]
    # every marker in every section points at an existing reference
    numbers = {r.number for r in refs}
    for sec in article.sections:
        assert {int(n) for n in re.findall(r"\[(\d+)\]", sec.text)} <= numbers
    assert [r.number for r in refs] == list(range(1, len(refs) + 1))


def test_references_carry_citation_link_and_tag(kb: Knowledge) -> None:
    article = build_article(kb, CLINICIAN_ITEM, "clinician")
    by_id = {(r.source_id, r.locator): r for r in article.references}
    assert len(by_id) == len(article.references)  # de-duplicated by (id, locator)
    qaseem = next(r for r in article.references if r.source_id == "Qaseem2017")
    assert qaseem.citation.startswith("Qaseem A") and qaseem.doi == "10.7326/M16-2367"
    assert qaseem.link == "https://doi.org/10.7326/M16-2367"
    ng59 = next(r for r in article.references if r.source_id == "NG59")
    assert ng59.link == "https://www.nice.org.uk/guidance/ng59"
    assert {r.tag for r in article.references} <= {"V", "S", "NV"}
    assert any(r.tag == "NV" and r.tag_label == "not verified" for r in article.references)


# ------------------------------------------------------------------ structure


@pytest.mark.parametrize(("item_id", "audience"), [
    ("ulnar-perineural-injection", "patient"), ("rf-facet-lumbar", "clinician"),
    ("lumbar-facet-joint-pain", "patient"), ("trigeminal-neuralgia", "clinician"),
])
def test_sections_in_order_with_headings(kb: Knowledge, item_id: str, audience: str) -> None:
    article = build_article(kb, item_id, audience)
    assert [sec.key for sec in article.sections] == list(s.EDUCATION_SECTIONS)
    assert tuple(sec.heading for sec in article.sections) == HEADINGS[(article.kind, audience)]
    assert article.disclaimer.startswith("spinepath supports a clinician's decision")


def test_patient_headings_are_plain(kb: Knowledge) -> None:
    proc = build_article(kb, PATIENT_ITEM, "patient")
    assert [h.heading for h in proc.sections][:2] == ["What is it?", "Who does it help?"]
    assert "When to get help" in [h.heading for h in proc.sections]
    cond = build_article(kb, "lumbar-facet-joint-pain", "patient")
    assert cond.kind == "condition" and cond.sections[1].heading == "Who gets it?"


def test_dates_status_and_related(kb: Knowledge) -> None:
    article = build_article(kb, PATIENT_ITEM, "patient")
    item = kb.procedures[PATIENT_ITEM]
    assert article.updated == item.updated
    assert article.last_reviewed == max(r.date for r in item.reviewers)
    assert article.status == "approved" and article.status_label == "Approved"
    cond_approved = kb.conditions["ulnar-neuropathy-elbow"].status == "approved"
    assert [(r.id, r.kind) for r in article.related] == ([("ulnar-neuropathy-elbow", "condition")] if cond_approved
                                                         else [])  # patients: approved items only
    assert [r.id for r in build_article(kb, PATIENT_ITEM, "clinician").related] == ["ulnar-neuropathy-elbow"]
    cond = build_article(kb, "lumbar-facet-joint-pain", "clinician")
    related = {r.id: r.name for r in cond.related}
    assert related["rf-facet-lumbar"] == kb.procedures["rf-facet-lumbar"].name  # condition -> procedures
    assert "mbb-lumbar" in related
    for r in build_article(kb, "lumbar-facet-joint-pain", "patient").related:  # patients: approved only
        assert kb.procedures[r.id].status == "approved"
    back = build_article(kb, "rf-facet-lumbar", "clinician").related
    assert [(r.id, r.kind) for r in back] == [("lumbar-facet-joint-pain", "condition")]


def test_patient_article_needs_an_approved_item(kb: Knowledge) -> None:
    assert kb.procedures[CLINICIAN_ITEM].status != "approved"
    with pytest.raises(InputError, match="approved items only") as exc:
        build_article(kb, CLINICIAN_ITEM, "patient")
    assert exc.value.field == "audience"
    assert build_article(kb, CLINICIAN_ITEM, "clinician").status_label.startswith("Under review")


def test_unknown_items_and_audiences(kb: Knowledge) -> None:
    with pytest.raises(InputError, match="no condition or procedure with id 'nope'") as exc:
        build_article(kb, "nope", "patient")
    assert exc.value.field == "id"
    with pytest.raises(InputError, match="red flag or policy has no article"):
        build_article(kb, "cauda-equina-syndrome", "clinician")
    with pytest.raises(InputError, match="audience must be"):
        build_article(kb, PATIENT_ITEM, "public")


# ------------------------------------------------------------------ rendering


def test_text_blocks_split_bullets_from_paragraphs() -> None:
    blocks = text_blocks("Go now if:\n- one\n- two\nCall today if:\n- three")
    assert [(b.kind, b.items) for b in blocks] == [
        ("p", ("Go now if:",)), ("ul", ("one", "two")), ("p", ("Call today if:",)), ("ul", ("three",))]


def test_golden_patient_article_html(kb: Knowledge) -> None:
    check_golden(f"article-{PATIENT_ITEM}-patient.html", render_html(build_article(kb, PATIENT_ITEM, "patient")))


def test_golden_clinician_article_html(kb: Knowledge) -> None:
    check_golden(f"article-{CLINICIAN_ITEM}-clinician.html",
                 render_html(build_article(kb, CLINICIAN_ITEM, "clinician")))


def test_html_escapes_content_and_links_citations(kb: Knowledge) -> None:
    base = kb.procedures[CLINICIAN_ITEM]
    clinician = base.education.clinician.model_copy(update={
        "what_it_is": s.EducationSection(text="<script>alert(1)</script> & more [1]",
                                         sources=[s.SourceRef(id="NG59", locator="x")])})
    proc = base.model_copy(update={"name": "<b>Bold</b> name",
                                   "education": base.education.model_copy(update={"clinician": clinician})})
    html = render_html(build_article(with_procedure(kb, proc), proc.id, "clinician"))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "&lt;b&gt;Bold&lt;/b&gt; name" in html
    assert '<a class="cite" href="#ref-1">[1]</a>' in html and 'id="ref-1"' in html


def test_print_css_is_a4_readable_and_keeps_headings_with_text(kb: Knowledge) -> None:
    html = render_html(build_article(kb, PATIENT_ITEM, "patient"))
    assert "size: A4" in html
    sizes = [float(x) for x in re.findall(r"font-size:\s*([\d.]+)pt", html)]
    assert sizes and min(sizes) >= 11
    assert re.search(r"h1, h2, h3 \{[^}]*break-after: avoid", html)
    assert "background-color" not in html


def test_markdown_article(kb: Knowledge) -> None:
    md = render_markdown(build_article(kb, CLINICIAN_ITEM, "clinician"), printed=dt.date(2026, 3, 3))
    assert md.startswith("*Summary for clinicians*\n\n# Lumbar facet radiofrequency ablation")
    assert "\n## Description\n" in md and "\n## References\n" in md
    assert "\n1. Cohen SP" in md and "Printed on 3 March 2026" in md
    patient = render_markdown(build_article(kb, PATIENT_ITEM, "patient"))
    assert "\n## What is it?\n" in patient and "\nSources: [1] [2] [3]\n" in patient


def test_pdf_article_text(kb: Knowledge) -> None:
    article = build_article(kb, CLINICIAN_ITEM, "clinician")
    text = pdf_text(render_pdf(article))
    assert "Lumbar facet radiofrequency ablation" in text
    for heading in ("Description", "Complications and risks", "References"):
        assert heading in text
    last = article.references[-1]
    assert f"[{last.number}]" in text and "Page 1 of" in text
    assert re.search(r"\[1\]\s*Cohen SP", text)


# ------------------------------------------------------------------ CLI


def test_cli_article_formats(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["article", PATIENT_ITEM, "--audience", "patient", "--format", "md"])
    assert r.exit_code == 0, r.output
    assert "# Ultrasound-guided ulnar perineural injection" in r.stdout and "## When to get help" in r.stdout
    r = runner.invoke(cli_app, ["article", CLINICIAN_ITEM, "--audience", "clinician", "--format", "html"])
    assert r.exit_code == 0 and r.stdout.startswith("<!DOCTYPE html>")
    out = tmp_path / "a.pdf"
    r = runner.invoke(cli_app, ["article", CLINICIAN_ITEM, "--audience", "clinician", "--format", "pdf",
                                "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "References" in pdf_text(out.read_bytes())
    html = tmp_path / "a.html"
    r = runner.invoke(cli_app, ["article", PATIENT_ITEM, "--format", "html", "--out", str(html)])
    assert r.exit_code == 0 and html.read_text().startswith("<!DOCTYPE html>") and r.stdout == ""


@pytest.mark.parametrize(("args", "message"), [
    (["article", CLINICIAN_ITEM, "--audience", "patient"], "approved items only"),
    (["article", "nope"], "no condition or procedure with id 'nope'"),
    (["article", PATIENT_ITEM, "--format", "pdf"], "--format pdf needs --out"),
])
def test_cli_article_errors(args: list[str], message: str) -> None:
    r = CliRunner().invoke(cli_app, args)
    assert r.exit_code == 2
    assert message in " ".join(r.stderr.split())


# ------------------------------------------------------------------ API


def test_api_article_formats(api: Api) -> None:
    c, doc = api.client, api.h("clinician")
    r = c.get(f"/articles/{PATIENT_ITEM}", headers=doc)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "What is it?" in r.text
    r = c.get(f"/articles/{CLINICIAN_ITEM}", params={"audience": "clinician", "format": "md"}, headers=doc)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/markdown")
    assert r.text.startswith("*Summary for clinicians*")
    r = c.get(f"/articles/{CLINICIAN_ITEM}", params={"audience": "clinician", "format": "pdf"},
              headers=api.h("reviewer"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "Description" in pdf_text(r.content)


def test_api_article_rules_for_patients_and_staff(api: Api) -> None:
    c, me = api.client, api.h("patient")
    assert c.get(f"/articles/{PATIENT_ITEM}", headers=me).status_code == 200
    r = c.get(f"/articles/{PATIENT_ITEM}", params={"audience": "clinician"}, headers=me)
    assert r.status_code == 403 and envelope(r)["code"] == "forbidden"
    r = c.get(f"/articles/{CLINICIAN_ITEM}", headers=me)  # not approved: as if it did not exist
    assert r.status_code == 404 and envelope(r)["field"] == "path.item_id"
    r = c.get(f"/articles/{CLINICIAN_ITEM}", headers=api.h("editor"))  # staff, patient audience, not approved
    assert r.status_code == 422 and envelope(r)["field"] == "query.audience"
    assert c.get(f"/articles/{CLINICIAN_ITEM}", params={"audience": "clinician"},
                 headers=api.h("editor")).status_code == 200
    for bad in ("nope", "cauda-equina-syndrome"):
        r = c.get(f"/articles/{bad}", headers=api.h("clinician"))
        assert r.status_code == 404 and envelope(r)["code"] == "not-found"
    r = c.get(f"/articles/{PATIENT_ITEM}", params={"format": "docx"}, headers=api.h("clinician"))
    assert r.status_code == 422 and envelope(r)["field"] == "query.format"
    assert c.get(f"/articles/{PATIENT_ITEM}").status_code == 401
