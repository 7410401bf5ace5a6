"""FHIR R4 QuestionnaireResponse -> our instrument answers (plain dicts; no FHIR library).

The instrument is found from the response's ``questionnaire`` canonical URL (version dropped),
else from its linkIds; each linkId maps to an item through the instrument's content
(``fhir_link_ids``). A linkId that rates pain without naming the site (a PROMIS-style NRS item)
is mapped to the site the caller names (``item``), never guessed.

Answer values, and how each is read:

- ``valueInteger``; ``valueBoolean`` (yes/no items); ``valueCoding`` with an ``ordinalValue`` or
  ``itemWeight`` extension (the scored value), or whose code or display is one of the item's choices;
- ``valueDecimal`` — a *bare number*. The CMS ODI example answers every section this way. It is
  accepted when it is unambiguous: a whole number inside the item's range (2 or 2.0 for an ODI
  section scored 0-5); anything else (2.5, 7 for a 0-5 section) is refused naming the item.
- several answers to one item are passed on as several marks; the instrument decides (the ODI
  takes the highest, [NV] rule in content; other items refuse).

A reported total (the instrument's ``score_link_id``, e.g. the ODI score item 97909-6) is checked
against our own score: a response whose reported score differs is refused, because it means the
answers were not read the way its author scored them.

Every problem is an AnswerError whose ``field`` is the place in the resource, e.g.
``item[3].answer[0].valueDecimal``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, Field

from spinepath.errors import AnswerError, Problem
from spinepath.knowledge import instrument_schema as s
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.instruments import InstrumentDef, Score, instrument, score

ACCEPTED_STATUS = ("completed", "amended")
WEIGHT_URLS = ("http://hl7.org/fhir/StructureDefinition/ordinalValue",
               "http://hl7.org/fhir/StructureDefinition/itemWeight",
               "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue")
SCORE_TOLERANCE = 0.05  # percent points: reported scores are often rounded to one decimal


class FhirAnswers(BaseModel):
    """What a QuestionnaireResponse says, in our terms."""

    instrument: str
    answers: dict[str, Any]
    questionnaire: str | None = None
    authored: dt.datetime | None = None
    reported_score: float | None = None
    reported_score_path: str | None = None
    paths: dict[str, str] = Field(default_factory=dict, description="item id -> where it is in the resource")


def _fail(message: str, field: str) -> AnswerError:
    return AnswerError(message, field=field, problems=[Problem("QuestionnaireResponse", message, field)])


def _items(items: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every item (groups flattened), with its path in the resource."""
    if items is None:
        return
    if not isinstance(items, list):
        raise _fail("must be a list of items", path)
    for i, it in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(it, Mapping):
            raise _fail("an item must be an object", where)
        yield where, it
        yield from _items(it.get("item"), f"{where}.item")
        for j, ans in enumerate(it.get("answer") or []):
            if isinstance(ans, Mapping) and ans.get("item") is not None:
                yield from _items(ans.get("item"), f"{where}.answer[{j}].item")


def _weight(coding: Mapping[str, Any]) -> float | None:
    for ext in coding.get("extension") or []:
        if isinstance(ext, Mapping) and ext.get("url") in WEIGHT_URLS:
            v = ext.get("valueDecimal", ext.get("valueInteger"))
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return float(v)
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _answer_value(ans: Mapping[str, Any], item: s.InstrumentItem | None, where: str) -> Any:
    """One FHIR answer as a plain value our scoring reads."""
    if "valueBoolean" in ans:
        return ans["valueBoolean"]
    if "valueInteger" in ans:
        return ans["valueInteger"]
    if "valueDecimal" in ans:
        v = _number(ans["valueDecimal"])
        if v is None or not v.is_integer():
            limits = f" {item.minimum}-{item.maximum}" if item and item.type == "integer" else ""
            raise _fail(f"a bare number answer is accepted only when it is a whole number{limits}; "
                        f"got {ans['valueDecimal']!r}", f"{where}.valueDecimal")
        return int(v)
    if "valueCoding" in ans:
        coding = ans["valueCoding"]
        if not isinstance(coding, Mapping):
            raise _fail("valueCoding must be an object", f"{where}.valueCoding")
        w = _weight(coding)
        if w is not None:
            if not w.is_integer():
                raise _fail(f"the coded answer's weight {w} is not a whole number", f"{where}.valueCoding")
            return int(w)
        for key in ("code", "display"):
            if isinstance(coding.get(key), str):
                return coding[key]
        raise _fail("a coded answer needs an ordinalValue/itemWeight extension, a code or a display",
                    f"{where}.valueCoding")
    if "valueString" in ans and isinstance(ans["valueString"], str):
        return ans["valueString"]
    raise _fail("unsupported answer type; use valueInteger, valueDecimal (whole number), valueBoolean or "
                "valueCoding", where)


def _find_instrument(kb: Knowledge, url: str | None, link_ids: list[str]) -> InstrumentDef:
    if url:
        for ins in kb.instruments.values():
            if ins.fhir and url in ins.fhir.questionnaires:
                return instrument(kb, ins.id)
    candidates = []
    for ins in kb.instruments.values():
        if ins.fhir is None:
            continue
        known = {link for it in ins.items for link in it.fhir_link_ids} | set(ins.fhir.item_from_request)
        if ins.fhir.score_link_id:
            known.add(ins.fhir.score_link_id)
        if link_ids and set(link_ids) <= known:
            candidates.append(ins.id)
    if len(candidates) == 1:
        return instrument(kb, candidates[0])
    mapped = sorted(u for ins in kb.instruments.values() if ins.fhir for u in ins.fhir.questionnaires)
    raise _fail(f"questionnaire {url!r} is not one spinepath maps and its linkIds do not identify one "
                f"instrument; known questionnaires: {', '.join(mapped)}", "questionnaire")


