"""Administration (admin role only): the audit log and user accounts. No clinical patient data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from spinepath.api.deps import Admin, Svc, actor, not_found
from spinepath.api.errors import Conflict, RequestInvalid
from spinepath.api.schemas import ID_PATTERN, AuditOut, UserIn, UserOut, UserPatch
from spinepath.store import models as m
from spinepath.store import repo

router = APIRouter(tags=["admin"])

Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9._@+-]{1,80}$")]


@router.get("/audit", response_model=list[AuditOut])
def read_audit(
    _who: Admin,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    patient_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    username: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9._@+-]{1,80}$")] = None,
) -> list[AuditOut]:
    """The append-only audit log, newest first: who did what to which record, when, from where."""
    with svc.sessions() as s:
        rows = repo.read_audit(s, limit=limit, offset=offset, patient_id=patient_id, username=username)
        return [AuditOut.model_validate(r) for r in rows]


@router.get("/users", response_model=list[UserOut])
def list_users(_who: Admin, svc: Svc) -> list[UserOut]:
    """All accounts (never their password hashes)."""
    with svc.sessions() as s:
        return [UserOut.model_validate(u) for u in repo.list_users(s)]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, who: Admin, request: Request, svc: Svc) -> UserOut:
    """Create an account. A patient account must be linked to a patient (patient_id); other
    roles must not be."""
    if (body.role == "patient") != (body.patient_id is not None):
        raise RequestInvalid("patient_id is required for the patient role and not allowed otherwise",
                             field="body.patient_id")
    with svc.sessions() as s, s.begin():
        if repo.user_by_name(s, body.username) is not None:
            raise Conflict(f"the username {body.username!r} is taken", field="body.username")
        if body.patient_id is not None and s.get(m.Patient, body.patient_id) is None:
            raise RequestInvalid(f"no patient with id {body.patient_id!r}", field="body.patient_id")
        user = repo.create_user(s, body.username, body.password, body.role, body.patient_id)
        repo.audit(s, actor(who, request), "create", "user", str(user.id), user.patient_id)
        return UserOut.model_validate(user)


@router.patch("/users/{username}", response_model=UserOut)
def update_user(username: Username, body: UserPatch, who: Admin, request: Request, svc: Svc) -> UserOut:
    """Disable (revoking every token at once) or re-enable an account."""
    with svc.sessions() as s, s.begin():
        user = repo.set_disabled(s, username, body.disabled)
        if user is None:
            raise not_found("user", username, "path.username")
        repo.audit(s, actor(who, request), "update", "user", str(user.id), user.patient_id)
        s.flush()
        out = UserOut.model_validate(user)
    svc.tokens.forget_user(user.id)
    return out
