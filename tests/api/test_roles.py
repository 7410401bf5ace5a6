"""Every route, walked by every role and by an anonymous caller: the allowed/denied matrix.

Columns: anonymous, clinician, patient (on their own record), editor, reviewer, analyst, admin,
and the patient again on another patient's record. 401 = no valid token, 403 = the role may not
use the route, 404 = another patient's record (answered like one that does not exist).
The table must list exactly the app's routes (from its OpenAPI): a new route fails this test until it is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.api.conftest import NOW, PASSWORD, Api, envelope
from tests.editorial.support import matrix_request

COLUMNS = (None, "clinician", "patient", "editor", "reviewer", "analyst", "admin", "patient→other")

OPEN = (200, 200, 200, 200, 200, 200, 200, 200)
SIGNED_IN = (401, 200, 200, 200, 200, 200, 200, 200)
CLINICIAN_READ = (401, 200, 403, 403, 403, 403, 403, 403)
CLINICIAN_WRITE = (401, 201, 403, 403, 403, 403, 403, 403)
CLINICIAN_UPDATE = (401, 200, 403, 403, 403, 403, 403, 403)
OWN_READ = (401, 200, 200, 403, 403, 403, 403, 404)
OWN_WRITE = (401, 201, 201, 403, 403, 403, 403, 404)
ADMIN_READ = (401, 403, 403, 403, 403, 403, 200, 403)
ADMIN_WRITE = (401, 403, 403, 403, 403, 403, 201, 403)
ADMIN_UPDATE = (401, 403, 403, 403, 403, 403, 200, 403)
CONTENT_STAFF = (401, 200, 403, 200, 200, 403, 200, 403)  # editorial reads: no patient, no analyst
EDITOR_STEP = (401, 403, 403, 200, 403, 403, 403, 403)
REVIEWER_STEP = (401, 403, 403, 403, 200, 403, 403, 403)

MATRIX: dict[str, tuple[int, ...]] = {
    #                                    anon  clin  pat   edit  rev   anal  admin pat→other
    "GET /health":                        OPEN,
    "GET /ready":                         OPEN,
    "POST /auth/login":                   OPEN,
    "POST /auth/logout":                  (401, 204, 204, 204, 204, 204, 204, 204),
    "POST /assess":                       CLINICIAN_READ,
    "POST /patients":                     CLINICIAN_WRITE,
    "GET /patients":                      CLINICIAN_READ,
    "GET /patients/{patient_id}":         OWN_READ,
    "POST /patients/{patient_id}/cases":  CLINICIAN_WRITE,
    "GET /patients/{patient_id}/cases":   OWN_READ,
    "GET /cases/{case_id}":               OWN_READ,
    "PUT /cases/{case_id}":               CLINICIAN_UPDATE,
    "POST /cases/{case_id}/assessments":  CLINICIAN_WRITE,
    "GET /assessments/{assessment_id}":   OWN_READ,
    "GET /patients/{patient_id}/assessments": OWN_READ,
    "POST /patients/{patient_id}/procedures": CLINICIAN_WRITE,
    "GET /patients/{patient_id}/procedures":  OWN_READ,
    "GET /procedures/{procedure_id}":     OWN_READ,
    "GET /procedures/{procedure_id}/discharge": OWN_READ,
    "POST /patients/{patient_id}/followups":  OWN_WRITE,
    "GET /patients/{patient_id}/followups":   OWN_READ,
    "POST /patients/{patient_id}/followups/fhir": OWN_WRITE,
    "GET /patients/{patient_id}/outcomes":    OWN_READ,
    "GET /followups/due":                  CLINICIAN_READ,
    "GET /alerts":                         CLINICIAN_READ,
    "POST /alerts/{alert_id}/acknowledge": CLINICIAN_UPDATE,
    "GET /content":                       SIGNED_IN,
    "GET /content/{item_id}":             SIGNED_IN,
    "POST /content/revisions":            (401, 403, 403, 201, 403, 403, 403, 403),
    "GET /content/revisions":             CONTENT_STAFF,
    "GET /content/revisions/{revision_id}": CONTENT_STAFF,
    "POST /content/revisions/{revision_id}/submit": EDITOR_STEP,
    "POST /content/revisions/{revision_id}/start-review": REVIEWER_STEP,
    "POST /content/revisions/{revision_id}/approve": REVIEWER_STEP,
    "POST /content/revisions/{revision_id}/request-changes": REVIEWER_STEP,
    "POST /content/revisions/{revision_id}/revise": EDITOR_STEP,
    "POST /content/revisions/{revision_id}/publish": (401, 403, 403, 200, 200, 403, 403, 403),
    "POST /content/revisions/{revision_id}/retire": (401, 403, 403, 200, 403, 403, 200, 403),
    "GET /content/due":                   (401, 403, 403, 200, 200, 403, 200, 403),
    "GET /articles/{item_id}":            SIGNED_IN,
    "POST /ask":                          SIGNED_IN,
    "GET /audit":                         ADMIN_READ,
    "GET /users":                         ADMIN_READ,
    "POST /users":                        ADMIN_WRITE,
    "PATCH /users/{username}":            ADMIN_UPDATE,
}

DENIED = {401: "unauthenticated", 403: "forbidden", 404: "not-found"}
ODI_RESPONSE = {  # a FHIR QuestionnaireResponse shaped like the CMS ODI example (bare-number answers)
    "resourceType": "QuestionnaireResponse", "status": "completed",
    "questionnaire": "http://example.org/Questionnaire/OswestryDisabilityIndexQuestionnaire",
    "item": [{"linkId": f"odi-{i}", "answer": [{"valueDecimal": 2}]} for i in range(1, 11)],
}
CASE = {"age": 50, "pain": {"leg": {"nrs": 6}}}


@dataclass
class Records:
    """A case, stored assessment, procedure and follow-up alert for one patient."""

    patient: str
    case: str
    assessment: str
    procedure: str
    alert: str = "al_missing"


def seed(api: Api, patient_id: str) -> Records:
    c, h = api.client, api.h("clinician")
    case = c.post(f"/patients/{patient_id}/cases", json=CASE, headers=h).json()["id"]
    assessment = c.post(f"/cases/{case}/assessments", params={"now": NOW}, headers=h).json()["id"]
    procedure = c.post(f"/patients/{patient_id}/procedures", headers=h,  # one with discharge instructions
                       json={"procedure": "mbb-lumbar", "performed_on": "2026-01-05"}).json()["id"]
    alert = c.post(f"/patients/{patient_id}/followups", headers=h,  # a warning sign: an alert to acknowledge
                   json={"instrument": "nrs", "answers": {"back": 5, "fever": "yes"}}).json()["alerts"][0]
    return Records(patient_id, case, assessment, procedure, alert)


def request_for(api: Api, route: str, rec: Records, column: str | None) -> tuple[str, str, dict[str, Any]]:
    """A valid request for ``route`` on ``rec``'s records (method, url, keyword arguments)."""
    method, template = route.split(" ", 1)
    ids, kwargs = matrix_request(api, route) if template.startswith(("/content/revisions", "/content/due")) else ({}, {})
    url = template.format(patient_id=rec.patient, case_id=rec.case, assessment_id=rec.assessment,
                          procedure_id=rec.procedure, alert_id=rec.alert, item_id="lumbar-disc-herniation",
                          username="analyst.user", **ids)
    if route == "POST /auth/login":
        kwargs["json"] = {"username": api.usernames[column or "clinician"], "password": PASSWORD}
    elif route in ("POST /assess", "POST /patients/{patient_id}/cases", "PUT /cases/{case_id}"):
        kwargs["json"] = CASE
    elif route == "POST /cases/{case_id}/assessments":
        kwargs["params"] = {"now": NOW}
    elif route == "POST /patients":
        kwargs["json"] = {"name": "New Patient"}
    elif route == "POST /patients/{patient_id}/procedures":
        kwargs["json"] = {"procedure": "mbb-lumbar", "performed_on": "2026-02-01", "level": "L4-L5"}
    elif route == "POST /patients/{patient_id}/followups":
        kwargs["json"] = {"instrument": "nrs", "answers": {"leg": 4}}
    elif route == "POST /patients/{patient_id}/followups/fhir":
        kwargs["json"] = ODI_RESPONSE
    elif route == "POST /users":
        kwargs["json"] = {"username": api.unique("new.user."), "password": "long enough secret",
                          "role": "analyst"}
    elif route == "PATCH /users/{username}":
        kwargs["json"] = {"disabled": False}
    elif route == "POST /ask":
        kwargs["json"] = {"question": "Will I be awake for my epidural?"}
    return method, url, kwargs


def test_the_matrix_covers_every_route(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    routes = {f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops}
    assert routes == set(MATRIX)


def test_role_matrix(api: Api) -> None:
    own = seed(api, api.own_patient)
    other = seed(api, api.other_patient)
    wrong: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for route, expected in MATRIX.items():
        got: list[int] = []
        for column in COLUMNS:
            role = "patient" if column == "patient→other" else column
            rec = other if column == "patient→other" else own
            method, url, kwargs = request_for(api, route, rec, role)
            headers = api.h(role)
            if route == "POST /auth/logout" and role is not None:
                headers = {"Authorization": f"Bearer {api.issue(role)}"}  # keep the shared tokens alive
            r = api.client.request(method, url, headers=headers, **kwargs)
            got.append(r.status_code)
            if r.status_code >= 400:
                assert envelope(r)["code"] == DENIED.get(r.status_code), (route, column, r.text)
        if tuple(got) != expected:
            wrong[route] = (expected, tuple(got))
    assert not wrong, "route: (expected, got)\n" + "\n".join(f"{k}: {v}" for k, v in wrong.items())
