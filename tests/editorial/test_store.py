"""The workflow in the store, on SQLite and PostgreSQL: migration 0002, revision numbers, every
transition kept with who and when, one live revision per item, the approval gate, items due."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from spinepath.errors import ApprovalBlocked, TransitionForbidden
from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import models as m
from spinepath.store import repo
from spinepath.store.db import make_engine
from spinepath.store.migrate import alembic_config, current_revision, head_revision
from tests.editorial.support import (
    ADMIN,
    BASE,
    DAY,
    EDITOR,
    EDITOR2,
    HARD,
    ITEM,
    KIND,
    REVIEWER,
    REVIEWER2,
    body,
    revision_in,
    with_patient_text,
)


def test_migration_0002_applies_and_reverts(db_url: str) -> None:
    from alembic import command

    engine = make_engine(db_url)
    try:
        assert current_revision(engine) == head_revision(db_url)  # 0002 or a later head
        insp = inspect(engine)
        assert {c["name"] for c in insp.get_columns("content_transitions")} == {
            "id", "revision_id", "from_status", "to_status", "action", "actor", "role", "at", "comment"}
        assert "published_at" in {c["name"] for c in insp.get_columns("content_revisions")}
        assert "uq_content_revisions_live" in {i["name"] for i in insp.get_indexes("content_revisions")}
        engine.dispose()
        command.downgrade(alembic_config(db_url), "0001")
        assert current_revision(engine) == "0001"
        assert "content_transitions" not in inspect(engine).get_table_names()
        engine.dispose()
        command.upgrade(alembic_config(db_url), "head")
        command.check(alembic_config(db_url))  # the models and the migrated schema agree
        assert current_revision(engine) == head_revision(db_url)
    finally:
        engine.dispose()


def test_revisions_are_numbered_per_item(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        a = repo.create_revision(s, ITEM, KIND, body(kb), EDITOR)
        b = repo.create_revision(s, ITEM, KIND, body(kb), EDITOR2)
        c = repo.create_revision(s, "esi-caudal", "procedure", body(kb, "esi-caudal"), EDITOR)
        assert (a.revision, b.revision, c.revision) == (1, 2, 1)
        assert a.status == "draft" and a.author == "ed.itor" and a.body["id"] == ITEM
    with sessions() as s:
        assert [r.revision for r in repo.list_revisions(s, ITEM)] == [1, 2]
        assert len(repo.list_revisions(s)) == 3
        newest = repo.newest_revision(s, ITEM)
        assert newest is not None and newest.revision == 2


def test_only_editors_draft(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        for who in (REVIEWER, ADMIN, repo.Actor(None, "doc", "clinician")):
            with pytest.raises(TransitionForbidden):
                repo.create_revision(s, ITEM, KIND, body(kb), who)


def test_every_transition_is_kept_with_who_and_when(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    before = m.utcnow()
    with sessions() as s, s.begin():
        rev = repo.create_revision(s, ITEM, KIND, body(kb, version="1.1.0"), EDITOR)
        repo.transition(s, rev, "submit", EDITOR)
        repo.transition(s, rev, "start-review", REVIEWER)
        repo.transition(s, rev, "request-changes", REVIEWER, comment="Say how long the relief lasts.")
        repo.transition(s, rev, "revise", EDITOR2, body=body(kb, version="1.1.1"), comment="done")
        repo.transition(s, rev, "submit", EDITOR2)
        repo.transition(s, rev, "start-review", REVIEWER2)
        repo.approve_revision(s, rev, REVIEWER2, BASE, today=DAY)
        repo.transition(s, rev, "publish", REVIEWER2)
        repo.transition(s, rev, "retire", ADMIN, comment="replaced by the bundled text")
        rev_id = rev.id
    with sessions() as s:
        steps = [(t.from_status, t.to_status, t.action, t.actor, t.role, t.comment)
                 for t in repo.list_transitions(s, rev_id)]
        assert steps == [
            (None, "draft", "create", "ed.itor", "editor", None),
            ("draft", "submitted", "submit", "ed.itor", "editor", None),
            ("submitted", "under_review", "start-review", "rita.reviewer", "reviewer", None),
            ("under_review", "changes_requested", "request-changes", "rita.reviewer", "reviewer",
             "Say how long the relief lasts."),
            ("changes_requested", "draft", "revise", "eve.editor", "editor", "done"),
            ("draft", "submitted", "submit", "eve.editor", "editor", None),
            ("submitted", "under_review", "start-review", "rex.reviewer", "reviewer", None),
            ("under_review", "approved", "approve", "rex.reviewer", "reviewer", None),
            ("approved", "published", "publish", "rex.reviewer", "reviewer", None),
            ("published", "retired", "retire", "ada.admin", "admin", "replaced by the bundled text"),
        ]
        ats = [t.at if t.at.tzinfo else t.at.replace(tzinfo=dt.UTC) for t in repo.list_transitions(s, rev_id)]
        assert all(before - dt.timedelta(seconds=5) <= a <= m.utcnow() for a in ats) and ats == sorted(ats)
        rev = repo.get_revision(s, rev_id)
        assert rev is not None and rev.status == "retired" and rev.body["version"] == "1.1.1"
        assert rev.reviewer == "rex.reviewer" and rev.reviewed_at is not None and rev.published_at is not None
        # the approved body is stamped: status approved, the reviewer named
        assert rev.body["status"] == "approved"
        assert rev.body["reviewers"][-1] == {"name": "rex.reviewer", "date": "2026-03-01", "role": "reviewer"}


def test_transitions_are_append_only(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        revision_in(s, kb, "submitted")
    for sql in ("UPDATE content_transitions SET actor = 'someone else'", "DELETE FROM content_transitions"):
        with sessions() as s, pytest.raises(DBAPIError, match="append-only"), s.begin():
            s.execute(text(sql))


def test_a_reviewer_cannot_approve_their_own_revision(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    """An editor who became a reviewer still cannot approve what they wrote."""
    as_reviewer = repo.Actor(None, EDITOR.username, "reviewer")
    with sessions() as s, s.begin():
        rev = revision_in(s, kb, "under_review")
        with pytest.raises(TransitionForbidden) as exc:
            repo.approve_revision(s, rev, as_reviewer, BASE, today=DAY)
        assert exc.value.field == "author"
        assert repo.revision_state(rev) == "under_review"


def test_approval_blocked_by_the_content_check(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        rev = revision_in(s, kb, "under_review", data=body(kb, phenotypes=["no-such-phenotype"]))
        with pytest.raises(ApprovalBlocked) as exc:
            repo.approve_revision(s, rev, REVIEWER, BASE, today=DAY)
        (p,) = exc.value.problems
        assert p.location == f"revision {rev.id} (conditions/{ITEM}.yaml)"
        assert p.field == "phenotypes[0]" and "unknown phenotype id 'no-such-phenotype'" in p.message
        assert repo.revision_state(rev) == "under_review"
        assert [t.action for t in repo.list_transitions(s, rev.id)][-1] == "start-review"


def test_approval_blocked_by_the_readability_gate(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        rev = revision_in(s, kb, "under_review", data=with_patient_text(body(kb), "after", HARD))
        with pytest.raises(ApprovalBlocked) as exc:
            repo.approve_revision(s, rev, REVIEWER, BASE, today=DAY)
        (p,) = exc.value.problems
        assert p.field == "education.patient.after.text" and "Flesch-Kincaid grade" in p.message
        assert exc.value.code == "approval-blocked"


def test_publishing_keeps_one_live_revision(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        first = revision_in(s, kb, "published", data=body(kb, version="1.1.0"))
        second = revision_in(s, kb, "approved", data=body(kb, version="1.2.0"))
        assert repo.live_revision(s, ITEM) is first
        repo.transition(s, second, "publish", REVIEWER)
        assert repo.live_revision(s, ITEM) is second
        assert repo.revision_state(first) == "retired"
        assert [(t.action, t.actor, t.comment) for t in repo.list_transitions(s, first.id)][-1] == (
            "supersede", "rita.reviewer", f"superseded by revision 2 ({second.id})")
        # an older approved revision may not replace a newer live one
        older = revision_in(s, kb, "approved", data=body(kb, version="1.3.0"))
        third = revision_in(s, kb, "published", data=body(kb, version="1.4.0"))
        with pytest.raises(TransitionForbidden) as exc:
            repo.transition(s, older, "publish", EDITOR)
        assert "is live and newer" in exc.value.message
        assert repo.live_revisions(s) == {ITEM: third}


def test_the_database_refuses_a_second_live_revision(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        revision_in(s, kb, "published")
        other = revision_in(s, kb, "approved")
        other_id = other.id
    with sessions() as s, pytest.raises(IntegrityError), s.begin():
        row = s.get(m.ContentRevision, other_id)
        assert row is not None
        row.published_at = m.utcnow()  # bypassing the repository: two publishes racing


def test_retiring_the_live_revision_falls_back(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        rev = revision_in(s, kb, "published")
        repo.transition(s, rev, "retire", EDITOR)
        assert repo.live_revision(s, ITEM) is None
        with pytest.raises(TransitionForbidden, match="final"):
            repo.transition(s, rev, "publish", EDITOR)


def test_items_past_review_due(sessions: sessionmaker[Session], kb: Knowledge) -> None:
    with sessions() as s, s.begin():
        assert repo.items_due(s, kb, dt.date(2026, 3, 1)) == []  # bundled items are due in 2027
        revision_in(s, kb, "published", data=body(kb, review_due="2026-02-01"))
        # a live revision that is not yet due hides its bundled item's date
        revision_in(s, kb, "published", item_id="esi-caudal", data=body(kb, "esi-caudal", review_due="2030-01-01"))
        revision_in(s, kb, "approved", item_id="lumbar-spinal-stenosis",
                    data=body(kb, "lumbar-spinal-stenosis", review_due="2026-01-01"))  # not published: no
    with sessions() as s:
        due = repo.items_due(s, kb, dt.date(2026, 3, 1))
        assert [(d.item_id, d.source, d.review_due) for d in due] == [(ITEM, "revision", dt.date(2026, 2, 1))]
        later = repo.items_due(s, kb, dt.date(2028, 1, 1))
        approved = {i for i, item in kb.items().items() if item.status == "approved"}
        assert {d.item_id for d in later} == (approved | {ITEM}) - {"esi-caudal"}
        assert [d.review_due for d in later] == sorted(d.review_due for d in later)
