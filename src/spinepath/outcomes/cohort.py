"""A synthetic registry cohort for testing and benchmarking the outcome analytics.

`spinepath generate-cohort` writes an outcomes dataset (see :mod:`spinepath.outcomes.dataset`)
whose responder rates, relief durations, repeat procedures and complication rates follow the
figures in ``calibration.yaml`` — each with its REFERENCE section and source key, or marked as an
assumption (checked and loaded by :mod:`spinepath.outcomes.calibration`). Follow-up time points
come from the knowledge base (each procedure's own schedule or the shared default), so the cohort
has exactly the follow-ups a clinic would schedule.

Generation is vectorised NumPy over blocks of patients, deterministic for a given number of
patients and seed, and streams each block to Parquet so a million patients fit in well under a
minute and modest memory.

How an episode is drawn: the procedure (by its share), site, level, side and predictor values; a
baseline pain score (and ODI or BNI where the procedure's follow-up asks for them); then the day its
substantial relief ends, by inverse-transform sampling of the calibration curve (0 means no relief
at all). At each scheduled follow-up the patient answers with the calibrated probability; a
relieved answer has pain down by 50-100% of baseline, an unrelieved one is within a point of
baseline. A repeat of the same procedure follows, with the calibrated probability, after relief
ends (at least the procedure's minimum interval later) — up to two repeats per patient, and
only while the registry runs (repeats after ``dates.last`` are not seen).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from spinepath.errors import InputError
from spinepath.knowledge.snapshot import Knowledge
from spinepath.outcomes.calibration import Calibration, ProcedureCalibration
from spinepath.outcomes.dataset import SCHEMAS, Dataset

BLOCK_PATIENTS = 100_000      # patients per generated block (fixed: part of what makes a seed reproducible)
MAX_EPISODES_PER_PATIENT = 3  # the first procedure and up to two repeats


# ------------------------------------------------------------------ what the knowledge base says


@dataclass(frozen=True)
class ProcedurePlan:
    """What a procedure's follow-up looks like, from the knowledge base."""

    schedule: tuple[tuple[str, int], ...]    # (label, days after the procedure), baseline first
    measures: frozenset[str]                 # scores its follow-up collects: nrs, odi, bni


def plans_from_knowledge(kb: Knowledge, calibration: Calibration) -> dict[str, ProcedurePlan]:
    """Each calibrated procedure's schedule (its own, or the shared default) and measures."""
    plans: dict[str, ProcedurePlan] = {}
    for pid in calibration.procedures:
        proc = kb.procedures.get(pid)
        if proc is None:
            raise InputError(f"calibration names procedure {pid!r}, which the knowledge base does not hold",
                             field=f"calibration.procedures.{pid}")
        fu = proc.followup
        points = kb.shared.followup_schedule if fu.schedule == "inherit" else fu.schedule
        measures = {"nrs"}
        for iid in fu.instruments:
            inst = kb.instruments.get(iid)
            if inst is not None and inst.measure in ("nrs", "odi", "bni"):
                measures.add(inst.measure)
        plans[pid] = ProcedurePlan(tuple((p.label, p.days_after) for p in points), frozenset(measures))
    return plans


# ------------------------------------------------------------------ sampling


