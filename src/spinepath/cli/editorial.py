"""Editorial workflow commands on the `spinepath content` group: draft, revise, submit,
start-review, approve, request-changes, publish, retire, revisions, history, due, export, import.

They act on the database named by the settings (as `spinepath user` does). ``--as USER`` names an
existing, enabled user; their role is checked against the lifecycle
(``spinepath.knowledge.lifecycle``), and every step is recorded in ``content_transitions``.
Heavy imports happen inside the commands, so that registering them costs nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from spinepath.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from spinepath.knowledge.snapshot import Knowledge
    from spinepath.store import models as m
    from spinepath.store.repo import Actor

EXPORT_MARKER = ".spinepath-export"

AsUser = Annotated[str, typer.Option("--as", metavar="USER", help="Who does this (an existing user; "
                                     "their role is checked)")]
RevisionArg = Annotated[str, typer.Argument(metavar="REVISION_ID", help="Revision id (rv_...)")]
CommentOpt = Annotated[str | None, typer.Option("--comment", help="A comment kept with the transition")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


# ------------------------------------------------------------------ helpers


def _consoles() -> Any:
    from spinepath.cli import app as cli

    return cli.out, cli.err


def _base_dir() -> Path | None:
    """The clinic overlay (SPINEPATH_CONTENT_DIR), as the other content commands read it."""
    from spinepath.cli.service import _settings

    return _settings().content_dir


def _knowledge() -> Knowledge:
    from spinepath.knowledge.loader import load_knowledge

    return load_knowledge(_base_dir(), use_env=False)


def _actor(s: Session, username: str) -> Actor:
    from spinepath.store import repo

    user = repo.user_by_name(s, username)
    if user is None:
        raise InputError(f"no user named {username!r}; add one with `spinepath user add`", field="as")
    if user.disabled:
        raise InputError(f"user {username!r} is disabled", field="as")
    return repo.Actor(user.id, user.username, user.role, client="command line")


def _revision(s: Session, revision_id: str) -> m.ContentRevision:
    from spinepath.store import repo

    rev = repo.get_revision(s, revision_id, for_update=True)
    if rev is None:
        raise InputError(f"no content revision with id {revision_id!r} (see `spinepath content revisions`)",
                         field="REVISION_ID")
    return rev


def _read_yaml(path: Path, what: str) -> Any:
    import yaml

    if not path.is_file():
        raise InputError(f"no such file: {path}", field=what)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is not valid YAML: {e}", field=what) from None


def _when(value: dt.datetime | None) -> str:
    from spinepath.cli.service import _when as when

    return when(value)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def _row(rev: m.ContentRevision) -> dict[str, Any]:
    from spinepath.knowledge import lifecycle as lc
    from spinepath.store import repo

    state = repo.revision_state(rev)
    return {"id": rev.id, "item_id": rev.item_id, "kind": rev.kind, "revision": rev.revision, "status": rev.status,
            "state": state, "draft": lc.is_draft(state), "live": state == "published", "author": rev.author,
            "created_at": _iso(rev.created_at), "reviewer": rev.reviewer, "reviewed_at": _iso(rev.reviewed_at),
            "published_at": _iso(rev.published_at), "comment": rev.comment}


def _done(rev: m.ContentRevision, action: str, as_json: bool = False) -> None:
    from spinepath.knowledge import lifecycle as lc
    from spinepath.store import repo

    if as_json:
        print(json.dumps(_row(rev), indent=2))
        return
    out, _ = _consoles()
    state = repo.revision_state(rev)
    nxt = lc.describe_allowed(state)
    out.print(f"[green]{action}[/green]: {rev.item_id} revision {rev.revision} ({rev.id}) is now "
              f"[bold]{state}[/bold]; next: {nxt}", highlight=False, soft_wrap=True)


def _step(revision_id: str, action: str, username: str, comment: str | None = None,
          body: dict[str, Any] | None = None, as_json: bool = False) -> None:
    from spinepath.cli.service import _sessions, _settings
    from spinepath.knowledge.loader import content_files
    from spinepath.store import repo

    settings = _settings()
    with _sessions(settings) as S, S() as s, s.begin():
        who = _actor(s, username)
        rev = _revision(s, revision_id)
        if action == "approve":
            repo.approve_revision(s, rev, who, content_files(settings.content_dir), comment=comment)
        else:
            repo.transition(s, rev, action, who, comment=comment, body=body)
        _done(rev, action, as_json)


# ------------------------------------------------------------------ steps


def draft_cmd(
    item_id: Annotated[str, typer.Argument(metavar="ITEM_ID", help="The knowledge item, e.g. esi-caudal")],
    from_file: Annotated[Path, typer.Option("--from", metavar="FILE.yaml", help="The whole item, as a content file")],
    as_user: AsUser,
    kind: Annotated[str | None, typer.Option(help="condition, procedure, red_flag or policy (default: the "
                                             "item's, or the file's kind)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a draft revision of an item from a YAML file (editor)."""
    from spinepath.cli.service import _sessions, _settings
    from spinepath.store import repo

    body = _read_yaml(from_file, "from")
    kb = _knowledge()
    existing = kb.items().get(item_id)
    known = str(getattr(existing, "kind", "")) or None
    file_kind = body.get("kind") if isinstance(body, dict) else None
    chosen = kind or known or (str(file_kind) if file_kind else None)
    if chosen is None:
        raise InputError(f"{item_id!r} is a new item: say its kind with --kind", field="kind")
    if known is not None and chosen != known:
        raise InputError(f"{item_id!r} is a {known}, not a {chosen}", field="kind")
    with _sessions(_settings()) as S, S() as s, s.begin():
        rev = repo.create_revision(s, item_id, chosen, body, _actor(s, as_user))
        _done(rev, "drafted", as_json)


