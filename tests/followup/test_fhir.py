"""FHIR R4 QuestionnaireResponse parsing against the real CMS ACCESS MSK examples in shared/external
(which nobody on the team wrote), and the ways a response is refused, each naming where."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from spinepath.errors import AnswerError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.fhir_questionnaire import parse_questionnaire_response, score_questionnaire_response
from tests.followup.conftest import external


def load(name: str) -> dict[str, Any]:
    return dict(json.loads(external(name).read_text(encoding="utf-8")))


def test_cms_odi_example_scores_36_like_its_author(kb: Knowledge) -> None:
    data = load("QuestionnaireResponse-OswestryDisabilityIndexExample.json")
    parsed, result = score_questionnaire_response(data, kb)
    assert parsed.instrument == "odi" and parsed.reported_score == 36
    assert result.value == pytest.approx(36.0) and result.band == "moderate disability"
    # the bare valueDecimal answers were read as the section scores, in order
    assert [parsed.answers[k] for k in ("pain_intensity", "social_life", "travelling")] == [2, 3, 2]
    assert parsed.authored is not None and parsed.authored.year == 2026


def test_cms_nrs_example_needs_the_site(kb: Knowledge) -> None:
    data = load("QuestionnaireResponse-PROMISNRSExample.json")
    with pytest.raises(AnswerError) as e:
        parse_questionnaire_response(data, kb)
    assert e.value.field == "item" and "does not say which" in e.value.message
    parsed, result = score_questionnaire_response(data, kb, item="leg")
    assert parsed.instrument == "nrs" and result.values == {"leg": 6.0}
    with pytest.raises(AnswerError) as e:
        parse_questionnaire_response(data, kb, item="knee")
    assert e.value.field == "item"


def test_unmapped_questionnaire_is_refused_clearly(kb: Knowledge) -> None:
    data = load("QuestionnaireResponse-PROMISPainInterferenceSFExample.json")
    with pytest.raises(AnswerError) as e:
        parse_questionnaire_response(data, kb)
    assert e.value.field == "questionnaire" and "PROMISPainInterferenceSF" in e.value.message


def _odi() -> dict[str, Any]:
    return copy.deepcopy(load("QuestionnaireResponse-OswestryDisabilityIndexExample.json"))


@pytest.mark.parametrize(("change", "field", "words"), [
    (lambda d: d["item"][0]["answer"][0].update(valueDecimal=2.5), "item[0].answer[0].valueDecimal", "whole number"),
    (lambda d: d["item"][3]["answer"][0].update(valueDecimal=7), "item[3].answer[0]", "0-5"),
    (lambda d: d["item"][0]["answer"][0].update(valueDecimal=3), "item[10].answer[0]", "reports a score of 36"),
    (lambda d: d.update(status="in-progress"), "status", "in-progress"),
    (lambda d: d.update(resourceType="Observation"), "resourceType", "QuestionnaireResponse"),
    (lambda d: d["item"][4].update(linkId="odi-99"), "item[4].linkId", "odi-99"),
    (lambda d: d["item"][2]["answer"][0].pop("valueDecimal") and d["item"][2]["answer"][0].update(valueDate="x"),
     "item[2].answer[0]", "unsupported"),
])
def test_bad_responses_name_the_place(kb: Knowledge, change: Any, field: str, words: str) -> None:
    data = _odi()
    change(data)
    with pytest.raises(AnswerError) as e:
        score_questionnaire_response(data, kb)
    assert e.value.field == field, e.value
    assert words in str(e.value)


def test_answers_by_coding_weight_and_several_marks(kb: Knowledge) -> None:
    data = _odi()
    data["item"][0]["answer"] = [{"valueCoding": {"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": 2}], "display": "moderate"}}]
    data["item"][1]["answer"] = [{"valueDecimal": 0}, {"valueDecimal": 1}]  # two marked: highest ([NV] rule)
    parsed, result = score_questionnaire_response(data, kb)
    assert parsed.answers["pain_intensity"] == 2 and result.answers["personal_care"] == 1
    assert result.value == pytest.approx(36.0) and any("highest" in n for n in result.notes)


def test_missing_sections_are_scored_over_the_answered(kb: Knowledge) -> None:
    data = _odi()
    data["item"] = [i for i in data["item"] if i["linkId"] not in ("odi-8", "score")]  # sex life left blank
    _parsed, result = score_questionnaire_response(data, kb)
    assert result.missing == ["sex_life"] and result.value == pytest.approx(16 / 45 * 100)
