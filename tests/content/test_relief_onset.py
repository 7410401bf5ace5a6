"""A procedure's relief onset (``followup.relief_onset_days``) decides when the outcome analytics may
find that relief ended, so the content check treats it like a rule: it needs sources, not only [NV]
ones, and it must fall within the procedure's follow-up schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spinepath.knowledge.snapshot import Knowledge
from tests.content.test_content_check import bundled, overlay, problems

RF = "procedures/rf-facet-lumbar.yaml"


def _with(rel: str, **followup: Any) -> dict[str, Any]:
    d = bundled(rel)
    d["followup"].pop("relief_onset_days", None)
    d["followup"].pop("relief_onset_sources", None)
    d["followup"].update(followup)
    return d


def test_onset_without_sources_is_refused(tmp_path: Path) -> None:
    found = problems(overlay(tmp_path, RF, _with(RF, relief_onset_days=21)))
    assert any("rf-facet-lumbar.yaml" in p and "followup" in p and "relief_onset_sources" in p for p in found), found


def test_sources_without_an_onset_are_refused(tmp_path: Path) -> None:
    src = [{"id": "REFERENCE", "locator": "REFERENCE §12.9", "tag": "S"}]
    found = problems(overlay(tmp_path, RF, _with(RF, relief_onset_sources=src)))
    assert any("rf-facet-lumbar.yaml" in p and "without relief_onset_days" in p for p in found), found


def test_onset_resting_only_on_nv_sources_is_refused(tmp_path: Path) -> None:
    src = [{"id": "REFERENCE", "locator": "REFERENCE §12.9", "tag": "NV"}]
    found = problems(overlay(tmp_path, RF, _with(RF, relief_onset_days=21, relief_onset_sources=src)))
    assert any("rf-facet-lumbar.yaml at followup.relief_onset_sources" in p and "[NV]" in p for p in found), found
    # the same onset on an [S] source passes
    ok = [{"id": "REFERENCE", "locator": "REFERENCE §12.9", "tag": "S"}]
    from spinepath.knowledge.loader import load_knowledge

    kb = load_knowledge(overlay(tmp_path, RF, _with(RF, relief_onset_days=21, relief_onset_sources=ok)), use_env=False)
    assert kb.procedures["rf-facet-lumbar"].followup.onset_days == 21


def test_onset_after_the_last_follow_up_is_refused(tmp_path: Path) -> None:
    # the lumbar diagnostic block is followed to 2 weeks only
    rel = "procedures/mbb-lumbar.yaml"
    src = [{"id": "Cohen2020", "locator": "REFERENCE §12.9", "tag": "V"}]
    found = problems(overlay(tmp_path, rel, _with(rel, relief_onset_days=30, relief_onset_sources=src)))
    assert any("mbb-lumbar.yaml at followup.relief_onset_days" in p and "after the last follow-up (day 14)" in p
               for p in found), found


def test_bundled_onsets_are_the_reference_figures_and_cited(kb: Knowledge) -> None:
    """REFERENCE: facet RF relief develops over 2-3 weeks (§12.9); the steroid effect of an ESI starts
    within 1-5 days, up to about 10 (§9.9); trigeminal RF relief is immediate (§15.6). No other
    procedure states an onset, so the others judge relief from the first follow-up."""
    stated = {pid: p.followup.relief_onset_days for pid, p in kb.procedures.items()
              if p.followup.relief_onset_days is not None}
    assert stated == {"rf-facet-lumbar": 21, "rf-facet-cervical": 21, "esi-interlaminar": 10,
                      "esi-transforaminal": 10, "esi-caudal": 10, "rf-trigeminal": 0}
    for pid in stated:
        refs = kb.procedures[pid].followup.relief_onset_sources
        assert refs and all(r.locator and r.locator.startswith("REFERENCE §") for r in refs), pid
        assert {r.tag or kb.sources[r.id].tag for r in refs} - {"NV"}, pid
    assert all(p.followup.onset_days == 0 for pid, p in kb.procedures.items() if pid not in stated)