def revise_cmd(revision_id: RevisionArg,
               from_file: Annotated[Path, typer.Option("--from", metavar="FILE.yaml", help="The new body")],
               as_user: AsUser, comment: CommentOpt = None, as_json: JsonOpt = False) -> None:
    """Replace the body of a draft, or of a revision with changes requested (editor); it is a draft again."""
    _step(revision_id, "revise", as_user, comment, body=_read_yaml(from_file, "from"), as_json=as_json)


def submit_cmd(revision_id: RevisionArg, as_user: AsUser, comment: CommentOpt = None,
               as_json: JsonOpt = False) -> None:
    """draft → submitted (editor)."""
    _step(revision_id, "submit", as_user, comment, as_json=as_json)


def start_review_cmd(revision_id: RevisionArg, as_user: AsUser, comment: CommentOpt = None,
                     as_json: JsonOpt = False) -> None:
    """submitted → under_review (reviewer)."""
    _step(revision_id, "start-review", as_user, comment, as_json=as_json)


def approve_cmd(revision_id: RevisionArg, as_user: AsUser, comment: CommentOpt = None,
                as_json: JsonOpt = False) -> None:
    """under_review → approved (a reviewer who is not the author); the content check and the
    readability gate (patient text at grade 8 or below) must pass."""
    _step(revision_id, "approve", as_user, comment, as_json=as_json)


def request_changes_cmd(
    revision_id: RevisionArg, as_user: AsUser,
    comment: Annotated[str, typer.Option("--comment", help="What to change (required)")],
    as_json: JsonOpt = False,
) -> None:
    """under_review → changes_requested (reviewer), saying what to change."""
    _step(revision_id, "request-changes", as_user, comment, as_json=as_json)


def publish_cmd(revision_id: RevisionArg, as_user: AsUser, comment: CommentOpt = None,
                as_json: JsonOpt = False) -> None:
    """approved → published (editor or reviewer): the live revision patients get; the previous one is retired."""
    _step(revision_id, "publish", as_user, comment, as_json=as_json)


