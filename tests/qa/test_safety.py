"""Safety first: emergencies before anything else (lay words, typos, negation), polite declines
for questions outside spine and nerve pain, never a dose, never a diagnosis."""

from __future__ import annotations

import pytest

from spinepath.qa.answer import ask
from spinepath.qa.evaluate import DevQuestion
from spinepath.qa.index import QaEngine
from spinepath.qa.lexicon import resolve_advice
from spinepath.qa.text import words


@pytest.mark.parametrize(("question", "emergency"), [
    ("I can't pee since this morning", "cauda-equina"),
    ("it feels numb down there", "cauda-equina"),
    ("my face is drooping on one side", "stroke"),
    ("i have a feverr after the injection", "infection"),
    ("bad headache, my neck is stiff", "meningitis"),
    ("crushing chest pain", "chest-pain"),
    ("My leg is getting weaker fast", "worsening-weakness"),
])
def test_emergencies_in_lay_words_get_approved_advice(engine: QaEngine, question: str, emergency: str) -> None:
    answer = ask(engine, question)
    assert answer.urgent, question
    found = {e.id: e for e in answer.urgent.emergencies}
    assert emergency in found
    em = next(e for e in engine.lexicon.emergencies if e.id == emergency)
    advice = resolve_advice(em.advice, engine.knowledge.shared, engine.knowledge.items())
    assert not isinstance(advice, str)
    assert found[emergency].action == advice.action and advice.action in answer.urgent.advice
    cite = answer.urgent.citations[found[emergency].citation - 1]
    assert (cite.item_id, cite.section) == (advice.item_id, advice.section)
    assert cite.source_ids == list(dict.fromkeys(r.id for r in advice.sources))


@pytest.mark.parametrize("question", [
    "No fever, and the wound looks fine. When can I shower?",
    "I don't have a fever. Can I drive after my epidural?",
    "I have no numbness down there and I can pee fine",
    "What is cauda",  # a word is not a symptom
])
def test_negated_or_absent_symptoms_are_not_emergencies(engine: QaEngine, question: str) -> None:
    assert ask(engine, question).urgent is False, question


def test_a_negation_does_not_reach_across_but(engine: QaEngine) -> None:
    answer = ask(engine, "I have no fever but the wound is hot and swollen")
    assert answer.urgent and [e.id for e in answer.urgent.emergencies] == ["infection"]


def test_urgent_advice_comes_first_and_the_rest_is_still_answered(engine: QaEngine) -> None:
    answer = ask(engine, "I have saddle numbness after my epidural, and how long does the steroid take to work?")
    data = answer.model_dump(mode="json")
    assert list(data)[2] == "urgent" and data["urgent"]["urgent"] is True
    assert data["urgent"]["level"] == "emergency"
    assert answer.sentences and all(c.item_id.startswith("esi-") for c in answer.citations)


def test_urgent_advice_even_when_the_rest_is_declined(engine: QaEngine) -> None:
    answer = ask(engine, "I wet myself and my legs are numb. How much tramadol should I take?")
    assert answer.urgent and answer.declined and answer.declined.kind == "dose"


def test_a_question_that_is_only_an_emergency_gets_only_the_advice(engine: QaEngine) -> None:
    answer = ask(engine, "I can't pee and my legs are numb")
    assert answer.urgent and not answer.sentences and answer.answer == ""


@pytest.mark.parametrize("question", [
    "What is a good recipe for lasagne?", "How do I file my tax return?", "Recovery after a knee replacement?",
    "Does a root canal at the dentist hurt?", "What is the capital of France?",
])
def test_off_topic_is_declined_politely(engine: QaEngine, question: str) -> None:
    answer = ask(engine, question)
    assert answer.declined and answer.declined.kind == "off_topic"
    assert answer.answer == answer.declined.reason and not answer.citations


def test_in_scope_questions_naming_other_body_parts_are_not_declined(engine: QaEngine) -> None:
    """"knee" alone is off-topic; with "sciatica" the question is about spine and nerve pain."""
    assert ask(engine, "Does my knee hurt?").declined
    assert ask(engine, "Does sciatica cause pain below the knee?").declined is False


@pytest.mark.parametrize("question", [
    "How much ibuprofen should I take?", "what is the maximum dose of pregabalin", "Is 600mg of gabapentin a lot?",
    "How many tablets of paracetamol can I take?",
])
def test_dose_requests_are_declined(engine: QaEngine, question: str) -> None:
    answer = ask(engine, question)
    assert answer.declined and answer.declined.kind == "dose" and not answer.sentences


def test_no_answer_sentence_ever_carries_a_dose(engine: QaEngine, devset: list[DevQuestion]) -> None:
    extra = ["What steroid is used in an epidural injection?", "What medicines help sciatica?",
             "What is first-line drug treatment for trigeminal neuralgia?"]
    for question in [q.question for q in devset] + extra:
        for audience in ("patient", "clinician"):
            for sent in ask(engine, question, audience).sentences:
                assert not engine.safety.has_dose(words(sent.text)), (question, sent.text)


def test_the_dose_filter_drops_a_sentence_with_a_dose(engine: QaEngine) -> None:
    assert engine.safety.has_dose(words("Inject 40 mg of methylprednisolone."))
    assert engine.safety.has_dose(words("a residual under 200 mL"))
    assert not engine.safety.has_dose(words("About 4 in 10 people got better within 6 weeks."))


@pytest.mark.parametrize("question", [
    "Do I have a slipped disc?", "What is wrong with my back?", "Is my face pain trigeminal neuralgia?",
    "Could it be sciatica?", "My leg hurts when I walk, is it spinal stenosis?",
])
def test_diagnosis_requests_are_declined_pointing_to_the_care_team(engine: QaEngine, question: str) -> None:
    answer = ask(engine, question)
    assert answer.declined and answer.declined.kind == "diagnosis"
    assert "care team" in answer.declined.reason


@pytest.mark.parametrize("question", [
    "Do I have to stop my blood thinner before the injection?", "Is it safe to have an epidural with a slipped disc?",
    "Is my back pain going to get better?", "How is a herniated disc diagnosed?",
])
def test_questions_about_conditions_are_not_diagnosis_requests(engine: QaEngine, question: str) -> None:
    answer = ask(engine, question)
    assert answer.declined is False and answer.sentences, question
