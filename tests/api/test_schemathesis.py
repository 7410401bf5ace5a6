"""Property-based API test: requests generated from the app's own OpenAPI (schemathesis), valid
and invalid, must never get a 5xx. Deterministic (derandomized), a few examples per operation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from spinepath.api.app import create_app
from spinepath.knowledge.snapshot import Knowledge
from spinepath.rules.engine import assess
from spinepath.store import followups, repo
from tests.api.conftest import make_settings, seed_accounts


@pytest.fixture
def st_app(db_url: str, kb: Knowledge, tmp_path: Path) -> Iterator[tuple[FastAPI, dict[str, str], dict[str, str]]]:
    tokens, _names, own, _other = seed_accounts(db_url)
    app = create_app(make_settings(db_url, tmp_path), knowledge=kb)
    # Real records, so that generated requests reach past "not found" into the handlers.
    with app.state.services.sessions() as s, s.begin():
        case, version = repo.create_case(s, repo.SYSTEM, own, {"age": 50})
        result = assess(version.data, kb, now=dt.date(2026, 3, 1)).model_dump(mode="json")
        stored = repo.store_assessment(s, repo.SYSTEM, case, 1, result)
        proc, _ = followups.record_procedure(s, repo.SYSTEM, own, "esi-caudal", dt.date(2026, 1, 5), [("2 weeks", 14)])
        _resp, alerts = followups.record_response(s, repo.SYSTEM, kb, own, "nrs", {"back": 5, "fever": True})
        revision = repo.create_revision(s, "lumbar-disc-herniation", "condition",
                                        kb.conditions["lumbar-disc-herniation"].model_dump(mode="json"),
                                        repo.Actor(None, "ed.itor", "editor"))
        ids = {"patient_id": own, "case_id": case.id, "assessment_id": stored.id, "procedure_id": proc.id, "alert_id": alerts[0].id,
               "item_id": "lumbar-disc-herniation", "username": "analyst.user", "revision_id": revision.id}
    try:
        yield app, tokens, ids
    finally:
        app.state.services.close()


def _token(app: FastAPI, tokens: dict[str, str], path: str) -> str:
    if path == "/auth/logout":  # a throwaway token: logging out must not end the run's session
        with app.state.services.sessions() as s, s.begin():
            user = repo.user_by_name(s, "clinician.user")
            assert user is not None
            return repo.issue_token(s, user, 5)[0]
    if path.startswith(("/content/revisions", "/content/due")):
        return tokens["editor"]
    return tokens["admin" if path.startswith(("/users", "/audit")) else "clinician"]


def test_no_server_errors(st_app: tuple[FastAPI, dict[str, str], dict[str, str]]) -> None:
    """Every operation, with valid and with invalid requests (15 examples each) on real records."""
    app, tokens, ids = st_app
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            known = {name: ids[name] for name in re.findall(r"{(\w+)}", operation.path)}
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=known)

            @given(case=strategy)
            @settings(max_examples=15, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case: Any) -> None:
                headers = {"Authorization": f"Bearer {_token(app, tokens, case.path)}"}
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                run()
            except Unsatisfiable:  # nothing left to make invalid (no query and no body)
                assert mode == GenerationMode.NEGATIVE
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report
                failures[f"{operation.label} ({mode})"] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
