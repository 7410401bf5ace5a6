"""Answers quote approved content only, sentence by sentence, each with its citation; they are
shaped for the audience; nothing fits → the plain "no approved information" message."""

from __future__ import annotations

import pytest

from spinepath.errors import InputError
from spinepath.qa.answer import Answer, ask
from spinepath.qa.evaluate import DevQuestion
from spinepath.qa.index import QaEngine
from spinepath.qa.passages import build_passages
from spinepath.qa.text import citation_markers, sentences


def _quotable(engine: QaEngine, audience: str) -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """(item, section) -> (its sentences without markers, its source ids), for one audience."""
    out: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for p in engine.indexes[audience].passages:
        texts, ids = out.setdefault((p.item_id, p.section), (set(), set()))
        texts.update(citation_markers(s)[0] for s in sentences(p.text))
        ids.update(r.id for r in p.sources)
    return out


def _check_grounded(engine: QaEngine, answer: Answer) -> None:
    quotable = _quotable(engine, answer.audience)
    by_n = {c.n: c for c in answer.citations}
    for sent in answer.sentences:
        cite = by_n[sent.citation]
        texts, ids = quotable[(cite.item_id, cite.section)]
        assert sent.text in texts, (answer.question, sent.text)
        assert cite.source_ids and set(cite.source_ids) <= ids
        assert f"{sent.text} [{sent.citation}]" in answer.answer


def test_every_sentence_is_a_cited_sentence_of_approved_content(engine: QaEngine, devset: list[DevQuestion]) -> None:
    answered = 0
    for q in devset:
        answer = ask(engine, q.question, q.audience)
        _check_grounded(engine, answer)
        answered += bool(answer.sentences)
        assert 0 <= len(answer.sentences) <= 4
        assert answer.disclaimer == " ".join(engine.knowledge.shared.disclaimer.split())
    assert answered >= 60


def test_patients_never_get_content_under_review(engine: QaEngine) -> None:
    kb = engine.knowledge
    under_review = {i for i, item in kb.items().items() if item.status != "approved"}
    assert {"rf-facet-lumbar", "spinal-fusion"} <= under_review
    for question in ("What is lumbar facet radiofrequency ablation?", "What happens during a spinal fusion?",
                     "How long does RF denervation of the medial branches last?"):
        for audience in ("patient", "clinician"):
            answer = ask(engine, question, audience)
            assert not {c.item_id for c in answer.citations} & under_review, (question, audience)
    assert not {p.item_id for p in build_passages(kb)} & under_review


def test_clinicians_get_clinician_text_and_its_own_sources(engine: QaEngine) -> None:
    answer = ask(engine, "What are the complications of transforaminal epidural steroid injection?", "clinician")
    assert answer.sentences and answer.audience == "clinician"
    _check_grounded(engine, answer)
    patient = ask(engine, "What are the complications of transforaminal epidural steroid injection?", "patient")
    assert {s.text for s in answer.sentences}.isdisjoint({s.text for s in patient.sentences})
    assert all("[" not in s.text for s in answer.sentences)  # per-section markers become the citation


def test_lay_words_reach_the_clinical_item(engine: QaEngine) -> None:
    cases = {
        "What is a slipped disc?": "lumbar-disc-herniation",
        "Can scar tissue after surgery cause pain?": "failed-back-surgery-syndrome",
        "What is keyhole surgery for a disc?": "endoscopic-discectomy-transforaminal",
        "The doctor talked about burning the nerve. What is that?": "facet-joint-pain",
    }
    for question, item in cases.items():
        answer = ask(engine, question)
        assert answer.sentences, question
        assert any(item in c.item_id for c in answer.citations), (question, answer.citations)


def test_will_i_be_awake_is_answered_from_what_happens_during(engine: QaEngine) -> None:
    answer = ask(engine, "Will I be awake for my epidural?")
    assert {c.section for c in answer.citations} & {"during"}
    assert any("awake" in s.text.lower() for s in answer.sentences)


def test_typos_are_read_as_the_content_words(engine: QaEngine) -> None:
    answer = ask(engine, "waht is sciatca")
    assert answer.corrections == {"waht": "what", "sciatca": "sciatica"}
    assert any(c.item_id == "lumbar-radiculopathy" for c in answer.citations)


def test_nothing_fits_gives_the_plain_message(engine: QaEngine) -> None:
    message = " ".join(engine.lexicon.messages.no_information.split())
    for question in ("How much does a spinal cord stimulator cost?", "What is a tarlov cyst in the spine?"):
        answer = ask(engine, question)
        assert answer.answer == message and not answer.sentences and not answer.citations
        assert answer.declined is False and answer.urgent is False


def test_answers_have_the_documented_json_shape(engine: QaEngine) -> None:
    data = ask(engine, "What is a slipped disc?").model_dump(mode="json")
    assert list(data) == ["question", "audience", "urgent", "declined", "answer", "sentences", "citations",
                          "retrieval", "corrections", "disclaimer"]
    assert data["urgent"] is False and data["declined"] is False and data["retrieval"] == "lexical"
    assert set(data["citations"][0]) == {"n", "item_id", "item_name", "section", "heading", "source_ids",
                                         "revision_id"}


@pytest.mark.parametrize("question", ["", "   ", "x" * 1001, "a\x00b"])
def test_unusable_questions_are_refused_naming_the_field(engine: QaEngine, question: str) -> None:
    with pytest.raises(InputError) as err:
        ask(engine, question)
    assert err.value.field == "question"


def test_unknown_audience_is_refused(engine: QaEngine) -> None:
    with pytest.raises(InputError) as err:
        ask(engine, "What is sciatica?", "nurse")
    assert err.value.field == "audience"
