"""The lay-term lexicon is content: validated strictly by `spinepath content check`, its urgent
advice pointing at approved warning signs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from spinepath.errors import ContentError
from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge
from spinepath.qa.lexicon import LEXICON_FILE, Lexicon, resolve_advice

BUNDLED = Path(__file__).resolve().parents[2] / "src" / "spinepath" / "content" / LEXICON_FILE


def _overlay(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    for dotted, value in change.items():
        target = data
        *path, last = dotted.split(".")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    (tmp_path / LEXICON_FILE).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return tmp_path


def _problems(tmp_path: Path) -> list[str]:
    with pytest.raises(ContentError) as err:
        load_knowledge(tmp_path, use_env=False)
    return [str(p) for p in err.value.problems]


def test_every_emergency_points_at_one_approved_urgent_sign(kb: Knowledge, lexicon: Lexicon) -> None:
    for em in lexicon.emergencies:
        advice = resolve_advice(em.advice, kb.shared, kb.items())
        assert not isinstance(advice, str), (em.id, advice)
        assert advice.urgency in ("emergency", "call_today") and advice.sources
        if advice.item_id != "shared":
            assert kb.items()[advice.item_id].status == "approved"


def test_unknown_keys_are_refused_naming_the_path(tmp_path: Path) -> None:
    problems = _problems(_overlay(tmp_path, {"scope.colour": "blue"}))
    assert any("lexicon.yaml" in p and "scope.colour" in p and "unknown key" in p for p in problems), problems


def test_unknown_item_ids_are_refused(tmp_path: Path) -> None:
    problems = _problems(_overlay(tmp_path, {"terms.0.items": ["no-such-item"]}))
    assert any("terms[0].items[0]" in p and "no-such-item" in p for p in problems), problems


def test_advice_must_pick_exactly_one_sign(tmp_path: Path) -> None:
    problems = _problems(_overlay(tmp_path, {"emergencies.0.advice": {"item": "shared", "sign_contains": "the"}}))
    assert any("emergencies[0].advice" in p and "exactly one" in p for p in problems), problems


def test_advice_may_not_come_from_content_under_review(tmp_path: Path, kb: Knowledge) -> None:
    item = next(p for p in kb.procedures.values() if p.status != "approved" and p.warning_signs)
    sign = item.warning_signs[0].sign[:20]
    problems = _problems(_overlay(tmp_path, {"emergencies.0.advice": {"item": item.id, "sign_contains": sign}}))
    assert any("approved" in p and "emergencies[0].advice" in p for p in problems), problems


def test_phrases_are_lower_case(tmp_path: Path) -> None:
    problems = _problems(_overlay(tmp_path, {"negations.0": "No"}))
    assert any("negations[0]" in p for p in problems), problems
