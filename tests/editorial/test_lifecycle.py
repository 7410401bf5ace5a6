"""The editorial state machine on its own (no database): who may take which step from which
state, every forbidden step, and the approval gate (content check and readability)."""

from __future__ import annotations

import itertools

import pytest

from spinepath.errors import ERROR_CODES, ApprovalBlocked, InputError, Problem, TransitionForbidden
from spinepath.knowledge import lifecycle as lc
from spinepath.knowledge.schema import Editorial, Status
from spinepath.knowledge.snapshot import Knowledge
from tests.editorial.support import BASE, HARD, ITEM, KIND, body, with_patient_text

# The workflow as the issue states it: (from state, action) -> (to state, roles). Written out
# here, independently of the code, so that a change to lifecycle.STEPS has to change this too.
ALLOWED: dict[tuple[str | None, str], tuple[str, frozenset[str]]] = {
    (None, "create"): ("draft", frozenset({"editor"})),
    ("draft", "revise"): ("draft", frozenset({"editor"})),
    ("changes_requested", "revise"): ("draft", frozenset({"editor"})),
    ("draft", "submit"): ("submitted", frozenset({"editor"})),
    ("submitted", "start-review"): ("under_review", frozenset({"reviewer"})),
    ("under_review", "approve"): ("approved", frozenset({"reviewer"})),
    ("under_review", "request-changes"): ("changes_requested", frozenset({"reviewer"})),
    ("approved", "publish"): ("published", frozenset({"editor", "reviewer"})),
    ("approved", "retire"): ("retired", frozenset({"editor", "admin"})),
    ("published", "retire"): ("retired", frozenset({"editor", "admin"})),
}
ROLES = ("clinician", "patient", "editor", "reviewer", "analyst", "admin")
STATES: tuple[str | None, ...] = (None, *lc.STATES)
FORBIDDEN = [(st, a) for st, a in itertools.product(STATES, lc.ACTIONS) if (st, a) not in ALLOWED]
ROLE_FORBIDDEN = [(st, a, r) for (st, a), (_, roles) in ALLOWED.items() for r in ROLES if r not in roles]


def ok(state: str | None, action: str, role: str, **kw: object) -> lc.Step:
    extra = {"comment": "fix the dose", "problems": []} | kw
    return lc.check(state, action, role, actor="someone", author="author", **extra)  # type: ignore[arg-type]


def test_the_table_is_the_code() -> None:
    code = {(st, s.action): (s.target, frozenset(s.roles)) for s in lc.STEPS.values() for st in s.sources}
    assert code == ALLOWED
    assert set(lc.STATES) == {"draft", "submitted", "under_review", "changes_requested", "approved", "published",
                              "retired"}
    assert len(FORBIDDEN) == len(STATES) * len(lc.ACTIONS) - len(ALLOWED) == 54


@pytest.mark.parametrize(("state", "action", "role"),
                         [(st, a, r) for (st, a), (_, roles) in ALLOWED.items() for r in sorted(roles)])
def test_allowed_steps(state: str | None, action: str, role: str) -> None:
    assert ok(state, action, role).target == ALLOWED[(state, action)][0]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN, ids=[f"{st}-{a}" for st, a in FORBIDDEN])
def test_each_forbidden_transition(state: str | None, action: str) -> None:
    """Refused for every role, naming the current state, the action and what is allowed."""
    for role in ROLES:
        with pytest.raises(TransitionForbidden) as exc:
            ok(state, action, role)
        err = exc.value
        assert err.code == "transition-forbidden" and err.field == "status"
        assert action in err.message
        if state is not None and action != "create":
            assert repr(state) in err.message
            allowed = [a for (st, a) in ALLOWED if st == state]
            for a in allowed:
                assert a in err.message
            if not allowed:
                assert "retired revision is final" in err.message


@pytest.mark.parametrize(("state", "action", "role"), ROLE_FORBIDDEN,
                         ids=[f"{st}-{a}-{r}" for st, a, r in ROLE_FORBIDDEN])
def test_each_role_that_may_not(state: str | None, action: str, role: str) -> None:
    with pytest.raises(TransitionForbidden) as exc:
        ok(state, action, role)
    assert exc.value.field == "role" and f"the {role} role may not {action}" in exc.value.message
    for allowed in ALLOWED[(state, action)][1]:
        assert allowed in exc.value.message


def test_a_reviewer_cannot_approve_their_own_revision() -> None:
    with pytest.raises(TransitionForbidden) as exc:
        lc.check("under_review", "approve", "reviewer", actor="sam", author="sam", problems=[])
    assert exc.value.field == "author" and "sam wrote this revision" in exc.value.message
    assert lc.check("under_review", "approve", "reviewer", actor="kim", author="sam", problems=[]).target == "approved"
    # requesting changes on one's own revision is allowed (it only sends it back)
    assert lc.check("under_review", "request-changes", "reviewer", actor="sam", author="sam", comment="x").action


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_request_changes_needs_a_comment(comment: str | None) -> None:
    with pytest.raises(InputError) as exc:
        lc.check("under_review", "request-changes", "reviewer", actor="kim", author="sam", comment=comment)
    assert exc.value.field == "comment"


