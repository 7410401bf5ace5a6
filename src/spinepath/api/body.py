"""Case bodies: one validation path (parse_case, as the CLI uses) for every route that takes a
PatientCase, with field paths located in the request (``body.pain.leg.nrs``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from spinepath.api.errors import RequestInvalid, in_request
from spinepath.api.schemas import EARLIEST, LATEST, check_json_text
from spinepath.case.model import PatientCase
from spinepath.case.validate import parse_case
from spinepath.errors import CaseError

#: OpenAPI for a PatientCase request body (the schema is added to the components by create_app).
CASE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A PatientCase (`spinepath case schema`); every field may be absent.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PatientCase"}}},
    }
}


def case_from_body(data: Any) -> PatientCase:
    if isinstance(data, bytes | bytearray):
        raise RequestInvalid("send the case as JSON with 'Content-Type: application/json'",
                             field="header.content-type")
    bad = check_json_text(data)
    if bad is not None:
        raise RequestInvalid("text may not contain NUL characters or unpaired surrogates, and numbers "
                             "must be finite", field=f"body.{bad}" if bad else "body")
    try:
        return parse_case(data)
    except CaseError as e:
        raise in_request(e) from None


def stored_form(case: PatientCase) -> dict[str, Any]:
    """What the store keeps: the validated (normalised) case, as given (unset fields left out)."""
    return case.model_dump(mode="json", exclude_unset=True)


def check_now(now: dt.date | None) -> dt.date:
    if now is None:
        return dt.date.today()
    if not EARLIEST <= now <= LATEST:
        raise RequestInvalid(f"{now} is out of range: use a date from {EARLIEST} to {LATEST}",
                             field="query.now")
    return now
