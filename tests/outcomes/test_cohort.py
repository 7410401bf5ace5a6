"""`generate-cohort`: deterministic, shaped by the knowledge base, and calibrated to its figures."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from spinepath.cli.app import app
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.analytics import OutcomesReport, settings_from_knowledge
from spinepath.outcomes.calibration import Calibration, load_calibration
from spinepath.outcomes.cohort import ProcedurePlan, draw_relief_end, generate_cohort, plans_from_knowledge
from spinepath.outcomes.dataset import Dataset
from tests.outcomes.support import duck_report


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    return load_calibration()


@pytest.fixture(scope="module")
def plans(kb: Knowledge, calibration: Calibration) -> dict[str, ProcedurePlan]:
    return plans_from_knowledge(kb, calibration)


@pytest.fixture(scope="module")
def large(calibration: Calibration, plans: dict[str, ProcedurePlan], kb: Knowledge) -> OutcomesReport:
    """60,000 patients: enough episodes per group to compare rates with the calibration."""
    return duck_report(generate_cohort(60_000, 5, calibration, plans), settings_from_knowledge(kb))


def test_same_seed_same_cohort_other_seed_other_cohort(calibration: Calibration,
                                                       plans: dict[str, ProcedurePlan]) -> None:
    a = generate_cohort(2_000, 42, calibration, plans)
    b = generate_cohort(2_000, 42, calibration, plans)
    c = generate_cohort(2_000, 43, calibration, plans)
    for name, table in a.tables().items():
        assert table.equals(b.tables()[name]), name
    assert not a.followups.equals(c.followups)


def test_schedules_come_from_the_knowledge_base(cohort: Dataset, kb: Knowledge) -> None:
    shared = [(p.label, p.days_after) for p in kb.shared.followup_schedule]
    assert len(shared) == 6  # baseline, 2 weeks, 1 month, 3, 6 and 12 months
    by_episode: dict[str, list[tuple[str, int]]] = {}
    for row in cohort.followups.select(["episode_id", "timepoint", "days"]).to_pylist():
        by_episode.setdefault(row["episode_id"], []).append((row["timepoint"], row["days"]))
    procedure = dict(zip(cohort.episodes["episode_id"].to_pylist(), cohort.episodes["procedure"].to_pylist(),
                         strict=True))
    for eid, points in by_episode.items():
        fu = kb.procedures[procedure[eid]].followup
        expected = shared if fu.schedule == "inherit" else [(p.label, p.days_after) for p in fu.schedule]
        assert points == expected, eid


def test_cohort_has_what_a_registry_has(cohort: Dataset) -> None:
    eps = cohort.episodes.to_pylist()
    pairs = [(e["patient_id"], e["procedure"]) for e in eps]
    assert len(set(pairs)) < len(pairs), "some patients have the same procedure again"
    assert pc.sum(pc.invert(cohort.followups["completed"])).as_py() > 0, "some follow-ups are missed"
    assert cohort.complications.num_rows > 0 and cohort.predictors.num_rows > 0
    assert {e["level"] for e in eps} > {None} and {e["side"] for e in eps} >= {"left", "right"}
    odi = cohort.followups.filter(pc.is_valid(cohort.followups["odi"]))["odi"].to_pylist()
    assert odi and all(0 <= v <= 100 and v % 2 == 0 for v in odi)  # ODI percent of ten 0-5 sections
    nrs = cohort.followups.filter(pc.is_valid(cohort.followups["nrs"]))["nrs"].to_pylist()
    assert all(0 <= v <= 10 and v == int(v) for v in nrs)


def _within(observed: float | None, expected: float, n: int, bias: float = 0.01) -> bool:
    assert observed is not None
    return abs(observed - expected) <= 4 * math.sqrt(expected * (1 - expected) / n) + bias


def test_responder_rates_land_on_the_calibration(large: OutcomesReport, calibration: Calibration) -> None:
    """The share with >= 50% pain reduction at a calibrated day (when that day is a follow-up time
    point) matches the calibration curve, per procedure and per predictor value."""
    rows = {(r.procedure, r.dimension, r.value, r.days): r for r in large.responders if r.definition == "nrs_50pct"}
    checked = 0
    for pid, pcal in calibration.procedures.items():
        groups: list[tuple[str, str, list[tuple[int, float]]]] = []
        if not pcal.predictors:
            groups.append(("procedure", "all", [(p.days, p.share) for p in pcal.relief]))
        for name, pred in pcal.predictors.items():
            for value, pv in pred.values.items():
                points = pv.relief or pcal.relief
                groups.append((f"predictor:{name}", value, [(p.days, min(1.0, p.share * pv.relief_scale))
                                                            for p in points]))
        for dimension, value, points in groups:
            for days, share in points:
                r = rows.get((pid, dimension, value, days))
                if r is None:
                    continue  # not a follow-up day of this procedure
                assert _within(r.rate, share, r.evaluable), (pid, value, days, r.rate, share)
                checked += 1
    assert checked >= 15


def test_relief_durations_land_on_the_calibration(large: OutcomesReport, calibration: Calibration) -> None:
    """Kaplan-Meier 'still relieved' at a calibrated day follows the calibration curve. A missed
    follow-up delays when an end of relief is seen, so the estimate may sit a little above it."""
    km = {(k.procedure, k.dimension, k.value, k.days): k for k in large.km}
    included = {(r.procedure, r.dimension, r.value): r.included for r in large.relief}
    checked = 0
    for pid, pcal in calibration.procedures.items():
        groups = [("procedure", "all", pcal.relief, 1.0)] if not pcal.predictors else [
            (f"predictor:{name}", value, pv.relief or pcal.relief, pv.relief_scale)
            for name, pred in pcal.predictors.items() for value, pv in pred.values.items()]
        for dimension, value, points, scale in groups:
            n = included.get((pid, dimension, value), 0)
            for p in points:
                k = km.get((pid, dimension, value, float(p.days)))
                if k is None:
                    continue
                share = min(1.0, p.share * scale)
                tol = 4 * math.sqrt(share * (1 - share) / n) if 0 < share < 1 else 0.0
                assert share - tol - 0.01 <= k.survival <= share + tol + 0.05, (pid, value, p.days, k.survival, share)
                checked += 1
    assert checked >= 15


def test_complication_rates_land_on_the_calibration(large: OutcomesReport, calibration: Calibration) -> None:
    rows = {(r.procedure, r.complication): r for r in large.complication_types}
    for pid, pcal in calibration.procedures.items():
        for comp in pcal.complications:
            r = rows.get((pid, comp.event))
            if r is None:
                assert comp.rate * sum(x.episodes for x in large.complications
                                       if x.procedure == pid and x.dimension == "procedure") < 5, (pid, comp.event)
                continue
            assert _within(r.rate, comp.rate, r.episodes, bias=0.002), (pid, comp.event, r.rate, comp.rate)


def test_repeats_follow_the_calibrated_share(large: OutcomesReport, calibration: Calibration) -> None:
    """A repeat happens with the calibrated probability, but only those before the registry's last
    date are seen: the observed share is never above the calibration, and close to it where relief
    is short (epidural injections: most repeats fall well inside the registry's years)."""
    for r in (r for r in large.repeats if r.dimension == "procedure"):
        rep = calibration.procedures[r.procedure].repeat
        tol = 4 * math.sqrt(rep.share * (1 - rep.share) / r.episodes) + 0.01
        assert r.share is not None and r.share <= rep.share + tol, r.procedure
        if r.procedure.startswith("esi-"):
            assert r.share >= 0.75 * rep.share - tol, r.procedure
        if r.repeated:
            assert r.min_days is not None and r.min_days >= rep.min_interval_days
            assert r.max_days is not None and r.max_days <= (calibration.dates.last - calibration.dates.first).days


def test_relief_draws_follow_the_curve() -> None:
    days, shares = np.array([30.0, 91.0, 182.0]), np.array([0.564, 0.427, 0.329])
    u = np.random.default_rng(1).random(400_000)
    t = draw_relief_end(u, days, shares)
    for d, s in [(14, 0.564), (30, 0.564), (91, 0.427), (182, 0.329)]:
        assert (t > d).mean() == pytest.approx(s, abs=0.003)
    # beyond the last point the curve keeps falling at the last segment's rate
    rate = math.log(0.329 / 0.427) / (182 - 91)
    assert (t > 365).mean() == pytest.approx(0.329 * math.exp(rate * (365 - 182)), abs=0.003)


def test_every_calibration_figure_has_a_source(kb: Knowledge, calibration: Calibration) -> None:
    text = Path(__file__).resolve().parents[2].joinpath("src/spinepath/outcomes/calibration.yaml").read_text()
    sources = re.findall(r"source: (.+)", text)
    assert sources
    for src in sources:
        src = src.strip().strip('"')
        assert src.startswith(("assumption", "REFERENCE §", "ANCHORS §")), src
        for key in re.findall(r"\[([A-Za-z][A-Za-z0-9-]+)\]", src):
            if key not in ("V", "S", "NV"):
                assert key in kb.sources, (key, src)
    assert set(calibration.procedures) <= set(kb.procedures)


def test_cli_generate_cohort(tmp_path: Path) -> None:
    out = tmp_path / "cohort"
    r = CliRunner().invoke(app, ["generate-cohort", "--patients", "500", "--seed", "9", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["patients"] == 500 and data["episodes"] >= 500 and data["seed"] == 9
    ds = Dataset.read(out)
    assert ds.episodes.num_rows == data["episodes"] and ds.followups.num_rows == data["followups"]
    r = CliRunner().invoke(app, ["generate-cohort", "--patients", "0", "--out", str(out)])
    assert r.exit_code == 2 and "--patients" in r.stderr
