"""Follow-up through the REST API, on SQLite and PostgreSQL: answers validated and scored (bad
input 422 naming the answer, nothing written), FHIR responses, alerts listed until acknowledged,
due and overdue lists, per-procedure schedules and one patient's outcomes."""

from __future__ import annotations

import json
from typing import Any

from tests.api.conftest import Api, envelope
from tests.followup.conftest import external

TODAY = "2026-03-01"


def procedure(api: Api, patient: str, proc: str = "esi-transforaminal", on: str = "2026-01-05",
              level: str | None = "L4-L5") -> dict[str, Any]:
    body = {"procedure": proc, "performed_on": on, **({"level": level} if level else {})}
    r = api.client.post(f"/patients/{patient}/procedures", headers=api.h("clinician"), json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def point(proc: dict[str, Any], label: str) -> str:
    return str(next(p["id"] for p in proc["schedule"] if p["label"] == label))


def test_answers_are_scored_and_stored_with_the_score(api: Api) -> None:
    c, me = api.client, api.h("patient")
    proc = procedure(api, api.own_patient)
    r = c.post(f"/patients/{api.own_patient}/followups", headers=me, json={
        "instrument": "odi", "schedule_id": point(proc, "baseline"),
        "answers": {"pain_intensity": 2, "personal_care": 2, "lifting": 2, "walking": 2, "sitting": 2,
                    "standing": 2, "sleeping": 2, "social_life": 2, "travelling": 0}})
    assert r.status_code == 201, r.text
    got = r.json()
    assert round(got["score"]["value"], 1) == 35.6 and got["score"]["missing"] == ["sex_life"]
    assert got["warning"] is None and got["alerts"] == [] and got["via"] == "api"
    listed = c.get(f"/patients/{api.own_patient}/followups", headers=me).json()
    assert listed[0]["score"]["value"] == got["score"]["value"]


def test_bad_answers_are_422_naming_the_field_and_write_nothing(api: Api) -> None:
    c, doc = api.client, api.h("clinician")
    proc = procedure(api, api.own_patient, "rf-trigeminal", level=None)
    before = api.counts()
    cases = [
        ({"instrument": "odi", "answers": {"lifting": 9}}, "body.answers.lifting"),
        ({"instrument": "odi", "answers": {"q1": 2}}, "body.answers.q1"),
        ({"instrument": "nrs", "answers": {"leg": "bad"}}, "body.answers.leg"),
        ({"instrument": "nrs", "answers": {"fever": "maybe", "leg": 2}}, "body.answers.fever"),
        ({"instrument": "pgic", "answers": {"x": 1}}, "body.instrument"),
        # the ODI is not asked after trigeminal rhizotomy (its content: nrs, bni)
        ({"instrument": "odi", "answers": {"lifting": 1}, "schedule_id": point(proc, "1 month")}, "body.instrument"),
        ({"instrument": "nrs", "answers": {"face": 1}, "schedule_id": "fu_nothere"}, "body.schedule_id"),
    ]
    for body, field in cases:
        r = c.post(f"/patients/{api.own_patient}/followups", headers=doc, json=body)
        err = envelope(r)
        assert r.status_code == 422 and err["field"] == field, (body, r.text)
    assert api.counts() == before  # no response, no alert, no audit entry


def test_fhir_response_is_scored_like_its_author(api: Api) -> None:
    c, me = api.client, api.h("patient")
    data = json.loads(external("QuestionnaireResponse-OswestryDisabilityIndexExample.json").read_text("utf-8"))
    proc = procedure(api, api.own_patient)
    r = c.post(f"/patients/{api.own_patient}/followups/fhir", headers=me, json=data,
               params={"schedule_id": point(proc, "2 weeks")})
    assert r.status_code == 201, r.text
    assert r.json()["score"]["value"] == 36.0 and r.json()["via"] == "fhir"
    assert c.get(f"/procedures/{proc['id']}", headers=me).json()["schedule"][1]["status"] == "completed"
    nrs = json.loads(external("QuestionnaireResponse-PROMISNRSExample.json").read_text("utf-8"))
    before = api.counts()
    r = c.post(f"/patients/{api.own_patient}/followups/fhir", headers=me, json=nrs)
    assert r.status_code == 422 and envelope(r)["field"] == "query.item"
    data["item"][0]["answer"][0]["valueDecimal"] = 2.5
    r = c.post(f"/patients/{api.own_patient}/followups/fhir", headers=me, json=data)
    assert r.status_code == 422 and envelope(r)["field"] == "body.item[0].answer[0].valueDecimal"
    assert api.counts() == before
    r = c.post(f"/patients/{api.own_patient}/followups/fhir", headers=me, json=nrs, params={"item": "leg"})
    assert r.status_code == 201 and r.json()["score"]["values"] == {"leg": 6.0}


def test_warning_sign_raises_an_alert_listed_until_acknowledged(api: Api) -> None:
    c, me, doc = api.client, api.h("patient"), api.h("clinician")
    r = c.post(f"/patients/{api.own_patient}/followups", headers=me,
               json={"instrument": "nrs", "answers": {"leg": 6, "new_weakness": "yes", "wound_problem": True,
                                                      "fever": "no"}})
    assert r.status_code == 201 and r.json()["warning"] is True and len(r.json()["alerts"]) == 2
    quiet = c.post(f"/patients/{api.other_patient}/followups", headers=doc,
                   json={"instrument": "nrs", "answers": {"leg": 2, "fever": False}})
    assert quiet.json()["alerts"] == [] and quiet.json()["warning"] is False

    open_ = c.get("/alerts", headers=doc).json()
    assert [(a["sign"], a["urgency"], a["patient_id"]) for a in open_] == [
        ("new_weakness", "emergency", api.own_patient), ("wound_problem", "call_today", api.own_patient)]
    assert open_[0]["action"] and "emergency" in open_[0]["action"].lower()
    assert c.get("/alerts", headers=me).status_code == 403  # the care team's list

    first = open_[0]["id"]
    r = c.post(f"/alerts/{first}/acknowledge", headers=doc, json={"note": "phoned, sent to ED"})
    assert r.status_code == 200 and r.json()["acknowledged_by"] == "clinician.user"
    assert [a["id"] for a in c.get("/alerts", headers=doc).json()] == [open_[1]["id"]]
    everything = c.get("/alerts", headers=doc, params={"all": True}).json()
    assert {a["id"]: a["note"] for a in everything}[first] == "phoned, sent to ED"
    again = c.post(f"/alerts/{first}/acknowledge", headers=doc)
    assert again.status_code == 409 and envelope(again)["code"] == "conflict"

    audit = c.get("/audit", headers=api.h("admin"), params={"limit": 200}).json()
    assert {(e["action"], e["resource"]) for e in audit} >= {
        ("create", "followup-alert"), ("update", "followup-alert"), ("read", "alert-list")}


def test_due_and_overdue_lists(api: Api) -> None:
    c, doc = api.client, api.h("clinician")
    proc = procedure(api, api.own_patient, "esi-caudal", on="2026-01-05", level=None)
    c.post(f"/patients/{api.own_patient}/followups", headers=doc,
           json={"instrument": "nrs", "answers": {"leg": 7}, "schedule_id": point(proc, "baseline")})
    due = c.get("/followups/due", headers=doc, params={"now": TODAY}).json()
    # baseline answered; 2 weeks (Jan 19) and 1 month (Feb 4) overdue; 3 months (Apr 6) not yet due
    assert [(d["label"], d["overdue"], d["days_overdue"]) for d in due] == [("2 weeks", True, 41),
                                                                           ("1 month", True, 25)]
    assert due[0]["instruments"] == ["nrs", "warning-signs", "odi"] and due[0]["patient_id"] == api.own_patient
    on_day = c.get("/followups/due", headers=doc, params={"now": "2026-02-04"}).json()
    assert [(d["label"], d["overdue"]) for d in on_day] == [("2 weeks", True), ("1 month", False)]
    only_overdue = c.get("/followups/due", headers=doc, params={"now": "2026-02-04", "overdue": True}).json()
    assert [d["label"] for d in only_overdue] == ["2 weeks"]
    ahead = c.get("/followups/due", headers=doc, params={"now": TODAY, "within_days": 40}).json()
    assert [d["label"] for d in ahead] == ["2 weeks", "1 month", "3 months"]
    c.post(f"/patients/{api.own_patient}/followups", headers=doc,
           json={"instrument": "nrs", "answers": {"leg": 3}, "schedule_id": point(proc, "2 weeks")})
    assert [d["label"] for d in c.get("/followups/due", headers=doc, params={"now": TODAY}).json()] == ["1 month"]


def test_each_procedure_gets_its_own_schedule(api: Api) -> None:
    trig = procedure(api, api.own_patient, "rf-trigeminal", level=None)
    assert [p["label"] for p in trig["schedule"]][-2:] == ["3 years", "5 years"]
    mbb = procedure(api, api.own_patient, "mbb-lumbar", level="L4-L5")
    assert [p["label"] for p in mbb["schedule"]] == ["baseline", "2 weeks"]


def test_patient_outcomes(api: Api) -> None:
    c, doc, me = api.client, api.h("clinician"), api.h("patient")
    proc = procedure(api, api.own_patient)
    for label, leg in (("baseline", 8), ("2 weeks", 4), ("1 month", 3)):
        r = c.post(f"/patients/{api.own_patient}/followups", headers=me,
                   json={"instrument": "nrs", "answers": {"leg": leg}, "schedule_id": point(proc, label)})
        assert r.status_code == 201
    out = c.get(f"/patients/{api.own_patient}/outcomes", headers=me, params={"now": TODAY}).json()
    ep = out["episodes"][0]
    assert ep["primary_site"] == "leg" and ep["latest"] == "1 month"
    assert ep["responders_latest"]["nrs_50pct"] is True  # 8 -> 3: -62.5 %
    assert ep["relief"]["state"] == "relieved" and ep["relief"]["months"] == 1.0
    assert ep["repeat"]["verdict"] == "reasonable" and out["policy"] == "nice"
    assert [p["state"] for p in ep["points"]][3:] == ["upcoming", "upcoming", "upcoming"]
    r = c.get(f"/patients/{api.other_patient}/outcomes", headers=me)
    assert r.status_code == 404
    assert c.get(f"/patients/{api.other_patient}/outcomes", headers=doc).json()["episodes"] == []
