"""Synthetic patient cases for load tests, population checks and demos.

``generate_cases(n, seed)`` yields plain, JSON-ready dicts in the :class:`PatientCase` shape
(dates as ISO strings). Dicts are built directly with the standard-library ``random`` module
(no pydantic, no numpy) so that millions of cases can be made in one process. Nothing reads
the wall clock: every date is counted back from ``reference`` (default 2026-01-01).

Determinism and chunking
    Cases are made in blocks of ``BLOCK_SIZE``; each block has its own ``random.Random``
    seeded from ``(seed, block number)``, so case ``i`` depends only on ``seed``, ``i`` and
    ``reference``. ``generate_cases(100, s)`` equals ``generate_cases(50, s)`` followed by
    ``generate_cases(50, s, start_index=50)``; chunks may be made in any order or in parallel
    (a chunk that starts mid-block replays the start of its block and discards it). Ids are
    ``f"syn-{seed}-{i:08d}"``. Output is stable for a given version of this module only.

SIMULATION CHOICES, NOT CLINICAL FACTS
    Every weight and rate below was picked to resemble the case mix of a spine and pain
    clinic and to exercise every branch of the engine, including rare red flags and missing
    data. None is an epidemiological estimate; do not quote any of them as one. Anatomy
    (which disc level compresses which root, dermatomes, Fardon morphology) follows
    REFERENCE.md; the frequencies do not come from a source.

Phenotype mixture (share of cases):

    ==================================================  ======
    lumbar radicular pain from disc herniation          0.35
    axial low back pain (non-specific / facet pattern)  0.20
    lumbar stenosis with neurogenic claudication        0.15
    cervical radicular pain                             0.08
    post-surgical pain after lumbar surgery (FBSS)      0.07
    cervical facet (axial neck) pain                    0.05
    trigeminal neuralgia                                0.04
    ulnar neuropathy at the elbow                       0.04
    sparse (age and one pain score only)                0.02
    ==================================================  ======

Shape of each phenotype:

* Lumbar radicular: level L4-L5 45 %, L5-S1 43 %, L3-L4 9 %, L2-L3 3 %. A paracentral disc
  compresses the traversing root (L4-L5 -> L5); a foraminal one (10 %) the exiting root
  (L4-L5 -> L4). Clinical-imaging relation: concordant (compressed root among the leg
  dermatomes, same side or central) 76 %, herniation on the other side 8 %, a different root
  8 %, bulge without root compression 8 %. Leg pain >= back pain 88 %; below the knee 88 %.
* Axial low back pain: acute (< 4 weeks) 40 %, imaging then usually not done (``[]``);
  subacute 15 %; chronic 45 %. Half of the chronic cases have 1-2 lumbar medial branch
  blocks; 55 % of those are genuinely facet-mediated (60-100 % relief), the rest 0-60 %.
* Lumbar stenosis: age about 71; neurogenic claudication; central stenosis moderate 50 % /
  severe 35 % / mild 15 %, mostly at L4-L5; degenerative spondylolisthesis 20 %.
* FBSS: discectomy 50 % / laminectomy 25 % / fusion 25 %, 1-12 years before; a second
  operation 15 %; epidural fibrosis on imaging 65 %, recurrent herniation 20 %; prior ESI
  60 %, mostly with poor relief.
* Cervical radicular: C5-C6 45 %, C6-C7 38 %, C4-C5 9 %, C7-T1 8 % (root = lower vertebra
  + 1, so C5-C6 -> C6); concordance scenarios as lumbar; myelopathy-sign cluster 2 %.
* Cervical facet: neck-dominant pain; facet arthropathy on imaging 70 %; 1-2 cervical MBBs
  in 55 % of cases over 6 weeks.
* Trigeminal neuralgia: V2 and/or V3 mostly; right 58 %, bilateral 2 %; paroxysmal 95 %,
  triggered 90 %; cranial MRI recorded 70 % (neurovascular contact 55 %, secondary cause
  5 %); carbamazepine or oxcarbazepine tried 92 % (not tolerated 25 %).
* Ulnar neuropathy at the elbow: nerve conduction 70 % / ultrasound 30 %; entrapment
  confirmed 88 %; severe 15 %.

Red flags (``red_flags`` absent 10 %; 10 % of recorded forms leave each answer blank with
probability 1/2, so about 5 % of answers are ``None``): cauda equina cluster in 0.6 % of
lumbar cases (saddle anaesthesia 85 % and urinary retention 70 % within the cluster), history
of cancer 2 % (4.5 % over 60), fever 1 %, significant trauma 2 %, progressive weakness 1 %,
night pain 5 %, osteoporosis 2 % (12 % in women over 60), bilateral sciatica alone 0.8 % of
lumbar cases, others 0.2-2 %. Motor grade of the compressed root in radicular cases: MRC 5
60 %, 4 33 %, 3 or weaker 7 %.

Missing data (non-sparse cases): pain map absent 10 %, neurological examination 20 %,
imaging 15 %, treatments 15 %, prior procedures 25 %, medicines 15 %, comorbidities 20 %,
allergies 20 %, preferences 30 %; diagnostic blocks absent 10 % in facet cases and 60 %
elsewhere (else ``[]``); surgery absent 30 % outside FBSS (else ``[]``); a marked pain site
has a blank score 3 %. Antithrombotics: 3 % under 50, 12 % at 50-64, 30 % at 65-74, 45 %
from 75.

How it is fast
    Weighted choices are 1024-entry lookup tables (one ``getrandbits(10)`` per draw). Groups
    of independent attributes that do not carry the case's anatomy (accessory imaging
    findings, examination answers, treatment courses tried, everyday medicines, preferences,
    which blocks are recorded) come as one row of a fixed 1024-row table built at import
    from its own fixed RNG, so each such group has at most 1024 combinations per context.
    Rare events (red flags, comorbidities, allergies) are drawn exactly, with about one
    uniform when none happens. Level, side, root, concordance, scores, durations and dates
    are drawn per case.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Iterator
from datetime import date, timedelta
from functools import lru_cache
from statistics import NormalDist
from typing import Any

__all__ = ["BLOCK_SIZE", "PHENOTYPE_WEIGHTS", "generate_cases"]

#: Cases per RNG block (see module docstring, "Determinism and chunking").
BLOCK_SIZE = 64

#: Phenotype weights (simulation choices, see module docstring).
PHENOTYPE_WEIGHTS: dict[str, float] = {
    "lumbar_radicular": 0.35,
    "axial_low_back": 0.20,
    "lumbar_stenosis": 0.15,
    "cervical_radicular": 0.08,
    "fbss": 0.07,
    "cervical_facet": 0.05,
    "trigeminal_neuralgia": 0.04,
    "ulnar_neuropathy": 0.04,
    "sparse": 0.02,
}

Dict = dict[str, Any]
Rand = Any  # the bound ``random.Random.random`` method
Bits = Any  # the bound ``random.Random.getrandbits`` method
Dates = tuple[str, ...]

_MAX_DAYS = 15 * 366  # oldest date emitted, in days before ``reference``
_DAYS_PER_MONTH = 30.44
_N = 1024  # every lookup table below has _N entries; a draw is ``table[g(10)]`` (getrandbits)


# =========================================================================================
# sampling helpers: lookup tables (one getrandbits call per draw) and grouped rare events
# =========================================================================================


def _table(*pairs: tuple[Any, float]) -> tuple[Any, ...]:
    """A weighted choice as a table of ``_N`` items (largest-remainder rounding)."""
    total = sum(w for _, w in pairs)
    exact = [w / total * _N for _, w in pairs]
    counts = [int(x) for x in exact]
    order = sorted(range(len(pairs)), key=lambda k: exact[k] - counts[k], reverse=True)
    for k in order[: _N - sum(counts)]:
        counts[k] += 1
    out: list[Any] = []
    for (item, _), c in zip(pairs, counts, strict=True):
        out.extend([item] * c)
    return tuple(out)


def _normal_table(mean: float, sd: float, lo: int, hi: int) -> tuple[int, ...]:
    """Rounded normal quantiles clamped to [lo, hi], as a lookup table."""
    dist = NormalDist(mean, sd)
    return tuple(min(hi, max(lo, round(dist.inv_cdf((k + 0.5) / _N)))) for k in range(_N))


def _tri3(p_true: float, p_none: float) -> tuple[bool | None, ...]:
    """True / False / None (unanswered) as a lookup table."""
    return _table((True, p_true), (None, p_none), (False, 1.0 - p_true - p_none))


class _Rare:
    """Independent Bernoulli events drawn with about one r() call when none happens.

    Exact: one uniform picks the *first* event that happens (or none) from its distribution
    ``p_k * prod(1 - p_j, j < k)``; the events after it are then drawn one by one.
    """

    __slots__ = ("cum", "keys", "tails")

    def __init__(self, pairs: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> None:
        self.keys = tuple(k for k, _ in pairs)
        self.tails = tuple(tuple(pairs[k + 1:]) for k in range(len(pairs)))
        cum: list[float] = []
        acc, none = 0.0, 1.0
        for _, p in pairs:
            acc += none * p
            none *= 1.0 - p
            cum.append(acc)
        self.cum = tuple(cum)

    def draw(self, r: Rand) -> list[Any]:
        u = r()
        if u >= self.cum[-1]:
            return []
        k = bisect_right(self.cum, u)
        return [self.keys[k], *[key for key, p in self.tails[k] if r() < p]]


def _subsets(name: str, pairs: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...], ...]:
    """``_N`` subsets of independent items with exactly the given marginal rates.

    For common items (treatment menus, everyday medicines, which blocks are recorded) one
    lookup replaces a draw per item. Each item's column holds exactly ``round(p * _N)`` hits,
    shuffled independently by a fixed RNG: the table is the same for every seed; the seed
    decides which row each case gets.
    """
    rng = random.Random(f"spinepath-synthetic:subsets:{name}")
    columns = []
    for _, p in pairs:
        k = round(p * _N)
        column = [True] * k + [False] * (_N - k)
        rng.shuffle(column)
        columns.append(column)
    return tuple(tuple(key for (key, _), hit in zip(pairs, row, strict=True) if hit)
                 for row in zip(*columns, strict=True))


def _bundles(name: str, **fields: Any) -> tuple[Dict, ...]:
    """``_N`` template dicts whose fields are drawn independently from the given tables.

    A case copies one template (one lookup) and then sets its case-specific fields, instead of
    drawing every accessory field itself. A non-tuple field value is a constant.
    """
    rng = random.Random(f"spinepath-synthetic:bundle:{name}")
    return tuple({key: (value[rng.getrandbits(10)] if isinstance(value, tuple) else value)
                  for key, value in fields.items()} for _ in range(_N))


@lru_cache(maxsize=8)
def _date_table(reference: date) -> Dates:
    """ISO dates by days before ``reference`` (index 0 is ``reference`` itself)."""
    return tuple((reference - timedelta(days=k)).isoformat() for k in range(_MAX_DAYS + 1))


# =========================================================================================
# tables (all simulation choices)
# =========================================================================================

_PHENO = _table(*PHENOTYPE_WEIGHTS.items())
_OPPOSITE = {"left": "right", "right": "left"}
_LR = ("left", "right")
_SIDE3 = _table(("bilateral", 0.5), ("left", 0.25), ("right", 0.25))

_LUMBAR_LEVEL = _table(("L4-L5", 0.45), ("L5-S1", 0.43), ("L3-L4", 0.09), ("L2-L3", 0.03))
_TRAVERSING = {"L2-L3": "L3", "L3-L4": "L4", "L4-L5": "L5", "L5-S1": "S1"}
_EXITING = {"L2-L3": "L2", "L3-L4": "L3", "L4-L5": "L4", "L5-S1": "L5"}
_LUMBAR_NEIGHBOUR = {"L2": "L3", "L3": "L4", "L4": "L5", "L5": "S1", "S1": "L5"}
_LUMBAR_ABOVE = {"L2-L3": "L1-L2", "L3-L4": "L2-L3", "L4-L5": "L3-L4", "L5-S1": "L4-L5"}
_CERVICAL_LEVEL = _table(("C5-C6", 0.45), ("C6-C7", 0.38), ("C4-C5", 0.09), ("C7-T1", 0.08))
_CERVICAL_ROOT = {"C4-C5": "C5", "C5-C6": "C6", "C6-C7": "C7", "C7-T1": "C8"}
_CERVICAL_NEIGHBOUR = {"C5": "C6", "C6": "C7", "C7": "C6", "C8": "C7"}
_CERVICAL_FACET_LEVEL = _table(("C2-C3", 0.15), ("C3-C4", 0.15), ("C4-C5", 0.2), ("C5-C6", 0.3),
                               ("C6-C7", 0.2))
_FACET_LEVEL = _table(("L4-L5", 0.45), ("L5-S1", 0.4), ("L3-L4", 0.15))
_STENOSIS_LEVEL = _table(("L4-L5", 0.8), ("L3-L4", 0.15), ("L5-S1", 0.05))
_FBSS_LEVEL = _table(("L4-L5", 0.45), ("L5-S1", 0.45), ("L3-L4", 0.1))

_HERNIATION = _table(("protrusion", 0.45), ("extrusion", 0.45), ("sequestration", 0.10))
_FBSS_FORAMEN = _table(("none", 0.75), ("mild", 0.125), ("moderate", 0.125))
_MRC = _table((5, 0.6), (4, 0.33), (3, 0.05), (2, 0.015), (1, 0.003), (0, 0.002))
_MRC_MILD = _table((5, 0.8), (4, 0.18), (3, 0.02))
_RESPONSE = _table(("none", 0.28), ("partial", 0.46), ("good", 0.18), (None, 0.08))
_RESPONSE_CHRONIC = _table(("none", 0.41), ("partial", 0.41), ("good", 0.1), (None, 0.08))
_TN_RESPONSE = _table(("good", 0.35), ("partial", 0.35), ("none", 0.3))
_TOLERATED = _tri3(0.85, 0.05)
_DIVISIONS = _table((("V2",), 0.3), (("V3",), 0.3), (("V2", "V3"), 0.25), (("V1",), 0.05),
                    (("V1", "V2"), 0.07), (("V1", "V2", "V3"), 0.03))
_ESI_KIND = _table(("esi-transforaminal", 0.6), ("esi-interlaminar", 0.3), ("esi-caudal", 0.1))
_STENOSIS_ESI = _table(("esi-interlaminar", 0.5), ("esi-transforaminal", 0.3), ("esi-caudal", 0.2))
_SURGERY_KIND = _table(("discectomy", 0.5), ("laminectomy", 0.25), ("fusion", 0.25))
_CENTRAL_PAIN_SIDE = _table(("left", 0.4), ("right", 0.4), ("bilateral", 0.2))
_COMPLICATIONS = _table(("none", 0.6), ("blank", 0.39), ("some", 0.01))


def _disc_finding_bundles(facet_p: float) -> tuple[Dict, ...]:
    """Lumbar disc-herniation MRI/CT report templates; level, side, root etc. are filled in."""
    return _bundles(
        f"disc:{facet_p}", modality=_table(("mri", 0.9), ("ct", 0.1)), region="lumbar", date=None,
        level=None, side=None, morphology=None, central_stenosis=_table(("none", 0.8), ("mild", 0.2)),
        foraminal_stenosis="none", root_compressed=None,
        high_intensity_zone=_tri3(0.15, 0.0), calcified_herniation=_tri3(0.03, 0.0),
        facet_arthropathy=_tri3(facet_p, 0.0), instability=_tri3(0.03, 0.0))


_DISC_FINDING_YOUNG = _disc_finding_bundles(0.1)  # under 50
_DISC_FINDING_OLD = _disc_finding_bundles(0.35)

_AXIAL_FINDING = {  # by probability of facet arthropathy (age under 40 / under 60 / older)
    facet_p: _bundles(
        f"axial:{facet_p}", modality=None, region="lumbar", date=None, level=None, side="central",
        morphology=_table(("bulge", 0.5), ("normal", 0.35), ("protrusion", 0.15)),
        central_stenosis=_table(("none", 0.85), ("mild", 0.15)), facet_arthropathy=_tri3(facet_p, 0.0),
        high_intensity_zone=_tri3(0.1, 0.0), instability=_tri3(0.05, 0.0))
    for facet_p in (0.25, 0.5, 0.75)
}
_AXIAL_XRAY = {
    facet_p: _bundles(f"axial-xray:{facet_p}", modality="xray", region="lumbar", date=None, level=None,
                      facet_arthropathy=_tri3(facet_p, 0.0), instability=_tri3(0.05, 0.0))
    for facet_p in (0.25, 0.5, 0.75)
}
_STENOSIS_FINDING = _bundles(
    "stenosis", modality=_table(("mri", 0.85), ("ct", 0.15)), region="lumbar", date=None, level=None,
    side="central", morphology=_table(("bulge", 0.7), ("protrusion", 0.2), ("normal", 0.1)),
    central_stenosis=_table(("moderate", 0.5), ("severe", 0.35), ("mild", 0.15)),
    foraminal_stenosis=_table(("none", 0.6), ("mild", 0.24), ("moderate", 0.16)),
    facet_arthropathy=_tri3(0.8, 0.0), instability=_tri3(0.2, 0.0), root_compressed=None)
#: Lumbar radicular examination by compressed root: straight-leg raise is usually positive
#: for L5/S1 roots; the ankle (S1) and knee (L4) reflexes are the ones that drop.
_RADICULAR_EXAM = {
    root: _bundles(f"exam:{root}", motor=None,
                   straight_leg_raise_positive=_tri3(0.75 if root in ("L5", "S1") else 0.4, 0.1),
                   reflexes_reduced=_tri3(0.55 if root in ("S1", "L4") else 0.15, 0.1),
                   bilateral_leg_weakness=False)
    for root in ("L2", "L3", "L4", "L5", "S1")
}

_LEG_NRS = _normal_table(6.8, 1.3, 3, 10)
_ARM_NRS = _normal_table(6.8, 1.2, 3, 10)
_BACK_NRS = _normal_table(6.5, 1.5, 2, 10)
_NECK_NRS = _normal_table(6.2, 1.4, 3, 10)
_STENOSIS_LEG = _normal_table(6.0, 1.5, 3, 10)
_STENOSIS_BACK = _normal_table(5.5, 1.8, 1, 10)
_FBSS_LEG = _normal_table(6.5, 1.4, 3, 10)
_FBSS_BACK = _normal_table(6.4, 1.6, 2, 10)
_FACE_NRS = _normal_table(8.3, 1.0, 5, 10)
_ULNAR_NRS = _normal_table(4.0, 1.3, 1, 8)

_SLR_AXIAL = _tri3(0.05, 0.1)
_SLR_STENOSIS = _tri3(0.1, 0.15)
_SLR_FBSS = _tri3(0.35, 0.15)
_REFLEX_40 = _tri3(0.4, 0.1)
_REFLEX_50 = _tri3(0.5, 0.1)
_PROGRESSIVE = _tri3(0.01, 0.05)
_CLAUDICATION_NO = _table((False, 0.85), (None, 0.15))
_PAROXYSMAL = _tri3(0.95, 0.02)
_TRIGGERED = _tri3(0.9, 0.03)
_CONTINUOUS = _tri3(0.25, 0.05)
_FACIAL_DEFICIT = _tri3(0.04, 0.05)
_TRIGEMINAL_REFLEX = _tri3(0.02, 0.6)
_ELBOW_PAIN = _tri3(0.45, 0.1)
_HAND_WEAK = _tri3(0.15, 0.05)
_HAND_WASTING = _tri3(0.03, 0.05)
_ENTRAPMENT = _table((True, 0.88), (False, 0.07), (None, 0.05))
_PREGNANT = _tri3(0.02, 0.28)
_PREFERENCES = _bundles("preferences", declines_injections=_tri3(0.05, 0.15),
                        declines_surgery=_tri3(0.3, 0.25), prefers_awake_procedure=_tri3(0.15, 0.6))

# Drug-like treatments get a ``tolerated`` answer; the rest do not.
_DRUG_KINDS = frozenset({"nsaid", "muscle_relaxant", "neuropathic_medication", "opioid",
                         "carbamazepine_or_oxcarbazepine"})
Menu = tuple[tuple[tuple[tuple[Dict, bool], ...], ...], ...]


def _menu(name: str, pairs: tuple[tuple[str, float], ...]) -> Menu:
    """Treatment courses tried, as two lookup tables (episode <= 12 weeks, chronic).

    Each entry is a tuple of (course template, dated?) pairs; the case fills in ``weeks``
    (and start/end for a dated course), which depend on how long the episode has lasted.
    """
    rows = _subsets(name, pairs)
    rng = random.Random(f"spinepath-synthetic:menu:{name}")
    tables = []
    for responses in (_RESPONSE, _RESPONSE_CHRONIC):
        table = []
        for row in rows:
            entry = []
            for kind in row:
                t: Dict = {"kind": kind, "weeks": 0, "response": responses[rng.getrandbits(10)]}
                if kind in _DRUG_KINDS:
                    t["tolerated"] = _TOLERATED[rng.getrandbits(10)]
                entry.append((t, rng.random() < 0.15))
            table.append(tuple(entry))
        tables.append(tuple(table))
    return tuple(tables)


_TX_RADICULAR = _menu("radicular", (
    ("physiotherapy", 0.6), ("nsaid", 0.6), ("advice_self_management", 0.4),
    ("neuropathic_medication", 0.3), ("exercise", 0.25), ("opioid", 0.15), ("muscle_relaxant", 0.1),
    ("manual_therapy", 0.1), ("heat", 0.05)))
_TX_AXIAL = _menu("axial", (
    ("nsaid", 0.6), ("advice_self_management", 0.5), ("physiotherapy", 0.5), ("exercise", 0.4),
    ("muscle_relaxant", 0.15), ("heat", 0.15), ("manual_therapy", 0.15),
    ("psychological_therapy", 0.1), ("opioid", 0.08)))
_TX_STENOSIS = _menu("stenosis", (
    ("physiotherapy", 0.6), ("nsaid", 0.5), ("exercise", 0.4), ("neuropathic_medication", 0.35),
    ("advice_self_management", 0.3), ("opioid", 0.1)))
_TX_FBSS = _menu("fbss", (
    ("neuropathic_medication", 0.5), ("physiotherapy", 0.5), ("opioid", 0.3), ("exercise", 0.3),
    ("nsaid", 0.3), ("psychological_therapy", 0.2)))
_TX_NECK = _menu("neck", (
    ("physiotherapy", 0.55), ("nsaid", 0.55), ("exercise", 0.35), ("advice_self_management", 0.3),
    ("manual_therapy", 0.15), ("heat", 0.1), ("psychological_therapy", 0.05)))
_TX_ULNAR = _menu("ulnar", (
    ("activity_modification", 0.8), ("splint", 0.35), ("nsaid", 0.25),
    ("neuropathic_medication", 0.15), ("physiotherapy", 0.15)))

_RED_FLAG_KEYS = (
    "saddle_anaesthesia", "urinary_retention_or_new_difficulty",
    "bowel_incontinence_or_loss_of_rectal_sensation", "reduced_anal_tone", "new_sexual_dysfunction",
    "bilateral_sciatica", "fever", "iv_drug_use", "immunosuppression",
    "recent_bacteraemia_or_infection", "recent_spinal_procedure", "tb_risk", "history_of_cancer",
    "unexplained_weight_loss", "night_pain", "significant_trauma", "prolonged_corticosteroid_use",
    "osteoporosis", "bilateral_trigeminal_symptoms",
)
_RED_FLAGS_FALSE: dict[str, bool | None] = dict.fromkeys(_RED_FLAG_KEYS, False)
_RED_FLAG_RATES = (
    ("fever", 0.01), ("iv_drug_use", 0.005), ("immunosuppression", 0.02),
    ("recent_bacteraemia_or_infection", 0.01), ("recent_spinal_procedure", 0.01),
    ("tb_risk", 0.01), ("unexplained_weight_loss", 0.01), ("night_pain", 0.05),
    ("significant_trauma", 0.02), ("prolonged_corticosteroid_use", 0.02),
    ("new_sexual_dysfunction", 0.002), ("urinary_retention_or_new_difficulty", 0.002),
)
#: Cauda equina syndrome: features within the cluster (drawn together).
_CES_CLUSTER = (
    ("saddle_anaesthesia", 0.85), ("urinary_retention_or_new_difficulty", 0.7),
    ("bowel_incontinence_or_loss_of_rectal_sensation", 0.3), ("reduced_anal_tone", 0.3),
    ("new_sexual_dysfunction", 0.3), ("bilateral_sciatica", 0.6),
)
_CES = "_cauda_equina_cluster"


def _red_flag_group(lumbar: bool, over_60: bool, woman_over_60: bool) -> _Rare:
    pairs = [*_RED_FLAG_RATES, ("history_of_cancer", 0.045 if over_60 else 0.02),
             ("osteoporosis", 0.12 if woman_over_60 else 0.02)]
    if lumbar:
        pairs += [(_CES, 0.006), ("bilateral_sciatica", 0.008)]
    return _Rare(pairs)


#: Indexed by ``4 * lumbar + 2 * over_60 + woman_over_60``.
_RED_FLAG_GROUPS = tuple(_red_flag_group(k >= 4, k % 4 >= 2, k % 2 == 1) for k in range(8))


_COMORBIDITY_KEYS = (
    "diabetes", "diabetes_poorly_controlled", "coagulopathy", "local_infection_at_site",
    "systemic_infection", "heart_failure", "implanted_device", "renal_impairment", "liver_disease",
    "multiple_sclerosis", "cannot_lie_prone", "cannot_cooperate_awake_testing",
    "psychological_distress",
)
_COMORBIDITIES_FALSE: dict[str, bool | None] = dict.fromkeys(_COMORBIDITY_KEYS, False)


def _comorbidity_group(band: int, ms: float, distress: float) -> _Rare:
    """``band``: 0 under 50, 1 at 50-64, 2 at 65-74, 3 from 75."""
    return _Rare((
        ("diabetes", (0.05, 0.14, 0.22, 0.22)[band]),
        ("coagulopathy", 0.005), ("local_infection_at_site", 0.003), ("systemic_infection", 0.003),
        ("heart_failure", (0.01, 0.01, 0.04, 0.08)[band]),
        ("implanted_device", (0.01, 0.01, 0.03, 0.06)[band]),
        ("renal_impairment", (0.02, 0.02, 0.06, 0.06)[band]),
        ("liver_disease", 0.02), ("multiple_sclerosis", ms),
        ("cannot_lie_prone", (0.02, 0.02, 0.02, 0.06)[band]),
        ("cannot_cooperate_awake_testing", 0.01), ("psychological_distress", distress),
    ))


#: Indexed by ``4 * kind + band``; kind 0 episode <= 12 weeks, 1 chronic, 2 FBSS, 3 trigeminal.
_COMORBIDITY_GROUPS = tuple(
    _comorbidity_group(band, 0.04 if kind == 3 else 0.004, (0.1, 0.2, 0.3, 0.2)[kind])
    for kind in range(4) for band in range(4)
)


_ANTITHROMBOTIC = _table(("aspirin", 0.40), ("apixaban", 0.20), ("clopidogrel", 0.15),
                         ("rivaroxaban", 0.15), ("warfarin", 0.10))
_ANTITHROMBOTIC_P = (0.03, 0.12, 0.30, 0.45)  # by age band
_ANTITHROMBOTIC_INDICATION = {
    "aspirin": "secondary prevention", "clopidogrel": "coronary stent",
    "apixaban": "atrial fibrillation", "rivaroxaban": "atrial fibrillation",
    "warfarin": "atrial fibrillation",
}
_OTHER_MEDICINES_YOUNG = _subsets("medicines_young", (
    ("paracetamol", 0.45), ("ibuprofen", 0.12), ("omeprazole", 0.1), ("naproxen", 0.08),
    ("tramadol", 0.07), ("sertraline", 0.06), ("amitriptyline", 0.06), ("atorvastatin", 0.05),
    ("amlodipine", 0.04), ("levothyroxine", 0.04), ("ramipril", 0.03),
))
_OTHER_MEDICINES_OLD = _subsets("medicines_old", (
    ("paracetamol", 0.45), ("atorvastatin", 0.3), ("amlodipine", 0.25), ("omeprazole", 0.2),
    ("ramipril", 0.12), ("tramadol", 0.08), ("levothyroxine", 0.06), ("ibuprofen", 0.06),
    ("amitriptyline", 0.06), ("sertraline", 0.05), ("naproxen", 0.04),
))
_NEUROPATHIC_MEDICINE = _table(("pregabalin", 0.5), ("gabapentin", 0.35), ("duloxetine", 0.15))
_ALLERGIES = _Rare((("contrast", 0.03), ("latex", 0.02), ("local_anaesthetic", 0.005),
                    ("corticosteroid", 0.005), ("hyaluronidase", 0.003), ("dextrose", 0.001)))

_AGE = {  # mean, sd, min, max
    "lumbar_radicular": _normal_table(45, 12, 18, 85),
    "axial_low_back": _normal_table(50, 15, 18, 90),
    "lumbar_stenosis": _normal_table(71, 8, 50, 92),
    "fbss": _normal_table(55, 11, 28, 85),
    "cervical_radicular": _normal_table(50, 10, 25, 80),
    "cervical_facet": _normal_table(55, 13, 25, 88),
    "trigeminal_neuralgia": _normal_table(60, 12, 25, 92),
    "ulnar_neuropathy": _normal_table(50, 13, 20, 85),
}
_FEMALE_SHARE = {"trigeminal_neuralgia": 0.6, "ulnar_neuropathy": 0.4, "lumbar_radicular": 0.45,
                 "fbss": 0.45}
_LUMBAR_PHENOTYPES = frozenset({"lumbar_radicular", "axial_low_back", "lumbar_stenosis", "fbss"})
_MYELOPATHY_KEYS = ("hyperreflexia", "hoffmann_sign", "gait_disturbance", "hand_clumsiness",
                    "bilateral_hand_numbness")
_MYELOPATHY_FALSE = dict.fromkeys(_MYELOPATHY_KEYS, False)


# =========================================================================================
# building blocks
# =========================================================================================


def _site(r: Rand, nrs: int, side: str | None) -> Dict:
    """A marked pain site; its score is left blank 3 % of the time."""
    if side is None:
        return {"nrs": None if r() < 0.03 else nrs}
    return {"nrs": None if r() < 0.03 else nrs, "side": side}


def _duration(r: Rand, acute: float, subacute: float, chronic_max: int) -> int:
    """Episode length in weeks: acute 1-3, subacute 4-12, chronic 13..chronic_max (skewed)."""
    u = r()
    if u < acute:
        return 1 + int(r() * 3)
    if u < acute + subacute:
        return 4 + int(r() * 9)
    return 13 + int(r() * r() * (chronic_max - 12))


def _imaging_date(r: Rand, d: Dates, dur_w: int) -> str | None:
    """A date within the episode (at most a year back); not recorded 30 %."""
    if r() < 0.3:
        return None
    span = dur_w * 7 if dur_w < 52 else 365
    return d[int(r() * span)]


def _treatments(r: Rand, g: Bits, d: Dates, menu: Menu, dur_w: int, chronic: bool) -> list[Dict]:
    """Conservative courses tried in this episode: 0..min(episode, 26) weeks each."""
    cap = (dur_w if dur_w < 26 else 26) + 1
    out: list[Dict] = []
    for template, dated in menu[chronic][g(10)]:
        t = template.copy()
        weeks = t["weeks"] = int(r() * cap)
        if dated:  # began within the episode, lasted ``weeks``
            span = weeks * 7
            ago = span + int(r() * (dur_w * 7 - span + 1))
            t["start"] = d[ago]
            t["end"] = d[ago - span]
        out.append(t)
    return out


def _procedure(r: Rand, g: Bits, d: Dates, pid: str, min_days: int, max_days: int, level: str | None,
               side: str | None, p_good: float) -> Dict:
    """A prior procedure ``min_days``..``max_days`` before the reference date."""
    if max_days < min_days:
        max_days = min_days
    days = min_days + int(r() * (max_days - min_days))
    p: Dict = {"procedure": pid, "date": d[days]}
    if level is not None:
        p["level"] = level
    if side is not None and side != "central":
        p["side"] = side
    if r() < 0.9:
        relief = 50 + int(r() * 46) if r() < p_good else int(r() * 50)
        p["relief_pct"] = relief
        if relief >= 30:
            lasted = (0.5 + r() * 11.5) if relief >= 50 else r() * 2.0
            months = days / _DAYS_PER_MONTH
            p["relief_months"] = round(lasted if lasted < months else months, 1)
        else:
            p["relief_months"] = 0
    c = _COMPLICATIONS[g(10)]
    if c == "none":
        p["complications"] = []
    elif c == "some":
        p["complications"] = ["post-dural puncture headache" if pid.startswith("esi")
                              else "transient numbness"]
    return p


def _mbb(r: Rand, d: Dates, region: str, level: str, side: str, genuine: bool, count: int) -> list[Dict]:
    """Diagnostic medial branch blocks, oldest first, 1-3 weeks apart."""
    blocks: list[Dict] = []
    ago = 14 + int(r() * 90)
    for _ in range(count):
        relief = 60 + int(r() * 41) if genuine else int(r() * 61)
        blocks.append({"kind": "medial_branch_block", "region": region, "level": level,
                       "side": side, "date": d[ago], "relief_pct": relief})
        ago -= 7 + int(r() * 15)
        if ago < 1:
            ago = 1
    blocks.reverse()
    return blocks


def _motor(r: Rand, g: Bits, myotome: str, side: str, table: tuple[int, ...]) -> list[Dict]:
    if side == "bilateral":
        return [{"myotome": myotome, "side": "left", "mrc": table[g(10)]},
                {"myotome": myotome, "side": "right", "mrc": table[g(10)]}]
    return [{"myotome": myotome, "side": side, "mrc": table[g(10)]}]


def _radicular_scenario(r: Rand, g: Bits, img_side: str, root: str, neighbour: dict[str, str]) -> tuple[
        str, str, list[str], str | None]:
    """(imaging side, pain side, dermatomes, compressed root) for one concordance scenario."""
    pain_side = img_side if img_side != "central" else _CENTRAL_PAIN_SIDE[g(10)]
    dermatomes = [root]
    compressed: str | None = root
    u = r()
    if u < 0.76:  # concordant
        if r() < 0.15:
            dermatomes.append(neighbour[root])
    elif u < 0.84:  # herniation on the other side
        if img_side == "central" or pain_side == "bilateral":
            img_side, pain_side = "left", "right"
        else:
            img_side = _OPPOSITE[img_side]
    elif u < 0.92:  # pain follows a different root
        dermatomes = [neighbour[root]]
    else:  # no root compressed
        compressed = None
    return img_side, pain_side, dermatomes, compressed


def _cervical_neuro(r: Rand, g: Bits, motor: list[Dict]) -> Dict:
    neuro: Dict = {"motor": motor, "reflexes_reduced": _REFLEX_40[g(10)]}
    u = r()
    if u < 0.02:  # myelopathy sign cluster
        for key in _MYELOPATHY_KEYS:
            neuro[key] = r() < 0.6
    elif u < 0.1:  # not all examined
        for key in _MYELOPATHY_KEYS:
            neuro[key] = None if r() < 0.5 else False
    else:
        neuro.update(_MYELOPATHY_FALSE)
    return neuro


# =========================================================================================
# phenotypes: each returns (pain, neuro, imaging, treatments, procedures, blocks, surgery)
# ``imaging``/``blocks``/``surgery`` may be None (not recorded); _case adds more missingness.
# =========================================================================================

Parts = tuple[Dict, Dict, list[Dict] | None, list[Dict], list[Dict], list[Dict] | None,
              list[Dict] | None]


def _lumbar_radicular(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    level = _LUMBAR_LEVEL[g(10)]
    u = r()
    img_side = "left" if u < 0.46 else "right" if u < 0.92 else "central"
    foraminal = r() < 0.10
    root = _EXITING[level] if foraminal else _TRAVERSING[level]
    img_side, pain_side, derms, compressed = _radicular_scenario(r, g, img_side, root, _LUMBAR_NEIGHBOUR)
    leg = _LEG_NRS[g(10)]
    back = leg - 1 - int(r() * 4) if r() < 0.88 else leg + int(r() * 2)
    back = 0 if back < 0 else 10 if back > 10 else back
    dur = _duration(r, 0.25, 0.4, 104)
    leg_site: Dict = {"nrs": None if r() < 0.03 else leg, "side": pain_side}
    if r() < 0.9:
        leg_site["dermatomes"] = derms
    leg_site["below_knee"] = r() < 0.88
    pain: Dict = {"leg": leg_site, "duration_weeks": dur,
                  "neurogenic_claudication": _CLAUDICATION_NO[g(10)]}
    if back > 0:
        pain["back"] = {"nrs": None if r() < 0.03 else back}

    motor = _motor(r, g, root, pain_side, _MRC)
    if r() < 0.3:
        motor.append({"myotome": _LUMBAR_NEIGHBOUR[root], "side": motor[0]["side"], "mrc": 5})
    neuro = _RADICULAR_EXAM[root][g(10)].copy()
    neuro["motor"] = motor
    when = _imaging_date(r, d, dur)
    main = (_DISC_FINDING_YOUNG if age < 50 else _DISC_FINDING_OLD)[g(10)].copy()
    main["date"] = when
    main["level"] = level
    main["side"] = img_side
    main["morphology"] = "bulge" if compressed is None else _HERNIATION[g(10)]
    if foraminal:
        main["foraminal_stenosis"] = "moderate"
    main["root_compressed"] = compressed
    modality = main["modality"]
    imaging = [main]
    if r() < 0.4:
        imaging.append({"modality": modality, "region": "lumbar", "date": when,
                        "level": _LUMBAR_ABOVE[level], "side": "central",
                        "morphology": "bulge" if r() < 0.7 else "normal", "central_stenosis": "none"})
    procedures: list[Dict] = []
    if dur > 8 and r() < 0.2:
        max_days = dur * 7 if dur < 100 else 700
        procedures.append(_procedure(r, g, d, _ESI_KIND[g(10)], 42, max_days, level, pain_side, 0.4))
        if r() < 0.2:
            procedures.append(_procedure(r, g, d, _ESI_KIND[g(10)], 42, max_days, level,
                                         pain_side, 0.4))
    return (pain, neuro, imaging, _treatments(r, g, d, _TX_RADICULAR, dur, dur > 12), procedures,
            None, None)


def _axial_low_back(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    dur = _duration(r, 0.4, 0.15, 260)
    chronic = dur > 12
    back = _BACK_NRS[g(10)]
    pain: Dict = {"back": _site(r, back, _SIDE3[g(10)]), "duration_weeks": dur,
                  "neurogenic_claudication": False}
    if r() < 0.35:  # referred, non-dermatomal thigh pain
        leg = 1 + int(r() * 3)
        if leg >= back:
            leg = back - 1
        if leg > 0:
            pain["leg"] = {"nrs": leg, "side": _LR[r() < 0.5], "below_knee": False, "dermatomes": []}
    neuro: Dict = {
        "motor": [{"myotome": "L5", "side": "left", "mrc": 5}, {"myotome": "L5", "side": "right", "mrc": 5}],
        "straight_leg_raise_positive": _SLR_AXIAL[g(10)],
        "reflexes_reduced": False,
        "bilateral_leg_weakness": False,
    }
    imaging: list[Dict] | None
    if dur < 4:  # imaging not indicated in the first weeks: usually known to be none
        imaging = [] if r() < 0.6 else None
    else:
        when = _imaging_date(r, d, dur)
        u = r()
        modality = "mri" if u < 0.75 else "ct" if u < 0.85 else "xray"
        facet_p = 0.25 if age < 40 else 0.5 if age < 60 else 0.75
        bundles = _AXIAL_XRAY[facet_p] if modality == "xray" else _AXIAL_FINDING[facet_p]
        imaging = []
        for level in ("L4-L5", "L5-S1") if r() < 0.6 else ("L3-L4", "L4-L5", "L5-S1"):
            f = bundles[g(10)].copy()
            f["modality"] = modality
            f["date"] = when
            f["level"] = level
            imaging.append(f)
    blocks: list[Dict] = []
    procedures: list[Dict] = []
    if chronic:
        if r() < 0.5:
            blocks = _mbb(r, d, "lumbar", _FACET_LEVEL[g(10)], _SIDE3[g(10)],
                          r() < 0.55, 2 if r() < 0.7 else 1)
        if r() < 0.12:
            procedures.append(_procedure(r, g, d, "rf-facet-lumbar", 180, min(dur * 7, 1100),
                                         _FACET_LEVEL[g(10)], "bilateral", 0.6))
    return (pain, neuro, imaging, _treatments(r, g, d, _TX_AXIAL, dur, chronic), procedures, blocks, None)


def _lumbar_stenosis(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    dur = _duration(r, 0.0, 0.1, 520)
    u = r()
    side = "bilateral" if u < 0.55 else "left" if u < 0.78 else "right"
    leg_site = _site(r, _STENOSIS_LEG[g(10)], side)
    u = r()
    if u < 0.45:
        leg_site["dermatomes"] = ["L5"] if r() < 0.5 else ["L4", "L5"]
    elif u < 0.75:
        leg_site["dermatomes"] = []
    leg_site["below_knee"] = r() < 0.65
    pain: Dict = {"leg": leg_site, "back": _site(r, _STENOSIS_BACK[g(10)], None),
                  "duration_weeks": dur, "neurogenic_claudication": True}
    neuro: Dict = {
        "motor": _motor(r, g, "L5", side, _MRC_MILD) + _motor(r, g, "L4", side, _MRC_MILD),
        "straight_leg_raise_positive": _SLR_STENOSIS[g(10)],
        "reflexes_reduced": _REFLEX_40[g(10)],
        "bilateral_leg_weakness": r() < 0.005,
    }
    level = _STENOSIS_LEVEL[g(10)]
    when = _imaging_date(r, d, dur)
    main = _STENOSIS_FINDING[g(10)].copy()
    main["date"] = when
    main["level"] = level
    if r() < 0.2:
        main["root_compressed"] = _TRAVERSING[level]
    modality = main["modality"]
    imaging = [main]
    if level != "L3-L4" and r() < 0.5:
        imaging.append({"modality": modality, "region": "lumbar", "date": when, "level": "L3-L4",
                        "side": "central", "morphology": "bulge",
                        "central_stenosis": "mild" if r() < 0.6 else "moderate",
                        "facet_arthropathy": True})
    procedures: list[Dict] = []
    max_days = dur * 7 if dur < 214 else 1500
    if r() < 0.3:
        procedures.append(_procedure(r, g, d, _STENOSIS_ESI[g(10)], 42, max_days, level, side, 0.35))
    if r() < 0.05:
        procedures.append(_procedure(r, g, d, "epidural-adhesiolysis", 42, max_days, level, side, 0.5))
    if r() < 0.05:
        procedures.append(_procedure(r, g, d, "balloon-neuroplasty", 42, max_days, level, side, 0.45))
    return (pain, neuro, imaging, _treatments(r, g, d, _TX_STENOSIS, dur, True), procedures, None, None)


def _fbss(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    level = _FBSS_LEVEL[g(10)]
    kind = _SURGERY_KIND[g(10)]
    years_ago = 1 + (r() + r()) * 5.5 if r() < 0.5 else 1 + r() * 4
    surgery_days = int(years_ago * 365.25)
    surgery = [{"kind": kind, "region": "lumbar", "level": level, "date": d[surgery_days]}]
    last_days = surgery_days
    if r() < 0.15:  # a second operation at the same level
        last_days = 120 + int(r() * (surgery_days - 240))
        surgery.append({"kind": "fusion" if kind != "fusion" else "other", "region": "lumbar",
                        "level": level, "date": d[last_days]})
    weeks_since = last_days // 7
    dur = 26 + int(r() * (weeks_since - 26)) if weeks_since > 26 else weeks_since
    u = r()
    side = "left" if u < 0.45 else "right" if u < 0.9 else "bilateral"
    root = _TRAVERSING[level]
    leg_site = _site(r, _FBSS_LEG[g(10)], side)
    if r() < 0.75:
        leg_site["dermatomes"] = [root]
    leg_site["below_knee"] = r() < 0.75
    pain: Dict = {"back": _site(r, _FBSS_BACK[g(10)], None), "leg": leg_site,
                  "duration_weeks": dur, "neurogenic_claudication": _CLAUDICATION_NO[g(10)]}
    neuro: Dict = {
        "motor": _motor(r, g, root, side, _MRC_MILD),
        "straight_leg_raise_positive": _SLR_FBSS[g(10)],
        "reflexes_reduced": _REFLEX_50[g(10)],
        "bilateral_leg_weakness": False,
    }
    recurrent = kind != "fusion" and r() < 0.2
    finding: Dict = {
        "modality": "mri" if kind != "fusion" or r() < 0.4 else "ct", "region": "lumbar",
        "date": _imaging_date(r, d, dur), "level": level,
        "side": side if side != "bilateral" else "central",
        "epidural_fibrosis": r() < 0.65,
        "morphology": ("protrusion" if r() < 0.5 else "extrusion") if recurrent else None,
        "root_compressed": root if recurrent else None,
        "foraminal_stenosis": _FBSS_FORAMEN[g(10)],
        "instability": kind != "fusion" and r() < 0.1,
    }
    procedures: list[Dict] = []
    max_days = last_days - 30 if last_days < 1530 else 1500
    if r() < 0.6:
        for _ in range(1 + int(r() * 2.5)):
            procedures.append(_procedure(r, g, d, _ESI_KIND[g(10)], 42, max_days, level, side, 0.2))
    if r() < 0.15:
        procedures.append(_procedure(r, g, d, "epidural-adhesiolysis", 42, max_days, level, side, 0.55))
    if r() < 0.07:
        procedures.append(_procedure(r, g, d, "balloon-neuroplasty", 42, max_days, level, side, 0.45))
    return (pain, neuro, [finding], _treatments(r, g, d, _TX_FBSS, dur, True), procedures, None, surgery)


def _cervical_radicular(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    level = _CERVICAL_LEVEL[g(10)]
    root = _CERVICAL_ROOT[level]
    img_side, pain_side, derms, compressed = _radicular_scenario(
        r, g, "left" if r() < 0.48 else "right", root, _CERVICAL_NEIGHBOUR)
    if r() < 0.02:
        pain_side = "bilateral"
    arm = _ARM_NRS[g(10)]
    neck = arm - 1 - int(r() * 4) if r() < 0.85 else arm + int(r() * 2)
    neck = 0 if neck < 0 else 10 if neck > 10 else neck
    dur = _duration(r, 0.2, 0.45, 104)
    arm_site = _site(r, arm, pain_side)
    if r() < 0.9:
        arm_site["dermatomes"] = derms
    pain: Dict = {"arm": arm_site, "duration_weeks": dur}
    if neck > 0:
        pain["neck"] = _site(r, neck, None)
    neuro = _cervical_neuro(r, g, _motor(r, g, root, pain_side, _MRC))
    soft = r() < 0.55  # soft disc herniation vs spondylotic foraminal narrowing
    imaging = [{
        "modality": "mri" if r() < 0.9 else "ct", "region": "cervical",
        "date": _imaging_date(r, d, dur), "level": level, "side": img_side,
        "morphology": _HERNIATION[g(10)] if soft and compressed else "bulge",
        "foraminal_stenosis": "mild" if soft else ("moderate" if r() < 0.6 else "severe"),
        "central_stenosis": "none" if r() < 0.85 else "mild",
        "facet_arthropathy": (not soft) and r() < 0.5, "root_compressed": compressed,
    }]
    procedures: list[Dict] = []
    if dur > 6 and r() < 0.17:
        interlaminar = r() < 0.7
        pid = "esi-interlaminar" if interlaminar else "esi-transforaminal"
        procedures.append(_procedure(r, g, d, pid, 42, min(dur * 7, 720),
                                     "C7-T1" if interlaminar else level, pain_side, 0.45))
    surgery: list[Dict] | None = None
    if r() < 0.03:  # earlier anterior fusion at another level
        surgery = [{"kind": "fusion", "region": "cervical", "level": "C6-C7" if level != "C6-C7" else "C5-C6",
                    "date": d[730 + int(r() * 2500)]}]
    return (pain, neuro, imaging, _treatments(r, g, d, _TX_NECK, dur, dur > 12), procedures, None, surgery)


def _cervical_facet(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    dur = _duration(r, 0.0, 0.3, 260)
    side = _SIDE3[g(10)]
    pain: Dict = {"neck": _site(r, _NECK_NRS[g(10)], side), "duration_weeks": dur}
    if r() < 0.3:  # referred shoulder-girdle pain, non-dermatomal
        pain["arm"] = {"nrs": 1 + int(r() * 2), "side": _LR[r() < 0.5], "dermatomes": []}
    neuro = _cervical_neuro(r, g, [{"myotome": "C5", "side": "left", "mrc": 5},
                                {"myotome": "C5", "side": "right", "mrc": 5},
                                {"myotome": "C7", "side": "left", "mrc": 5},
                                {"myotome": "C7", "side": "right", "mrc": 5}])
    level = _CERVICAL_FACET_LEVEL[g(10)]
    when = _imaging_date(r, d, dur)
    if r() < 0.7:
        finding: Dict = {"modality": "mri", "region": "cervical", "date": when, "level": level,
                         "side": "central", "facet_arthropathy": r() < 0.7,
                         "morphology": "bulge" if r() < 0.5 else "normal",
                         "foraminal_stenosis": "none" if r() < 0.8 else "mild"}
    else:
        finding = {"modality": "xray", "region": "cervical", "date": when, "level": level,
                   "facet_arthropathy": r() < 0.7}
    blocks: list[Dict] = []
    if dur > 6 and r() < 0.55:
        blocks = _mbb(r, d, "cervical", level, side, r() < 0.55, 2 if r() < 0.6 else 1)
    procedures: list[Dict] = []
    if dur > 26 and r() < 0.1:
        procedures.append(_procedure(r, g, d, "rf-facet-cervical", 180, min(dur * 7, 1100), level, side,
                                     0.65))
    return (pain, neuro, [finding], _treatments(r, g, d, _TX_NECK, dur, dur > 12), procedures, blocks, None)


def _trigeminal(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    dur = 12 + int((r() + r()) * 250)
    u = r()
    side = "right" if u < 0.58 else "left" if u < 0.98 else "bilateral"
    face: Dict = {
        "nrs": _FACE_NRS[g(10)], "side": side, "divisions": list(_DIVISIONS[g(10)]),
        "paroxysmal": _PAROXYSMAL[g(10)], "triggered": _TRIGGERED[g(10)],
        "continuous_pain": _CONTINUOUS[g(10)],
    }
    pain: Dict = {"face": face, "duration_weeks": dur}
    neuro: Dict = {"facial_sensory_deficit": _FACIAL_DEFICIT[g(10)],
                   "abnormal_trigeminal_reflexes": _TRIGEMINAL_REFLEX[g(10)]}
    u = r()
    imaging: list[Dict] | None
    if u < 0.1:
        imaging = []
    elif u < 0.3:
        imaging = None
    else:
        imaging = [{"modality": "mri", "region": "cranial", "date": _imaging_date(r, d, dur),
                    "side": side, "neurovascular_contact": r() < 0.55, "secondary_cause": r() < 0.05}]
    treatments: list[Dict] = []
    if r() < 0.92:
        treatments.append({"kind": "carbamazepine_or_oxcarbazepine", "weeks": 2 + int(r() * 25),
                           "response": _TN_RESPONSE[g(10)], "tolerated": r() >= 0.25})
    if r() < 0.3:
        treatments.append({"kind": "neuropathic_medication", "weeks": int(r() * 27),
                           "response": _RESPONSE_CHRONIC[g(10)], "tolerated": r() < 0.85})
    procedures: list[Dict] = []
    if r() < 0.1:
        procedures.append(_procedure(r, g, d, "rf-trigeminal", 180, min(dur * 7, 1800), None, side, 0.85))
    surgery: list[Dict] | None = None
    if r() < 0.05:
        surgery = [{"kind": "microvascular_decompression", "region": "cranial",
                    "date": d[365 + int(r() * 2500)]}]
    return (pain, neuro, imaging, treatments, procedures, None, surgery)


def _ulnar(r: Rand, g: Bits, d: Dates, age: int) -> Parts:
    dur = 4 + int((r() + r()) * 50)
    side = "right" if r() < 0.55 else "left"
    pain: Dict = {"ulnar_sensory_symptoms": True if r() < 0.95 else None,
                  "elbow_pain": _ELBOW_PAIN[g(10)], "duration_weeks": dur}
    if r() < 0.6:
        pain["arm"] = {"nrs": _ULNAR_NRS[g(10)], "side": side, "dermatomes": []}
    severe = r() < 0.15
    if severe:
        neuro: Dict = {"motor": [{"myotome": "T1", "side": side, "mrc": 3 if r() < 0.5 else 4}],
                       "hand_intrinsic_weakness": True, "hand_muscle_wasting": r() < 0.5}
    else:
        neuro = {"motor": [{"myotome": "T1", "side": side, "mrc": _MRC_MILD[g(10)]}],
                 "hand_intrinsic_weakness": _HAND_WEAK[g(10)],
                 "hand_muscle_wasting": _HAND_WASTING[g(10)]}
    imaging: list[Dict] | None = None
    if r() >= 0.15:
        when = _imaging_date(r, d, dur)
        entrapment = _ENTRAPMENT[g(10)]
        modality = "nerve_conduction" if r() < 0.7 else "ultrasound"
        imaging = [{"modality": modality, "region": "elbow", "date": when, "side": side,
                    "ulnar_nerve_entrapment": entrapment,
                    "severe_ulnar_neuropathy": severe if entrapment else False}]
        if r() < 0.2:
            other = "ultrasound" if modality == "nerve_conduction" else "nerve_conduction"
            imaging.append({"modality": other,
                            "region": "elbow", "date": when, "side": side,
                            "ulnar_nerve_entrapment": entrapment})
    procedures: list[Dict] = []
    if r() < 0.1:
        procedures.append(_procedure(r, g, d, "ulnar-perineural-injection", 30, min(dur * 7, 700), None,
                                     side, 0.5))
    return (pain, neuro, imaging, _treatments(r, g, d, _TX_ULNAR, dur, dur > 12), procedures, None, None)


_BUILDERS = {
    "lumbar_radicular": _lumbar_radicular,
    "axial_low_back": _axial_low_back,
    "lumbar_stenosis": _lumbar_stenosis,
    "fbss": _fbss,
    "cervical_radicular": _cervical_radicular,
    "cervical_facet": _cervical_facet,
    "trigeminal_neuralgia": _trigeminal,
    "ulnar_neuropathy": _ulnar,
}


# =========================================================================================
# blocks common to every phenotype
# =========================================================================================


def _red_flags(r: Rand, lumbar: bool, age: int, female: bool, bilateral_face: bool) -> Dict:
    flags = _RED_FLAGS_FALSE.copy()
    over_60 = age > 60
    for key in _RED_FLAG_GROUPS[4 * lumbar + 2 * over_60 + (female and over_60)].draw(r):
        if key == _CES:
            for k, p in _CES_CLUSTER:
                if r() < p:
                    flags[k] = True
        else:
            flags[key] = True
    if bilateral_face:
        flags["bilateral_trigeminal_symptoms"] = True
    if r() < 0.1:  # a form with blank answers
        for key in _RED_FLAG_KEYS:
            if r() < 0.5:
                flags[key] = None
    return flags


def _comorbidities(r: Rand, band: int, phenotype: str, chronic: bool) -> Dict:
    c = _COMORBIDITIES_FALSE.copy()
    kind = 2 if phenotype == "fbss" else 3 if phenotype == "trigeminal_neuralgia" else int(chronic)
    for key in _COMORBIDITY_GROUPS[4 * kind + band].draw(r):
        c[key] = True
    if c["diabetes"] and r() < 0.25:
        c["diabetes_poorly_controlled"] = True
    if r() < 0.1:
        for key in _COMORBIDITY_KEYS:
            if r() < 0.5:
                c[key] = None
    return c


def _medicines(r: Rand, g: Bits, age: int, band: int, diabetes: bool, phenotype: str,
               neuropathic: bool) -> list[Dict]:
    meds: list[Dict] = []
    if r() < _ANTITHROMBOTIC_P[band]:
        name = _ANTITHROMBOTIC[g(10)]
        meds.append({"name": name, "indication": _ANTITHROMBOTIC_INDICATION[name]} if r() < 0.5
                    else {"name": name})
        if name == "aspirin" and r() < 0.15:  # dual antiplatelet therapy
            meds.append({"name": "clopidogrel"})
    for name in (_OTHER_MEDICINES_OLD if age >= 50 else _OTHER_MEDICINES_YOUNG)[g(10)]:
        meds.append({"name": name})
    if diabetes:
        meds.append({"name": "metformin", "indication": "type 2 diabetes"})
        if r() < 0.15:
            meds.append({"name": "insulin glargine"})
    if neuropathic:
        meds.append({"name": _NEUROPATHIC_MEDICINE[g(10)]})
    if phenotype == "trigeminal_neuralgia" and r() < 0.6:
        meds.append({"name": "carbamazepine" if r() < 0.7 else "oxcarbazepine"})
    return meds


#: Which optional blocks a non-sparse case records: marginal rates (simulation choices).
_PRESENCE_RATES = (
    ("age", 0.99), ("sex", 0.98), ("pain", 0.90), ("neuro", 0.80), ("red_flags", 0.90),
    ("imaging", 0.85), ("treatments", 0.85), ("blocks", 0.90), ("procedures", 0.75),
    ("medicines", 0.85), ("comorbidities", 0.80), ("allergies", 0.80), ("preferences", 0.70),
    ("blocks_known_none", 0.40), ("surgery_known_none", 0.70), ("pregnant_asked", 0.30),
)
(_P_AGE, _P_SEX, _P_PAIN, _P_NEURO, _P_FLAGS, _P_IMAGING, _P_TREATMENTS, _P_BLOCKS, _P_PROCEDURES,
 _P_MEDICINES, _P_COMORBIDITIES, _P_ALLERGIES, _P_PREFERENCES, _P_NO_BLOCKS, _P_NO_SURGERY,
 _P_PREGNANT) = range(len(_PRESENCE_RATES))


_PRESENCE = tuple(tuple(key in row for key, _ in _PRESENCE_RATES)
                  for row in _subsets("presence", _PRESENCE_RATES))


def _case(r: Rand, g: Bits, d: Dates, seed: int, i: int) -> Dict:
    case: Dict = {"id": f"syn-{seed}-{i:08d}"}
    phenotype = _PHENO[g(10)]
    if phenotype == "sparse":  # what a rushed referral may hold: an age and one pain score
        case["age"] = 18 + int(r() * 73)
        if r() < 0.5:
            case["sex"] = "female" if r() < 0.5 else "male"
        case["pain"] = {("back", "leg", "neck", "arm")[g(2)]: {"nrs": int(r() * 11)}}
        return case

    age = _AGE[phenotype][g(10)]
    band = 0 if age < 50 else 1 if age < 65 else 2 if age < 75 else 3
    u = r()
    female = u < _FEMALE_SHARE.get(phenotype, 0.5)
    pain, neuro, imaging, treatments, procedures, blocks, surgery = _BUILDERS[phenotype](r, g, d, age)
    has = _PRESENCE[g(10)]

    if has[_P_AGE]:
        case["age"] = age
    if has[_P_SEX]:
        case["sex"] = "female" if female else ("male" if u < 0.99 else "other")
    if female and 16 <= age <= 50:
        case["pregnant"] = _PREGNANT[g(10)]
    elif has[_P_PREGNANT]:
        case["pregnant"] = False
    if has[_P_PAIN]:
        case["pain"] = pain
    if has[_P_NEURO]:
        if phenotype != "trigeminal_neuralgia":
            neuro["progressive_weakness"] = _PROGRESSIVE[g(10)]
        case["neuro"] = neuro
    if has[_P_FLAGS]:
        flags = _red_flags(r, phenotype in _LUMBAR_PHENOTYPES, age, female,
                           phenotype == "trigeminal_neuralgia" and pain["face"]["side"] == "bilateral")
        case["red_flags"] = flags
        if flags["saddle_anaesthesia"] and r() < 0.5:
            neuro["bilateral_leg_weakness"] = True
    if imaging is not None and has[_P_IMAGING]:
        case["imaging"] = imaging
    if has[_P_TREATMENTS]:
        case["treatments"] = treatments
    if blocks is not None:
        if has[_P_BLOCKS]:
            case["blocks"] = blocks
    elif has[_P_NO_BLOCKS]:
        case["blocks"] = []
    if has[_P_PROCEDURES]:
        case["procedures"] = procedures
    if surgery is not None:
        case["surgery"] = surgery
    elif has[_P_NO_SURGERY]:
        case["surgery"] = []
    if has[_P_COMORBIDITIES] or has[_P_MEDICINES]:
        comorbidities = _comorbidities(r, band, phenotype, pain["duration_weeks"] > 12)
        if has[_P_COMORBIDITIES]:
            case["comorbidities"] = comorbidities
        if has[_P_MEDICINES]:
            neuropathic = False
            for t in treatments:
                if t["kind"] == "neuropathic_medication":
                    neuropathic = True
            case["medicines"] = _medicines(r, g, age, band, comorbidities["diabetes"] is True,
                                           phenotype, neuropathic)
    if has[_P_ALLERGIES]:
        case["allergies"] = _ALLERGIES.draw(r)
    if has[_P_PREFERENCES]:
        case["preferences"] = _PREFERENCES[g(10)].copy()
    return case


def generate_cases(n: int, seed: int, start_index: int = 0,
                   reference: date = date(2026, 1, 1)) -> Iterator[dict[str, Any]]:
    """Yield ``n`` synthetic cases with indices ``start_index`` .. ``start_index + n - 1``.

    Each case is a new plain dict (JSON-ready; dates are ISO strings, none after
    ``reference``) that validates as :class:`spinepath.case.model.PatientCase`. The output
    depends only on ``seed``, the case index and ``reference``.

    Throughput note: consumed one at a time this runs at tens of thousands of cases per
    second. Keeping hundreds of thousands in memory at once (``list(...)``) lets CPython's
    cyclic garbage collector dominate; the cases hold no reference cycles, so a bulk writer
    may wrap the loop in ``gc.disable()`` / ``gc.enable()``.
    """
    if n < 0 or start_index < 0:
        raise ValueError("n and start_index must be >= 0")
    dates = _date_table(reference)
    end = start_index + n
    i = start_index
    while i < end:
        block = i // BLOCK_SIZE
        rng = random.Random(f"spinepath-synthetic:{seed}:{block}")
        r, g = rng.random, rng.getrandbits
        j = block * BLOCK_SIZE
        stop = min(j + BLOCK_SIZE, end)
        while j < i:  # replay the part of the block before start_index
            _case(r, g, dates, seed, j)
            j += 1
        while j < stop:
            yield _case(r, g, dates, seed, j)
            j += 1
        i = stop
