"""A demo database: synthetic patients with cases, stored assessments, procedures with their
follow-up schedules and answered follow-ups, and one user per role.

Everything is invented. Patients are called "Demo Patient 001" and so on, with no phone or
e-mail; their cases come from :func:`spinepath.case.synthetic.generate_cases` (fixed seed), so
the same seed gives the same clinical picture on the same day. Passwords are random and are
returned once, to be shown to whoever started the demo.

The timeline: cases describe the patients as they were ``CASE_AGE_DAYS`` ago, when they were
assessed; a procedure the assessment recommended (or considered) was done in the weeks after,
and procedures the case already lists are recorded on their own dates. Follow-up points that
are due by today are answered (NRS per painful site), most of them, so that follow-up
completeness is visibly below 100 %.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from spinepath import assess, load_knowledge
from spinepath.errors import InputError
from spinepath.outcomes.schedules import schedule_pairs
from spinepath.settings import Settings
from spinepath.store import followups, repo
from spinepath.store import models as m
from spinepath.store.db import make_engine, make_sessionmaker
from spinepath.store.migrate import upgrade

if TYPE_CHECKING:
    from spinepath.knowledge.snapshot import Knowledge

DEMO_SEED = 20260101
CASE_AGE_DAYS = 120  # the cases (and their assessments) are this old
PRIOR_WINDOW_DAYS = 400  # prior procedures this recent get a follow-up record
ANSWER_RATE = 0.85  # share of due follow-up points that were answered
PAIN_SITES = ("back", "leg", "neck", "arm", "face")
ROLE_USERNAMES = {role: f"demo-{role}" for role in m.ROLES}

Progress = Callable[[int, int], None]


@dataclass
class _Procedure:
    procedure_id: str
    performed_on: dt.date
    level: str | None
    side: str | None
    relief: float  # 0..1, fraction of the baseline pain relieved
    relief_days: int
    complications: list[str] = field(default_factory=list)


def new_password() -> str:
    """A random password, 20 characters from the URL-safe alphabet (about 120 bits)."""
    return secrets.token_urlsafe(15)


def _pain_scores(case: dict[str, Any]) -> dict[str, int]:
    pain = case.get("pain") or {}
    return {site: int(pain[site]["nrs"]) for site in PAIN_SITES
            if isinstance(pain.get(site), dict) and pain[site].get("nrs") is not None}


def _first_level(case: dict[str, Any]) -> str | None:
    for finding in case.get("imaging") or []:
        if finding.get("level"):
            return str(finding["level"])
    return None


def _first_side(case: dict[str, Any]) -> str | None:
    for site in PAIN_SITES:
        side = ((case.get("pain") or {}).get(site) or {}).get("side")
        if side:
            return str(side)
    return None


def _plan_procedures(case: dict[str, Any], result: dict[str, Any], assessed_on: dt.date, today: dt.date,
                     rng: random.Random) -> list[_Procedure]:
    """The case's own recent procedures, then (most of the time) the best interventional option."""
    planned: list[_Procedure] = []
    for prior in case.get("procedures") or []:
        if not prior.get("date"):
            continue
        on = dt.date.fromisoformat(prior["date"])
        if (today - on).days > PRIOR_WINDOW_DAYS or on > today:
            continue
        relief = (prior.get("relief_pct") or 0) / 100
        months = prior.get("relief_months") or 0
        planned.append(_Procedure(prior["procedure"], on, prior.get("level"), prior.get("side"), relief,
                                  int(months * 30.4), list(prior.get("complications") or [])))
    options = [o for o in result["options"]
               if o["status"] in ("recommended", "consider") and o["procedure"] != "conservative-care"]
    if options and rng.random() < 0.8:
        responder = rng.random() < 0.6
        planned.append(_Procedure(
            options[0]["procedure"], assessed_on + dt.timedelta(days=rng.randint(7, 60)),
            _first_level(case), _first_side(case),
            relief=rng.uniform(0.5, 0.9) if responder else rng.uniform(0.0, 0.3),
            relief_days=rng.randint(60, 330) if responder else rng.randint(0, 30)))
    return planned


def _nrs_at(baseline: dict[str, int], proc: _Procedure, days: int, rng: random.Random) -> dict[str, int]:
    if days <= 0:
        return dict(baseline)
    relief = proc.relief if days <= proc.relief_days else proc.relief * 0.3
    return {site: max(0, min(10, round(score * (1 - relief)) + rng.choice((-1, 0, 0, 1))))
            for site, score in baseline.items()}


def _check_empty(s: Session) -> None:
    for table in (m.User, m.Patient):
        if s.scalar(select(func.count()).select_from(table)):
            raise InputError("the database already holds users or patients; the demo only fills an empty "
                            "database (`spinepath demo` recreates its own)")


