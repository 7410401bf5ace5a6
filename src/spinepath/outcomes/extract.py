"""The store -> the outcomes dataset (:mod:`spinepath.outcomes.dataset`): a clinic's own patients
as one registry site ("local"), for `spinepath outcomes report` on a database.

    ds = dataset_from_store("sqlite:///spinepath.db", kb)     # or a Session, or an Engine

What each column is made of:

- ``episodes``: every performed procedure; age in whole years at the procedure date (from the
  patient's date of birth), sex from the patient record.
- ``followups``: every schedule point, answered or not (``completed`` = the point was answered).
  ``nrs`` is the primary pain site the procedure's content names (``followup.primary_pain``;
  ``worst`` = the site highest at baseline), from the latest pain response to that point;
  ``odi`` the ODI percent; ``bni`` the BNI grade 1-5; ``warning`` true if a response to the point
  reported a warning sign, false if warning questions were answered and all no, else null.
  Scores are the ones stored with each response (scored on arrival), never re-scored here.
- ``complications``: the complications recorded with the procedure (text; days and seriousness
  are not recorded by the store, so null).
- ``predictors`` (kept modest): ``phenotype`` — each presentation the patient's latest stored
  assessment on or before the procedure found met; ``symptom_duration`` — acute (< 4 weeks),
  subacute (4-12 weeks) or chronic (> 12 weeks) from the assessed case (REFERENCE §2.1).

It reads the store's tables by name with SQL (no import of the store package: outcomes stays
free of adapters) and works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.dataset import COMPLICATIONS, EPISODES, FOLLOWUPS, PREDICTORS, Dataset
from spinepath.outcomes.instruments import merge_scores
from spinepath.outcomes.schedules import primary_site

SITE = "local"
CHRONIC_WEEKS = 12  # REFERENCE §2.1 (ACP): acute < 4 weeks, subacute 4-12, chronic > 12
ACUTE_WEEKS = 4


def _json(value: Any) -> Any:
    """JSON columns come back as Python objects (PostgreSQL JSONB) or text (SQLite)."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # type: ignore[no-any-return]
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _when(value: Any) -> str:
    """Submission times as sortable text on both engines."""
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _age(dob: dt.date | None, on: dt.date) -> int | None:
    if dob is None:
        return None
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _duration_band(weeks: Any) -> str | None:
    if not isinstance(weeks, (int, float)) or isinstance(weeks, bool):
        return None
    if weeks < ACUTE_WEEKS:
        return "acute (<4 weeks)"
    return "subacute (4-12 weeks)" if weeks <= CHRONIC_WEEKS else "chronic (>12 weeks)"


def dataset_from_store(source: Session | Engine | str, kb: Knowledge, as_of: dt.date | None = None) -> Dataset:
    """Every procedure in the store, with its schedule, scored answers, complications and
    predictors, as an outcomes Dataset.

    Only time points due by ``as_of`` (default today) are included, plus any answered early: a
    point that is not due yet is not missing, and counting it would make follow-up completeness
    look worse than it is in a live clinic."""
    day = as_of or dt.date.today()
    if isinstance(source, Session):
        return _extract(source, kb, day)
    engine = create_engine(source) if isinstance(source, str) else source
    try:
        with Session(engine) as s:
            return _extract(s, kb, day)
    finally:
        if isinstance(source, str):
            engine.dispose()


