"""The peer for bench_outcomes.py: the same outcome figures with pandas + lifelines.

A straightforward, honest implementation of what an analyst would write: read the four Parquet
tables with pandas, merge, compute the responder flags with vectorised column arithmetic,
``groupby`` per breakdown for completeness, responders, complications and repeats, and one
lifelines ``KaplanMeierFitter`` per group for duration of relief. Same rules as spinepath (the
contract in spinepath.outcomes.dataset, including each procedure's relief onset: follow-ups before it
never end relief), written independently; the benchmark checks that both give the same figures.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

NR = "(not recorded)"


def _groups(ep: pd.DataFrame, members: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame, str]]:
    """(dimension, episode -> value frame, value column) for every breakdown.

    ``ep`` has one row per episode with its single-valued attributes; ``members`` holds the
    (episode_id, name, value) rows of multi-valued predictors."""
    yield "procedure", ep.assign(value="all")[["episode_id", "procedure", "value"]], "value"
    for col in ("site", "level", "side"):
        yield col, ep[["episode_id", "procedure", col]].rename(columns={col: "value"}), "value"
    for col in [c for c in ep.columns if c.startswith("predictor:")]:
        yield col, ep[["episode_id", "procedure", col]].rename(columns={col: "value"}), "value"
    for name, rows in members.groupby("name"):
        m = rows[["episode_id", "value"]].drop_duplicates().merge(ep[["episode_id", "procedure"]], on="episode_id")
        without = ep.loc[~ep["episode_id"].isin(rows["episode_id"]), ["episode_id", "procedure"]].assign(value=NR)
        yield f"predictor:{name}", pd.concat([m, without], ignore_index=True), "value"


def compute(data_dir: Path, definitions: Sequence[Any], margin: float,
            onsets: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Every figure, keyed by group. ``onsets``: procedure id -> relief onset day (others: 0)."""
    ep = pd.read_parquet(data_dir / "episodes.parquet")
    fu = pd.read_parquet(data_dir / "followups.parquet")
    co = pd.read_parquet(data_dir / "complications.parquet")
    pr = pd.read_parquet(data_dir / "predictors.parquet")

    for col in ("site", "level", "side"):
        ep[col] = ep[col].fillna(NR)
    per = pr.groupby(["episode_id", "name"]).size()
    multi = set(per[per > 1].index.get_level_values("name"))
    single = pr[~pr["name"].isin(multi)]
    if len(single):
        wide = single.pivot(index="episode_id", columns="name", values="value")
        wide.columns = [f"predictor:{c}" for c in wide.columns]
        ep = ep.merge(wide, left_on="episode_id", right_index=True, how="left")
        for c in wide.columns:
            ep[c] = ep[c].fillna(NR)
    members = pr[pr["name"].isin(multi)]

    base = (fu[(fu["days"] == 0) & fu["completed"]].groupby("episode_id")[["nrs", "odi", "bni"]].max()
            .rename(columns=lambda c: f"b_{c}"))
    base["b_bni"] = base["b_bni"].astype(float)
    f = fu.merge(base, left_on="episode_id", right_index=True, how="left")
    post = (f["days"] > 0) & f["completed"]
    flag_cols = []
    for i, d in enumerate(definitions):
        v, b = f[d.measure].astype(float), f[f"b_{d.measure}"]
        ok = post & v.notna() & b.notna()
        if d.min_reduction_pct is not None:
            ok &= b > 0
        hit = ok.copy()
        if d.min_reduction_points is not None:
            hit &= (b - v) >= d.min_reduction_points
        if d.min_reduction_pct is not None:
            hit &= (b - v) * 100.0 >= d.min_reduction_pct * b
        f[f"ev{i}"], f[f"rs{i}"] = ok.astype(int), hit.astype(int)
        flag_cols += [f"ev{i}", f"rs{i}"]
    f["answered"] = f["completed"].astype(int)

    # duration of relief, per episode: judged on scored follow-ups on or after the procedure's onset day
    onset = ep.set_index("episode_id")["procedure"].map(dict(onsets or {})).fillna(0).rename("onset")
    obs = f[post & f["nrs"].notna() & (f["b_nrs"] >= margin)]
    scored = obs.groupby("episode_id").size().rename("scored")
    obs = obs.merge(onset, left_on="episode_id", right_index=True, how="left")
    obs = obs[obs["days"] >= obs["onset"]]
    end = obs[obs["b_nrs"] - obs["nrs"] < margin].groupby("episode_id")["days"].min().rename("end_day")
    last = obs.groupby("episode_id")["days"].max().rename("last_day")
    rel = ep[["episode_id"]].merge(base[["b_nrs"]], left_on="episode_id", right_index=True, how="left")
    for part in (scored, end, last):
        rel = rel.merge(part, left_on="episode_id", right_index=True, how="left")
    rel["status"] = np.select(
        [rel["b_nrs"].isna(), rel["b_nrs"] < margin, rel["scored"].isna(), rel["last_day"].isna(),
         rel["end_day"].notna()],
        ["no_baseline", "baseline_below_margin", "no_followup", "only_before_onset", "event"], "censored")
    rel["time"] = rel["end_day"].fillna(rel["last_day"])

    # repeats: days to the same patient's next episode of the same procedure
    order = ep.sort_values(["patient_id", "procedure", "performed_on", "episode_id"])
    nxt = order.groupby(["patient_id", "procedure"])["performed_on"].shift(-1)
    order = order.assign(gap=(pd.to_datetime(nxt) - pd.to_datetime(order["performed_on"])).dt.days)
    gaps = order[["episode_id", "gap"]]

    anyc = co.assign(serious=co["serious"].eq(True)).groupby("episode_id")["serious"].any().rename("serious_any")
    comp = ep[["episode_id"]].merge(anyc, left_on="episode_id", right_index=True, how="left")
    comp["with_complication"] = comp["serious_any"].notna().astype(int)
    comp["with_serious"] = comp["serious_any"].eq(True).astype(int)

    out: dict[str, Any] = {"completeness": {}, "responders": {}, "relief": {}, "km": {}, "repeats": {},
                           "complications": {}}
    fcols = ["episode_id", "timepoint", "days", "answered", *flag_cols]
    for dim, g, col in _groups(ep, members):
        keys = ["procedure", col]
        x = f[fcols].merge(g, on="episode_id")
        agg = x.groupby([*keys, "timepoint", "days"]).agg(
            scheduled=("answered", "size"), answered=("answered", "sum"), **{c: (c, "sum") for c in flag_cols})
        for (proc, value, _tp, days), row in agg.iterrows():
            out["completeness"][(proc, dim, value, int(days))] = (int(row["scheduled"]), int(row["answered"]))
            if days > 0:
                for i, d in enumerate(definitions):
                    out["responders"][(proc, dim, value, int(days), d.id)] = (int(row[f"ev{i}"]), int(row[f"rs{i}"]))
        c = comp.merge(g, on="episode_id").groupby(keys).agg(
            episodes=("episode_id", "size"), with_complication=("with_complication", "sum"),
            with_serious=("with_serious", "sum"))
        for (proc, value), row in c.iterrows():
            out["complications"][(proc, dim, value)] = tuple(int(v) for v in row)
        r = gaps.merge(g, on="episode_id").dropna(subset=["gap"]).groupby(keys)["gap"]
        stats = pd.DataFrame({"n": r.size(), "median": r.quantile(0.5), "q1": r.quantile(0.25),
                              "q3": r.quantile(0.75), "min": r.min(), "max": r.max()})
        for (proc, value), row in stats.iterrows():
            out["repeats"][(proc, dim, value)] = (int(row["n"]), float(row["median"]), float(row["q1"]),
                                                  float(row["q3"]), int(row["min"]), int(row["max"]))
        rr = rel.merge(g, on="episode_id")
        for (proc, value), grp in rr.groupby(keys):
            counts = grp["status"].value_counts()
            inc = grp[grp["status"].isin(["event", "censored"])]
            median = lo = hi = None
            if len(inc):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    kmf = KaplanMeierFitter().fit(inc["time"], event_observed=(inc["status"] == "event"))
                    ci = median_survival_times(kmf.confidence_interval_)
                median = kmf.median_survival_time_
                lo, hi = float(ci.iloc[0, 0]), float(ci.iloc[0, 1])
                sf = kmf.survival_function_.iloc[:, 0]
                out["km"][(proc, dim, value)] = {float(t): float(s) for t, s in sf.items() if t > 0}
            out["relief"][(proc, dim, value)] = (
                int(len(grp)), int(counts.get("no_baseline", 0)), int(counts.get("baseline_below_margin", 0)),
                int(counts.get("no_followup", 0)), int(counts.get("only_before_onset", 0)),
                int(counts.get("event", 0)), int(counts.get("censored", 0)),
                None if median is None or np.isinf(median) else float(median),
                None if lo is None or np.isinf(lo) else lo, None if hi is None or np.isinf(hi) else hi)
    return out