def draw_relief_end(u: np.ndarray, days: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Inverse-transform sample of the day substantial relief ends, given uniforms ``u``.

    The curve S(t) is ``shares[0]`` up to ``days[0]``, log-linear between points and continues the
    last segment's rate after the last point, so P(end > t) = S(t). 0 means no relief at all;
    ``inf`` means relief never ends (a flat tail).
    """
    s = np.minimum(shares.astype(float), 1.0)
    d = days.astype(float)
    logs = np.log(s)
    out = np.zeros(u.shape, dtype=float)
    relieved = u < s[0]
    uu = u[relieved]
    k = np.searchsorted(-s, -uu, side="left")           # how many points still have share > u
    lu = np.log(uu)
    t = np.empty(uu.shape, dtype=float)
    inside = k < len(s)
    ki = k[inside]
    t[inside] = d[ki - 1] + (lu[inside] - logs[ki - 1]) / (logs[ki] - logs[ki - 1]) * (d[ki] - d[ki - 1])
    slope = (logs[-1] - logs[-2]) / (d[-1] - d[-2])
    if slope < 0:
        t[~inside] = d[-1] + (lu[~inside] - logs[-1]) / slope
    else:
        t[~inside] = math.inf
    out[relieved] = t
    return out


def _choice(rng: np.random.Generator, options: dict[str, float], n: int) -> np.ndarray:
    """Indices into ``list(options)`` drawn with the given shares."""
    p = np.array(list(options.values()), dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _interp_completion(cal: Calibration, days: np.ndarray) -> np.ndarray:
    xs = np.array([p.days for p in cal.completion.points], dtype=float)
    ys = np.array([p.share for p in cal.completion.points], dtype=float)
    prob = np.interp(days.astype(float), xs, ys)
    return np.where(days == 0, cal.completion.baseline.value, prob)


@dataclass
class _Episodes:
    """Episodes of one block as parallel arrays (local patient index; codes index calibration lists)."""

    patient: np.ndarray
    proc: np.ndarray
    performed: np.ndarray      # days since 1970-01-01
    level: np.ndarray          # index into the procedure's levels, -1 = none
    side: np.ndarray           # index into the procedure's sides, -1 = none
    preds: np.ndarray          # (n, number of predictor slots) value index, -1 = none
    relief_end: np.ndarray     # days; 0 no relief; inf never ends

    def take(self, idx: np.ndarray) -> _Episodes:
        return _Episodes(self.patient[idx], self.proc[idx], self.performed[idx], self.level[idx],
                         self.side[idx], self.preds[idx], self.relief_end[idx])

    @staticmethod
    def concat(parts: list[_Episodes]) -> _Episodes:
        return _Episodes(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                           ("patient", "proc", "performed", "level", "side", "preds", "relief_end")))


class CohortGenerator:
    """Generates blocks of patients; one instance per (calibration, plans, seed)."""

    def __init__(self, calibration: Calibration, plans: dict[str, ProcedurePlan], seed: int) -> None:
        missing = [p for p in calibration.procedures if p not in plans]
        if missing:
            raise InputError(f"no follow-up plan for calibrated procedure(s) {', '.join(missing)}", field="plans")
        self.cal = calibration
        self.plans = plans
        self.seed = seed
        self.procs = list(calibration.procedures)
        self.pcal = [calibration.procedures[p] for p in self.procs]
        self.pred_names = sorted({n for pc_ in self.pcal for n in pc_.predictors})
        self.sites = [f"site-{i + 1:02d}" for i in range(calibration.sites.count)]
        self.label_list = sorted({lab for p in plans.values() for lab, _ in p.schedule})

    # -------------------------------------------------------------- episodes

    def _curve(self, pi: int, combo: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
        pcal = self.pcal[pi]
        points = pcal.relief
        scale = 1.0
        for name, value in combo.items():
            pv = pcal.predictors[name].values[value]
            if pv.relief is not None:
                points = pv.relief
            scale *= pv.relief_scale
        return (np.array([p.days for p in points], dtype=float),
                np.minimum(np.array([p.share for p in points], dtype=float) * scale, 1.0))

    def _draw_relief(self, rng: np.random.Generator, ep: _Episodes, rows: np.ndarray) -> None:
        """Fill ``ep.relief_end[rows]`` from each episode's curve (procedure and predictor values)."""
        u = rng.random(len(rows))
        for pi, pcal in enumerate(self.pcal):
            in_proc = ep.proc[rows] == pi
            if not in_proc.any():
                continue
            names = list(pcal.predictors)
            slots = [self.pred_names.index(n) for n in names]
            choices = [list(pcal.predictors[n].values) for n in names]
            for combo_idx in itertools.product(*(range(len(c)) for c in choices)):
                mask = in_proc.copy()
                for slot, vi in zip(slots, combo_idx, strict=True):
                    mask &= ep.preds[rows, slot] == vi
                if not mask.any():
                    continue
                combo = {n: choices[j][vi] for j, (n, vi) in enumerate(zip(names, combo_idx, strict=True))}
                d, s = self._curve(pi, combo)
                ep.relief_end[rows[mask]] = draw_relief_end(u[mask], d, s)

    def _first_episodes(self, rng: np.random.Generator, n: int) -> _Episodes:
        cal = self.cal
        proc = _choice(rng, {p: c.share for p, c in zip(self.procs, self.pcal, strict=True)}, n)
        span = (cal.dates.last - cal.dates.first).days + 1
        performed = (cal.dates.first - date(1970, 1, 1)).days + rng.integers(0, span, n)
        level = np.full(n, -1, dtype=np.int64)
        side = np.full(n, -1, dtype=np.int64)
        preds = np.full((n, max(len(self.pred_names), 1)), -1, dtype=np.int64)
        for pi, pcal in enumerate(self.pcal):
            idx = np.flatnonzero(proc == pi)
            if len(idx) == 0:
                continue
            if pcal.levels:
                level[idx] = _choice(rng, pcal.levels, len(idx))
            if pcal.sides:
                side[idx] = _choice(rng, pcal.sides, len(idx))
            for name, pred in pcal.predictors.items():
                preds[idx, self.pred_names.index(name)] = _choice(
                    rng, {k: v.share for k, v in pred.values.items()}, len(idx))
        ep = _Episodes(np.arange(n), proc, performed, level, side, preds, np.zeros(n))
        self._draw_relief(rng, ep, np.arange(n))
        return ep

    def _repeats(self, rng: np.random.Generator, ep: _Episodes) -> _Episodes:
        """The repeat episodes that follow ``ep`` (same patient, procedure, level, side and predictors)."""
        share = np.array([p.repeat.share for p in self.pcal])[ep.proc]
        min_gap = np.array([p.repeat.min_interval_days for p in self.pcal], dtype=float)[ep.proc]
        n = len(ep.proc)
        wants = rng.random(n) < share
        delay = rng.exponential(self.cal.repeat_delay_days.mean, n) if self.cal.repeat_delay_days.mean > 0 \
            else np.zeros(n)
        with np.errstate(invalid="ignore"):
            gap = np.maximum(ep.relief_end, min_gap) + delay
        # a repeat the registry would not yet have seen (after its last date) is not generated
        last = (self.cal.dates.last - date(1970, 1, 1)).days
        idx = np.flatnonzero(wants & np.isfinite(gap) & (ep.performed + gap <= last))
        nxt = ep.take(idx)
        nxt.performed = ep.performed[idx] + np.maximum(np.rint(gap[idx]).astype(np.int64), 1)
        nxt.relief_end = np.zeros(len(idx))
        self._draw_relief(rng, nxt, np.arange(len(idx)))
        return nxt

    # -------------------------------------------------------------- one block

    def block(self, index: int, first_patient: int, n: int, first_episode: int) -> dict[str, pa.Table]:
        """Tables for patients ``first_patient .. first_patient + n - 1`` (episode ids from ``first_episode``)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, index]))
        cal = self.cal
        site = rng.integers(0, len(self.sites), n)
        age = np.clip(np.rint(rng.normal(cal.age.mean, cal.age.sd, n)), cal.age.minimum, cal.age.maximum)
        female = rng.random(n) < cal.female_share.value

        rounds = [self._first_episodes(rng, n)]
        for _ in range(MAX_EPISODES_PER_PATIENT - 1):
            rounds.append(self._repeats(rng, rounds[-1]))
        ep = _Episodes.concat(rounds)
        order = np.lexsort((ep.performed, ep.patient))
        ep = ep.take(order)
        m = len(ep.proc)
        episode_ids = _ids("E", first_episode + np.arange(m), 9)

        episodes = pa.table({
            "episode_id": episode_ids,
            "patient_id": _ids("P", first_patient + ep.patient, 8),
            "site": pa.array(self.sites, pa.string()).take(pa.array(site[ep.patient])),
            "procedure": pa.array(self.procs, pa.string()).take(pa.array(ep.proc)),
            "performed_on": pa.array(ep.performed.astype("int32"), pa.int32()).cast(pa.date32()),
            "level": self._labels(ep.proc, ep.level, lambda p: list(p.levels)),
            "side": self._labels(ep.proc, ep.side, lambda p: list(p.sides)),
            "age": pa.array(age[ep.patient].astype("int16"), pa.int16()),
            "sex": pa.array(np.where(female[ep.patient], "female", "male"), pa.string()),
        })
        followups = self._followups(rng, ep, episode_ids)
        complications = self._complications(rng, ep, episode_ids)
        predictors = self._predictors(ep, episode_ids)
        ds = Dataset(episodes=episodes, followups=followups, complications=complications, predictors=predictors)
        return ds.tables()

    def _labels(self, proc: np.ndarray, codes: np.ndarray,
                options: Callable[[ProcedureCalibration], list[str]]) -> pa.Array:
        out = np.empty(len(proc), dtype=object)
        out[:] = None
        for pi, pcal in enumerate(self.pcal):
            names = options(pcal)
            if not names:
                continue
            mask = (proc == pi) & (codes >= 0)
            out[mask] = np.array(names, dtype=object)[codes[mask]]
        return pa.array(out, pa.string())

    def _followups(self, rng: np.random.Generator, ep: _Episodes, episode_ids: pa.Array) -> pa.Table:
        cal = self.cal
        m = len(ep.proc)
        base_nrs = rng.choice(11, size=m, p=np.array(cal.baseline_nrs.probabilities)).astype(float)
        base_odi = np.clip(np.rint(rng.normal(cal.baseline_odi_sum.mean, cal.baseline_odi_sum.sd, m)), 0, 50)
        base_bni = np.where(rng.random(m) < 0.4, 4, 5)
        parts: list[dict[str, np.ndarray]] = []
        for pi, pid in enumerate(self.procs):
            idx = np.flatnonzero(ep.proc == pi)
            if len(idx) == 0:
                continue
            plan = self.plans[pid]
            labels = np.array([self.label_list.index(lab) for lab, _ in plan.schedule])
            days = np.array([d for _, d in plan.schedule], dtype=np.int64)
            k = len(days)
            row_ep = np.repeat(idx, k)
            row_days = np.tile(days, len(idx))
            parts.append({"ep": row_ep, "days": row_days, "label": np.tile(labels, len(idx)),
                          "odi": np.full(len(row_ep), "odi" in plan.measures),
                          "bni": np.full(len(row_ep), "bni" in plan.measures)})
        ep_i = np.concatenate([p["ep"] for p in parts])
        days = np.concatenate([p["days"] for p in parts])
        label = np.concatenate([p["label"] for p in parts])
        has_odi = np.concatenate([p["odi"] for p in parts])
        has_bni = np.concatenate([p["bni"] for p in parts])
        order = np.lexsort((days, ep_i))
        ep_i, days, label, has_odi, has_bni = ep_i[order], days[order], label[order], has_odi[order], has_bni[order]
        r = len(ep_i)

        completed = rng.random(r) < _interp_completion(cal, days)
        post = days > 0
        relieved = post & (ep.relief_end[ep_i] > days)
        b = base_nrs[ep_i]
        drop = rng.uniform(0.5, 1.0, r)
        jitter = rng.choice(np.array([-1.0, 0.0, 0.0, 1.0]), size=r)
        nrs = np.where(~post, b, np.where(relieved, np.floor(b * (1.0 - drop)), np.clip(b + jitter, 0, 10)))
        nrs_known = completed & (rng.random(r) >= cal.nrs_missing_share.value)

        ob = base_odi[ep_i]
        odi_drop = rng.uniform(0.3, 0.8, r)
        odi_jit = rng.integers(-2, 3, r)
        odi_sum = np.where(~post, ob, np.where(relieved, np.floor(ob * (1.0 - odi_drop)), np.clip(ob + odi_jit, 0, 50)))
        bni_relieved = rng.choice(np.array([1, 2, 3]), size=r, p=[0.6, 0.25, 0.15])
        bni_unrelieved = rng.choice(np.array([4, 5]), size=r, p=[0.6, 0.4])
        bni = np.where(~post, base_bni[ep_i], np.where(relieved, bni_relieved, bni_unrelieved))
        warn_p = np.where(days <= 30, cal.warning_share.early, cal.warning_share.late)
        warning = post & (rng.random(r) < warn_p)

        return pa.table({
            "episode_id": episode_ids.take(pa.array(ep_i)),
            "timepoint": pa.array(self.label_list, pa.string()).take(pa.array(label)),
            "days": pa.array(days.astype("int32"), pa.int32()),
            "completed": pa.array(completed),
            "nrs": pa.array(nrs, pa.float64(), mask=~nrs_known),
            "odi": pa.array(odi_sum * 2.0, pa.float64(), mask=~(completed & has_odi)),
            "bni": pa.array(bni.astype("int8"), pa.int8(), mask=~(completed & has_bni)),
            "warning": pa.array(warning, pa.bool_(), mask=~completed),
        })

    def _complications(self, rng: np.random.Generator, ep: _Episodes, episode_ids: pa.Array) -> pa.Table:
        rows_ep: list[np.ndarray] = []
        rows_name: list[str] = []
        rows_count: list[int] = []
        rows_serious: list[bool] = []
        names: list[str] = []
        for pi, pcal in enumerate(self.pcal):
            idx = np.flatnonzero(ep.proc == pi)
            for comp in pcal.complications:
                hit = idx[rng.random(len(idx)) < comp.rate]
                rows_ep.append(hit)
                rows_name.append(comp.event)
                rows_count.append(len(hit))
                rows_serious.append(comp.serious)
                names.append(comp.event)
        ep_i = np.concatenate(rows_ep) if rows_ep else np.zeros(0, dtype=np.int64)
        total = len(ep_i)
        name_idx = np.repeat(np.arange(len(rows_name)), rows_count)
        serious = np.repeat(np.array(rows_serious, dtype=bool), rows_count)
        return pa.table({
            "episode_id": episode_ids.take(pa.array(ep_i, pa.int64())),
            "complication": pa.array(rows_name, pa.string()).take(pa.array(name_idx, pa.int64())),
            "days": pa.array(rng.integers(0, 31, total).astype("int32"), pa.int32()),
            "serious": pa.array(serious),
        })

    def _predictors(self, ep: _Episodes, episode_ids: pa.Array) -> pa.Table:
        eps: list[np.ndarray] = []
        names: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for slot, name in enumerate(self.pred_names):
            for pi, pcal in enumerate(self.pcal):
                if name not in pcal.predictors:
                    continue
                mask = (ep.proc == pi) & (ep.preds[:, slot] >= 0)
                idx = np.flatnonzero(mask)
                opts = np.array(list(pcal.predictors[name].values), dtype=object)
                eps.append(idx)
                names.append(np.full(len(idx), name, dtype=object))
                values.append(opts[ep.preds[idx, slot]])
        if not eps:
            return SCHEMAS["predictors"].empty_table()
        ep_i = np.concatenate(eps)
        order = np.argsort(ep_i, kind="stable")
        return pa.table({
            "episode_id": episode_ids.take(pa.array(ep_i[order])),
            "name": pa.array(np.concatenate(names)[order], pa.string()),
            "value": pa.array(np.concatenate(values)[order], pa.string()),
        })


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


# ------------------------------------------------------------------ whole cohorts


@dataclass(frozen=True)
class CohortSummary:
    patients: int
    episodes: int
    followups: int
    complications: int
    predictors: int


def iter_blocks(generator: CohortGenerator, patients: int) -> Iterator[tuple[int, dict[str, pa.Table]]]:
    """(patients done so far, tables) per block, in order."""
    first_episode = 1
    done = 0
    for index in range(math.ceil(patients / BLOCK_PATIENTS)):
        n = min(BLOCK_PATIENTS, patients - done)
        tables = generator.block(index, done + 1, n, first_episode)
        first_episode += tables["episodes"].num_rows
        done += n
        yield done, tables


def generate_cohort(patients: int, seed: int, calibration: Calibration,
                    plans: dict[str, ProcedurePlan]) -> Dataset:
    """A whole cohort in memory (tests and small cohorts; `write_cohort` streams big ones)."""
    gen = CohortGenerator(calibration, plans, seed)
    parts: dict[str, list[pa.Table]] = {name: [] for name in SCHEMAS}
    for _, tables in iter_blocks(gen, patients):
        for name, table in tables.items():
            parts[name].append(table)
    return Dataset(**{name: pa.concat_tables(ts) if ts else SCHEMAS[name].empty_table()
                      for name, ts in parts.items()})


def write_cohort(patients: int, seed: int, calibration: Calibration, plans: dict[str, ProcedurePlan],
                 directory: Path, progress: Callable[[int], Any] | None = None) -> CohortSummary:
    """Generate and stream a cohort to ``directory`` as an outcomes dataset (four Parquet files).

    ``progress`` is called with the number of patients written so far after each block."""
    if patients < 1:
        raise InputError("--patients must be at least 1", field="patients")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --out {directory}: {e.strerror or e}", field="out") from None
    gen = CohortGenerator(calibration, plans, seed)
    counts = dict.fromkeys(SCHEMAS, 0)
    tmp = {name: directory / f".{name}.parquet.partial" for name in SCHEMAS}
    writers = {name: pq.ParquetWriter(tmp[name], schema) for name, schema in SCHEMAS.items()}
    try:
        for done, tables in iter_blocks(gen, patients):
            for name, table in tables.items():
                writers[name].write_table(table)
                counts[name] += table.num_rows
            if progress is not None:
                progress(done)
    finally:
        for w in writers.values():
            w.close()
    for name in SCHEMAS:
        tmp[name].replace(directory / f"{name}.parquet")
    return CohortSummary(patients, counts["episodes"], counts["followups"], counts["complications"],
                         counts["predictors"])
