"""What the analytics do with awkward datasets: ambiguous rows are refused naming the field,
rows that name no episode are left out and reported, multi-valued predictors group each value,
an empty dataset gives an empty report."""

from __future__ import annotations

import pytest

from spinepath.errors import InputError
from spinepath.outcomes.dataset import Dataset
from spinepath.outcomes.report import render_html
from tests.outcomes.support import dataset, duck_report

B, M3 = {"timepoint": "baseline", "days": 0}, {"timepoint": "3 months", "days": 91}


def two(eid: str, base: float, later: float) -> list[dict[str, object]]:
    return [{"episode_id": eid, **B, "nrs": base}, {"episode_id": eid, **M3, "nrs": later}]


def test_duplicate_episode_ids_are_refused() -> None:
    ds = dataset([{"episode_id": "E1"}, {"episode_id": "E1"}], two("E1", 8, 3))
    with pytest.raises(InputError) as e:
        duck_report(ds)
    assert e.value.field == "episodes.episode_id"


def test_two_baselines_are_refused() -> None:
    ds = dataset([{"episode_id": "E1"}], [*two("E1", 8, 3), {"episode_id": "E1", **B, "nrs": 5}])
    with pytest.raises(InputError) as e:
        duck_report(ds)
    assert e.value.field == "followups.days"


def test_scores_out_of_range_are_refused() -> None:
    ds = dataset([{"episode_id": "E1"}], two("E1", 8, 11))
    with pytest.raises(InputError, match="out of range") as e:
        duck_report(ds)
    assert e.value.field == "followups"


def test_rows_naming_no_episode_are_left_out_and_reported() -> None:
    ds = dataset([{"episode_id": "E1"}], [*two("E1", 8, 3), *two("E9", 8, 3)],
                 complications=[{"episode_id": "E9", "complication": "Infection", "days": 3, "serious": True}])
    report = duck_report(ds)
    assert report.notes == ["2 follow-up row(s) name no episode in the dataset and were left out.",
                            "1 complication row(s) name no episode in the dataset and were left out."]
    whole = next(r for r in report.completeness if r.dimension == "procedure" and r.days == 91)
    assert whole.scheduled == 1
    assert next(r for r in report.complications if r.dimension == "procedure").with_complication == 0


def test_multi_valued_predictor_counts_an_episode_in_each_of_its_groups() -> None:
    # E1 has two phenotypes, E2 one, E3 none; symptom_duration is single-valued (E1 and E3 only)
    ds = dataset([{"episode_id": f"E{i}"} for i in (1, 2, 3)], two("E1", 8, 3) + two("E2", 8, 7) + two("E3", 6, 2),
                 predictors=[{"episode_id": "E1", "name": "phenotype", "value": "radicular"},
                             {"episode_id": "E1", "name": "phenotype", "value": "axial"},
                             {"episode_id": "E2", "name": "phenotype", "value": "radicular"},
                             {"episode_id": "E1", "name": "symptom_duration", "value": "chronic"},
                             {"episode_id": "E3", "name": "symptom_duration", "value": "acute"}])
    report = duck_report(ds)
    groups = {(r.dimension, r.value): r.episodes for r in report.complications}
    assert groups == {("procedure", "all"): 3, ("site", "site-a"): 3, ("level", "L4-L5"): 3, ("side", "left"): 3,
                      ("predictor:phenotype", "axial"): 1, ("predictor:phenotype", "radicular"): 2,
                      ("predictor:phenotype", "(not recorded)"): 1,
                      ("predictor:symptom_duration", "acute"): 1, ("predictor:symptom_duration", "chronic"): 1,
                      ("predictor:symptom_duration", "(not recorded)"): 1}
    # E1 (8 -> 3) and E2 (8 -> 7) are the radicular group: one of two reaches -2 points
    radicular = next(r for r in report.responders if r.value == "radicular" and r.definition == "nrs_2pt")
    assert (radicular.responders, radicular.evaluable) == (1, 2)


def test_empty_dataset_gives_an_empty_report() -> None:
    report = duck_report(Dataset.empty())
    assert report.summary.episodes == 0 and not report.responders and not report.km
    html = render_html(report)
    assert "<svg" not in html and "Summary" in html