def parse_questionnaire_response(data: Any, kb: Knowledge, item: str | None = None) -> FhirAnswers:
    """Read a QuestionnaireResponse (a JSON object) into an instrument and answers. ``item`` names
    our item for linkIds that do not say which one they answer (a pain score without a site)."""
    if not isinstance(data, Mapping):
        raise _fail("a QuestionnaireResponse is a JSON object", "(resource)")
    if data.get("resourceType") != "QuestionnaireResponse":
        raise _fail(f"resourceType must be 'QuestionnaireResponse', got {data.get('resourceType')!r}", "resourceType")
    status = data.get("status")
    if status not in ACCEPTED_STATUS:
        raise _fail(f"status must be one of {', '.join(ACCEPTED_STATUS)} (answers still in progress, stopped or "
                    f"entered in error are not scored); got {status!r}", "status")
    url = data.get("questionnaire")
    if url is not None and not isinstance(url, str):
        raise _fail("questionnaire must be a canonical URL", "questionnaire")
    canonical = url.split("|", 1)[0] if url else None
    flat = list(_items(data.get("item"), "item"))
    link_ids = [str(it.get("linkId")) for _, it in flat if it.get("answer")]
    defn = _find_instrument(kb, canonical, link_ids)
    fhir = defn.content.fhir
    assert fhir is not None
    by_link = {link: it for it in defn.content.items for link in it.fhir_link_ids}
    own = {it.id: it for it in defn.own_items()}
    answers: dict[str, Any] = {}
    paths: dict[str, str] = {}
    reported: float | None = None
    reported_path: str | None = None
    for where, it in flat:
        link = it.get("linkId")
        raw_answers = it.get("answer") or []
        if not isinstance(raw_answers, list):
            raise _fail("answer must be a list", f"{where}.answer")
        if not raw_answers:
            continue  # an unanswered item (or a group)
        if link == fhir.score_link_id:
            ans = raw_answers[0]
            if not isinstance(ans, Mapping):
                raise _fail("an answer must be an object", f"{where}.answer[0]")
            coding = ans.get("valueCoding")
            reported = (_weight(coding) if isinstance(coding, Mapping)
                        else _number(ans.get("valueDecimal", ans.get("valueInteger"))))
            if reported is None and isinstance(ans.get("valueQuantity"), Mapping):
                reported = _number(ans["valueQuantity"].get("value"))
            if reported is None:
                raise _fail("the reported score has no number", f"{where}.answer[0]")
            reported_path = f"{where}.answer[0]"
            continue
        if link in fhir.item_from_request:
            if item is None:
                raise _fail(f"linkId {link!r} does not say which {defn.content.short_name} item it answers; name it "
                            f"(one of {', '.join(own)})", "item")
            if item not in own:
                raise _fail(f"unknown item {item!r} for instrument {defn.id!r}; items: {', '.join(own)}", "item")
            target = own[item]
        elif link in by_link:
            target = by_link[link]
        else:
            known = sorted([*by_link, *fhir.item_from_request, *([fhir.score_link_id] if fhir.score_link_id else [])])
            raise _fail(f"linkId {link!r} is not an item of {defn.content.short_name}; known linkIds: "
                        f"{', '.join(known)}", f"{where}.linkId")
        if target.id in answers:
            raise _fail(f"item {target.id!r} is answered twice", f"{where}.linkId")
        values = []
        for j, ans in enumerate(raw_answers):
            if not isinstance(ans, Mapping):
                raise _fail("an answer must be an object", f"{where}.answer[{j}]")
            values.append(_answer_value(ans, target, f"{where}.answer[{j}]"))
        answers[target.id] = values[0] if len(values) == 1 else values
        paths[target.id] = f"{where}.answer[0]"
    authored = None
    if data.get("authored") is not None:
        try:
            authored = dt.datetime.fromisoformat(str(data["authored"]).replace("Z", "+00:00"))
        except ValueError:
            raise _fail(f"authored must be a FHIR dateTime, got {data['authored']!r}", "authored") from None
    return FhirAnswers(instrument=defn.id, answers=answers, questionnaire=canonical, authored=authored,
                       reported_score=reported, reported_score_path=reported_path, paths=paths)


def score_questionnaire_response(data: Any, kb: Knowledge, item: str | None = None) -> tuple[FhirAnswers, Score]:
    """Parse and score a QuestionnaireResponse; a reported total must equal ours. Errors name the
    place in the resource."""
    parsed = parse_questionnaire_response(data, kb, item)
    defn = instrument(kb, parsed.instrument)
    try:
        result = score(defn, parsed.answers)
    except AnswerError as e:
        problems = [Problem("QuestionnaireResponse", p.message, _resource_path(parsed, p.field)) for p in e.problems]
        first = problems[0] if problems else None
        raise AnswerError(f"{e.message}" if first is None else f"the response does not fit {defn.id!r}: "
                          f"{first.field}: {first.message}", field=first.field if first else None,
                          problems=problems) from None
    if parsed.reported_score is not None:
        ours = result.value
        if ours is None or abs(ours - parsed.reported_score) > SCORE_TOLERANCE:
            shown = "cannot be scored (" + "; ".join(result.notes) + ")" if ours is None else f"score {ours:.1f}"
            raise _fail(f"the response reports a score of {parsed.reported_score:g} but its answers {shown}; "
                        "refused, because the answers were not read the way the sender scored them",
                        parsed.reported_score_path or "item")
    return parsed, result


def _resource_path(parsed: FhirAnswers, field: str | None) -> str | None:
    if field and field.startswith("answers."):
        return parsed.paths.get(field.split(".", 1)[1], field)
    return field
