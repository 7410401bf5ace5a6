"""`spinepath followup`: due and overdue follow-up, urgent alerts, submitting answers, and one
patient's trajectory. Acts on the database named by the settings (like `spinepath user`), as the
command-line user (recorded in the audit log as ``cli:<login>``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from spinepath.errors import InputError

SPARK = "▁▂▃▄▅▆▇█"
MARK = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: "[dim]?[/dim]"}
URGENCY_STYLE = {"emergency": "bold red", "call_today": "yellow"}


#: Options several commands share.
Today = Annotated[str | None, typer.Option(help="As of this date (default: today)")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _ctx() -> tuple[Any, Any, Any, Any]:
    from spinepath.cli.service import _cli_actor, _consoles, _sessions, _settings

    out, _err = _consoles()
    return out, _settings(), _sessions, _cli_actor()


def _kb(settings: Any) -> Any:
    from spinepath import load_knowledge

    return load_knowledge(settings.content_dir, use_env=False)


def _day(value: str | None, name: str) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--{name} must be a date like 2026-01-31, got {value!r}", field=name) from None


def sparkline(values: list[float | None], top: float = 10.0) -> str:
    """One character per value (0..top), a space where there is none."""
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(SPARK[min(len(SPARK) - 1, max(0, round(v / top * (len(SPARK) - 1))))])
    return "".join(out)


def _answer(text: str) -> tuple[str, Any]:
    """``item=value`` -> (item, value): whole numbers become numbers, ``2,3`` several marks."""
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key:
        raise InputError(f"--answer takes ITEM=VALUE (e.g. leg=6 or fever=no), got {text!r}", field="answer")

    def one(v: str) -> Any:
        try:
            return int(v)
        except ValueError:
            return v

    if "," in raw:
        return key, [one(v.strip()) for v in raw.split(",") if v.strip()]
    return key, one(raw) if raw else None


# ------------------------------------------------------------------ commands


def due_cmd(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only time points whose due date has passed")] = False,
    within_days: Annotated[int, typer.Option(min=0, max=90, help="Also those due in the next N days")] = 0,
    today: Today = None,
    as_json: AsJson = False,
) -> None:
    """Follow-up time points due (or overdue) and not answered, oldest first."""
    from spinepath.outcomes.schedules import instruments_for
    from spinepath.store import followups

    out, settings, sessions, who = _ctx()
    day = _day(today, "today")
    kb = _kb(settings)
    with sessions(settings) as S, S() as s, s.begin():
        rows: list[dict[str, Any]] = [{"schedule_id": r.point.id, "patient_id": r.point.patient_id, "procedure": r.procedure.procedure_id,
                 "procedure_performed_id": r.procedure.id, "performed_on": r.procedure.performed_on.isoformat(),
                 "label": r.point.label, "due_on": r.point.due_on.isoformat(), "overdue": r.overdue,
                 "days_overdue": r.days_overdue,
                 "instruments": instruments_for(kb, r.procedure.procedure_id)
                 if r.procedure.procedure_id in kb.procedures else []}
                for r in followups.due_followups(s, who, day, overdue_only=overdue, within_days=within_days)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", title=f"Follow-up {'overdue' if overdue else 'due'} "
                  f"as of {day}")
    for col in ("due", "late", "patient", "procedure", "time point", "ask", "schedule id"):
        table.add_column(col, no_wrap=col in ("patient", "schedule id", "due"))
    for r in rows:
        late = f"[red]{r['days_overdue']} d[/red]" if r["overdue"] else "[green]today[/green]" \
            if r["due_on"] == day.isoformat() else "[dim]upcoming[/dim]"
        table.add_row(r["due_on"], late, r["patient_id"], r["procedure"], r["label"],
                      ", ".join(i for i in r["instruments"] if i != "warning-signs"), r["schedule_id"])
    out.print(table)
    n_over = sum(1 for r in rows if r["overdue"])
    out.print(f"[dim]{len(rows)} time point(s), {n_over} overdue[/dim]")


def alerts_cmd(
    show_all: Annotated[bool, typer.Option("--all", help="Include acknowledged alerts")] = False,
    as_json: AsJson = False,
) -> None:
    """Urgent alerts from follow-up answers that reported a warning sign (until acknowledged)."""
    from spinepath.store import followups

    out, settings, sessions, who = _ctx()
    kb = _kb(settings)
    labels = {it.id: it.label for ins in kb.instruments.values() for it in ins.items}
    with sessions(settings) as S, S() as s, s.begin():
        rows = [{"id": a.id, "patient_id": a.patient_id, "response_id": a.response_id, "sign": a.sign,
                 "label": labels.get(a.sign, a.sign), "warning_sign": a.warning_sign, "urgency": a.urgency,
                 "raised_at": _iso(a.raised_at), "acknowledged_by": a.acknowledged_by,
                 "acknowledged_at": _iso(a.acknowledged_at) if a.acknowledged_at else None, "note": a.note}
                for a in followups.list_alerts(s, who, include_acknowledged=show_all)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", title="Follow-up alerts")
    for col in ("urgency", "raised", "patient", "reported", "alert id", "acknowledged"):
        table.add_column(col, no_wrap=col in ("patient", "alert id"))
    for r in rows:
        style = URGENCY_STYLE.get(r["urgency"], "")
        urgency = f"[{style}]{r['urgency']}[/{style}]" if style else r["urgency"]
        ack = f"{r['acknowledged_by']} {r['acknowledged_at'][:16]}" if r["acknowledged_at"] else "[bold]open[/bold]"
        table.add_row(urgency, r["raised_at"][:16].replace("T", " "), r["patient_id"], r["label"], r["id"], ack)
    out.print(table)
    open_n = sum(1 for r in rows if not r["acknowledged_at"])
    out.print(f"[dim]{open_n} open alert(s)" + (f", {len(rows) - open_n} acknowledged" if show_all else "")
              + " · acknowledge with `spinepath followup ack ALERT_ID`[/dim]")


def ack_cmd(
    alert_id: Annotated[str, typer.Argument(help="The alert id (al_...)")],
    note: Annotated[str | None, typer.Option(help="What was done (kept with the alert)")] = None,
    as_json: AsJson = False,
) -> None:
    """Acknowledge an alert: it leaves the open list; who and when are kept."""
    from spinepath.store import followups

    out, settings, sessions, who = _ctx()
    with sessions(settings) as S, S() as s, s.begin():
        alert = followups.get_alert(s, alert_id, for_update=True)
        if alert is None:
            raise InputError(f"no alert with id {alert_id!r}", field="alert_id")
        if alert.acknowledged_at is not None:
            raise InputError(f"alert {alert_id!r} was already acknowledged by {alert.acknowledged_by} at "
                             f"{_iso(alert.acknowledged_at)}", field="alert_id")
        followups.acknowledge_alert(s, who, alert, note)
        result = {"id": alert.id, "acknowledged_by": alert.acknowledged_by,
                  "acknowledged_at": _iso(alert.acknowledged_at), "note": alert.note}
    if as_json:
        print(json.dumps(result, indent=2))
        return
    out.print(f"[green]acknowledged[/green] alert [bold]{alert_id}[/bold] as {result['acknowledged_by']}",
              highlight=False)


def submit_cmd(
    patient: Annotated[str, typer.Argument(help="The patient id (pt_...)")],
    instrument: Annotated[str | None, typer.Option(help="Instrument id: nrs, odi, bni, warning-signs")] = None,
    answer: Annotated[list[str] | None, typer.Option("--answer", help="ITEM=VALUE, repeatable (leg=6, fever=no; "
                                                     "2,3 for several marks)")] = None,
    fhir: Annotated[Path | None, typer.Option("--fhir", help="A FHIR R4 QuestionnaireResponse (.json) instead")] = None,
    item: Annotated[str | None, typer.Option(help="With --fhir: our item for a pain score without a site")] = None,
    schedule_id: Annotated[str | None, typer.Option("--schedule-id", help="The time point this answers")] = None,
    as_json: AsJson = False,
) -> None:
    """Submit follow-up answers for a patient: --instrument with --answer ITEM=VALUE ..., or --fhir FILE."""
    from spinepath.store import followups
    from spinepath.store import models as m

    out, settings, sessions, who = _ctx()
    kb = _kb(settings)
    score = None
    via = "cli"
    if fhir is not None:
        if instrument or answer:
            raise InputError("give either --fhir or --instrument with --answer, not both", field="fhir")
        from spinepath.outcomes.fhir_questionnaire import score_questionnaire_response

        try:
            resource = json.loads(fhir.read_text(encoding="utf-8"))
        except OSError as e:
            raise InputError(f"cannot read {fhir}: {e.strerror}", field="fhir") from None
        except json.JSONDecodeError as e:
            raise InputError(f"{fhir} is not valid JSON: {e.msg} at line {e.lineno}", field="fhir") from None
        parsed, score = score_questionnaire_response(resource, kb, item)
        instrument, answers, via = parsed.instrument, parsed.answers, "fhir"
    else:
        if not instrument or not answer:
            raise InputError("give --instrument and at least one --answer ITEM=VALUE (or --fhir FILE)",
                             field="instrument" if not instrument else "answer")
        answers = dict(_answer(a) for a in answer)
    with sessions(settings) as S, S() as s, s.begin():
        if s.get(m.Patient, patient) is None:
            raise InputError(f"no patient with id {patient!r}", field="patient")
        resp, alerts = followups.record_response(s, who, kb, patient, instrument, answers, schedule_id, via=via,
                                            score=score)
        result: dict[str, Any] = {"id": resp.id, "instrument": resp.instrument, "score": resp.score,
                                  "alerts": [a.id for a in alerts]}
    if as_json:
        print(json.dumps(result, indent=2))
        return
    sc: dict[str, Any] = result["score"] or {}
    shown = (f"{sc['value']:.1f}" if sc.get("value") is not None
             else ", ".join(f"{k} {v:g}" for k, v in (sc.get("values") or {}).items()) or "no score")
    out.print(f"[green]stored[/green] {resp.instrument} response [bold]{resp.id}[/bold]: {shown}"
              + (f" ({sc['band']})" if sc.get("band") else ""), highlight=False)
    for note in sc.get("notes") or []:
        out.print(f"  [dim]{note}[/dim]", highlight=False)
    for a in alerts:
        out.print(f"  [bold red]alert[/bold red] {a.id}: {a.sign} ({a.urgency}) — the care team is alerted",
                  highlight=False)


def patient_cmd(
    patient: Annotated[str, typer.Argument(help="The patient id (pt_...)")],
    policy: Annotated[str | None, typer.Option(help="Policy profile for the repeat check (default: the site's)")] = None,
    today: Today = None,
    as_json: AsJson = False,
) -> None:
    """One patient's trajectory: pain and ODI by time point, responders, relief and repeat check."""
    from spinepath.outcomes.patient import patient_outcomes
    from spinepath.store import followups
    from spinepath.store import models as m

    out, settings, sessions, who = _ctx()
    day = _day(today, "today")
    kb = _kb(settings)
    policy_id = kb.policy(policy or settings.default_policy).id
    with sessions(settings) as S, S() as s, s.begin():
        if s.get(m.Patient, patient) is None:
            raise InputError(f"no patient with id {patient!r}", field="patient")
        episodes = followups.outcome_episodes(followups.patient_followup(s, who, patient))
    result = patient_outcomes(kb, patient, episodes, day, policy_id)
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    render_outcomes(out, result)


