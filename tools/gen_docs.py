"""Regenerate generated documentation pages: python tools/gen_docs.py"""

from pathlib import Path

from spinepath.case.facts_doc import render_facts_doc

root = Path(__file__).resolve().parents[1]
(root / "docs/facts.md").write_text(render_facts_doc(), encoding="utf-8")
print("wrote docs/facts.md")