def _extract(s: Session, kb: Knowledge, as_of: dt.date) -> Dataset:
    patients = {r.id: (_date(r.date_of_birth), r.sex)
                for r in s.execute(text("SELECT id, date_of_birth, sex FROM patients"))}
    procs = list(s.execute(text(
        "SELECT id, patient_id, procedure_id, performed_on, level, side, complications "
        "FROM procedures_performed ORDER BY performed_on, id")))
    points = list(s.execute(text(
        "SELECT id, procedure_performed_id, label, due_on, status FROM followup_schedules ORDER BY due_on, id")))
    responses: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for r in s.execute(text("SELECT schedule_id, submitted_at, score FROM followup_responses "
                            "WHERE schedule_id IS NOT NULL AND score IS NOT NULL")):
        responses[r.schedule_id].append((_when(r.submitted_at), _json(r.score)))
    assessments: dict[str, list[tuple[dt.date, str, int]]] = defaultdict(list)
    for r in s.execute(text("SELECT patient_id, assessed_on, case_id, case_version FROM assessments")):
        assessments[r.patient_id].append((_date(r.assessed_on) or dt.date.min, r.case_id, r.case_version))

    by_proc: dict[str, list[Any]] = defaultdict(list)
    for p in points:
        by_proc[p.procedure_performed_id].append(p)

    ep_rows: dict[str, list[Any]] = {f.name: [] for f in EPISODES}
    fu_rows: dict[str, list[Any]] = {f.name: [] for f in FOLLOWUPS}
    co_rows: dict[str, list[Any]] = {f.name: [] for f in COMPLICATIONS}
    pr_rows: dict[str, list[Any]] = {f.name: [] for f in PREDICTORS}
    for pr in procs:
        on = _date(pr.performed_on)
        assert on is not None
        dob, sex = patients.get(pr.patient_id, (None, None))
        for name, value in (("episode_id", pr.id), ("patient_id", pr.patient_id), ("site", SITE),
                            ("procedure", pr.procedure_id), ("performed_on", on), ("level", pr.level),
                            ("side", pr.side), ("age", _age(dob, on)), ("sex", sex)):
            ep_rows[name].append(value)
        scored = [(p, _merge(responses.get(p.id, []))) for p in by_proc.get(pr.id, [])]
        base = next((m for p, m in scored if (_date(p.due_on) or on) <= on), {})
        site = primary_site(kb, pr.procedure_id, pr.level, base.get("nrs_sites")) \
            if pr.procedure_id in kb.procedures else None
        for p, merged in scored:
            due = _date(p.due_on) or on
            if due > as_of and p.status != "completed":
                continue
            for name, value in (("episode_id", pr.id), ("timepoint", p.label), ("days", (due - on).days),
                                ("completed", p.status == "completed"),
                                ("nrs", merged.get("nrs_sites", {}).get(site) if site else None),
                                ("odi", merged.get("odi")), ("bni", merged.get("bni")),
                                ("warning", merged.get("warning"))):
                fu_rows[name].append(value)
        for c in _json(pr.complications) or []:
            for name, value in (("episode_id", pr.id), ("complication", str(c)), ("days", None), ("serious", None)):
                co_rows[name].append(value)
        for name, value in _predictors(s, assessments.get(pr.patient_id, []), on):
            for col, v in (("episode_id", pr.id), ("name", name), ("value", value)):
                pr_rows[col].append(v)
    return Dataset(
        episodes=pa.table(ep_rows, schema=EPISODES), followups=pa.table(fu_rows, schema=FOLLOWUPS),
        complications=pa.table(co_rows, schema=COMPLICATIONS), predictors=pa.table(pr_rows, schema=PREDICTORS))


def _merge(responses: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """A point's scores: the latest response per measure (pain sites merged, latest per site)."""
    return merge_scores((sc.get("measure", ""), sc) for _at, sc in sorted(responses, key=lambda r: r[0]))


def _predictors(s: Session, assessed: list[tuple[dt.date, str, int]], on: dt.date) -> list[tuple[str, str]]:
    before = [a for a in assessed if a[0] <= on]
    if not before:
        return []
    _day, case_id, version = max(before)
    row = s.execute(text("SELECT a.result, v.data FROM assessments a JOIN case_versions v "
                         "ON v.case_id = a.case_id AND v.version = a.case_version "
                         "WHERE a.case_id = :c AND a.case_version = :v ORDER BY a.assessed_on DESC"),
                    {"c": case_id, "v": version}).first()
    if row is None:
        return []
    result, data = _json(row.result) or {}, _json(row.data) or {}
    out = [("phenotype", str(ph["id"])) for ph in result.get("phenotype") or []
           if isinstance(ph, dict) and ph.get("result") == "met"]
    band = _duration_band((data.get("pain") or {}).get("duration_weeks"))
    if band:
        out.append(("symptom_duration", band))
    return out
