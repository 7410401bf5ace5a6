"""Education documents: articles on conditions and procedures, and discharge sheets.

- ``GET /articles/{item_id}?audience=patient|clinician&format=html|md|pdf`` — any signed-in role.
  A patient reads patient articles of approved items only (anything else is 404, or 403 for
  audience=clinician); the other roles read both audiences of approved items and items under
  review. A patient article exists only for an approved item (422 on ``query.audience``).
- ``GET /procedures/{procedure_id}/discharge?format=html|pdf&clinic_phone=`` — the discharge sheet
  for a stored (performed) procedure: a clinician, or the patient for their own procedure (anyone
  else's is 404, like the other patient routes). The reads of the procedure and of the patient's
  name are audited through the repositories.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from spinepath.api.deps import AnyRole, PatientData, Svc, actor, check_own, not_found
from spinepath.api.errors import Forbidden, NotFound, RequestInvalid
from spinepath.api.routes.content import visible
from spinepath.api.routes.patients import ProcedureId
from spinepath.education.articles import Article, build_article
from spinepath.education.discharge import DischargeSheet, build_discharge
from spinepath.education.render import render_html, render_markdown, render_pdf
from spinepath.errors import InputError
from spinepath.store import followups, repo
from spinepath.store import models as m

router = APIRouter(tags=["education"])

MEDIA = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8", "pdf": "application/pdf"}


def _content(formats: tuple[str, ...], what: str) -> dict[int | str, dict[str, Any]]:
    schemas = {"html": {"type": "string"}, "md": {"type": "string"}, "pdf": {"type": "string", "format": "binary"}}
    return {200: {"description": f"The {what} as {', '.join(formats)} (per `format`)",
                  "content": {MEDIA[f].split(";")[0]: {"schema": schemas[f]} for f in formats}}}


def _document(doc: Article | DischargeSheet, fmt: str, filename: str) -> Response:
    if fmt == "pdf":
        return Response(render_pdf(doc), media_type=MEDIA["pdf"],
                        headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})
    body = render_markdown(doc) if fmt == "md" else render_html(doc)
    return Response(body, media_type=MEDIA[fmt])


ItemId = Annotated[str, Path(max_length=80, description="Condition or procedure id, e.g. rf-facet-lumbar")]
AudienceQuery = Annotated[Literal["patient", "clinician"], Query(description="Who the article is written for")]
ArticleFormat = Annotated[Literal["html", "md", "pdf"], Query(alias="format", description="html, md or pdf")]
SheetFormat = Annotated[Literal["html", "pdf"], Query(alias="format", description="html or pdf")]
ClinicPhone = Annotated[str | None, Query(max_length=40, pattern=r"^[0-9A-Za-z+()./ -]{1,40}$",
                                          description="The number the patient should call, printed on the sheet")]


@router.get("/articles/{item_id}", response_class=Response, responses=_content(("html", "md", "pdf"), "article"))
def get_article(item_id: ItemId, who: AnyRole, svc: Svc, audience: AudienceQuery = "patient",
                fmt: ArticleFormat = "html") -> Response:
    """An education article on a condition or procedure (any signed-in role; patients: patient
    articles of approved items only)."""
    kb = svc.knowledge
    if who.role == "patient" and audience != "patient":
        raise Forbidden("a patient account reads patient articles only (audience=patient)")
    item = kb.conditions.get(item_id) or kb.procedures.get(item_id)
    if item is None or item.status not in visible(who):
        raise not_found("article", item_id, "path.item_id")
    if audience == "patient" and item.status != "approved":
        raise RequestInvalid(f"{item_id} is {item.status.replace('_', ' ')}: patient articles are published for "
                             "approved items only; use audience=clinician to read it", field="query.audience")
    return _document(build_article(kb, item_id, audience), fmt, f"{item_id}-{audience}")


@router.get("/procedures/{procedure_id}/discharge", response_class=Response,
            responses=_content(("html", "pdf"), "discharge sheet"))
def get_discharge(procedure_id: ProcedureId, who: PatientData, request: Request, svc: Svc,
                  fmt: SheetFormat = "html", clinic_phone: ClinicPhone = None) -> Response:
    """The discharge sheet for a performed procedure (clinician; a patient: their own)."""
    with svc.sessions() as s, s.begin():
        row = s.get(m.ProcedurePerformed, procedure_id)
        check_own(who, row.patient_id if row else None, "procedure", procedure_id, "path.procedure_id")
        if row is None or followups.get_procedure(s, actor(who, request), procedure_id) is None:
            raise not_found("procedure", procedure_id, "path.procedure_id")
        patient = repo.get_patient(s, actor(who, request), row.patient_id)
        points = [(p.label, p.due_on) for p in followups.schedule_for(s, row.id)]
        try:
            sheet = build_discharge(svc.knowledge, row.procedure_id, row.performed_on, level=row.level,
                                    side=row.side, patient=patient.name if patient else None,
                                    clinic_phone=clinic_phone, followups=points or None)
        except InputError as e:
            if e.field == "procedure":
                raise NotFound(f"no discharge sheet for procedure {procedure_id!r}: {e.message}",
                               field="path.procedure_id") from None
            raise
    return _document(sheet, fmt, f"discharge-{procedure_id}")
