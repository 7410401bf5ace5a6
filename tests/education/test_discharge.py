"""Discharge sheets: the content blocks (present, plain words), the sheet (what was done, what to
expect, warning signs by urgency, medicine restarts, follow-up dates, whom to call), rendering
(golden HTML, PDF text), the `spinepath discharge` command and the GET /procedures/{id}/discharge
route (roles, own-records rule, audit)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from types import MappingProxyType

import pytest
from typer.testing import CliRunner

from spinepath.cli.app import app as cli_app
from spinepath.education.discharge import (
    MEDICINES_NOTE,
    NO_RESTART,
    NO_SET_RESTART,
    PERIODS,
    DischargeSheet,
    build_discharge,
)
from spinepath.education.readability import MAX_PATIENT_GRADE, fk_grade
from spinepath.education.render import render_html, render_markdown, render_pdf
from spinepath.errors import InputError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.schedules import schedule_for
from tests.api.conftest import Api, envelope
from tests.api.conftest import api as api  # noqa: F401 - the REST API fixture
from tests.api.conftest import fast_password_hashing as fast_password_hashing  # noqa: F401 - autouse
from tests.education.test_articles import check_golden, pdf_text

#: Procedures whose education text is finished and which carry discharge instructions.
WITH_DISCHARGE = ("mbb-lumbar", "mbb-cervical", "rf-facet-lumbar", "rf-facet-cervical", "rf-trigeminal",
                  "ulnar-perineural-injection", "ulnar-nerve-decompression")
DAY = dt.date(2026, 3, 3)


def flat(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ content


@pytest.mark.parametrize("procedure_id", WITH_DISCHARGE)
def test_finished_procedures_have_discharge_instructions(kb: Knowledge, procedure_id: str) -> None:
    discharge = kb.procedures[procedure_id].discharge
    assert discharge is not None
    for key, _heading in PERIODS:
        assert getattr(discharge, key), f"{procedure_id}.discharge.{key} is empty"


def _blocks(kb: Knowledge) -> list[tuple[str, str, str]]:
    out = []
    for p in kb.procedures.values():
        if p.discharge is not None:
            for key, _heading in PERIODS:
                out.append((p.id, key, " ".join(st.text for st in getattr(p.discharge, key))))
    return out


def test_discharge_text_is_plain(kb: Knowledge) -> None:
    """Every discharge period, and each block as a whole, reads at Flesch-Kincaid grade 8 or below."""
    too_hard = [f"{pid}.{key}: {fk_grade(text):.1f}" for pid, key, text in _blocks(kb)
                if fk_grade(text) > MAX_PATIENT_GRADE]
    by_item: dict[str, list[str]] = {}
    for pid, _key, text in _blocks(kb):
        by_item.setdefault(pid, []).append(text)
    too_hard += [f"{pid}: {fk_grade(' '.join(t)):.1f}" for pid, t in by_item.items()
                 if fk_grade(" ".join(t)) > MAX_PATIENT_GRADE]
    assert set(WITH_DISCHARGE) <= set(by_item)
    assert not too_hard, f"grade above {MAX_PATIENT_GRADE}: {too_hard}"


# ------------------------------------------------------------------ the sheet


def test_sheet_says_what_was_done_and_what_to_expect(kb: Knowledge) -> None:
    sheet = build_discharge(kb, "rf-facet-lumbar", DAY, level="l4-l5", side="Left", patient="  Ann   Example ",
                            clinic_phone="01234 567890")
    assert (sheet.procedure_name, sheet.date, sheet.level, sheet.side) == (
        kb.procedures["rf-facet-lumbar"].name, DAY, "L4-L5", "left")
    assert sheet.patient == "Ann Example" and sheet.clinic_phone == "01234 567890"
    discharge = kb.procedures["rf-facet-lumbar"].discharge
    assert discharge is not None
    assert [p.key for p in sheet.periods] == ["day_0", "days_1_2", "week_1", "later"]
    assert sheet.periods[0].steps == tuple(flat(st.text) for st in discharge.day_0)
    assert sheet.periods[3].heading == "After the first week"


def test_warning_signs_grouped_by_urgency(kb: Knowledge) -> None:
    proc = kb.procedures["rf-facet-lumbar"]
    assert proc.shared_warning_signs
    sheet = build_discharge(kb, proc.id, DAY)
    assert [g.heading for g in sheet.warnings] == ["Emergency — go now", "Call us today", "Mention at your follow-up"]
    signs = {g.urgency: [w.sign for w in g.signs] for g in sheet.warnings}
    expected = list(proc.warning_signs) + list(kb.shared.shared_warning_signs)
    for urgency, got in signs.items():
        assert got == [flat(w.sign) for w in expected if w.urgency == urgency]
    assert flat(proc.warning_signs[0].sign) in signs["mention_at_followup"]
    # a procedure that does not use the shared list gets only its own signs
    own = kb.procedures["ulnar-nerve-decompression"]
    assert not own.shared_warning_signs
    sheet = build_discharge(kb, own.id, DAY)
    assert sum(len(g.signs) for g in sheet.warnings) == len(own.warning_signs)
    assert [g.urgency for g in sheet.warnings] == ["call_today"]  # empty groups are left out


def test_medicine_restarts(kb: Knowledge) -> None:
    sheet = build_discharge(kb, "rf-facet-lumbar", DAY,
                            medicines=["Eliquis 5 mg", "warfarin", "WARFARIN", "metformin", "enoxaparin", "dipyridamole"])
    got = {m.medicine: (m.matched, m.restart) for m in sheet.medicines}
    assert list(got) == ["Eliquis 5 mg", "warfarin", "metformin", "enoxaparin", "dipyridamole"]  # de-duplicated
    assert got["Eliquis 5 mg"] == ("apixaban", "Restart 24 hours after the procedure, unless your team gave you "
                                               "a different plan.")
    assert got["warfarin"][1].startswith("Restart 6 hours after the procedure")
    assert got["metformin"] == (None, NO_RESTART)
    assert got["enoxaparin"][1].startswith("Restart 12 to 24 hours after an intermediate- or high-risk procedure")
    assert got["dipyridamole"] == ("dipyridamole", NO_SET_RESTART)
    assert sheet.medicines_note == MEDICINES_NOTE and "Do not stop or restart" in MEDICINES_NOTE
    assert sheet.bleeding_risk == "low"
    assert build_discharge(kb, "rf-facet-lumbar", DAY).medicines == ()


def test_followup_dates(kb: Knowledge) -> None:
    sheet = build_discharge(kb, "mbb-lumbar", DAY)
    schedule = schedule_for(kb, "mbb-lumbar")  # the procedure's own schedule (its content's followup block)
    assert [f.due for f in sheet.followups] == [DAY + dt.timedelta(days=p.days_after) for p in schedule]
    assert sheet.followups[0].label == "Starting point"
    assert sheet.followups[1].label == f"{schedule[1].label} after your procedure"
    stored = build_discharge(kb, "mbb-lumbar", DAY, followups=[("3 months", dt.date(2026, 6, 2)),
                                                              ("2 weeks", dt.date(2026, 3, 17))])
    assert [(f.label, f.due) for f in stored.followups] == [
        ("2 weeks after your procedure", dt.date(2026, 3, 17)), ("3 months after your procedure", dt.date(2026, 6, 2))]


@pytest.mark.parametrize(("kwargs", "field", "message"), [
    ({"procedure_id": "nope"}, "procedure", "no procedure with id 'nope'"),
    ({"level": "L9-L10"}, "level", "not a spinal level"),
    ({"side": "up"}, "side", "side: 'up' is not a side; use one of left, right, bilateral"),
])
def test_bad_input_names_the_field(kb: Knowledge, kwargs: dict[str, str], field: str, message: str) -> None:
    args = {"procedure_id": "rf-facet-lumbar", **kwargs}
    with pytest.raises(InputError, match=message) as exc:
        build_discharge(kb, args.pop("procedure_id"), DAY, **args)
    assert exc.value.field == field


def test_procedure_without_instructions_is_named(kb: Knowledge) -> None:
    proc = kb.procedures["rf-facet-lumbar"].model_copy(update={"discharge": None})
    bare = dataclasses.replace(kb, procedures=MappingProxyType({**kb.procedures, proc.id: proc}))
    with pytest.raises(InputError, match=r"rf-facet-lumbar \(Lumbar facet radiofrequency ablation.*\) has no "
                                         r"discharge instructions") as exc:
        build_discharge(bare, proc.id, DAY)
    assert exc.value.field == "procedure"


# ------------------------------------------------------------------ rendering


def _sheet(kb: Knowledge) -> DischargeSheet:
    return build_discharge(kb, "rf-facet-lumbar", DAY, level="L4-L5", side="left", patient="Ann Example",
                           clinic_phone="01234 567890", medicines=["Eliquis", "metformin"])


def test_golden_discharge_html(kb: Knowledge) -> None:
    check_golden("discharge-rf-facet-lumbar.html", render_html(_sheet(kb)))


def test_discharge_markdown(kb: Knowledge) -> None:
    md = render_markdown(_sheet(kb), printed=DAY)
    assert md.startswith("*Going home after your procedure*\n\n# Lumbar facet radiofrequency ablation")
    assert "- **Patient:** Ann Example" in md and "- **Level:** L4-L5" in md
    assert "### Emergency — go now" in md and "- 2 weeks after your procedure: Tuesday 17 March 2026" in md
    assert "call us on **01234 567890**" in md


def test_discharge_html_escapes_what_is_typed_in(kb: Knowledge) -> None:
    html = render_html(build_discharge(kb, "mbb-lumbar", DAY, patient="<img src=x onerror=alert(1)>",
                                       medicines=["<b>x</b>"]))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>x</b>" not in html


def test_discharge_pdf_text(kb: Knowledge) -> None:
    text = flat(pdf_text(render_pdf(_sheet(kb))))
    for heading in ("What was done", "What to expect", "When to get help", "Emergency — go now", "Call us today",
                    "Your medicines", "Your follow-up questionnaires", "Who to call"):
        assert heading in text, heading
    assert "Ann Example" in text and "01234 567890" in text
    assert "A severe headache with a stiff neck" in text  # a shared warning sign
    assert "Tuesday 17 March 2026" in text  # the 2-week questionnaire
    assert "Restart 24 hours after the procedure" in text


# ------------------------------------------------------------------ CLI


def test_cli_discharge_html_and_pdf(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["discharge", "--procedure", "rf-trigeminal", "--date", "2026-03-03",
                                "--patient", "Bo Li", "--medicine", "Plavix", "--medicine", "aspirin"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("<!DOCTYPE html>") and "Bo Li" in r.stdout
    assert "Restart 12 to 24 hours after the procedure" in r.stdout
    out = tmp_path / "sheet.pdf"
    r = runner.invoke(cli_app, ["discharge", "--procedure", "rf-facet-lumbar", "--date", "2026-03-03",
                                "--level", "l5-s1", "--side", "right", "--clinic-phone", "555 0100",
                                "--format", "pdf", "--out", str(out)])
    assert r.exit_code == 0, r.output
    text = flat(pdf_text(out.read_bytes()))
    assert "L5-S1" in text and "555 0100" in text and "Tuesday 17 March 2026" in text


@pytest.mark.parametrize(("extra", "message"), [
    (["--procedure", "nope", "--date", "2026-03-03"], "procedure: no procedure with id 'nope'"),
    (["--procedure", "rf-facet-lumbar", "--date", "03/03/2026"], "--date must be a date like"),
    (["--procedure", "rf-facet-lumbar", "--date", "2026-03-03", "--level", "L4"], "level: 'L4' is not a spinal level"),
    (["--procedure", "rf-facet-lumbar", "--date", "2026-03-03", "--side", "both"], "side: 'both' is not a side"),
    (["--procedure", "rf-facet-lumbar", "--date", "2026-03-03", "--format", "pdf"], "--format pdf needs --out"),
])
def test_cli_discharge_errors(extra: list[str], message: str) -> None:
    r = CliRunner().invoke(cli_app, ["discharge", *extra])
    assert r.exit_code == 2
    assert message in flat(r.stderr)
    assert "Traceback" not in r.output


# ------------------------------------------------------------------ API


def _procedure(api: Api, patient_id: str, procedure: str = "rf-facet-lumbar") -> str:
    r = api.client.post(f"/patients/{patient_id}/procedures", headers=api.h("clinician"),
                        json={"procedure": procedure, "performed_on": "2026-01-05", "level": "L4-L5", "side": "left"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_api_discharge_for_clinician_and_own_patient(api: Api) -> None:
    own = _procedure(api, api.own_patient)
    c = api.client
    r = c.get(f"/procedures/{own}/discharge", params={"clinic_phone": "01234 567890"}, headers=api.h("clinician"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Own Patient" in r.text and "01234 567890" in r.text and "L4-L5" in r.text
    assert "Monday 19 January 2026" in r.text  # 2-week point of the stored schedule
    r = c.get(f"/procedures/{own}/discharge", params={"format": "pdf"}, headers=api.h("patient"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "Own Patient" in flat(pdf_text(r.content))


def test_api_discharge_access_rules(api: Api) -> None:
    other = _procedure(api, api.other_patient)
    c = api.client
    r = c.get(f"/procedures/{other}/discharge", headers=api.h("patient"))  # someone else's: as if absent
    assert r.status_code == 404 and envelope(r)["field"] == "path.procedure_id"
    assert c.get("/procedures/pr_nope/discharge", headers=api.h("clinician")).status_code == 404
    r = c.get(f"/procedures/{other}/discharge", headers=api.h("editor"))
    assert r.status_code == 403 and envelope(r)["code"] == "forbidden"
    r = c.get(f"/procedures/{other}/discharge", params={"format": "md"}, headers=api.h("clinician"))
    assert r.status_code == 422 and envelope(r)["field"] == "query.format"
    r = c.get(f"/procedures/{other}/discharge", params={"clinic_phone": "<script>"}, headers=api.h("clinician"))
    assert r.status_code == 422 and envelope(r)["field"] == "query.clinic_phone"


def test_api_discharge_without_instructions_is_404(api: Api, kb: Knowledge) -> None:
    bare = [p.id for p in kb.procedures.values() if p.discharge is None]
    if not bare:
        pytest.skip("every procedure has discharge instructions")
    pid = _procedure(api, api.own_patient, bare[0])
    r = api.client.get(f"/procedures/{pid}/discharge", headers=api.h("clinician"))
    assert r.status_code == 404 and "has no discharge instructions" in envelope(r)["message"]


def test_api_discharge_read_is_audited(api: Api) -> None:
    pid = _procedure(api, api.own_patient)
    assert api.client.get(f"/procedures/{pid}/discharge", headers=api.h("patient")).status_code == 200
    r = api.client.get("/audit", headers=api.h("admin"), params={"limit": 10})
    rows = [(e["username"], e["action"], e["resource"], e["record_id"], e["patient_id"]) for e in r.json()]
    # the sheet shows the procedure and the patient's name: both reads are recorded
    assert rows[:2] == [("patient.user", "read", "patient", api.own_patient, api.own_patient),
                        ("patient.user", "read", "procedure", pid, api.own_patient)]
