"""What every route needs: the services of this app, the caller, their role, the audit actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from spinepath.api.errors import Forbidden, NotFound, Unauthenticated
from spinepath.api.lane import ComputeLane
from spinepath.api.security import LoginLimiter, Principal, TokenCache
from spinepath.knowledge.snapshot import Knowledge
from spinepath.settings import Settings
from spinepath.store import repo


@dataclass
class Services:
    """Everything one app instance holds; built by create_app, closed by its lifespan."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    knowledge: Knowledge
    schema_head: str
    tokens: TokenCache
    logins: LoginLimiter
    #: CPU-bound request work (assessment) runs here, first come, first served (see lane.py)
    lane: ComputeLane = field(default_factory=ComputeLane)
    _dummy_hash: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.engine.dispose()

    def dummy_hash(self) -> str:
        """A password hash to verify against for unknown usernames (same time as a real check)."""
        if not self._dummy_hash:
            self._dummy_hash.append(repo.hash_password("not a real password"))
        return self._dummy_hash[0]


async def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/login",
                    bearerFormat="opaque")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>' (POST /auth/login)",
                              field="header.authorization")
    svc: Services = request.app.state.services
    token = credentials.credentials
    principal = await svc.tokens.principal(token)
    if principal is None:
        raise Unauthenticated("the token is unknown, expired or revoked, or the account is disabled; "
                              "sign in again", field="header.authorization")
    return principal


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if their role is one of ``roles``; else 401 / 403."""
    allowed = frozenset(roles)
    names = ", ".join(roles)

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"the {principal.role} role may not use this route (allowed: {names})")
        return principal

    return dependency


Clinician = Annotated[Principal, Depends(require("clinician"))]
PatientData = Annotated[Principal, Depends(require("clinician", "patient"))]
AnyRole = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(require("admin"))]
Svc = Annotated[Services, Depends(services)]


def actor(principal: Principal, request: Request) -> repo.Actor:
    return principal.actor(client_of(request))


def check_own(principal: Principal, patient_id: str | None, what: str, record_id: str, field: str) -> None:
    """A patient sees only their own records: anyone else's is 'not found', exactly like a
    record that does not exist, so that ids of other patients cannot be probed."""
    if principal.role == "patient" and (patient_id is None or principal.patient_id != patient_id):
        raise not_found(what, record_id, field)


def not_found(what: str, record_id: str, field: str) -> NotFound:
    return NotFound(f"no {what} with id {record_id!r}", field=field)