def compare(peer: dict[str, Any], report: Any) -> dict[str, Any]:
    """How many of spinepath's figures the peer reproduces (groups the report hides are skipped)."""
    checks: dict[str, list[bool]] = {k: [] for k in peer}
    for r in report.completeness:
        checks["completeness"].append(peer["completeness"].get((r.procedure, r.dimension, r.value, r.days))
                                      == (r.scheduled, r.answered))
    for r in report.responders:
        checks["responders"].append(peer["responders"].get((r.procedure, r.dimension, r.value, r.days, r.definition))
                                    == (r.evaluable, r.responders))
    for r in report.complications:
        checks["complications"].append(peer["complications"].get((r.procedure, r.dimension, r.value))
                                       == (r.episodes, r.with_complication, r.with_serious))
    for r in report.repeats:
        got = peer["repeats"].get((r.procedure, r.dimension, r.value))
        want = None if not r.repeated else (r.repeated, r.median_days, r.q1_days, r.q3_days, r.min_days, r.max_days)
        checks["repeats"].append(got == want)
    for r in report.relief:
        got = peer["relief"].get((r.procedure, r.dimension, r.value))
        want = (r.episodes, r.no_baseline, r.baseline_below_margin, r.no_followup, r.only_before_onset, r.events,
                r.censored)
        ok = got is not None and got[:7] == want
        # medians: equal unless the curve sits exactly on 0.5 (lifelines' exp(log) rounding decides those)
        if ok and got[7] != r.median_days:
            ok = any(abs(k.survival - 0.5) < 1e-9 for k in report.km
                     if (k.procedure, k.dimension, k.value) == (r.procedure, r.dimension, r.value))
        checks["relief"].append(ok)
    worst = 0.0
    for k in report.km:
        ref = peer["km"].get((k.procedure, k.dimension, k.value), {}).get(k.days)
        if ref is None:
            checks["km"].append(False)
            continue
        worst = max(worst, abs(ref - k.survival))
        checks["km"].append(abs(ref - k.survival) <= 1e-9)
    summary = {name: {"checked": len(v), "equal": sum(v)} for name, v in checks.items()}
    return {"tables": summary, "all_equal": all(all(v) for v in checks.values()),
            "km_max_abs_diff": worst}