def build_demo(settings: Settings, patients: int, seed: int = DEMO_SEED,
               progress: Progress | None = None, today: dt.date | None = None) -> list[tuple[str, str, str]]:
    """Migrate the database at ``settings.url`` and fill it with a demo data set.

    Refuses a database that already has users or patients. Returns ``(username, role,
    password)`` for the one user made per role; the patient user is linked to the first demo
    patient. ``progress(done, total)`` is called after each patient.
    """
    if patients < 1:
        raise InputError("the demo needs at least one patient", field="patients")
    from spinepath.case.synthetic import generate_cases

    credentials = [(ROLE_USERNAMES[role], role, new_password()) for role in m.ROLES]
    # Password hashing (argon2, deliberately slow) releases the GIL: run it beside the rest.
    pool = ThreadPoolExecutor(max_workers=2)
    hashes = pool.map(repo.hash_password, [c[2] for c in credentials])
    pool.shutdown(wait=False)
    today = today or dt.date.today()
    assessed_on = today - dt.timedelta(days=CASE_AGE_DAYS)
    kb = load_knowledge(settings.content_dir, use_env=False)
    schedule = {pid: schedule_pairs(kb, pid) for pid in kb.procedures}  # each procedure's own schedule
    rng = random.Random(f"spinepath-demo:{seed}")

    # Plan first (pure computation), so that the first patient -- the one the patient user
    # sees -- is one with a procedure and follow-up.
    plans: list[tuple[dict[str, Any], dict[str, Any], list[_Procedure]]] = []
    for case in generate_cases(patients, seed, reference=assessed_on):
        case.pop("id", None)  # the stored case id is set below
        result = assess(case, kb, policy=settings.default_policy, now=assessed_on).model_dump(mode="json")
        plans.append((case, result, _plan_procedures(case, result, assessed_on, today, rng)))
    first = next((i for i, p in enumerate(plans) if p[2] and _pain_scores(p[0])), 0)
    plans.insert(0, plans.pop(first))

    upgrade(settings.url)
    engine = make_engine(settings.url)
    try:
        S = make_sessionmaker(engine)
        with S() as s, s.begin():
            _check_empty(s)
            users = {role: m.User(username=name, password_hash=hashed, role=role)
                     for (name, role, _), hashed in zip(credentials, hashes, strict=True)}
            s.add_all(users.values())
        staff = repo.Actor(users["clinician"].id, users["clinician"].username, "clinician", client="demo")
        for i, (case, result, procedures) in enumerate(plans):
            with S() as s, s.begin():
                _add_patient(s, i, case, result, procedures, schedule, staff, users, today, rng, kb)
            if progress is not None:
                progress(i + 1, len(plans))
        return credentials
    finally:
        engine.dispose()


def _add_patient(s: Session, i: int, case: dict[str, Any], result: dict[str, Any], procedures: list[_Procedure],
                 schedule: dict[str, list[tuple[str, int]]], staff: repo.Actor, users: dict[str, m.User],
                 today: dt.date, rng: random.Random, kb: Knowledge) -> None:
    age = case.get("age")
    dob = (today - dt.timedelta(days=int(age) * 365 + rng.randint(0, 364))) if age is not None else None
    patient = repo.create_patient(s, staff, name=f"Demo Patient {i + 1:03d}", date_of_birth=dob,
                                  sex=case.get("sex"))
    case_row, version = repo.create_case(s, staff, patient.id, case)
    version.data = {"id": case_row.id, **case}
    result["case_id"] = case_row.id
    repo.store_assessment(s, staff, case_row, version.version, result)

    answerer = staff
    if i == 0:
        patient_user = s.get(m.User, users["patient"].id)
        assert patient_user is not None
        patient_user.patient_id = patient.id
        answerer = repo.Actor(patient_user.id, patient_user.username, "patient", patient.id, client="demo")
    baseline = _pain_scores(case)
    now = m.utcnow()
    for proc in procedures:
        _row, points = followups.record_procedure(
            s, staff, patient.id, proc.procedure_id, proc.performed_on, schedule[proc.procedure_id], level=proc.level,
            side=proc.side, operator="Demo Clinician", complications=proc.complications)
        s.flush()  # the schedule rows first: responses refer to them
        if not baseline:
            continue
        for point in points:
            if point.due_on > today or (point.label != "baseline" and rng.random() > ANSWER_RATE):
                continue
            days = (point.due_on - proc.performed_on).days
            answers: dict[str, Any] = {**_nrs_at(baseline, proc, days, rng), "fever": False, "new_weakness": False}
            if i == 0 and point.label == "2 weeks":
                answers["fever"] = True  # the demo's one warning sign: an alert for the care team
            submitted = dt.datetime.combine(point.due_on, dt.time(10, rng.randint(0, 59)), tzinfo=dt.UTC)
            followups.record_response(s, answerer, kb, patient.id, "nrs", answers, point.id, via="demo",
                                 submitted_at=min(submitted, now))