def test_approval_needs_the_gate_run_and_passed() -> None:
    with pytest.raises(ApprovalBlocked) as exc:
        lc.check("under_review", "approve", "reviewer", actor="kim", author="sam", problems=None)
    assert "not been run" in exc.value.message
    found = [Problem("revision rv_1 (conditions/x.yaml)", "too hard", "education.patient.risks.text")]
    with pytest.raises(ApprovalBlocked) as exc:
        lc.check("under_review", "approve", "reviewer", actor="kim", author="sam", problems=found)
    assert exc.value.code == "approval-blocked" and exc.value.problems == found
    assert isinstance(exc.value, TransitionForbidden)


def test_unknown_action() -> None:
    with pytest.raises(InputError):
        lc.check("draft", "delete", "editor", actor="a")


def test_codes_are_documented_errors() -> None:
    assert {"transition-forbidden", "approval-blocked"} <= set(ERROR_CODES)


def test_states_and_stored_status() -> None:
    """Published is approved plus a publication time: stored statuses stay the schema's six."""
    schema = set(Status.__args__)  # type: ignore[attr-defined]
    for state in lc.STATES:
        assert lc.status_of(state) in schema
        assert lc.state_of(lc.status_of(state), "2026-03-01" if state == "published" else None) == state
    assert lc.state_of("approved", None) == "approved"
    assert lc.state_of("retired", "2026-03-01") == "retired"
    assert Editorial.model_fields["status"].annotation is not None
    assert [s for s in lc.STATES if lc.is_draft(s)] == ["draft", "submitted", "under_review", "changes_requested"]


# ------------------------------------------------------------------ the approval gate


def gate(data: dict[str, object]) -> list[Problem]:
    return lc.approval_problems(lc.stamp_approved(data, "kim", lc.dt.date(2026, 3, 1)), KIND, ITEM,
                                "revision rv_t (conditions/lumbar-disc-herniation.yaml)", BASE)


def test_the_gate_passes_the_bundled_item(kb: Knowledge) -> None:
    assert gate(body(kb, version="9.9.9")) == []


def test_a_failing_content_check_blocks(kb: Knowledge) -> None:
    data = body(kb, sources=[{"id": "NOT-A-SOURCE"}], colour="blue")
    problems = gate(data)
    assert any(p.field == "colour" and "unknown key 'colour'" in p.message and "allowed:" in p.message
               for p in problems), problems
    assert all(p.location.startswith("revision rv_t (conditions/lumbar-disc-herniation.yaml)") for p in problems)
    data = body(kb, sources=[{"id": "NOT-A-SOURCE"}])
    problems = gate(data)
    assert [(p.field, p.message) for p in problems] == [
        ("sources[0]", "source id 'NOT-A-SOURCE' is not in the source register (content/sources.yaml)")]


def test_cross_item_checks_run_too(kb: Knowledge) -> None:
    problems = gate(body(kb, procedures=["no-such-procedure"]))
    assert [(p.field, p.message) for p in problems] == [("procedures[0]", "unknown procedure id 'no-such-procedure'")]


def test_a_patient_section_above_grade_8_blocks(kb: Knowledge) -> None:
    problems = gate(with_patient_text(body(kb), "risks", HARD))
    assert len(problems) == 1
    p = problems[0]
    assert p.field == "education.patient.risks.text"
    grade = float(p.message.split("grade ")[1].split(";")[0])
    assert grade > 8 and "the limit is 8" in p.message


def test_discharge_text_is_gated_too(kb: Knowledge) -> None:
    proc = next(p for p in kb.procedures.values() if p.discharge is not None and p.status == "approved")
    data = proc.model_dump(mode="json")
    data["discharge"]["week_1"] = [{"text": HARD, "sources": data["discharge"]["week_1"][0]["sources"]}]
    problems = lc.approval_problems(lc.stamp_approved(data, "kim", lc.dt.date(2026, 3, 1)), "procedure", proc.id,
                                    "rv", BASE)
    assert [p.field for p in problems] == ["discharge.week_1"]


def test_the_gate_checks_id_and_kind(kb: Knowledge) -> None:
    problems = gate(body(kb, id="lumbar-spinal-stenosis"))
    assert any(p.field == "id" and "lumbar-disc-herniation" in p.message for p in problems)


def test_stamp_approved_and_prepare_body(kb: Knowledge) -> None:
    data = body(kb, status="draft")
    stamped = lc.stamp_approved(data, "kim", lc.dt.date(2026, 3, 1))
    assert stamped["status"] == "approved" and data["status"] == "draft"
    assert stamped["reviewers"][-1] == {"name": "kim", "date": "2026-03-01", "role": "reviewer"}
    assert lc.prepare_body(ITEM, KIND, {"name": "x", "updated": lc.dt.date(2026, 1, 2)}) == {
        "name": "x", "updated": "2026-01-02", "id": ITEM, "kind": KIND}
    for bad_id, bad_kind, bad_body, field in [("Bad_Id", KIND, {}, "item_id"), (ITEM, "widget", {}, "kind"),
                                              (ITEM, KIND, [], "body"), (ITEM, KIND, {"id": "other"}, "body.id"),
                                              (ITEM, KIND, {"kind": "procedure"}, "body.kind")]:
        with pytest.raises(InputError) as exc:
            lc.prepare_body(bad_id, bad_kind, bad_body)
        assert exc.value.field == field
