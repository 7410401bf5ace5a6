"""The REST API end to end: a clinician's day, stateless assessment, tokens, content, readiness."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import spinepath
from spinepath.api.app import create_app
from spinepath.errors import DatabaseError, DatabaseNotMigrated, PolicyError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import repo
from tests.api.conftest import NOW, PASSWORD, Api, envelope, make_settings

CASE = {
    "age": 45,
    "pain": {"leg": {"nrs": 7, "side": "left", "below_knee": True, "dermatomes": ["L5"]}, "duration_weeks": 10},
    "imaging": [{"modality": "mri", "level": "L4-L5", "side": "left", "morphology": "extrusion",
                 "root_compressed": "L5"}],
}


def test_assess_is_stateless_and_matches_the_python_api(api: Api, kb: Knowledge) -> None:
    before = api.counts()
    r = api.client.post("/assess", json=CASE, params={"now": NOW, "policy": "us-medicare"},
                        headers=api.h("clinician"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    expected = spinepath.assess(CASE, kb, policy="us-medicare", now=dt.date(2026, 3, 1))
    assert r.json() == json.loads(expected.model_dump_json())  # same answer as the CLI and Python API
    assert r.json()["disclaimer"] and r.json()["knowledge_hash"] == kb.hash
    assert api.counts() == before  # nothing stored, nothing audited

    r = api.client.post("/assess", json=CASE, params={"policy": "nope"}, headers=api.h("clinician"))
    err = envelope(r)
    assert r.status_code == 422 and err["code"] == "policy-unknown" and err["field"] == "query.policy"

    r = api.client.post("/assess", json={"pain": {"leg": {"nrs": 14}}}, headers=api.h("clinician"))
    err = envelope(r)
    assert r.status_code == 422 and err["code"] == "case-invalid"
    assert err["field"] == "body.pain.leg.nrs" and "less than or equal to 10" in err["message"]

    r = api.client.post("/assess", json=CASE, params={"now": "0001-01-01"}, headers=api.h("clinician"))
    assert r.status_code == 422 and envelope(r)["field"] == "query.now"


def test_a_clinicians_day(api: Api, kb: Knowledge) -> None:
    c, h = api.client, api.h("clinician")
    r = c.post("/patients", json={"name": "Ann Example", "date_of_birth": "1970-01-02", "sex": "female"}, headers=h)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert r.json()["created_by"] == "clinician.user"
    assert any(p["id"] == pid for p in c.get("/patients", headers=h).json())
    assert c.get(f"/patients/{pid}", headers=h).json()["date_of_birth"] == "1970-01-02"

    r = c.post(f"/patients/{pid}/cases", json={**CASE, "pain": {"leg": {"nrs": 5}}}, headers=h)
    assert r.status_code == 201 and r.json()["version"] == 1
    cid = r.json()["id"]
    r = c.put(f"/cases/{cid}", json=CASE, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2 and r.json()["current_version"] == 2
    assert c.get(f"/cases/{cid}", headers=h).json()["data"]["pain"]["leg"]["nrs"] == 7
    assert c.get(f"/cases/{cid}", params={"version": 1}, headers=h).json()["data"]["pain"]["leg"]["nrs"] == 5
    r = c.get(f"/cases/{cid}", params={"version": 9}, headers=h)
    assert r.status_code == 404 and envelope(r)["field"] == "query.version"
    assert [x["id"] for x in c.get(f"/patients/{pid}/cases", headers=h).json()] == [cid]

    r = c.post(f"/cases/{cid}/assessments", params={"now": NOW, "policy": "nice"}, headers=h)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["case_version"] == 2 and stored["policy_id"] == "nice"
    assert stored["knowledge_hash"] == kb.hash == stored["result"]["knowledge_hash"]
    assert stored["assessed_on"] == NOW
    assert c.get(f"/assessments/{stored['id']}", headers=h).json()["result"] == stored["result"]
    listed = c.get(f"/patients/{pid}/assessments", headers=h).json()
    assert [a["id"] for a in listed] == [stored["id"]] and "result" not in listed[0]

    r = c.post(f"/patients/{pid}/procedures", headers=h, json={
        "procedure": "esi-transforaminal", "performed_on": "2026-01-05", "level": "l4-l5", "side": "left",
        "target": "L5 root", "operator": "Dr A", "complications": []})
    assert r.status_code == 201, r.text
    proc = r.json()
    assert proc["level"] == "L4-L5"  # validated and normalised like a case level
    labels = [p.label for p in kb.shared.followup_schedule]
    assert [p["label"] for p in proc["schedule"]] == labels
    assert proc["schedule"][1]["due_on"] == str(dt.date(2026, 1, 5) + dt.timedelta(
        days=kb.shared.followup_schedule[1].days_after))
    assert c.get(f"/procedures/{proc['id']}", headers=h).json() == proc
    assert [p["id"] for p in c.get(f"/patients/{pid}/procedures", headers=h).json()] == [proc["id"]]

    point = proc["schedule"][1]["id"]
    r = c.post(f"/patients/{pid}/followups", headers=h,
               json={"instrument": "nrs", "answers": {"leg": 3}, "schedule_id": point})
    assert r.status_code == 201, r.text
    assert c.get(f"/procedures/{proc['id']}", headers=h).json()["schedule"][1]["status"] == "completed"
    assert [f["answers"] for f in c.get(f"/patients/{pid}/followups", headers=h).json()] == [{"leg": 3}]

    r = c.post(f"/patients/{pid}/procedures", headers=h, json={"procedure": "acupuncture", "performed_on": "2026-01-05"})
    assert r.status_code == 422 and envelope(r)["field"] == "body.procedure"
    r = c.post(f"/patients/{pid}/procedures", headers=h,
               json={"procedure": "esi-caudal", "performed_on": "2026-01-05", "level": "L9-L10"})
    assert r.status_code == 422 and envelope(r)["field"] == "body.level"
    r = c.post(f"/patients/{api.other_patient}/followups", headers=h,
               json={"instrument": "nrs", "answers": {"leg": 3}, "schedule_id": point})
    assert r.status_code == 422 and envelope(r)["field"] == "body.schedule_id"


def test_a_patient_sees_only_their_own_records(api: Api) -> None:
    c, doc = api.client, api.h("clinician")
    ids: dict[str, dict[str, str]] = {}
    for who in (api.own_patient, api.other_patient):
        cid = c.post(f"/patients/{who}/cases", json=CASE, headers=doc).json()["id"]
        aid = c.post(f"/cases/{cid}/assessments", params={"now": NOW}, headers=doc).json()["id"]
        prid = c.post(f"/patients/{who}/procedures", headers=doc,
                      json={"procedure": "esi-caudal", "performed_on": "2026-01-05"}).json()["id"]
        ids[who] = {"case": cid, "assessment": aid, "procedure": prid}
    me = api.h("patient")
    own, other = ids[api.own_patient], ids[api.other_patient]
    assert c.get(f"/patients/{api.own_patient}", headers=me).status_code == 200
    assert c.get(f"/cases/{own['case']}", headers=me).status_code == 200
    assert c.get(f"/assessments/{own['assessment']}", headers=me).status_code == 200
    assert c.get(f"/procedures/{own['procedure']}", headers=me).status_code == 200
    r = c.post(f"/patients/{api.own_patient}/followups", headers=me, json={"instrument": "odi", "answers": {"lifting": 2}})
    assert r.status_code == 201 and r.json()["submitted_by"] == "patient.user"

    # Anyone else's record answers exactly like a record that does not exist.
    for url, missing in [(f"/patients/{api.other_patient}", "/patients/pt_doesnotexist"),
                         (f"/cases/{other['case']}", "/cases/cs_doesnotexist"),
                         (f"/assessments/{other['assessment']}", "/assessments/as_doesnotexist"),
                         (f"/procedures/{other['procedure']}", "/procedures/pr_doesnotexist"),
                         (f"/patients/{api.other_patient}/cases", "/patients/pt_doesnotexist/cases")]:
        r1, r2 = c.get(url, headers=me), c.get(missing, headers=me)
        assert r1.status_code == r2.status_code == 404
        assert envelope(r1)["code"] == envelope(r2)["code"] == "not-found"
    r = c.post(f"/patients/{api.other_patient}/followups", headers=me, json={"instrument": "odi", "answers": {}})
    assert r.status_code == 404
    # ... and the clinician-only routes are forbidden even on their own record.
    assert c.post(f"/patients/{api.own_patient}/cases", json=CASE, headers=me).status_code == 403
    assert c.post("/assess", json=CASE, headers=me).status_code == 403


def test_login_logout_and_the_rate_limit(api: Api) -> None:
    c = api.client
    r = c.post("/auth/login", json={"username": "analyst.user", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "analyst" and body["token_type"] == "bearer"
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires > dt.datetime.now(dt.UTC)
    h = {"Authorization": f"Bearer {body['token']}"}
    assert c.get("/content", headers=h).status_code == 200
    assert c.post("/auth/logout", headers=h).status_code == 204
    r = c.get("/content", headers=h)
    assert r.status_code == 401 and envelope(r)["code"] == "unauthenticated"
    assert r.headers["www-authenticate"] == "Bearer"

    wrong = c.post("/auth/login", json={"username": "analyst.user", "password": "wrong"})
    unknown = c.post("/auth/login", json={"username": "nobody", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 401
    assert envelope(wrong) == envelope(unknown)  # does not tell which usernames exist
    assert envelope(wrong)["code"] == "unauthenticated"
    assert c.get("/content", headers={"Authorization": "Bearer forged"}).status_code == 401
    assert c.get("/content", headers={"Authorization": "Basic abc"}).status_code == 401

    limiter = api.app.state.services.logins
    clock = [1000.0]
    limiter.clock = lambda: clock[0]
    per_minute = api.app.state.services.settings.login_attempts_per_minute
    for _ in range(per_minute):  # failed or not, every attempt counts
        assert c.post("/auth/login", json={"username": "editor.user", "password": "wrong"}).status_code == 401
    r = c.post("/auth/login", json={"username": "editor.user", "password": PASSWORD})
    err = envelope(r)
    assert r.status_code == 429 and err["code"] == "rate-limited" and int(r.headers["retry-after"]) >= 1
    assert c.post("/auth/login", json={"username": "reviewer.user", "password": PASSWORD}).status_code == 200
    clock[0] += 61
    assert c.post("/auth/login", json={"username": "editor.user", "password": PASSWORD}).status_code == 200


def test_disabled_accounts_lose_access(api: Api) -> None:
    c = api.client
    services = api.app.state.services
    clock = [0.0]
    services.tokens.clock = lambda: clock[0]
    # Through the API (this process): at once.
    assert c.get("/content", headers=api.h("editor")).status_code == 200
    r = c.patch("/users/editor.user", json={"disabled": True}, headers=api.h("admin"))
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert c.get("/content", headers=api.h("editor")).status_code == 401
    assert c.post("/auth/login", json={"username": "editor.user", "password": PASSWORD}).status_code == 401
    # Elsewhere (another process, the CLI): within the token cache window.
    assert c.get("/content", headers=api.h("reviewer")).status_code == 200
    with api.sessions() as s, s.begin():
        repo.set_disabled(s, "reviewer.user")
    clock[0] += services.tokens.ttl + 0.1
    assert c.get("/content", headers=api.h("reviewer")).status_code == 401


def test_content_visibility_by_role(api: Api, kb: Knowledge) -> None:
    c = api.client
    under_review = sorted(i.id for i in kb.items().values() if i.status == "under_review")
    approved = sorted(i.id for i in kb.items().values() if i.status == "approved")
    assert under_review and approved
    mine = c.get("/content", headers=api.h("patient")).json()
    assert {x["id"] for x in mine} == set(approved) and {x["status"] for x in mine} == {"approved"}
    staff = c.get("/content", headers=api.h("editor")).json()
    assert {x["id"] for x in staff} == set(approved) | set(under_review)
    assert set(staff[0]) == {"id", "kind", "name", "version", "status"}
    assert c.get(f"/content/{under_review[0]}", headers=api.h("patient")).status_code == 404
    r = c.get(f"/content/{under_review[0]}", headers=api.h("reviewer"))
    assert r.status_code == 200 and r.json()["status"] == "under_review"
    assert c.get(f"/content/{approved[0]}", headers=api.h("patient")).json()["id"] == approved[0]
    assert c.get("/content").status_code == 401


def test_health_ready_and_openapi(api: Api, kb: Knowledge) -> None:
    c = api.client
    assert c.get("/health").json()["status"] == "ok"
    r = c.get("/ready")
    assert r.status_code == 200 and r.json()["knowledge_hash"] == kb.hash
    spec = c.get("/openapi.json").json()
    assert spec["info"]["title"] == "spinepath API"
    assert "not make a diagnosis" in spec["info"]["description"]
    assert "PatientCase" in spec["components"]["schemas"]
    assert spec["paths"]["/assess"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"] \
        == "#/components/schemas/PatientCase"
    assert c.get("/docs").status_code == 200
    responses = spec["paths"]["/patients"]["post"]["responses"]
    assert responses["4XX"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorEnvelope"
    assert "422" not in responses  # not FastAPI's default validation schema: the envelope instead
    procedure = spec["components"]["schemas"]["ProcedureIn"]["properties"]["procedure"]
    assert procedure["enum"] == sorted(kb.procedures)


def test_users_admin(api: Api) -> None:
    c, h = api.client, api.h("admin")
    r = c.post("/users", headers=h, json={"username": "pat.two", "password": "long enough secret",
                                          "role": "patient", "patient_id": api.other_patient})
    assert r.status_code == 201 and r.json()["patient_id"] == api.other_patient
    r = c.post("/users", headers=h, json={"username": "pat.two", "password": "long enough secret", "role": "analyst"})
    assert r.status_code == 409 and envelope(r)["code"] == "conflict"
    r = c.post("/users", headers=h, json={"username": "pat.three", "password": "long enough secret", "role": "patient"})
    assert r.status_code == 422 and envelope(r)["field"] == "body.patient_id"
    users = c.get("/users", headers=h).json()
    assert "pat.two" in {u["username"] for u in users}
    assert all("password" not in k for u in users for k in u)
    login = c.post("/auth/login", json={"username": "pat.two", "password": "long enough secret"}).json()
    assert login["role"] == "patient" and login["patient_id"] == api.other_patient


def test_refuses_an_unknown_default_policy(db_url: str, tmp_path: Path, kb: Knowledge) -> None:
    with pytest.raises(PolicyError) as info:
        create_app(make_settings(db_url, tmp_path, default_policy="nowhere"), knowledge=kb)
    assert info.value.field == "default_policy"


def test_refuses_an_unmigrated_or_unreachable_database(tmp_path: Path, kb: Knowledge) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(DatabaseNotMigrated) as info:
        create_app(make_settings(url, tmp_path), knowledge=kb)
    assert info.value.code == "database-not-migrated" and "spinepath db upgrade" in info.value.message
    with pytest.raises(DatabaseError) as info2:
        create_app(make_settings("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", tmp_path), knowledge=kb)
    assert info2.value.code == "database-unavailable" and "secret" not in info2.value.message


def test_concurrent_writes_neither_collide_nor_fail(api: Api) -> None:
    c, doc = api.client, api.h("clinician")
    cid = c.post(f"/patients/{api.own_patient}/cases", json={"age": 30}, headers=doc).json()["id"]

    def put(age: int) -> int:
        r = c.put(f"/cases/{cid}", json={"age": age}, headers=doc)
        assert r.status_code == 200, r.text
        return int(r.json()["version"])

    def add_user(_: int) -> int:
        return c.post("/users", headers=api.h("admin"), json={
            "username": "same.name", "password": "long enough secret", "role": "analyst"}).status_code

    with ThreadPoolExecutor(8) as pool:
        versions = sorted(pool.map(put, range(40, 48)))
        statuses = sorted(pool.map(add_user, range(4)))
    assert versions == list(range(2, 10))  # every update got its own version
    assert statuses == [201, 409, 409, 409]
