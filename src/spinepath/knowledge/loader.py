"""Strict content loading: all files or nothing.

Content is read from the package (importlib.resources), overlaid file by file with an optional
clinic directory (``SPINEPATH_CONTENT_DIR``): a file at the same relative path replaces the
bundled one, a new file adds an item. Every problem in every file is collected and reported
together, each naming the file, the path inside it and what is allowed; if there is any, a
ContentError is raised and no snapshot exists: nothing is ever half-loaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from spinepath.errors import ContentError, Problem
from spinepath.knowledge import instrument_schema as si
from spinepath.knowledge import schema as s
from spinepath.knowledge.snapshot import Knowledge, build_knowledge

ITEM_DIRS: dict[str, type[s.Editorial]] = {
    "conditions": s.Condition,
    "procedures": s.Procedure,
    "red_flags": s.RedFlag,
    "policies": s.Policy,
    "instruments": si.Instrument,
}
TOP_FILES: dict[str, type[BaseModel]] = {"sources.yaml": s.SourceRegister, "shared.yaml": s.Shared}
CONTENT_ENV = "SPINEPATH_CONTENT_DIR"
#: Content files with their own schema and loader (the lay-term lexicon of `spinepath ask`:
#: spinepath.qa.lexicon); parse_files leaves them alone and load_knowledge checks them.
OWN_LOADER_FILES = frozenset({"lexicon.yaml"})


def _walk(node: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            yield from _walk(child, rel + "/")
        elif child.name.endswith((".yaml", ".yml")):
            yield rel, child


def content_files(override: Path | None = None) -> dict[str, tuple[str, str]]:
    """Relative path -> (display name, text), package content overlaid by ``override``."""
    files: dict[str, tuple[str, str]] = {}
    pkg = resources.files("spinepath.content")
    for rel, f in _walk(pkg):
        files[rel] = (f"content/{rel}", f.read_text(encoding="utf-8"))
    if override is not None:
        if not override.is_dir():
            raise ContentError(
                f"{CONTENT_ENV} points to {str(override)!r}, which is not a directory",
                field=CONTENT_ENV,
            )
        for path in sorted(override.rglob("*.y*ml")):
            rel = path.relative_to(override).as_posix()
            files[rel] = (str(path), path.read_text(encoding="utf-8"))
    return files


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Field names allowed at ``loc`` (the parent of an unknown key), for error messages."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        ann = fields[part].annotation
        current = _inner_model(ann)
        if current is None:
            return None
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else None


def _inner_model(ann: Any) -> type[BaseModel] | None:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_problems(where: str, model: type[BaseModel], err: ValidationError) -> list[Problem]:
    problems = []
    for e in err.errors(include_url=False):
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, tuple(e["loc"]))
            msg = f"unknown key {e['loc'][-1]!r}" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        elif e["type"] == "missing":
            msg = "required key is missing"
        problems.append(Problem(where, msg, _loc(tuple(e["loc"]))))
    return problems


_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """yaml.safe_load through libyaml when it is there: the same documents and errors, about ten
    times faster, which is most of the start-up time of every CLI command."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def parse_files(files: dict[str, tuple[str, str]]) -> tuple[dict[str, Any], list[Problem]]:
    """Validate every file against its schema. Returns parsed models and every problem found."""
    problems: list[Problem] = []
    parsed: dict[str, Any] = {"items": {k: [] for k in ITEM_DIRS}, "files": {}}
    for rel, (where, text) in sorted(files.items()):
        if rel == "README.md" or rel in OWN_LOADER_FILES:
            continue
        try:
            data = load_yaml(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            pos = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
            problems.append(Problem(where, f"not valid YAML: {getattr(e, 'problem', e)}", pos))
            continue
        if not isinstance(data, dict):
            problems.append(Problem(where, "a content file must hold a mapping (key: value) at the top"))
            continue
        top, _, name = rel.partition("/")
        model: type[BaseModel] | None
        if rel in TOP_FILES:
            model = TOP_FILES[rel]
        elif top in ITEM_DIRS and name and "/" not in name:
            model = ITEM_DIRS[top]
        else:
            allowed = ", ".join([*TOP_FILES, *(f"{d}/<id>.yaml" for d in ITEM_DIRS)])
            problems.append(Problem(where, f"unexpected content file; allowed: {allowed}"))
            continue
        try:
            obj = model.model_validate(data)
        except ValidationError as e:
            problems.extend(validation_problems(where, model, e))
            continue
        if top in ITEM_DIRS:
            stem = name.rsplit(".", 1)[0]
            item_id = getattr(obj, "id", stem)
            if item_id != stem:
                problems.append(Problem(where, f"id {item_id!r} must match the file name {stem!r}", "id"))
            parsed["items"][top].append((where, obj))
        else:
            parsed["files"][rel] = (where, obj)
    for rel in TOP_FILES:
        if rel not in parsed["files"] and not any(p.location.endswith(rel) for p in problems):
            problems.append(Problem(f"content/{rel}", "required file is missing"))
    return parsed, problems


def load_knowledge(
    override: Path | str | None = None, today: date | None = None, use_env: bool = True
) -> Knowledge:
    """Load, check and freeze all content. Raises ContentError listing every problem.

    ``override`` defaults to ``$SPINEPATH_CONTENT_DIR`` when ``use_env`` is true.
    """
    if override is None and use_env and os.environ.get(CONTENT_ENV):
        override = os.environ[CONTENT_ENV]
    files = content_files(Path(override) if override is not None else None)
    parsed, problems = parse_files(files)
    from spinepath.qa.lexicon import lexicon_file_problems  # its own schema and cross-checks

    problems.extend(lexicon_file_problems(files, parsed))
    if problems:
        raise ContentError(f"content is invalid: {len(problems)} problem(s)", problems=problems)
    return build_knowledge(parsed, today=today)
