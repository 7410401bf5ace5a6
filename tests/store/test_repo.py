"""The store on both engines: versioned cases, procedure with schedule, tokens, append-only audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from spinepath.store import followups, repo
from spinepath.store.db import make_engine, make_sessionmaker


def test_store_round_trip_and_audit(db_url: str) -> None:
    engine = make_engine(db_url)
    S = make_sessionmaker(engine)
    with S() as s, s.begin():
        user = repo.create_user(s, "dr.who", "correct horse battery", "clinician")
        actor = repo.Actor(user.id, user.username, user.role, client="127.0.0.1")
        p = repo.create_patient(s, actor, name="Ann Example", date_of_birth=dt.date(1970, 1, 2))
        case, v1 = repo.create_case(s, actor, p.id, {"age": 55})
        repo.update_case(s, actor, case, {"age": 56})
        proc, points = followups.record_procedure(s, actor, p.id, "esi-caudal", dt.date(2026, 1, 5),
                                             [("baseline", 0), ("2 weeks", 14)], level="L5-S1", side="left")
        token, _ = repo.issue_token(s, user, 60)
    with S() as s, s.begin():
        got = repo.get_case(s, actor, case.id)
        assert got is not None and got[1].version == 2 and got[1].data == {"age": 56}
        assert repo.get_case(s, actor, case.id, version=1)[1].data == {"age": 55}  # type: ignore[index]
        assert [x.label for x in followups.schedule_for(s, proc.id)] == ["baseline", "2 weeks"]
        assert repo.user_for_token(s, token).username == "dr.who"  # type: ignore[union-attr]
        assert repo.verify_password(user, "correct horse battery")
        assert not repo.verify_password(user, "wrong")
        assert "correct horse" not in user.password_hash  # argon2 hash, never the password
        repo.set_disabled(s, "dr.who")
    with S() as s:
        assert repo.user_for_token(s, token) is None  # disabled users' tokens stop working
        actions = [(e.action, e.resource) for e in repo.read_audit(s)]
        assert ("create", "patient") in actions and ("update", "case") in actions and ("read", "case") in actions
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    engine.dispose()
