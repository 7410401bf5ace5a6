"""The one error envelope of the REST API, and the errors only the API raises.

Every response that is not a success carries

    {"error": {"code": ..., "message": ..., "field": ..., "problems": [...]}}

which is :meth:`spinepath.errors.SpinepathError.to_dict` — the same envelope the CLI prints with
``--json``. ``field`` names the place in the request that is at fault: ``body.pain.leg.nrs``,
``query.policy``, ``path.patient_id``, ``header.authorization``.

The API errors below are part of the one exception tree (subclasses of SpinepathError); each
carries its HTTP status. docs/errors.md and docs/api.md list every code (a test checks).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spinepath.errors import (
    CaseError,
    ContentError,
    DatabaseError,
    InputError,
    PolicyError,
    Problem,
    SpinepathError,
)

log = logging.getLogger("spinepath.api")


class ApiError(SpinepathError):
    """An error of the HTTP layer."""

    code = "api-error"
    status = 400


class RequestInvalid(ApiError):
    """A parameter or body field is missing, malformed, of the wrong type or out of range."""

    code = "request-invalid"
    status = 422


class Unauthenticated(ApiError):
    """No valid bearer token was sent, or the username or password is wrong."""

    code = "unauthenticated"
    status = 401


class Forbidden(ApiError):
    """The signed-in role may not use this route."""

    code = "forbidden"
    status = 403


class NotFound(ApiError):
    """No such route or record (a patient gets this for every record that is not their own)."""

    code = "not-found"
    status = 404


class MethodNotAllowed(ApiError):
    """The route exists but not with this HTTP method."""

    code = "method-not-allowed"
    status = 405


class Conflict(ApiError):
    """The record already exists (a username that is taken) or changed at the same time; retry."""

    code = "conflict"
    status = 409


class BodyTooLarge(ApiError):
    """The request body is larger than the configured limit (max_body_bytes)."""

    code = "body-too-large"
    status = 413


class RateLimited(ApiError):
    """Too many login attempts for this username from this address; wait and retry."""

    code = "rate-limited"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InternalError(ApiError):
    """An unexpected failure; the details are not shown (the log records only its type)."""

    code = "internal-error"
    status = 500


class NotReady(ApiError):
    """The service cannot serve requests: the database is unreachable or not migrated."""

    code = "not-ready"
    status = 503


API_ERRORS: tuple[type[ApiError], ...] = (
    RequestInvalid, Unauthenticated, Forbidden, NotFound, MethodNotAllowed, Conflict, BodyTooLarge,
    RateLimited, InternalError, NotReady,
)

#: Domain errors, by the HTTP status the API answers them with.
DOMAIN_STATUS: tuple[tuple[type[SpinepathError], int], ...] = (
    (CaseError, 422),
    (PolicyError, 422),
    (InputError, 422),
    (DatabaseError, 503),
    (ContentError, 500),
)


def status_for(exc: SpinepathError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in DOMAIN_STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def envelope(exc: SpinepathError) -> dict[str, object]:
    return {"error": exc.to_dict()}


def error_response(exc: SpinepathError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    hdrs = dict(headers or {})
    if isinstance(exc, RateLimited):
        hdrs["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthenticated):
        hdrs.setdefault("WWW-Authenticate", "Bearer")
    return JSONResponse(envelope(exc), status_code=status_for(exc), headers=hdrs or None)


def error_bytes(exc: SpinepathError) -> bytes:
    return json.dumps(envelope(exc), ensure_ascii=False, separators=(",", ":")).encode()


# ------------------------------------------------------------------ request validation


_RANGE = {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}
_SECRET_FIELDS = {"password"}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def field_path(loc: Sequence[Any]) -> str:
    """("body", "pain", "leg", "nrs") -> "body.pain.leg.nrs"; list indexes as [i]."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(err: Mapping[str, Any]) -> str:
    """A message that says what is wrong and what is allowed, without echoing secrets."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    loc: Sequence[Any] = err.get("loc") or ()
    secret = bool(loc) and str(loc[-1]) in _SECRET_FIELDS
    shown = "" if secret else f" (got {_short(err.get('input'))})"
    if kind == "json_invalid":
        return f"the body is not valid JSON: {ctx.get('error', 'decode error')}"
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field (see /openapi.json for the allowed fields)"
    if kind in _RANGE:
        got = "" if secret else f"{_short(err.get('input'))} is out of range: "
        return f"{got}{str(err.get('msg', '')).lower()}"
    if kind == "literal_error":
        return f"not allowed; expected {ctx.get('expected', '')}{shown}"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    return f"{err.get('msg', 'invalid')}{shown}"


def from_validation_errors(errors: Sequence[Mapping[str, Any]]) -> RequestInvalid:
    problems: list[Problem] = []
    for err in errors:
        loc = tuple(err.get("loc") or ())
        if err.get("type") == "json_invalid":
            loc = ("body",)  # the JSON decoder's character offset is not a field
        problems.append(Problem("request", describe(err), field_path(loc) or None))
    if not problems:
        return RequestInvalid("the request is invalid")
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return RequestInvalid(f"the request is invalid: {first.field}: {first.message}{more}",
                          field=first.field, problems=problems)


def in_request(exc: CaseError, prefix: str = "body") -> CaseError:
    """A CaseError from parse_case, with its field paths located in the request body."""
    def where(f: str | None) -> str:
        return prefix if f in (None, "(case)") else f"{prefix}.{f}"

    problems = [Problem("body", p.message, where(p.field)) for p in exc.problems]
    if not problems:
        return CaseError(exc.message, field=where(exc.field))
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return CaseError(f"the case is invalid: {first.field}: {first.message}{more}",
                     field=first.field, problems=problems)


def policy_in_query(exc: PolicyError) -> PolicyError:
    return PolicyError(exc.message, field="query.policy", problems=exc.problems)


# ------------------------------------------------------------------ handlers


async def spinepath_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SpinepathError)
    return error_response(exc)


async def validation_error_handler(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(from_validation_errors(list(exc.errors())))


async def integrity_error_handler(_request: Request, exc: Exception) -> Response:
    """Two requests raced for the same record (a username, a case version): 409, retry."""
    log.warning("database conflict: %s", type(exc).__name__)  # the message may quote the data
    return error_response(Conflict("the request conflicts with a change made at the same time; retry it"))


async def database_error_handler(_request: Request, exc: Exception) -> Response:
    """The database went away or is locked: 503, retry (the type is logged, never the message)."""
    log.error("database unavailable: %s", type(exc).__name__)
    return error_response(NotReady("the database is unavailable; retry shortly"))


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    err: ApiError
    if status == 404:
        err = NotFound(f"no route {request.url.path}; see /docs for the routes")
    elif status == 405:
        err = MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}")
    elif status == 413:
        err = BodyTooLarge("the request body is too large")
    elif status == 401:
        err = Unauthenticated("authentication required")
    elif status == 403:
        err = Forbidden("forbidden")
    elif status >= 500:
        err = InternalError("internal error")
    else:
        # 400 from the framework: the body could not be read or decoded (e.g. not UTF-8).
        err = RequestInvalid("the request body could not be read as JSON (UTF-8)", field="body")
    resp = error_response(err, exc.headers)
    resp.status_code = status if status < 500 else 500  # keep the framework's 4xx status
    return resp
