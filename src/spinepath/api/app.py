"""The FastAPI app factory.

    from spinepath.api.app import create_app
    app = create_app(settings)          # settings: spinepath.settings.Settings

Settings are built here (``Settings()`` from the environment) when not given, never at import.
On creation the factory opens the database engine, refuses to start on a database that is not
migrated to this version's schema (DatabaseNotMigrated: run ``spinepath db upgrade``), and loads
the knowledge base once. The lifespan's shutdown disposes the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import spinepath
from spinepath.api.deps import Services
from spinepath.api.errors import (
    database_error_handler,
    http_error_handler,
    integrity_error_handler,
    spinepath_error_handler,
    validation_error_handler,
)
from spinepath.api.logs import configure_logging
from spinepath.api.middleware import BodyLimit, CatchAll
from spinepath.api.routes import admin, assess, auth, content, editorial, education, followup, ops, patients
from spinepath.api.routes import ask as ask_routes
from spinepath.api.schemas import ErrorEnvelope
from spinepath.api.security import LoginLimiter, TokenCache
from spinepath.case.model import SPINAL_LEVELS, PatientCase
from spinepath.errors import DatabaseError, DatabaseNotMigrated, PolicyError, SpinepathError
from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge
from spinepath.settings import Settings
from spinepath.store.db import make_engine, make_sessionmaker
from spinepath.store.migrate import current_revision, head_revision

TITLE = "spinepath API"

DESCRIPTION = """\
Decision support, patient education and follow-up for minimally invasive treatment of
nerve-compression pain.

> **Clinical disclaimer.** {disclaimer}

**Authentication.** `POST /auth/login` returns a bearer token; send it as
`Authorization: Bearer <token>`. Roles: clinician, patient, editor, reviewer, analyst, admin.
Clinicians read and write patient data; a patient reads only their own records (anyone else's
record is answered 404) and may submit their own follow-up answers; editors, reviewers and
analysts read content only; admins read the audit log and manage accounts. See docs/api.md.

**Errors.** Every error has one envelope:
`{{"error": {{"code", "message", "field", "problems"}}}}` with a stable `code`
(docs/errors.md) and `field` naming the place in the request at fault (`body.pain.leg.nrs`,
`query.policy`, `path.patient_id`, `header.authorization`).

Every read and write of patient data is recorded in an append-only audit log.
"""


def _check_schema(engine: Engine, url: str) -> str:
    """The head revision, if the database is at it; else DatabaseNotMigrated / DatabaseError."""
    shown = make_url(url).render_as_string(hide_password=True)
    head = head_revision(url)
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means the database is unusable
        raise DatabaseError(f"cannot use the database at {shown} ({type(exc).__name__}); check "
                            "SPINEPATH_DATABASE_URL and that the server is running",
                            field="database_url") from None
    if current != head:
        state = "has no spinepath schema" if current is None else f"is at schema revision {current}"
        raise DatabaseNotMigrated(f"the database at {shown} {state}; this version needs {head}. "
                                  "Run `spinepath db upgrade` first", field="database_url")
    return head


def _openapi(app: FastAPI, kb: Knowledge) -> dict[str, Any]:
    """The generated OpenAPI, plus the PatientCase schema (case bodies are validated by
    parse_case, not by FastAPI) and the values this knowledge base allows."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    case_schema = PatientCase.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, sub in {**case_schema.pop("$defs", {}), "PatientCase": case_schema}.items():
        if components.get(name, sub) != sub:
            raise RuntimeError(f"OpenAPI component {name!r} is defined twice")  # a model name clash
        components[name] = sub
    procedure_in = components.get("ProcedureIn", {}).get("properties", {})
    if "procedure" in procedure_in:
        procedure_in["procedure"]["enum"] = sorted(kb.procedures)
    if "level" in procedure_in:
        procedure_in["level"] = {"anyOf": [{"type": "string", "enum": list(SPINAL_LEVELS)}, {"type": "null"}],
                                 "title": "Level", "description": "Motion segment, e.g. L4-L5"}
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, knowledge: Knowledge | None = None) -> FastAPI:
    """Build the REST API. ``knowledge`` may be passed in (tests, embedding) to skip loading it.

    Raises DatabaseNotMigrated (``database-not-migrated``) on a database without the current
    schema, DatabaseError (``database-unavailable``) when it cannot be reached, ContentError
    when the knowledge base does not load and PolicyError for an unknown default policy.
    """
    settings = settings or Settings()
    configure_logging()
    kb = knowledge if knowledge is not None else load_knowledge(settings.content_dir, use_env=False)
    try:
        kb.policy(settings.default_policy)  # a site default that does not exist fails now, not per request
    except PolicyError as e:
        raise PolicyError(e.message, field="default_policy") from None
    engine = make_engine(settings.url)
    try:
        head = _check_schema(engine, settings.url)
    except SpinepathError:
        engine.dispose()
        raise
    sessions = make_sessionmaker(engine)
    services = Services(
        settings=settings, engine=engine, sessions=sessions, knowledge=kb, schema_head=head,
        tokens=TokenCache(sessions), logins=LoginLimiter(settings.login_attempts_per_minute),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title=TITLE,
        version=spinepath.__version__,
        description=DESCRIPTION.format(disclaimer=" ".join(kb.shared.disclaimer.split())),
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
        responses={
            "4XX": {"model": ErrorEnvelope, "description": "Error envelope (see docs/errors.md)"},
            "5XX": {"model": ErrorEnvelope, "description": "Error envelope, without details"},
        },
    )
    app.state.services = services
    app.add_exception_handler(SpinepathError, spinepath_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(IntegrityError, integrity_error_handler)
    app.add_exception_handler(OperationalError, database_error_handler)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAll)  # outermost: nothing unexpected escapes to the server's log
    for module in (ops, auth, assess, patients, followup, editorial, content, admin, education):  # editorial first: /content/revisions
        app.include_router(module.router)
    app.include_router(ask_routes.router)

    def openapi() -> dict[str, Any]:
        return _openapi(app, kb)

    app.openapi = openapi  # type: ignore[method-assign]
    return app
