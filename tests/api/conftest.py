"""REST API fixtures: an app on the `db_url` database (SQLite, and PostgreSQL when configured),
with one account per role made directly in the store, and a TestClient used as a context
manager so that the app's lifespan disposes its engine."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import StarletteDeprecationWarning

from spinepath.api.app import create_app
from spinepath.knowledge.snapshot import Knowledge
from spinepath.settings import Settings
from spinepath.store import models as m
from spinepath.store import repo
from spinepath.store.db import make_engine, make_sessionmaker

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its test client; httpx (a declared dependency) still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROLES = ("clinician", "patient", "editor", "reviewer", "analyst", "admin")
PASSWORD = "correct horse battery staple"
NOW = "2026-03-01"

#: Tables that hold patient data (and the audit log): bad input must add no row to any of them.
DATA_TABLES: tuple[type[m.Base], ...] = (
    m.Patient, m.Case, m.CaseVersion, m.StoredAssessment, m.ProcedurePerformed, m.FollowupSchedule,
    m.FollowupResponse, m.FollowupAlert, m.AuditEntry, m.User,
)


@dataclass
class Api:
    """A running app and the people who use it."""

    app: FastAPI
    client: TestClient
    engine: Engine
    sessions: sessionmaker[Session]
    tokens: dict[str, str]
    usernames: dict[str, str]
    own_patient: str  # the patient account's own patient record
    other_patient: str  # another patient's record
    _n: itertools.count[int] = field(default_factory=itertools.count)

    def h(self, role: str | None) -> dict[str, str]:
        """Authorization header for one role (None: anonymous)."""
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def issue(self, role: str) -> str:
        """A fresh token for the account of ``role``."""
        with self.sessions() as s, s.begin():
            user = repo.user_by_name(s, self.usernames[role])
            assert user is not None
            token, _ = repo.issue_token(s, user, 60)
        return token

    def counts(self) -> dict[str, int]:
        with self.sessions() as s:
            return {t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                    for t in DATA_TABLES}

    def unique(self, prefix: str) -> str:
        return f"{prefix}{next(self._n)}"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its production cost takes ~0.2 s a hash; tests need correctness, not cost."""
    monkeypatch.setattr(repo, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def seed_accounts(url: str) -> tuple[dict[str, str], dict[str, str], str, str]:
    """One account per role (the patient account linked to its own record), plus another patient."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    tokens: dict[str, str] = {}
    names: dict[str, str] = {}
    with sessions() as s, s.begin():
        own = repo.create_patient(s, repo.SYSTEM, name="Own Patient")
        other = repo.create_patient(s, repo.SYSTEM, name="Other Patient")
        for role in ROLES:
            user = repo.create_user(s, f"{role}.user", PASSWORD, role,
                                    patient_id=own.id if role == "patient" else None)
            tokens[role], _ = repo.issue_token(s, user, 60)
            names[role] = user.username
        own_id, other_id = own.id, other.id
    engine.dispose()
    return tokens, names, own_id, other_id


def make_settings(db_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"database_url": db_url, "data_dir": tmp_path, "content_dir": None,
                              "default_policy": None, "qa_dense": "off", **overrides}  # POST /ask: lexical
    return Settings(**values)


@pytest.fixture
def api(db_url: str, kb: Knowledge, tmp_path: Path) -> Iterator[Api]:
    tokens, names, own, other = seed_accounts(db_url)
    app = create_app(make_settings(db_url, tmp_path), knowledge=kb)
    engine = make_engine(db_url)
    try:
        with TestClient(app) as client:
            yield Api(app=app, client=client, engine=engine, sessions=make_sessionmaker(engine),
                      tokens=tokens, usernames=names, own_patient=own, other_patient=other)
    finally:
        engine.dispose()
        app.state.services.close()


def envelope(response: Any) -> dict[str, Any]:
    """The error envelope of a response, checked for shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field", "problems"}, err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"]
    assert err["field"] is None or isinstance(err["field"], str)
    assert isinstance(err["problems"], list)
    return dict(err)
