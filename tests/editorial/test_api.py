"""The editorial workflow over HTTP (SQLite and PostgreSQL): the whole path from draft to live,
refusals in the error envelope, and what GET /content/{item_id} serves to whom."""

from __future__ import annotations

from typing import Any

from spinepath.knowledge.snapshot import Knowledge
from spinepath.store import repo
from tests.api.conftest import Api, envelope
from tests.editorial.support import EDITOR, HARD, ITEM, KIND, body, revision_in, with_patient_text


def post(api: Api, role: str, path: str, **kw: Any) -> Any:
    return api.client.post(path, headers=api.h(role), **kw)


def get(api: Api, role: str, path: str, **kw: Any) -> Any:
    return api.client.get(path, headers=api.h(role), **kw)


def test_from_draft_to_live(api: Api, kb: Knowledge) -> None:
    r = post(api, "editor", "/content/revisions", json={"item_id": ITEM, "kind": KIND,
                                                        "body": body(kb, version="1.1.0")})
    assert r.status_code == 201, r.text
    rev = r.json()
    assert (rev["status"], rev["state"], rev["draft"], rev["live"], rev["revision"]) == ("draft", "draft", True, False, 1)
    assert rev["author"] == "editor.user" and rev["allowed"] == ["revise (editor)", "submit (editor)"]
    rid = rev["id"]
    for role, step, state in (("editor", "submit", "submitted"), ("reviewer", "start-review", "under_review"),
                              ("reviewer", "approve", "approved"), ("editor", "publish", "published")):
        r = post(api, role, f"/content/revisions/{rid}/{step}")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state
    out = r.json()
    assert out["live"] and not out["draft"] and out["status"] == "approved" and out["published_at"]
    assert out["reviewer"] == "reviewer.user" and out["body"]["status"] == "approved"
    assert [(t["action"], t["actor"], t["role"]) for t in out["transitions"]] == [
        ("create", "editor.user", "editor"), ("submit", "editor.user", "editor"),
        ("start-review", "reviewer.user", "reviewer"), ("approve", "reviewer.user", "reviewer"),
        ("publish", "editor.user", "editor")]
    assert all(t["at"].endswith(("+00:00", "Z")) for t in out["transitions"])
    # everyone, patients included, now gets the live revision
    for role in ("patient", "clinician", "analyst"):
        item = get(api, role, f"/content/{ITEM}").json()
        assert item["version"] == "1.1.0" and item["status"] == "approved" and item["draft"] is False
        assert item["revision"] == {"id": rid, "number": 1, "state": "published", "live": True}
    listed = {row["id"]: row for row in get(api, "patient", "/content").json()}
    assert listed[ITEM]["version"] == "1.1.0"
    # content changes are not patient data: nothing in the audit log
    with api.sessions() as s:
        assert [e for e in repo.read_audit(s) if e.resource.startswith("content")] == []


def test_patients_get_the_live_revision_never_a_draft(api: Api, kb: Knowledge) -> None:
    with api.sessions() as s, s.begin():
        revision_in(s, kb, "published", data=body(kb, version="1.1.0"))
        draft = revision_in(s, kb, "under_review", data=body(kb, version="2.0.0"))
    for params in ({}, {"include_drafts": "true"}):
        item = get(api, "patient", f"/content/{ITEM}", params=params).json()
        assert item["version"] == "1.1.0" and item["draft"] is False and item["revision"]["live"]
    staff = get(api, "clinician", f"/content/{ITEM}", params={"include_drafts": "true"}).json()
    assert staff["version"] == "2.0.0" and staff["draft"] is True and staff["status"] == "under_review"
    assert staff["revision"] == {"id": draft.id, "number": 2, "state": "under_review", "live": False}
    assert get(api, "clinician", f"/content/{ITEM}").json()["version"] == "1.1.0"  # drafts only when asked
    # patients cannot read revisions at all
    assert get(api, "patient", "/content/revisions").status_code == 403
    assert get(api, "patient", f"/content/revisions/{draft.id}").status_code == 403
    listed = get(api, "clinician", "/content/revisions", params={"item_id": ITEM}).json()
    assert [(x["revision"], x["state"], x["draft"], x["live"]) for x in listed] == [
        (1, "published", False, True), (2, "under_review", True, False)]


def test_drafts_of_an_item_without_a_live_revision(api: Api, kb: Knowledge) -> None:
    bundled = get(api, "patient", f"/content/{ITEM}").json()
    with api.sessions() as s, s.begin():
        revision_in(s, kb, "draft", data=body(kb, version="3.0.0"))
    assert get(api, "patient", f"/content/{ITEM}", params={"include_drafts": "true"}).json() == bundled
    assert "revision" not in bundled and bundled["version"] == kb.items()[ITEM].version
    staff = get(api, "editor", f"/content/{ITEM}", params={"include_drafts": "true"}).json()
    assert (staff["status"], staff["draft"], staff["version"]) == ("draft", True, "3.0.0")


def test_forbidden_steps_are_409_naming_state_and_allowed(api: Api, kb: Knowledge) -> None:
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "draft").id
    r = post(api, "reviewer", f"/content/revisions/{rid}/approve")
    err = envelope(r)
    assert r.status_code == 409 and err["code"] == "transition-forbidden" and err["field"] == "path.revision_id"
    assert "'draft'" in err["message"] and "approve" in err["message"] and "submit (editor)" in err["message"]
    r = post(api, "editor", f"/content/revisions/{rid}/publish")
    assert r.status_code == 409 and "revise (editor), submit (editor)" in envelope(r)["message"]
    # a role the route does not allow is refused before the state is looked at
    r = post(api, "clinician", f"/content/revisions/{rid}/submit")
    assert r.status_code == 403 and envelope(r)["code"] == "forbidden"
    r = post(api, "editor", "/content/revisions/rv_doesnotexist/submit")
    assert r.status_code == 404 and envelope(r)["field"] == "path.revision_id"


