"""Service commands: `spinepath db`, `user`, `audit`, `serve` and `demo`.

They act on the database named by the settings (SPINEPATH_DATABASE_URL, or the SQLite file in
SPINEPATH_DATA_DIR). Commands are registered on the main app by :func:`register`, which
``spinepath.cli.app`` calls; this module imports ``spinepath.cli.app`` only inside functions,
so either module may be imported first.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from spinepath.errors import DatabaseError, DatabaseNotMigrated, InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from spinepath.settings import Settings

MIN_PASSWORD = 10
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,79}")
DEMO_DIR = Path("spinepath-demo")
DEMO_MARKER = ".spinepath-demo"


# ------------------------------------------------------------------ helpers


def _consoles() -> tuple[Console, Console]:
    from spinepath.cli import app as cli

    return cli.out, cli.err


def _settings(database_url: str | None = None) -> Settings:
    from pydantic import ValidationError

    from spinepath.settings import Settings

    try:
        settings = Settings()
    except ValidationError as e:
        first = e.errors()[0]
        name = "SPINEPATH_" + str(first["loc"][0]).upper() if first["loc"] else "SPINEPATH_*"
        raise InputError(f"setting {name} is invalid: {first['msg']}", field=name) from None
    if database_url:
        settings = settings.model_copy(update={"database_url": database_url})
    return settings


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        raise InputError(f"not a database URL: {url.split('@')[-1]!r}", field="database_url") from None


def _sqlite_file(url: str) -> Path | None:
    """The file of a file-backed SQLite URL, else None."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _unavailable(url: str, e: Exception) -> DatabaseError:
    detail = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
    return DatabaseError(f"cannot open the database {mask_url(url)}: {detail}")


def _revisions(url: str) -> tuple[str | None, str]:
    """(current, head) revision. A SQLite file that does not exist is left uncreated."""
    from sqlalchemy.exc import SQLAlchemyError

    from spinepath.store.db import make_engine
    from spinepath.store.migrate import current_revision, head_revision

    head = head_revision(url)
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        return None, head
    engine = make_engine(url)
    try:
        return current_revision(engine), head
    except SQLAlchemyError as e:
        raise _unavailable(url, e) from None
    finally:
        engine.dispose()


def require_migrated(settings: Settings) -> None:
    """Raise DatabaseNotMigrated, saying what to run, unless the schema is at head."""
    url = settings.url
    current, head = _revisions(url)
    if current == head:
        return
    path = _sqlite_file(url)
    where = f"no database at {path}" if path is not None and not path.exists() else (
        f"the database {mask_url(url)} has no spinepath schema" if current is None
        else f"the database {mask_url(url)} is at revision {current}; this spinepath needs {head}")
    raise DatabaseNotMigrated(f"{where}. Run `spinepath db upgrade` first (with the same "
                              "SPINEPATH_DATA_DIR / SPINEPATH_DATABASE_URL).")


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A sessionmaker on a migrated database; the engine is disposed afterwards."""
    from sqlalchemy.exc import OperationalError

    from spinepath.store.db import make_engine, make_sessionmaker

    require_migrated(settings)
    engine = make_engine(settings.url)
    try:
        yield make_sessionmaker(engine)
    except OperationalError as e:
        raise _unavailable(settings.url, e) from None
    finally:
        engine.dispose()


def _cli_actor() -> Any:
    """Who runs an administrative command, for the audit log."""
    from spinepath.store.repo import Actor

    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = "unknown"
    return Actor(user_id=None, username=f"cli:{who}"[:80], role="admin", client="command line")


def _when(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


# ------------------------------------------------------------------ db


def db_upgrade(
    database_url: Annotated[str | None, typer.Option("--database-url", metavar="URL",
                                                     help="Database (default: $SPINEPATH_DATABASE_URL or "
                                                     "the SQLite file in $SPINEPATH_DATA_DIR)")] = None,
) -> None:
    """Create or upgrade the database schema to this version (Alembic migrations)."""
    from sqlalchemy.exc import SQLAlchemyError

    from spinepath.store.migrate import upgrade

    out, _ = _consoles()
    url = _settings(database_url).url
    masked = mask_url(url)
    before, _head = _revisions(url)
    try:
        head = upgrade(url)
    except SQLAlchemyError as e:
        raise _unavailable(url, e) from None
    change = "already at" if before == head else f"upgraded from {before or 'empty'} to"
    out.print(f"[green]database ready[/green]: {masked} — {change} revision [bold]{head}[/bold] (head)",
              highlight=False, soft_wrap=True)


def db_status(
    database_url: Annotated[str | None, typer.Option("--database-url", metavar="URL",
                                                     help="Database (default: from the settings)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Show the database's schema revision and this version's head; exit 1 if an upgrade is due."""
    out, _ = _consoles()
    url = _settings(database_url).url
    current, head = _revisions(url)
    if as_json:
        print(json.dumps({"database": mask_url(url), "current": current, "head": head,
                          "up_to_date": current == head}, indent=2))
    else:
        out.print(f"database  {mask_url(url)}", highlight=False, soft_wrap=True)
        out.print(f"current   {current or 'none (not migrated)'}", highlight=False, soft_wrap=True)
        out.print(f"head      {head}", highlight=False, soft_wrap=True)
        out.print("[green]up to date[/green]" if current == head
                  else "[yellow]upgrade due[/yellow]: run `spinepath db upgrade`")
    if current != head:
        raise typer.Exit(1)


