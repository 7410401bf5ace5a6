"""POST /assess: stateless assessment of one case (nothing is stored, nothing is audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from spinepath.api.body import CASE_BODY, case_from_body, check_now
from spinepath.api.deps import Clinician, Services, Svc
from spinepath.api.errors import policy_in_query
from spinepath.errors import PolicyError
from spinepath.rules.assessment import Assessment, assessment_json
from spinepath.rules.engine import assess

router = APIRouter(tags=["assessment"])

PolicyQuery = Annotated[str | None, Query(max_length=80, description="Policy profile id; default: the site's")]
NowQuery = Annotated[dt.date | None, Query(description="Assess as of this date (ISO); default today")]

@router.post(
    "/assess",
    summary="Assess a case (stateless)",
    response_class=Response,
    responses={200: {"model": Assessment, "description": "The assessment"}},
    openapi_extra=CASE_BODY,
)
async def assess_case(
    _who: Clinician,
    svc: Svc,
    case: Annotated[Any, Body()],
    policy: PolicyQuery = None,
    now: NowQuery = None,
) -> Response:
    """Assess one PatientCase and return the Assessment. Clinicians only. Nothing is stored.

    Decision support for a clinician, not a diagnosis.
    """
    return Response(await svc.lane.run(_assessed, svc, case, policy, now), media_type="application/json")


def _assessed(svc: Services, case: Any, policy: str | None, now: dt.date | None) -> bytes:
    """Validate, assess and serialise: all the CPU work, run in the service's compute lane."""
    parsed = case_from_body(case)
    try:
        result = assess(parsed, svc.knowledge, policy or svc.settings.default_policy, check_now(now))
    except PolicyError as e:
        raise policy_in_query(e) from None
    return assessment_json(result)