def test_a_reviewer_cannot_approve_their_own_revision(api: Api, kb: Knowledge) -> None:
    author = repo.Actor(None, "reviewer.user", "editor")  # wrote it while an editor
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "under_review", author=author).id
    r = post(api, "reviewer", f"/content/revisions/{rid}/approve")
    assert r.status_code == 409
    assert "reviewer.user wrote this revision" in envelope(r)["message"]
    assert get(api, "reviewer", f"/content/revisions/{rid}").json()["state"] == "under_review"


def test_approval_blocked_lists_every_problem(api: Api, kb: Knowledge) -> None:
    data = with_patient_text(body(kb, procedures=["no-such-procedure"]), "what_it_is", HARD)
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "under_review", data=data).id
    r = post(api, "reviewer", f"/content/revisions/{rid}/approve")
    err = envelope(r)
    assert r.status_code == 422 and err["code"] == "approval-blocked"
    assert {p["field"] for p in err["problems"]} == {"procedures[0]", "education.patient.what_it_is.text"}
    assert all(p["location"] == f"revision {rid} (conditions/{ITEM}.yaml)" for p in err["problems"])
    assert get(api, "reviewer", f"/content/revisions/{rid}").json()["state"] == "under_review"


def test_changes_requested_then_revised(api: Api, kb: Knowledge) -> None:
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "under_review").id
    r = post(api, "reviewer", f"/content/revisions/{rid}/request-changes", json={})
    assert r.status_code == 422 and envelope(r)["field"] == "body.comment"
    r = post(api, "reviewer", f"/content/revisions/{rid}/request-changes", json={"comment": "Shorter sentences."})
    assert r.status_code == 200 and r.json()["state"] == "changes_requested"
    assert r.json()["comment"] == "Shorter sentences."
    r = post(api, "editor", f"/content/revisions/{rid}/revise", json={"body": body(kb, id="lumbar-spinal-stenosis")})
    err = envelope(r)
    assert r.status_code == 422 and err["code"] == "input-invalid" and err["field"] == "body.body.id"
    r = post(api, "editor", f"/content/revisions/{rid}/revise", json={"body": body(kb, version="1.0.1")})
    assert r.status_code == 200 and r.json()["state"] == "draft" and r.json()["body"]["version"] == "1.0.1"


def test_create_checks_the_item(api: Api, kb: Knowledge) -> None:
    r = post(api, "editor", "/content/revisions", json={"item_id": ITEM, "kind": "procedure", "body": body(kb)})
    assert r.status_code == 422 and envelope(r)["field"] == "body.kind"
    r = post(api, "editor", "/content/revisions", json={"item_id": ITEM, "kind": KIND, "body": {"id": "other"}})
    assert r.status_code == 422 and envelope(r)["field"] == "body.body.id"
    r = post(api, "editor", "/content/revisions", json={"item_id": ITEM, "kind": KIND, "body": {"name": "a\x00b"}})
    assert r.status_code == 422 and envelope(r)["code"] == "request-invalid"
    r = post(api, "editor", "/content/revisions", json={"item_id": "brand-new-item", "kind": KIND, "body": {}})
    assert r.status_code == 201 and r.json()["body"] == {"id": "brand-new-item", "kind": KIND}


def test_items_due(api: Api, kb: Knowledge) -> None:
    assert get(api, "editor", "/content/due", params={"today": "2026-03-01"}).json() == []
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "published", data=body(kb, review_due="2026-02-01")).id
    due = get(api, "reviewer", "/content/due", params={"today": "2026-03-01"}).json()
    assert due == [{"item_id": ITEM, "kind": KIND, "name": kb.conditions[ITEM].name, "version": kb.conditions[ITEM].version,
                    "review_due": "2026-02-01", "source": "revision", "revision_id": rid}]
    many = get(api, "admin", "/content/due", params={"today": "2030-01-01"}).json()
    assert len(many) == len([i for i in kb.items().values() if i.status == "approved"] + [ITEM]) - (
        1 if kb.items()[ITEM].status == "approved" else 0)
    r = get(api, "editor", "/content/due", params={"today": "1800-01-01"})
    assert r.status_code == 422 and envelope(r)["field"] == "query.today"


def test_editor_actor_in_support_is_not_an_api_account(api: Api) -> None:
    """The helper revisions are written by accounts that are not the API's, so that an API
    reviewer is never their author."""
    assert EDITOR.username not in api.usernames.values()


def test_an_item_under_review_reaches_patients_once_published(api: Api, kb: Knowledge) -> None:
    item_id = next(i for i, item in sorted(kb.items().items()) if item.status == "under_review")
    assert get(api, "patient", f"/content/{item_id}").status_code == 404
    assert item_id not in {row["id"] for row in get(api, "patient", "/content").json()}
    with api.sessions() as s, s.begin():
        rid = revision_in(s, kb, "published", item_id=item_id).id
    item = get(api, "patient", f"/content/{item_id}").json()
    assert item["status"] == "approved" and item["revision"]["id"] == rid
    assert item_id in {row["id"] for row in get(api, "patient", "/content").json()}