def render_outcomes(out: Any, result: Any) -> None:
    """The trajectory tables, one per procedure. Responder columns are numbered (legend below)."""
    defs = result.responder_definitions
    if not result.episodes:
        out.print(f"patient {result.patient_id}: no procedures recorded")
        return
    for ep in result.episodes:
        where = " ".join(x for x in (ep.level, ep.side) if x)
        out.print(f"\n[bold]{ep.name}[/bold] ({ep.procedure}) on {ep.performed_on}" + (f", {where}" if where else "")
                  + f" · primary pain: {ep.primary_site or 'unknown'}", highlight=False)
        table = Table(box=box.SIMPLE_HEAD, header_style="bold")
        for col in ("time point", "due", "state", "NRS", "Δ NRS", "ODI", "Δ ODI", "BNI",
                    *(str(i) for i in range(1, len(defs) + 1)), "warning"):
            table.add_column(col, no_wrap=True,
                             justify="right" if col in ("NRS", "Δ NRS", "ODI", "Δ ODI", "BNI") else "left")
        for p in ep.points:
            state = {"answered": "[green]answered[/green]", "overdue": "[red]overdue[/red]",
                     "due": "[yellow]due[/yellow]", "upcoming": "[dim]upcoming[/dim]"}[p.state]
            warn = {True: "[bold red]YES[/bold red]", False: "no", None: ""}[p.warning]
            table.add_row(p.label, str(p.due_on), state, "" if p.nrs is None else f"{p.nrs:g}", _delta(p.nrs_change),
                          "" if p.odi is None else f"{p.odi:.1f}", _delta(p.odi_change),
                          "" if p.bni is None else str(p.bni),
                          *("" if not p.responders else MARK[p.responders.get(d.id)] for d in defs), warn)
        out.print(table)
        out.print("  responders: " + " · ".join(f"{i} {d.label}" for i, d in enumerate(defs, 1)), highlight=False)
        spark = sparkline([p.nrs for p in ep.points if p.state == "answered"])
        out.print(f"  pain ({ep.primary_site or '?'}), answered time points: [bold]{spark}[/bold]  (0-10)",
                  highlight=False)
        out.print(f"  relief: {ep.relief.text}", highlight=False)
        style = {"reasonable": "green", "not_reasonable": "red", "not_enough_followup": "yellow",
                 "no_rule": "dim"}[ep.repeat.verdict]
        out.print(f"  repeat: [{style}]{ep.repeat.text}[/{style}]", highlight=False)
    out.print(f"[dim]{result.disclaimer}[/dim]", highlight=False)


def _delta(ch: Any) -> str:
    """Change as follow-up minus baseline (a fall in pain or disability is negative)."""
    if ch is None:
        return ""
    pct = "" if ch.pct is None else f" ({-ch.pct + 0.0:+.0f}%)"
    return f"{-ch.points + 0.0:+g}{pct}"


def _iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def register(app: typer.Typer) -> None:
    """Add `spinepath followup ...` to the main app."""
    from spinepath.cli.app import handled

    fu = typer.Typer(help="Follow-up: due lists, alerts, answers, one patient's trajectory.", no_args_is_help=True)
    fu.command("due")(handled(due_cmd))
    fu.command("alerts")(handled(alerts_cmd))
    fu.command("ack")(handled(ack_cmd))
    fu.command("submit")(handled(submit_cmd))
    fu.command("patient")(handled(patient_cmd))
    app.add_typer(fu, name="followup")
