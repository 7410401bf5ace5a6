"""Every read and write of patient data through the API is in the audit log: who, what, which
record, when and from where."""

from __future__ import annotations

import datetime as dt

from tests.api.conftest import NOW, Api


def test_audit_records_every_patient_data_access(api: Api) -> None:
    c, doc, me = api.client, api.h("clinician"), api.h("patient")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    pid = c.post("/patients", headers=doc, json={"name": "Audit Me"}).json()["id"]
    c.get(f"/patients/{pid}", headers=doc)
    c.get("/patients", headers=doc)
    cid = c.post(f"/patients/{pid}/cases", headers=doc, json={"age": 40}).json()["id"]
    c.put(f"/cases/{cid}", headers=doc, json={"age": 41})
    c.get(f"/cases/{cid}", headers=doc)
    c.get(f"/patients/{pid}/cases", headers=doc)
    aid = c.post(f"/cases/{cid}/assessments", headers=doc, params={"now": NOW}).json()["id"]
    c.get(f"/assessments/{aid}", headers=doc)
    c.get(f"/patients/{pid}/assessments", headers=doc)
    prid = c.post(f"/patients/{pid}/procedures", headers=doc,
                  json={"procedure": "esi-caudal", "performed_on": "2026-01-05"}).json()["id"]
    c.get(f"/procedures/{prid}", headers=doc)
    c.get(f"/patients/{pid}/procedures", headers=doc)
    frid = c.post(f"/patients/{pid}/followups", headers=doc, json={"instrument": "odi", "answers": {"lifting": 1}}).json()["id"]
    c.get(f"/patients/{pid}/followups", headers=doc)
    # The patient reads their own record; a refused request reads nothing and records nothing.
    own = api.own_patient
    c.get(f"/patients/{own}", headers=me)
    mine = c.post(f"/patients/{own}/followups", headers=me, json={"instrument": "nrs", "answers": {"leg": 4}}).json()["id"]
    assert c.get(f"/patients/{pid}", headers=me).status_code == 404
    assert c.post("/assess", headers=doc, json={"age": 40}, params={"now": NOW}).status_code == 200  # not stored

    r = c.get("/audit", headers=api.h("admin"), params={"limit": 1000})
    assert r.status_code == 200
    entries = list(reversed(r.json()))  # oldest first
    mine_only = [e for e in entries if e["username"] in ("clinician.user", "patient.user")]
    got = [(e["username"], e["action"], e["resource"], e["record_id"], e["patient_id"]) for e in mine_only]
    doc_u, pat_u = "clinician.user", "patient.user"
    assert got == [
        (doc_u, "create", "patient", pid, pid),
        (doc_u, "read", "patient", pid, pid),
        (doc_u, "read", "patient-list", None, None),
        (doc_u, "create", "case", cid, pid),
        (doc_u, "update", "case", cid, pid),
        (doc_u, "read", "case", cid, pid),
        (doc_u, "read", "case-list", None, pid),
        (doc_u, "read", "case", cid, pid),  # assessing reads the case...
        (doc_u, "create", "assessment", aid, pid),  # ...and stores the result
        (doc_u, "read", "assessment", aid, pid),
        (doc_u, "read", "assessment-list", None, pid),
        (doc_u, "create", "procedure", prid, pid),
        (doc_u, "read", "procedure", prid, pid),
        (doc_u, "read", "procedure-list", None, pid),
        (doc_u, "create", "followup-response", frid, pid),
        (doc_u, "read", "followup-list", None, pid),
        (pat_u, "read", "patient", own, own),
        (pat_u, "create", "followup-response", mine, own),
    ]
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    for e in mine_only:
        assert e["client"] == "testclient"  # from where: the client address
        assert e["role"] == ("clinician" if e["username"] == doc_u else "patient")
        assert e["user_id"] is not None
        assert start <= dt.datetime.fromisoformat(e["at"]) <= now

    by_patient = c.get("/audit", headers=api.h("admin"), params={"patient_id": own}).json()
    assert {e["username"] for e in by_patient} <= {"patient.user", "system"}
    by_user = c.get("/audit", headers=api.h("admin"), params={"username": pat_u, "limit": 1}).json()
    assert len(by_user) == 1 and by_user[0]["resource"] == "followup-response"
