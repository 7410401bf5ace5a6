"""Discharge sheets: what a patient takes home after a procedure.

    from spinepath.education.discharge import build_discharge
    sheet = build_discharge(kb, "rf-facet-lumbar", dt.date(2026, 3, 3), level="L4-L5", side="left",
                            patient="Ann Example", clinic_phone="01234 567890", medicines=["apixaban"])

Pure: reads only the knowledge snapshot. The sheet says what was done; what to expect on the
day, on days 1-2, in the first week and after it (the procedure's ``discharge`` block); the
warning signs grouped by what to do (the procedure's own, plus the shared post-procedure signs
when the procedure uses them); when to restart paused blood thinners (the antithrombotic
table's restart times); the follow-up questionnaire dates; and whom to call.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spinepath.case.model import _check_level
from spinepath.errors import InputError
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge

SIDES = ("left", "right", "bilateral")

PERIODS: tuple[tuple[str, str], ...] = (
    ("day_0", "Today, the day of your procedure"),
    ("days_1_2", "The next 1 to 2 days"),
    ("week_1", "The rest of the first week"),
    ("later", "After the first week"),
)

URGENCY_GROUPS: tuple[tuple[s.WarningUrgency, str, str], ...] = (
    ("emergency", "Emergency — go now",
     "Go to the nearest emergency department now, or call your local emergency number, if you have any of these."),
    ("call_today", "Call us today", "Call us the same day if you have any of these."),
    ("mention_at_followup", "Mention at your follow-up",
     "Tell us at your follow-up visit if you have any of these. Call sooner if it gets worse."),
)

MEDICINES_NOTE = (
    "Your care team decides when a blood thinner is stopped and restarted, together with the doctor who "
    "prescribes it. Do not stop or restart one on your own. If you are not sure, call us."
)
NO_RESTART = "We have no restart time for this medicine on file. Ask your care team when to restart it."
NO_SET_RESTART = "There is no set restart time for this medicine. Ask your care team when to restart it."
DISCLAIMER = (
    "This sheet gives general advice about this procedure. If your own team has told you something "
    "different, follow their advice."
)


@dataclass(frozen=True)
class Period:
    key: str
    heading: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Warning:
    sign: str
    action: str


@dataclass(frozen=True)
class WarningGroup:
    urgency: str
    heading: str
    intro: str
    signs: tuple[Warning, ...]


@dataclass(frozen=True)
class MedicineRestart:
    medicine: str  # as given
    matched: str | None  # the antithrombotic row's id, when the name matched one
    restart: str  # when to restart, in plain words, or what to do when unknown


@dataclass(frozen=True)
class FollowupDate:
    label: str
    due: dt.date


@dataclass(frozen=True)
class DischargeSheet:
    procedure_id: str
    procedure_name: str
    content_version: str
    knowledge_hash: str
    date: dt.date
    level: str | None
    side: str | None
    patient: str | None
    clinic_phone: str | None
    periods: tuple[Period, ...]
    warnings: tuple[WarningGroup, ...]
    medicines: tuple[MedicineRestart, ...]
    medicines_note: str
    bleeding_risk: str
    followups: tuple[FollowupDate, ...]
    disclaimer: str


def check_side(side: str | None) -> str | None:
    if side is None:
        return None
    v = side.strip().lower()
    if v not in SIDES:
        raise InputError(f"side: {side!r} is not a side; use one of {', '.join(SIDES)}", field="side")
    return v


def check_level(level: str | None) -> str | None:
    try:
        return _check_level(level)
    except ValueError as e:
        raise InputError(f"level: {e}", field="level") from None


def _plain_restart(text: str) -> str:
    """'12-24 h after ...' -> '12 to 24 hours after ...' (the table's shorthand, spelt out)."""
    text = re.sub(r"(\d+)-(\d+) h\b", r"\1 to \2 hours", text)
    return re.sub(r"(\d+) h\b", r"\1 hours", text)


def _restart_text(restart: str) -> str:
    plain = " ".join(_plain_restart(restart).split())
    if re.match(r"\d", plain):
        return f"Restart {plain.rstrip('.')}, unless your team gave you a different plan."
    if re.search(r"\d", plain):
        return f"Restart times: {plain.rstrip('.')}. Your team will tell you which one applies to you."
    return NO_SET_RESTART


def _match(kb: Knowledge, medicine: str) -> s.Antithrombotic | None:
    words = re.sub(r"[^a-z0-9 ]+", " ", medicine.lower()).split()
    joined = f" {' '.join(words)} "
    for row in kb.shared.antithrombotics:
        if any(f" {name.lower()} " in joined for name in row.names):
            return row
    return None


def _medicines(kb: Knowledge, medicines: Iterable[str]) -> tuple[MedicineRestart, ...]:
    out: list[MedicineRestart] = []
    seen: set[str] = set()
    for raw in medicines:
        name = " ".join(raw.split())
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        row = _match(kb, name)
        if row is None:
            out.append(MedicineRestart(name, None, NO_RESTART))
        else:
            out.append(MedicineRestart(name, row.id, _restart_text(row.restart)))
    return tuple(out)


def _followups(points: Sequence[tuple[str, dt.date]]) -> tuple[FollowupDate, ...]:
    return tuple(FollowupDate(label, due) for label, due in sorted(points, key=lambda p: p[1]))


def build_discharge(
    kb: Knowledge,
    procedure_id: str,
    date: dt.date,
    level: str | None = None,
    side: str | None = None,
    patient: str | None = None,
    clinic_phone: str | None = None,
    medicines: Iterable[str] = (),
    *,
    followups: Sequence[tuple[str, dt.date]] | None = None,
) -> DischargeSheet:
    """The discharge sheet for ``procedure_id`` done on ``date``.

    ``followups`` are (label, due date) pairs of a stored follow-up schedule; without them the
    dates are ``date`` plus each point of the knowledge's default follow-up schedule.
    Raises InputError naming the field (procedure, level, side) and, for a procedure without
    discharge instructions, naming the procedure."""
    proc = kb.procedures.get(procedure_id)
    if proc is None:
        raise InputError(f"procedure: no procedure with id {procedure_id!r}; see "
                         "`spinepath content list --kind procedure`", field="procedure")
    if proc.discharge is None:
        raise InputError(f"{proc.id} ({proc.name}) has no discharge instructions yet", field="procedure")
    level, side = check_level(level), check_side(side)
    periods = tuple(Period(key, heading, tuple(" ".join(st.text.split()) for st in getattr(proc.discharge, key)))
                    for key, heading in PERIODS)
    signs = list(proc.warning_signs) + (list(kb.shared.shared_warning_signs) if proc.shared_warning_signs else [])
    groups = tuple(
        WarningGroup(urgency, heading, intro,
                     tuple(Warning(" ".join(w.sign.split()), " ".join(w.action.split()))
                           for w in signs if w.urgency == urgency))
        for urgency, heading, intro in URGENCY_GROUPS
    )
    if followups is None:
        schedule = kb.shared.followup_schedule if proc.followup.schedule == "inherit" else proc.followup.schedule
        followups = [(_label(p), date + dt.timedelta(days=p.days_after)) for p in schedule]  # the procedure's own
    else:
        followups = [(_label_text(label), due) for label, due in followups]
    return DischargeSheet(
        procedure_id=proc.id, procedure_name=proc.name, content_version=proc.version, knowledge_hash=kb.hash,
        date=date, level=level, side=side, patient=(" ".join(patient.split()) or None) if patient else None,
        clinic_phone=(clinic_phone.strip() or None) if clinic_phone else None,
        periods=periods, warnings=tuple(g for g in groups if g.signs), medicines=_medicines(kb, medicines),
        medicines_note=MEDICINES_NOTE, bleeding_risk=proc.asra_risk_class, followups=_followups(followups),
        disclaimer=DISCLAIMER,
    )


def _label(point: s.FollowupPoint) -> str:
    return "Starting point" if point.days_after == 0 else _label_text(point.label)


def _label_text(label: str) -> str:
    if label.strip().lower() == "baseline":
        return "Starting point"
    return f"{label} after your procedure"
