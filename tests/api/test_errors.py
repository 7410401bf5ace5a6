"""One error envelope on every route, for every kind of bad request; bad input changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from spinepath.api.errors import API_ERRORS
from spinepath.errors import ERROR_CODES
from tests.api.conftest import NOW, Api, envelope
from tests.api.test_roles import MATRIX, Records, seed

ROOT = Path(__file__).resolve().parents[2]

# route -> (role, kwargs of a bad request, status, code, field). "{...}" in the path is filled in;
# a path value given in "path" replaces the real id.
BAD: dict[str, tuple[str | None, dict[str, Any], int, str, str | None]] = {
    "GET /health": (None, {"method": "DELETE"}, 405, "method-not-allowed", None),
    "GET /ready": (None, {"method": "POST"}, 405, "method-not-allowed", None),
    "POST /auth/login": (None, {"json": {"username": "x", "password": 3}}, 422, "request-invalid", "body.password"),
    "POST /auth/logout": (None, {}, 401, "unauthenticated", "header.authorization"),
    "POST /assess": ("clinician", {"json": {"age": -3}}, 422, "case-invalid", "body.age"),
    "POST /patients": ("clinician", {"json": {"sex": "unknown"}}, 422, "request-invalid", "body.sex"),
    "GET /patients": ("clinician", {"params": {"limit": 0}}, 422, "request-invalid", "query.limit"),
    "GET /patients/{patient_id}": ("clinician", {"path": "no such id!"}, 422, "request-invalid", "path.patient_id"),
    "POST /patients/{patient_id}/cases": ("clinician", {"json": {"pain": {"leg": {"nrs": 11}}}}, 422,
                                          "case-invalid", "body.pain.leg.nrs"),
    "GET /patients/{patient_id}/cases": ("clinician", {"path": "pt_missing"}, 404, "not-found", "path.patient_id"),
    "GET /cases/{case_id}": ("clinician", {"params": {"version": "two"}}, 422, "request-invalid", "query.version"),
    "PUT /cases/{case_id}": ("clinician", {"json": {"imaging": [{"level": "L9-L10"}]}}, 422, "case-invalid",
                             "body.imaging[0].level"),
    "POST /cases/{case_id}/assessments": ("clinician", {"params": {"now": "yesterday"}}, 422,
                                          "request-invalid", "query.now"),
    "GET /assessments/{assessment_id}": ("clinician", {"path": "as_missing"}, 404, "not-found", "path.assessment_id"),
    "GET /patients/{patient_id}/assessments": ("patient", {"path": "pt_missing"}, 404, "not-found", "path.patient_id"),
    "POST /patients/{patient_id}/procedures": ("clinician", {"json": {"procedure": "esi-caudal"}}, 422,
                                               "request-invalid", "body.performed_on"),
    "GET /patients/{patient_id}/procedures": ("editor", {}, 403, "forbidden", None),
    "GET /procedures/{procedure_id}": ("clinician", {"path": "pr_missing"}, 404, "not-found", "path.procedure_id"),
    "GET /procedures/{procedure_id}/discharge": ("clinician", {"params": {"format": "doc"}}, 422, "request-invalid",
                                                 "query.format"),
    "POST /patients/{patient_id}/followups": ("patient", {"json": {"instrument": "odi", "answers": []}}, 422,
                                              "request-invalid", "body.answers"),
    "GET /patients/{patient_id}/followups": (None, {}, 401, "unauthenticated", "header.authorization"),
    "POST /patients/{patient_id}/followups/fhir": ("patient", {"json": {"resourceType": "Patient"}}, 422,
                                                   "answers-invalid", "body.resourceType"),
    "GET /patients/{patient_id}/outcomes": ("clinician", {"params": {"policy": "nowhere"}}, 422, "policy-unknown",
                                            "query.policy"),
    "GET /followups/due": ("clinician", {"params": {"within_days": 999}}, 422, "request-invalid", "query.within_days"),
    "GET /alerts": ("patient", {}, 403, "forbidden", None),
    "POST /ask": ("patient", {"json": {"question": "Will I be awake?", "audience": "surgeon"}}, 422,
                  "request-invalid", "body.audience"),
    "POST /alerts/{alert_id}/acknowledge": ("clinician", {"path": "al_missing"}, 404, "not-found", "path.alert_id"),
    "GET /content": ("patient", {"method": "PUT"}, 405, "method-not-allowed", None),
    "GET /content/{item_id}": ("patient", {"path": "no-such-item"}, 404, "not-found", "path.item_id"),
    "POST /content/revisions": ("editor", {"json": {"item_id": "Bad Id", "kind": "condition", "body": {}}}, 422,
                                "request-invalid", "body.item_id"),
    "GET /content/revisions": ("reviewer", {"params": {"item_id": "NOT VALID"}}, 422, "request-invalid",
                               "query.item_id"),
    "GET /content/revisions/{revision_id}": ("clinician", {}, 404, "not-found", "path.revision_id"),
    "POST /content/revisions/{revision_id}/submit": ("editor", {}, 404, "not-found", "path.revision_id"),
    "POST /content/revisions/{revision_id}/start-review": ("patient", {}, 403, "forbidden", None),
    "POST /content/revisions/{revision_id}/approve": ("reviewer", {"path": "no such id!"}, 422, "request-invalid",
                                                      "path.revision_id"),
    "POST /content/revisions/{revision_id}/request-changes": ("reviewer", {"json": {"comment": ""}}, 422,
                                                              "request-invalid", "body.comment"),
    "POST /content/revisions/{revision_id}/revise": ("editor", {"json": {"body": []}}, 422, "request-invalid",
                                                     "body.body"),
    "POST /content/revisions/{revision_id}/publish": ("editor", {"json": {"comment": 5}}, 422, "request-invalid",
                                                      "body.comment"),
    "POST /content/revisions/{revision_id}/retire": (None, {}, 401, "unauthenticated", "header.authorization"),
    "GET /content/due": ("editor", {"params": {"today": "tomorrow"}}, 422, "request-invalid", "query.today"),
    "GET /articles/{item_id}": ("patient", {"params": {"audience": "clinician"}}, 403, "forbidden", None),
    "GET /audit": ("admin", {"params": {"offset": -1}}, 422, "request-invalid", "query.offset"),
    "GET /users": ("clinician", {}, 403, "forbidden", None),
    "POST /users": ("admin", {"json": {"username": "a", "password": "short", "role": "admin"}}, 422,
                    "request-invalid", "body.password"),
    "PATCH /users/{username}": ("admin", {"json": {"disabled": "maybe"}}, 422, "request-invalid", "body.disabled"),
}


def _url(template: str, rec: Records, path: str | None) -> str:
    ids = {"patient_id": rec.patient, "case_id": rec.case, "assessment_id": rec.assessment,
           "procedure_id": rec.procedure, "alert_id": rec.alert, "item_id": "lumbar-disc-herniation",
           "username": "analyst.user",
           "revision_id": "rv_missing"}
    if path is not None:
        ids = dict.fromkeys(ids, path)
    return template.format(**ids)


def test_every_route_answers_bad_input_with_the_envelope(api: Api) -> None:
    assert set(BAD) == set(MATRIX)
    rec = seed(api, api.own_patient)
    for route, (role, kwargs, status, code, field) in BAD.items():
        method, template = route.split(" ", 1)
        kwargs = dict(kwargs)
        method = kwargs.pop("method", method)
        url = _url(template, rec, kwargs.pop("path", None))
        r = api.client.request(method, url, headers=api.h(role), **kwargs)
        err = envelope(r)
        assert (r.status_code, err["code"]) == (status, code), (route, r.text)
        if field is not None:
            assert err["field"] == field, (route, err)
        assert r.headers["content-type"] == "application/json"


@pytest.mark.parametrize("route", [r for r in MATRIX if r.split()[0] in ("POST", "PUT", "PATCH")
                                   and r not in ("POST /auth/logout", "POST /cases/{case_id}/assessments")])
def test_malformed_json_is_a_422_naming_the_body(api: Api, route: str) -> None:
    rec = Records(api.own_patient, "cs_x", "as_x", "pr_x")
    method, template = route.split(" ", 1)
    role = "admin" if "/users" in route else "clinician"
    headers = {**api.h(role), "Content-Type": "application/json"}
    r = api.client.request(method, _url(template, rec, None), content=b'{"age": 4', headers=headers)
    err = envelope(r)
    assert r.status_code == 422 and err["code"] == "request-invalid" and err["field"] == "body", r.text
    r = api.client.request(method, _url(template, rec, None), content=b"\xff\xfe", headers=headers)
    assert r.status_code in (400, 422) and envelope(r)["field"] == "body"


def test_body_size_limit(api: Api) -> None:
    limit = api.app.state.services.settings.max_body_bytes
    h = api.h("clinician")
    big = b'{"notes": "' + b"x" * limit + b'"}'
    r = api.client.post("/assess", content=big, headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and envelope(r)["code"] == "body-too-large"

    def stream() -> Any:  # no Content-Length: the bytes are counted as they arrive
        yield b'{"notes": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = api.client.post("/assess", content=stream(), headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 413 and envelope(r)["code"] == "body-too-large"
    r = api.client.post("/assess", content=b"{}", headers={**h, "Content-Type": "application/json",
                                                           "Content-Length": "abc"})
    assert r.status_code in (400, 422)


def test_unknown_routes_and_methods(api: Api) -> None:
    r = api.client.get("/nowhere")
    assert r.status_code == 404 and envelope(r)["code"] == "not-found"
    r = api.client.delete("/patients", headers=api.h("clinician"))
    assert r.status_code == 405 and envelope(r)["code"] == "method-not-allowed"


def test_unexpected_errors_are_a_500_without_details(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    def explode() -> None:
        raise RuntimeError("Zelda Quixote 1961-07-04")

    api.app.add_api_route("/explode", explode)
    with caplog.at_level(logging.DEBUG):
        r = api.client.get("/explode")
    err = envelope(r)
    assert r.status_code == 500 and err["code"] == "internal-error"
    assert "Zelda" not in r.text
    logged = "\n".join(caplog.text.splitlines())
    assert "RuntimeError" in logged and "Zelda" not in logged and "1961" not in logged


def test_every_code_is_documented() -> None:
    errors_md = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    api_md = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for cls in API_ERRORS:
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        assert f"| `{cls.code}` | {cls.status} | {summary} |" in errors_md, cls.code
        assert f"`{cls.code}`" in api_md, cls.code
    for code in ("case-invalid", "policy-unknown", "database-not-migrated"):
        assert code in ERROR_CODES and f"`{code}`" in api_md


WRITES: list[tuple[str, str, str]] = [  # role, method, path template
    ("clinician", "POST", "/patients"),
    ("clinician", "POST", "/patients/{patient_id}/cases"),
    ("clinician", "PUT", "/cases/{case_id}"),
    ("clinician", "POST", "/patients/{patient_id}/procedures"),
    ("patient", "POST", "/patients/{patient_id}/followups"),
    ("patient", "POST", "/patients/{patient_id}/followups/fhir"),
    ("admin", "POST", "/users"),
]

BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("malformed", {"content": b'{"name": "Zelda", ', "headers": {"Content-Type": "application/json"}}),
    ("not JSON", {"content": b"name=Zelda", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("oversized", {"content": b'{"notes": "' + b"x" * (1024 * 1024 + 10) + b'"}',
                   "headers": {"Content-Type": "application/json"}}),
    ("wrong type", {"json": [1, 2, 3]}),
    ("wrong field types", {"json": {"name": 5, "performed_on": "soon", "answers": "all good", "age": "old",
                                    "procedure": 7, "instrument": None, "username": 1}}),
    ("unknown field", {"json": {"surname": "Quixote", "hobby": "windmills"}}),
    ("NUL in text", {"json": {"name": "Zel\u0000da", "notes": "a\u0000b", "procedure": "esi-caudal",
                              "performed_on": "2026-01-01", "instrument": "odi", "answers": {"q": "a\u0000"},
                              "username": "x\u0000", "password": "long enough secret", "role": "analyst"}}),
    ("schedule of someone else", {"json": {"instrument": "odi", "answers": {}, "schedule_id": "fu_nothere"}}),
]


def test_bad_input_changes_nothing(api: Api) -> None:
    rec = seed(api, api.own_patient)
    before = api.counts()
    for role, method, template in WRITES:
        url = template.format(patient_id=rec.patient, case_id=rec.case)
        for label, kwargs in BAD_BODIES:
            kwargs = dict(kwargs)
            headers = {**api.h(role), **kwargs.pop("headers", {})}
            r = api.client.request(method, url, headers=headers, **kwargs)
            assert 400 <= r.status_code < 500, (template, label, r.status_code, r.text[:300])
            envelope(r)
    assert api.counts() == before
    # ...and a good request afterwards still works (nothing was left half-done).
    r = api.client.post(f"/cases/{rec.case}/assessments", params={"now": NOW}, headers=api.h("clinician"))
    assert r.status_code == 201
