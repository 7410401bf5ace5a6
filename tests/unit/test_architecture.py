"""Project rules that keep the code honest: layers, public API, clinical codes out of Python,
documentation in step with the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import spinepath
from spinepath.case.facts_doc import render_facts_doc
from spinepath.errors import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "spinepath"
DOMAIN = ("knowledge", "case", "rules", "education", "qa", "outcomes")
ADAPTERS = ("store", "api", "cli", "web", "interop")


def test_domain_packages_do_not_import_adapters() -> None:
    bad = []
    for pkg in DOMAIN:
        for path in (SRC / pkg).rglob("*.py") if (SRC / pkg).exists() else []:
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "spinepath" and len(parts) > 1 and parts[1] in ADAPTERS:
                        bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, bad


def test_public_api_is_exactly_all() -> None:
    import inspect

    public = {n for n in dir(spinepath)
              if not n.startswith("_") and not inspect.ismodule(getattr(spinepath, n))}
    assert set(spinepath.__all__) == public


def test_no_clinical_code_literals_in_python() -> None:
    """ICD-10, CPT and SNOMED codes belong in content files, never in code."""
    pattern = re.compile(r"['\"](M5[0-9]\.[0-9]+|G5[0-9]\.[0-9]+|6[0-9]{4}|[0-9]{6,9})['\"]")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in SRC.rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not hits, hits


def test_facts_doc_is_current() -> None:
    assert (ROOT / "docs" / "facts.md").read_text(encoding="utf-8") == render_facts_doc(), \
        "run: python tools/gen_docs.py"


def test_error_codes_are_documented() -> None:
    doc = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    for code, summary in ERROR_CODES.items():
        assert f"| `{code}` | {summary} |" in doc, code


def test_readme_lists_every_cli_command() -> None:
    from spinepath.cli.app import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name for c in app.registered_commands]
    for group in app.registered_groups:  # sub-apps: "content list", "db upgrade", "user add", ...
        assert group.typer_instance is not None
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    assert {"db upgrade", "user add", "content list", "serve", "demo"} <= set(names), names
    for name in names:
        assert f"`spinepath {name}" in readme, name


def test_assessment_json_fields_are_documented() -> None:
    from spinepath.rules.assessment import Assessment, CriterionResult, Option, RedFlagResult

    doc = (ROOT / "docs" / "assessment-json.md").read_text(encoding="utf-8")
    fields = [*Assessment.model_fields, *Option.model_fields, *RedFlagResult.model_fields,
              *CriterionResult.__annotations__]
    missing = [f for f in fields if f"`{f}`" not in doc]
    assert not missing, missing
