"""`spinepath content check`: every bundled file passes, and each error class is caught with the
file and the path named. Each broken fixture is a small overlay on the bundled content (the same
mechanism a clinic uses), so the rest of the content is real."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from spinepath.errors import ContentError
from spinepath.knowledge.loader import content_files, load_knowledge

BUNDLED = content_files(None)


def bundled(rel: str) -> dict:
    return yaml.safe_load(BUNDLED[rel][1])


def overlay(tmp_path: Path, rel: str, data: dict | str) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path) -> list[str]:
    with pytest.raises(ContentError) as e:
        load_knowledge(tmp_path, use_env=False, today=date(2026, 3, 1))
    return [str(p) for p in e.value.problems]


def test_all_bundled_content_loads_and_passes(kb) -> None:
    assert len(kb.procedures) >= 19 and len(kb.conditions) >= 10 and len(kb.red_flags) >= 7
    assert kb.hash.startswith("sha256:")
    assert kb.policies[kb.default_policy].default


def test_unknown_key_names_file_path_and_allowed_keys(tmp_path: Path) -> None:
    d = bundled("procedures/esi-caudal.yaml")
    d["contraindications"]["absolute"][0]["severity"] = "high"
    found = problems(overlay(tmp_path, "procedures/esi-caudal.yaml", d))
    assert any("esi-caudal.yaml" in p and "contraindications.absolute[0].severity" in p
               and "unknown key 'severity'" in p and "allowed:" in p and "when" in p for p in found), found


def test_bad_enum_value_lists_allowed_values(tmp_path: Path) -> None:
    d = bundled("red_flags/spinal-fracture.yaml")
    d["urgency"] = "asap"
    found = problems(overlay(tmp_path, "red_flags/spinal-fracture.yaml", d))
    assert any("spinal-fracture.yaml" in p and "urgency" in p and "emergency" in p for p in found), found


def test_duplicate_id(tmp_path: Path) -> None:
    # a condition that reuses a procedure's id
    overlay(tmp_path, "conditions/esi-caudal.yaml", {**bundled("conditions/lumbar-radiculopathy.yaml"),
                                                     "id": "esi-caudal"})
    found = problems(tmp_path)
    assert any("duplicate id 'esi-caudal'" in p for p in found), found


def test_dangling_source_id(tmp_path: Path) -> None:
    d = bundled("procedures/mbb-lumbar.yaml")
    d["sources"][0]["id"] = "Nobody2099"
    found = problems(overlay(tmp_path, "procedures/mbb-lumbar.yaml", d))
    assert any("mbb-lumbar.yaml at sources[0]" in p and "'Nobody2099' is not in the source register" in p
               for p in found), found


@pytest.mark.parametrize(
    ("system", "code", "fragment"),
    [("icd10cm", "M5416", "ICD-10-CM"), ("snomedct", "230791009", "Verhoeff"),
     ("cpt", "+64484", "CPT"), ("loinc", "72514-4", "LOINC")],
)
def test_malformed_codes(tmp_path: Path, system: str, code: str, fragment: str) -> None:
    d = bundled("conditions/lumbar-radiculopathy.yaml")
    d["codes"] = [{"system": system, "code": code, "display": "x", "tag": "V"}]
    found = problems(overlay(tmp_path, "conditions/lumbar-radiculopathy.yaml", d))
    assert any("lumbar-radiculopathy.yaml at codes[0].code" in p and fragment in p for p in found), found


def test_hard_rule_resting_only_on_nv_sources(tmp_path: Path) -> None:
    d = bundled("procedures/esi-interlaminar.yaml")
    d["contraindications"]["absolute"][0]["sources"] = [{"id": "NG59", "tag": "NV"}]
    found = problems(overlay(tmp_path, "procedures/esi-interlaminar.yaml", d))
    assert any("esi-interlaminar.yaml at contraindications.absolute[0].sources" in p and "[NV]" in p
               for p in found), found


def test_criterion_with_unknown_fact(tmp_path: Path) -> None:
    d = bundled("procedures/open-decompression.yaml")
    d["indications"][0]["when"] = "walking_distance_m < 200"
    found = problems(overlay(tmp_path, "procedures/open-decompression.yaml", d))
    assert any("open-decompression.yaml at indications[0].when" in p and "walking_distance_m" in p
               for p in found), found


def test_criterion_with_disallowed_syntax(tmp_path: Path) -> None:
    d = bundled("procedures/open-decompression.yaml")
    d["indications"][0]["when"] = "lumbar_central_stenosis IS NULL"
    found = problems(overlay(tmp_path, "procedures/open-decompression.yaml", d))
    assert any("open-decompression.yaml at indications[0].when" in p and "not allowed" in p for p in found), found


def test_constant_criterion_is_unreachable(tmp_path: Path) -> None:
    d = bundled("procedures/open-decompression.yaml")
    d["indications"][0]["when"] = "1 = 1"
    found = problems(overlay(tmp_path, "procedures/open-decompression.yaml", d))
    assert any("names no fact" in p for p in found), found


def test_policy_must_set_every_parameter(tmp_path: Path) -> None:
    d = bundled("policies/nice.yaml")
    d["values"].pop("mbb_min_relief_pct")
    d["values"]["mbb_min_relief"] = d["values"]["mbb_required_blocks"]
    found = problems(overlay(tmp_path, "policies/nice.yaml", d))
    assert any("nice.yaml at values" in p and "mbb_min_relief_pct" in p for p in found), found
    assert any("unknown parameter 'mbb_min_relief'" in p for p in found), found


def test_malformed_yaml_names_line(tmp_path: Path) -> None:
    found = problems(overlay(tmp_path, "red_flags/spinal-fracture.yaml", "id: [unclosed\n"))
    assert any("spinal-fracture.yaml" in p and "not valid YAML" in p and "line" in p for p in found), found


def test_half_valid_directory_is_rejected_whole(tmp_path: Path) -> None:
    good = bundled("procedures/esi-caudal.yaml")
    good["name"] = "Caudal ESI (clinic wording)"
    overlay(tmp_path, "procedures/esi-caudal.yaml", good)
    bad = bundled("procedures/mbb-lumbar.yaml")
    bad["ladder_step"] = 42
    overlay(tmp_path, "procedures/mbb-lumbar.yaml", bad)
    found = problems(tmp_path)
    assert any("mbb-lumbar.yaml at ladder_step" in p for p in found), found
    # and a valid overlay alone does load, with its change
    (tmp_path / "procedures/mbb-lumbar.yaml").unlink()
    kb = load_knowledge(tmp_path, use_env=False)
    assert kb.procedures["esi-caudal"].name == "Caudal ESI (clinic wording)"


def test_review_due_past_is_a_warning_not_an_error() -> None:
    kb = load_knowledge(use_env=False, today=date(2030, 1, 1))
    assert kb.warnings and all("past its review date" in str(w) for w in kb.warnings)


def test_non_approved_item_needs_a_review_note(tmp_path: Path) -> None:
    d = bundled("procedures/esi-caudal.yaml")
    d["status"] = "under_review"
    d.pop("review_note", None)
    found = problems(overlay(tmp_path, "procedures/esi-caudal.yaml", d))
    assert any("esi-caudal.yaml at review_note" in p for p in found), found


def test_bundled_approved_items_have_no_nv_only_hard_rules(kb) -> None:
    """Restated from the data: approval is only given where hard rules have V or S support."""
    from spinepath.knowledge.checks import HARD_SECTIONS, effective_tag, procedure_criteria

    for p in kb.procedures.values():
        for path, crit in procedure_criteria(p):
            if path.split("[")[0] in HARD_SECTIONS:
                assert {effective_tag(r, kb.sources) for r in crit.sources} - {"NV", None}, (p.id, path)