def retire_cmd(revision_id: RevisionArg, as_user: AsUser, comment: CommentOpt = None,
               as_json: JsonOpt = False) -> None:
    """approved or published → retired (editor or admin)."""
    _step(revision_id, "retire", as_user, comment, as_json=as_json)


# ------------------------------------------------------------------ reading


def revisions_cmd(
    item_id: Annotated[str | None, typer.Argument(metavar="[ITEM_ID]", help="Only this item's revisions")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List content revisions with their state (drafts marked), author, reviewer and publication."""
    from rich import box
    from rich.table import Table

    from spinepath.cli.service import _sessions, _settings
    from spinepath.store import repo

    out, _ = _consoles()
    with _sessions(_settings()) as S, S() as s:
        revs = list(repo.list_revisions(s, item_id))
        rows = [_row(r) for r in revs]
        stamps = [(r.created_at, r.reviewed_at, r.published_at) for r in revs]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")
    for name in ("revision", "item"):  # ids are copied: never cut short
        table.add_column(name, no_wrap=True, overflow="fold", min_width=19)
    for name in ("#", "state", "author", "created", "reviewer", "published"):
        table.add_column(name)
    for r, (created, _reviewed, published) in zip(rows, stamps, strict=True):
        state = f"[yellow]{r['state']}{'' if r['state'] == 'draft' else ' (draft)'}[/yellow]" if r["draft"] else (
            f"[green]{r['state']} (live)[/green]" if r["live"] else r["state"])
        table.add_row(r["id"], r["item_id"], str(r["revision"]), state, r["author"], _when(created),
                      r["reviewer"] or "-", _when(published) if published else "-")
    out.print(table)
    out.print(f"[dim]{len(rows)} revision(s)[/dim]")


def history_cmd(revision_id: RevisionArg, as_json: JsonOpt = False) -> None:
    """Every transition of one revision: from, to, action, who (role), when, comment."""
    from rich.table import Table

    from spinepath.cli.service import _sessions, _settings
    from spinepath.store import repo

    out, _ = _consoles()
    with _sessions(_settings()) as S, S() as s:
        rev = repo.get_revision(s, revision_id)
        if rev is None:
            raise InputError(f"no content revision with id {revision_id!r}", field="REVISION_ID")
        steps: list[dict[str, Any]] = [{"from": t.from_status, "to": t.to_status, "action": t.action, "actor": t.actor, "role": t.role,
                  "at": t.at, "comment": t.comment} for t in repo.list_transitions(s, rev.id)]
        head = _row(rev)
    if as_json:
        print(json.dumps({**head, "transitions": [{**t, "at": _iso(t["at"])} for t in steps]}, indent=2))
        return
    out.print(f"[bold]{head['item_id']}[/bold] revision {head['revision']} ({head['id']}): {head['state']}",
              highlight=False)
    table = Table("when", "who", "action", "from", "to", "comment", header_style="bold")
    for t in steps:
        table.add_row(_when(t["at"]), f"{t['actor']} ({t['role']})", t["action"], t["from"] or "-", t["to"],
                      t["comment"] or "")
    out.print(table)


def due_cmd(
    today: Annotated[str | None, typer.Option(help="As of this date (default: today)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Approved items past their review date (the live revision where there is one), oldest first."""
    from rich.table import Table

    from spinepath.cli.app import _parse_date
    from spinepath.cli.service import _sessions, _settings
    from spinepath.store import repo

    out, _ = _consoles()
    day = _parse_date(today, "today") or dt.date.today()
    kb = _knowledge()
    with _sessions(_settings()) as S, S() as s:
        due = repo.items_due(s, kb, day)
    if as_json:
        print(json.dumps([{**vars(d), "review_due": d.review_due.isoformat()} for d in due], indent=2))
        return
    table = Table("item", "kind", "version", "review due", "from", header_style="bold")
    for d in due:
        table.add_row(d.item_id, d.kind, d.version, d.review_due.isoformat(),
                      f"revision {d.revision_id}" if d.revision_id else "bundled")
    out.print(table)
    out.print(f"[dim]{len(due)} item(s) past their review date on {day}[/dim]")


# ------------------------------------------------------------------ export and import


def export_set(kb: Knowledge, base: dict[str, tuple[str, str]],
               live: dict[str, m.ContentRevision]) -> dict[str, str]:
    """The approved set as content files: relative path -> text. Bundled (or clinic) approved items
    verbatim, overlaid with the live revisions (in the schema's key order)."""
    from pydantic import ValidationError

    from spinepath.knowledge import lifecycle as lc
    from spinepath.knowledge.loader import ITEM_DIRS

    by_item: dict[tuple[str, str], str] = {}
    for rel in base:
        group, _, name = rel.partition("/")
        if group in ITEM_DIRS and name and "/" not in name:
            by_item[(group, name.rsplit(".", 1)[0])] = rel
    files: dict[str, str] = {}
    for item_id, item in kb.items().items():
        if item_id in live or item.status != "approved":
            continue
        group = lc.KIND_DIRS[str(getattr(item, "kind", ""))]
        found = by_item.get((group, item_id))
        if found is not None:
            files[found] = base[found][1]
    for item_id, rev in live.items():
        model = ITEM_DIRS[lc.KIND_DIRS[rev.kind]]
        try:  # the schema's key order (PostgreSQL's JSONB keeps its own)
            body = model.model_validate(rev.body).model_dump(mode="json", exclude_unset=True)
        except ValidationError:  # the schema changed since it was approved: `content check` will say how
            body = rev.body
        files[lc.content_path(rev.kind, item_id)] = lc.to_yaml(body)
    return files


def export_cmd(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Where to write (empty, new, or an earlier export)")],
) -> None:
    """Write the approved set (bundled approved items overlaid with the live revisions) as content
    files in the bundled layout; `spinepath content check --dir DIR` passes on it."""
    from spinepath.cli.service import _sessions, _settings
    from spinepath.knowledge.loader import ITEM_DIRS, content_files
    from spinepath.store import repo

    out, _ = _consoles()
    settings = _settings()
    kb = _knowledge()
    base = content_files(settings.content_dir)
    with _sessions(settings) as S, S() as s:
        live = repo.live_revisions(s)
        files = export_set(kb, base, live)
        from_revisions = len(live)
    if directory.exists() and any(directory.iterdir()) and not (directory / EXPORT_MARKER).exists():
        raise InputError(f"{directory} is not empty and holds no earlier export ({EXPORT_MARKER}); choose an "
                         "empty or new directory", field="DIR")
    removed = 0
    for group in ITEM_DIRS:  # an earlier export's items that are no longer approved go
        for old in sorted((directory / group).glob("*.y*ml")) if (directory / group).is_dir() else []:
            if old.relative_to(directory).as_posix() not in files:
                old.unlink()
                removed += 1
    for rel, text in sorted(files.items()):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (directory / EXPORT_MARKER).write_text("written by `spinepath content export`: the approved content set\n",
                                           encoding="utf-8")
    out.print(f"[green]exported[/green] {len(files)} approved item(s) to {directory} ({from_revisions} from live "
              f"revisions{f', {removed} stale file(s) removed' if removed else ''}); check with `spinepath content "
              f"check --dir {directory}`", highlight=False, soft_wrap=True)


def _normal(model: Any, data: Any) -> Any:
    """A body as compared on import: validated and fully dumped, or as written when it does not validate."""
    from pydantic import ValidationError

    from spinepath.knowledge import lifecycle as lc

    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError:
        return lc.json_safe(data)


def import_cmd(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="Content files in the bundled layout")],
    as_user: AsUser,
    as_json: JsonOpt = False,
) -> None:
    """Load every item file in DIR that differs from the item's live revision (or the bundled item)
    as a new draft revision (editor); report how many were drafted, unchanged and skipped."""
    import yaml

    from spinepath.cli.service import _sessions, _settings
    from spinepath.knowledge import lifecycle as lc
    from spinepath.knowledge.loader import ITEM_DIRS, TOP_FILES
    from spinepath.store import repo

    out, err = _consoles()
    if not directory.is_dir():
        raise InputError(f"no such directory: {directory}", field="DIR")
    kb = _knowledge()
    drafted: list[dict[str, Any]] = []
    unchanged: list[str] = []
    skipped: list[dict[str, str]] = []
    with _sessions(_settings()) as S, S() as s, s.begin():
        who = _actor(s, as_user)
        lc.check(None, "create", who.role, actor=who.username)
        live = repo.live_revisions(s)
        kinds = {group: kind for kind, group in lc.KIND_DIRS.items()}
        for path in sorted(directory.rglob("*.y*ml")):
            rel = path.relative_to(directory).as_posix()
            group, _, name = rel.partition("/")
            if group not in ITEM_DIRS or not name or "/" in name:
                why = "not revisioned (edit the bundled file)" if rel in TOP_FILES else "not an item file"
                skipped.append({"file": rel, "reason": why})
                continue
            item_id, kind, model = name.rsplit(".", 1)[0], kinds[group], ITEM_DIRS[group]
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as e:
                skipped.append({"file": rel, "reason": f"not valid YAML: {getattr(e, 'problem', e)}"})
                continue
            if not isinstance(data, dict) or not lc.ITEM_ID.fullmatch(item_id):
                skipped.append({"file": rel, "reason": "not a content item (a mapping, named by its id)"})
                continue
            existing = kb.items().get(item_id)
            known = live[item_id].kind if item_id in live else str(getattr(existing, "kind", kind))
            if known != kind:
                skipped.append({"file": rel, "reason": f"{item_id!r} is a {known}, not a {kind}"})
                continue
            current: Any = None
            if item_id in live:
                current = _normal(model, live[item_id].body)
            elif existing is not None:
                current = existing.model_dump(mode="json")
            if current is not None and _normal(model, data) == current:
                unchanged.append(rel)
                continue
            try:
                rev = repo.create_revision(s, item_id, kind, data, who)
            except InputError as e:
                skipped.append({"file": rel, "reason": e.message})
                continue
            drafted.append({"file": rel, "item_id": item_id, "revision_id": rev.id, "revision": rev.revision})
    if as_json:
        print(json.dumps({"drafted": drafted, "unchanged": unchanged, "skipped": skipped}, indent=2))
        return
    for d in drafted:
        out.print(f"  drafted {d['item_id']} revision {d['revision']} ({d['revision_id']}) from {d['file']}",
                  highlight=False)
    for k in skipped:
        err.print(f"[yellow]skipped[/yellow] {k['file']}: {k['reason']}", highlight=False)
    out.print(f"[green]imported[/green]: {len(drafted)} drafted, {len(unchanged)} unchanged, {len(skipped)} skipped",
              highlight=False)


# ------------------------------------------------------------------ registration


def register(content_app: typer.Typer) -> None:
    """Add the editorial commands to the `spinepath content` group."""
    from spinepath.cli.app import handled

    for name, fn in (("draft", draft_cmd), ("revise", revise_cmd), ("submit", submit_cmd),
                     ("start-review", start_review_cmd), ("approve", approve_cmd),
                     ("request-changes", request_changes_cmd), ("publish", publish_cmd), ("retire", retire_cmd),
                     ("revisions", revisions_cmd), ("history", history_cmd), ("due", due_cmd),
                     ("export", export_cmd), ("import", import_cmd)):
        content_app.command(name)(handled(fn))