# ------------------------------------------------------------------ users


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return password


def _check_password(password: str, username: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password too weak: it must have at least {MIN_PASSWORD} characters "
                         f"(got {len(password)})", field="password")
    if password.strip().lower() == username.lower():
        raise InputError("password too weak: it must not be the username", field="password")


def user_add(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ @ -)")],
    role: Annotated[str, typer.Option(help="clinician, patient, editor, reviewer, analyst or admin")],
    patient_id: Annotated[str | None, typer.Option("--patient-id", help="Required for role patient: "
                                                   "the patient this user is")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                                 "the first line of standard input (no prompt)")] = False,
) -> None:
    """Add a user. The password is prompted for (hidden, twice) unless --password-stdin."""
    from spinepath.store import models as m
    from spinepath.store import repo

    out, _ = _consoles()
    if role not in m.ROLES:
        raise InputError(f"unknown role {role!r}; allowed roles: {', '.join(m.ROLES)}", field="role")
    if not USERNAME.fullmatch(username):
        raise InputError("a username is 1-80 characters: letters, digits and . _ @ - "
                         "(starting with a letter or digit)", field="username")
    if role == "patient" and not patient_id:
        raise InputError("a patient user needs --patient-id (the patient record this user is)",
                         field="patient_id")
    if role != "patient" and patient_id:
        raise InputError("only a patient user is linked to a patient; drop --patient-id",
                         field="patient_id")
    settings = _settings()
    with _sessions(settings) as S:
        with S() as s:  # check before asking for a password
            if repo.user_by_name(s, username) is not None:
                raise InputError(f"user {username!r} already exists", field="username")
            if patient_id and s.get(m.Patient, patient_id) is None:
                raise InputError(f"no patient with id {patient_id!r}", field="patient_id")
        password = _read_password(password_stdin)
        _check_password(password, username)
        with S() as s, s.begin():
            user = repo.create_user(s, username, password, role, patient_id=patient_id)
            repo.audit(s, _cli_actor(), "create", "user", str(user.id), patient_id)
    linked = f", linked to patient {patient_id}" if patient_id else ""
    out.print(f"[green]added[/green] user [bold]{username}[/bold] ({role}{linked})",
              highlight=False, soft_wrap=True)


def user_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """List users: username, role, linked patient, disabled, created."""
    from spinepath.store import repo

    out, _ = _consoles()
    with _sessions(_settings()) as S, S() as s:
        rows: list[dict[str, Any]] = [{"username": u.username, "role": u.role, "patient_id": u.patient_id, "disabled": u.disabled,
                 "created_at": u.created_at} for u in repo.list_users(s)]
    if as_json:
        print(json.dumps([{**r, "created_at": _iso(r["created_at"])} for r in rows], indent=2))
        return
    table = Table("username", "role", "patient", "disabled", "created", header_style="bold")
    for r in rows:
        table.add_row(r["username"], r["role"], r["patient_id"] or "-",
                      "[red]yes[/red]" if r["disabled"] else "no", _when(r["created_at"]))
    out.print(table)
    out.print(f"[dim]{len(rows)} user(s)[/dim]")


