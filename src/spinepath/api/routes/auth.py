"""POST /auth/login and /auth/logout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from spinepath.api.deps import AnyRole, Svc, bearer, client_of
from spinepath.api.errors import RateLimited, Unauthenticated
from spinepath.api.schemas import LoginIn, LoginOut
from spinepath.store import models as m
from spinepath.store import repo

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, svc: Svc) -> LoginOut:
    """Exchange a username and password for a bearer token (any role; no token needed).

    At most ``login_attempts_per_minute`` attempts (failed or not) per username and client
    address in any minute; more get 429 ``rate-limited`` with Retry-After.
    """
    wait = svc.logins.hit(body.username, client_of(request))
    if wait is not None:
        raise RateLimited(f"too many login attempts; try again in {wait} s", retry_after=wait)
    with svc.sessions() as s, s.begin():
        user = repo.user_by_name(s, body.username)
        if user is None:
            # Spend the same time as a real check, so that response times do not reveal names.
            repo.verify_password(m.User(password_hash=svc.dummy_hash()), body.password)
            ok = False
        else:
            ok = repo.verify_password(user, body.password) and not user.disabled
        if user is None or not ok:
            raise Unauthenticated("wrong username or password, or the account is disabled")
        token, expires = repo.issue_token(s, user, svc.settings.token_ttl_minutes)
        return LoginOut(token=token, expires_at=expires, role=user.role, patient_id=user.patient_id)


@router.post("/logout", status_code=204, response_class=Response)
def logout(
    _who: AnyRole,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    svc: Svc,
) -> Response:
    """Revoke the token this request was made with (any role)."""
    assert credentials is not None  # AnyRole has authenticated it
    with svc.sessions() as s, s.begin():
        repo.revoke_token(s, credentials.credentials)
    svc.tokens.forget_token(credentials.credentials)
    return Response(status_code=204)
