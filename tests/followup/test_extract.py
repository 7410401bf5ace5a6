"""The store -> outcomes dataset: episodes, every schedule point (answered or not) with the
primary pain site's score, ODI, BNI and warning flag, complications and modest predictors."""

from __future__ import annotations

import datetime as dt

import pytest

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.dataset import SCHEMAS
from spinepath.outcomes.extract import dataset_from_store
from spinepath.outcomes.schedules import schedule_pairs
from spinepath.rules.engine import assess
from spinepath.store import followups, repo
from spinepath.store.db import make_engine, make_sessionmaker

CASE = {"age": 52, "pain": {"leg": {"nrs": 7, "side": "left", "below_knee": True}, "duration_weeks": 10}}


def test_dataset_from_store(db_url: str, kb: Knowledge) -> None:
    engine = make_engine(db_url)
    S = make_sessionmaker(engine)
    with S() as s, s.begin():
        p = repo.create_patient(s, repo.SYSTEM, date_of_birth=dt.date(1970, 6, 1), sex="female")
        case, version = repo.create_case(s, repo.SYSTEM, p.id, CASE)
        result = assess(CASE, kb, now=dt.date(2026, 1, 2)).model_dump(mode="json")
        repo.store_assessment(s, repo.SYSTEM, case, version.version, result)
        proc, points = followups.record_procedure(s, repo.SYSTEM, p.id, "esi-transforaminal", dt.date(2026, 1, 5),
                                             schedule_pairs(kb, "esi-transforaminal"), level="C6-C7", side="left",
                                             complications=["vasovagal reaction"])
        s.flush()
        by = {pt.label: pt.id for pt in points}
        for label, answers in [("baseline", {"arm": 8, "neck": 5}), ("2 weeks", {"arm": 3}),
                               ("2 weeks", {"neck": 2, "fever": True})]:
            followups.record_response(s, repo.SYSTEM, kb, p.id, "nrs", answers, by[label])
        proc2, points2 = followups.record_procedure(s, repo.SYSTEM, p.id, "rf-trigeminal", dt.date(2026, 2, 1),
                                               schedule_pairs(kb, "rf-trigeminal"))
        s.flush()
        followups.record_response(s, repo.SYSTEM, kb, p.id, "bni", {"grade": "II"}, points2[2].id)
    later = dt.date(2031, 6, 1)  # every point is due by then
    with S() as s:
        ds = dataset_from_store(s, kb, as_of=later)
    assert dataset_from_store(db_url, kb, as_of=later).followups.num_rows == ds.followups.num_rows  # by URL too
    # Points not yet due are not missing: on 2026-02-20 the TFESI has its baseline, 2-week (both
    # answered) and 1-month points; the trigeminal RF its baseline and 2-week points, plus the
    # 1-month point answered early.
    early = dataset_from_store(db_url, kb, as_of=dt.date(2026, 2, 20)).followups.to_pylist()
    assert [(r["episode_id"] == proc.id, r["timepoint"], r["completed"]) for r in early] == [
        (True, "baseline", True), (True, "2 weeks", True), (True, "1 month", False),
        (False, "baseline", False), (False, "2 weeks", False), (False, "1 month", True)]
    engine.dispose()

    for name, table in ds.tables().items():
        assert table.schema.equals(SCHEMAS[name]), name
    ep = ds.episodes.to_pylist()
    assert [(e["procedure"], e["site"], e["age"], e["sex"], e["level"]) for e in ep] == [
        ("esi-transforaminal", "local", 55, "female", "C6-C7"), ("rf-trigeminal", "local", 55, "female", None)]
    fu = [r for r in ds.followups.to_pylist() if r["episode_id"] == proc.id]
    assert [r["timepoint"] for r in fu] == [pt for pt, _ in schedule_pairs(kb, "esi-transforaminal")]
    # cervical level: the primary site is the arm (content), not the neck
    assert [(r["days"], r["completed"], r["nrs"], r["warning"]) for r in fu[:3]] == [
        (0, True, 8.0, None), (14, True, 3.0, True), (30, False, None, None)]
    trig = [r for r in ds.followups.to_pylist() if r["episode_id"] == proc2.id]
    assert len(trig) == 8 and [r["bni"] for r in trig[:3]] == [None, None, 2] and trig[2]["nrs"] is None
    assert ds.complications.to_pylist() == [{"episode_id": proc.id, "complication": "vasovagal reaction",
                                              "days": None, "serious": None}]
    predictors = {(r["name"], r["value"]) for r in ds.predictors.to_pylist() if r["episode_id"] == proc.id}
    assert ("symptom_duration", "subacute (4-12 weeks)") in predictors
    assert ("phenotype", "radicular-lumbar") in predictors


@pytest.mark.parametrize("weeks,band", [(2, "acute (<4 weeks)"), (12, "subacute (4-12 weeks)"),
                                        (13, "chronic (>12 weeks)")])
def test_symptom_duration_bands(weeks: int, band: str) -> None:
    from spinepath.outcomes.extract import _duration_band

    assert _duration_band(weeks) == band