def _iso(value: dt.datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def user_disable(
    username: Annotated[str, typer.Argument(help="The user to disable")],
) -> None:
    """Disable a user: they can no longer log in and their tokens are revoked."""
    from sqlalchemy import func, select

    from spinepath.store import models as m
    from spinepath.store import repo

    out, _ = _consoles()
    with _sessions(_settings()) as S, S() as s, s.begin():
        user = repo.set_disabled(s, username, True)
        if user is None:
            raise InputError(f"no user named {username!r}", field="username")
        s.flush()
        revoked = s.scalar(select(func.count()).select_from(m.Token)
                           .where(m.Token.user_id == user.id, m.Token.revoked.is_(True)))
        repo.audit(s, _cli_actor(), "update", "user", str(user.id), user.patient_id)
    out.print(f"[green]disabled[/green] user [bold]{username}[/bold]; {revoked or 0} token(s) revoked",
              highlight=False, soft_wrap=True)


# ------------------------------------------------------------------ audit


def audit_cmd(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Newest N entries")] = 50,
    patient_id: Annotated[str | None, typer.Option("--patient-id", help="Only entries about this patient")] = None,
    user: Annotated[str | None, typer.Option("--user", metavar="NAME", help="Only entries by this user")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Read the audit log (newest first): who read or changed which record, when, from where."""
    from spinepath.store import repo

    out, _ = _consoles()
    with _sessions(_settings()) as S, S() as s:
        entries: list[dict[str, Any]] = [{"at": e.at, "username": e.username, "role": e.role, "action": e.action,
                    "resource": e.resource, "record_id": e.record_id, "patient_id": e.patient_id,
                    "client": e.client}
                   for e in repo.read_audit(s, limit=limit, patient_id=patient_id, username=user)]
    if as_json:
        print(json.dumps([{**e, "at": _iso(e["at"])} for e in entries], indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  header_style="bold")
    table.add_column("when", no_wrap=True)
    table.add_column("who")
    table.add_column("action")
    table.add_column("resource")
    for name in ("record", "patient"):  # ids are copied: never cut short
        table.add_column(name, no_wrap=True, overflow="fold", min_width=19)
    table.add_column("from")
    for e in entries:
        table.add_row(_when(e["at"]), f"{e['username']} ({e['role']})", e["action"], e["resource"],
                      e["record_id"] or "-", e["patient_id"] or "-", e["client"] or "-")
    out.print(table)
    out.print(f"[dim]{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, newest first[/dim]")


# ------------------------------------------------------------------ serve


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Check the database, build the app (which checks again) and run uvicorn until stopped."""
    out, _ = _consoles()
    require_migrated(settings)

    import uvicorn

    from spinepath.api.app import create_app
    from spinepath.api.worker import WORKERS_ENV, ready_to_serve

    out.print(f"spinepath serving [bold]http://{host}:{port}[/bold] (API docs: http://{host}:{port}/docs) "
              f"· database {mask_url(settings.url)} · Ctrl-C stops", highlight=False, soft_wrap=True)
    if workers == 1:
        uvicorn.run(ready_to_serve(create_app(settings)), host=host, port=port, log_level="info")
    else:
        from spinepath import load_knowledge

        load_knowledge(settings.content_dir, use_env=False)  # fail here, not in every worker
        os.environ[WORKERS_ENV] = str(workers)  # each worker keeps to its share of clients (balance.py)
        # libuv accepts every pending connection per wake-up, so one worker could take 31 of 32
        # clients that connect at once; one accept per wake-up gives balance.py a better start.
        os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
        uvicorn.run("spinepath.api.worker:app_factory", factory=True, host=host, port=port,
                    workers=workers, log_level="info")


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
) -> None:
    """Run the REST API (uvicorn) on the configured database; it must be migrated first."""
    run_server(_settings(), host, port, workers)


# ------------------------------------------------------------------ demo


def _demo_database(data_dir: Path) -> Path:
    """Prepare the demo directory; remove a previous demo database, never any other."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = data_dir / "spinepath.db"
    marker = data_dir / DEMO_MARKER
    if db.exists() and not marker.exists():
        raise InputError(f"{db} exists and was not made by `spinepath demo`; it is left alone. "
                         "Choose another --data-dir.", field="data_dir")
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    marker.write_text("made by `spinepath demo`; its database is recreated on every run\n", encoding="utf-8")
    return db


def demo_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port")] = 8000,
    patients: Annotated[int, typer.Option(min=1, max=10_000, help="How many synthetic patients")] = 40,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="Where the demo database goes "
                                           "(recreated on every run)")] = DEMO_DIR,
    seed: Annotated[int | None, typer.Option(help="Random seed of the synthetic cases")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the database and stop")] = False,
) -> None:
    """Build a demo database (synthetic patients, one user per role) and serve it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from spinepath.store.demo import DEMO_SEED, build_demo

    out, err = _consoles()
    data_dir = data_dir.expanduser().resolve()
    db = _demo_database(data_dir)
    settings = _settings().model_copy(update={"data_dir": data_dir, "database_url": f"sqlite:///{db}"})
    with Progress(TextColumn("building demo"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("patients", total=patients)
        credentials = build_demo(settings, patients, DEMO_SEED if seed is None else seed,
                                 progress=lambda done, _total: bar.update(task, completed=done))
    table = Table("username", "role", "password", title="Demo users (passwords shown once)",
                  header_style="bold")
    for username, role, password in credentials:
        table.add_row(username, role, password)
    out.print(f"[green]demo database ready[/green]: {db} — {patients} synthetic patients "
              "(invented, no real person)", highlight=False, soft_wrap=True)
    out.print(table)
    out.print(f"API docs: [bold]http://{host}:{port}/docs[/bold]  ·  serve it again later with "
              f"SPINEPATH_DATABASE_URL=sqlite:///{db} spinepath serve", highlight=False, soft_wrap=True)
    if not no_serve:
        run_server(settings, host, port)


# ------------------------------------------------------------------ registration


def register(app: typer.Typer) -> None:
    """Add the service commands to the `spinepath` app."""
    from spinepath.cli.app import handled

    db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
    db_app.command("upgrade")(handled(db_upgrade))
    db_app.command("status")(handled(db_status))
    user_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
    user_app.command("add")(handled(user_add))
    user_app.command("list")(handled(user_list))
    user_app.command("disable")(handled(user_disable))
    app.add_typer(db_app, name="db")
    app.add_typer(user_app, name="user")
    app.command("audit")(handled(audit_cmd))
    app.command("serve")(handled(serve_cmd))
    app.command("demo")(handled(demo_cmd))
