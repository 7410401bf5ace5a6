"""No patient data in application logs: every logger at DEBUG through a full API session."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.api.conftest import NOW, Api

NAME = "Zelda Quixote"
DOB = "1961-07-04"
NOTES = "secret free text about her divorce"
PHONE = "+44 7700 900461"
EMAIL = "zelda@example.org"
SECRETS = (NAME, "Zelda", "Quixote", DOB, "1961", NOTES, "divorce", PHONE, EMAIL, "windmill")

LOGGERS = ("", "spinepath", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.engine.Engine", "sqlalchemy.pool",
           "sqlalchemy.orm", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "starlette", "httpx",
           "httpcore", "asyncio", "anyio", "alembic")


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # message, arguments and any traceback


@pytest.fixture
def everything_logged() -> Iterator[Capture]:
    capture = Capture()
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def test_no_patient_data_in_logs(api: Api, everything_logged: Capture) -> None:
    c, doc = api.client, api.h("clinician")
    r = c.post("/patients", headers=doc, json={"name": NAME, "date_of_birth": DOB, "sex": "female",
                                               "phone": PHONE, "email": EMAIL})
    assert r.status_code == 201
    pid = r.json()["id"]
    assert c.get(f"/patients/{pid}", headers=doc).json()["name"] == NAME  # read back: rows are fetched
    assert c.get("/patients", headers=doc).status_code == 200
    case = {"age": 64, "sex": "female", "pain": {"leg": {"nrs": 7, "side": "left"}, "duration_weeks": 12},
            "notes": NOTES, "medicines": [{"name": "apixaban", "indication": "windmill accident"}]}
    r = c.post(f"/patients/{pid}/cases", headers=doc, json=case)
    assert r.status_code == 201
    cid = r.json()["id"]
    assert c.get(f"/cases/{cid}", headers=doc).json()["data"]["notes"] == NOTES
    assert c.post("/assess", headers=doc, json=case, params={"now": NOW}).status_code == 200
    assert c.post(f"/cases/{cid}/assessments", headers=doc, params={"now": NOW}).status_code == 201
    r = c.post(f"/patients/{pid}/procedures", headers=doc, json={
        "procedure": "esi-transforaminal", "performed_on": "2026-01-05", "level": "L4-L5", "side": "left",
        "complications": [f"{NAME} felt faint"]})
    assert r.status_code == 201
    point = r.json()["schedule"][1]["id"]
    r = c.post(f"/patients/{pid}/followups", headers=doc, json={
        "instrument": "nrs", "answers": {"leg": 3}, "schedule_id": point})
    assert r.status_code == 201
    r = c.post(f"/patients/{pid}/followups", headers=doc, json={  # an answer that echoes in the 422
        "instrument": "nrs", "answers": {"leg": NOTES}, "schedule_id": point})
    assert r.status_code == 422 and NOTES in r.text
    assert c.get(f"/patients/{pid}/followups", headers=doc).status_code == 200
    # Failures too: invalid data echoed in a response must not reach a log.
    assert c.post("/patients", headers=doc, json={"name": NAME, "date_of_birth": "1961-07-04x"}).status_code == 422
    assert c.post(f"/patients/{pid}/cases", headers=doc, json={**case, "age": 1961}).status_code == 422

    lines = everything_logged.lines
    assert any(line.startswith("sqlalchemy.engine") for line in lines), "SQL logging was not on"
    leaks = [line for line in lines for secret in SECRETS if secret in line]
    assert not leaks, leaks[:5]


def test_access_log_drops_query_strings(everything_logged: Capture) -> None:
    from spinepath.api.logs import configure_logging

    configure_logging()
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.7", "GET",
                                             "/audit?username=zelda.quixote", "1.1", 200)
    assert everything_logged.lines[-1] == 'uvicorn.access INFO 10.0.0.7 - "GET /audit HTTP/1.1" 200'
