"""Interim validator for content authors: python tools/validate_content_file.py FILE...

Validates each YAML file against its schema and compiles every criterion against the fact
catalogue and parameter names. (Superseded by `spinepath content check` once the loader lands.)
"""
import sys
from pathlib import Path

import yaml

from spinepath.case.facts import FACT_NAMES
from spinepath.knowledge import schema as s
from spinepath.rules.criteria import compile_criterion

root = Path(__file__).resolve().parents[1] / "src/spinepath/content"
shared_path = root / "shared.yaml"
params: set[str] = set()
if shared_path.exists():
    params = {p["name"] for p in yaml.safe_load(shared_path.read_text()).get("parameters", [])}
known = set(FACT_NAMES) | params
kinds = {"conditions": s.Condition, "procedures": s.Procedure, "red_flags": s.RedFlag, "policies": s.Policy}


def walk(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "when" and isinstance(v, str):
                yield path + "." + k, v
            else:
                yield from walk(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}[{i}]")


ok = True
for arg in sys.argv[1:]:
    p = Path(arg)
    data = yaml.safe_load(p.read_text())
    model = {"sources.yaml": s.SourceRegister, "shared.yaml": s.Shared}.get(p.name) or kinds[p.parent.name]
    try:
        model.model_validate(data)
        for where, text in walk(data):
            compile_criterion(text, known, f"{p.name}{where}")
        print("OK", p)
    except Exception as e:  # noqa: BLE001
        ok = False
        print("FAIL", p, e)
sys.exit(0 if ok else 1)
