"""The PatientCase input contract.

Every field may be absent. Absent (``None``) means *unknown*; for lists, an empty list means
*known to be none* ("no prior procedures") while ``None`` means nobody recorded it. The engine
keeps that distinction all the way through: unknown is never treated as false.

Ranges are checked here so that an impossible value (NRS 14, age -3, relief 140 %, level
"L9-L10", an end date before its start) is rejected with the field named, before any rule runs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NRS = Annotated[int, Field(ge=0, le=10, description="Numeric rating scale 0-10 (0 = no pain)")]
Percent = Annotated[float, Field(ge=0, le=100, description="Percentage 0-100")]
Weeks = Annotated[float, Field(ge=0, le=5200, description="Weeks, 0-5200")]
MRC = Annotated[int, Field(ge=0, le=5, description="Oxford/MRC muscle strength 0-5")]

Side = Literal["left", "right", "bilateral"]
FindingSide = Literal["left", "right", "bilateral", "central"]
Region = Literal["cervical", "thoracic", "lumbar", "sacral"]
Response = Literal["none", "partial", "good"]

_VERTEBRAE = (
    [f"C{i}" for i in range(1, 8)]
    + [f"T{i}" for i in range(1, 13)]
    + [f"L{i}" for i in range(1, 6)]
    + ["S1"]
)
#: Motion segments C1-C2 ... L5-S1; a level outside this list is rejected.
SPINAL_LEVELS: tuple[str, ...] = tuple(
    f"{a}-{b}" for a, b in zip(_VERTEBRAE, _VERTEBRAE[1:], strict=False)
)
#: Nerve roots / dermatomes a finding or pain map may name.
NERVE_ROOTS: tuple[str, ...] = tuple(
    [f"C{i}" for i in range(1, 9)]
    + [f"T{i}" for i in range(1, 13)]
    + [f"L{i}" for i in range(1, 6)]
    + [f"S{i}" for i in range(1, 6)]
)
TRIGEMINAL_DIVISIONS = ("V1", "V2", "V3")


def _check_level(value: str | None) -> str | None:
    if value is None:
        return value
    v = value.strip().upper().replace("–", "-")
    if v not in SPINAL_LEVELS:
        raise ValueError(
            f"'{value}' is not a spinal level; use adjacent vertebrae such as L4-L5 or L5-S1 "
            f"(allowed: {SPINAL_LEVELS[0]} ... {SPINAL_LEVELS[-1]})"
        )
    return v


def _check_roots(values: list[str] | None) -> list[str] | None:
    if values is None:
        return values
    out = []
    for value in values:
        v = value.strip().upper()
        if v not in NERVE_ROOTS:
            raise ValueError(f"'{value}' is not a nerve root; use C1-C8, T1-T12, L1-L5 or S1-S5")
        out.append(v)
    return out


def _check_root(value: str) -> str:
    return (_check_roots([value]) or [value])[0]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PainSite(_Model):
    """Pain in one body area."""

    nrs: NRS | None = None
    side: Side | None = None
    dermatomes: list[str] | None = Field(
        default=None, description="Dermatomes the pain follows, e.g. ['L5'] (radicular pattern)"
    )
    below_knee: bool | None = Field(default=None, description="Leg pain reaches below the knee")

    @field_validator("dermatomes")
    @classmethod
    def _roots(cls, v: list[str] | None) -> list[str] | None:
        return _check_roots(v)


class FacePain(_Model):
    """Facial pain, described so that ICHD-3 trigeminal neuralgia features can be read off."""

    nrs: NRS | None = None
    side: Side | None = None
    divisions: list[Literal["V1", "V2", "V3"]] | None = None
    paroxysmal: bool | None = Field(
        default=None, description="Attacks of electric, shooting, stabbing pain lasting up to 2 min"
    )
    triggered: bool | None = Field(
        default=None, description="Attacks set off by light touch, chewing, talking, brushing teeth"
    )
    continuous_pain: bool | None = None


class Pain(_Model):
    """The pain map: where it hurts, how much, and for how long.

    Contract: when a pain map is given, a body site it leaves out has no pain (a clinician
    marks where it hurts), and ``ulnar_sensory_symptoms`` left blank means not reported. A
    marked site with a blank score stays unknown. With no pain map, all pain facts are unknown.
    """

    back: PainSite | None = None
    leg: PainSite | None = None
    neck: PainSite | None = None
    arm: PainSite | None = None
    face: FacePain | None = None
    duration_weeks: Weeks | None = Field(default=None, description="Weeks since this episode began")
    neurogenic_claudication: bool | None = Field(
        default=None,
        description="Leg pain or heaviness on walking or standing, eased by sitting or bending forward",
    )
    ulnar_sensory_symptoms: bool | None = Field(
        default=None, description="Numbness or tingling in the ring and little fingers"
    )
    elbow_pain: bool | None = None


class MotorFinding(_Model):
    """Strength of one muscle group (myotome)."""

    myotome: str = Field(description="Root tested, e.g. L5 (ankle dorsiflexion)")
    side: Literal["left", "right"] | None = None
    mrc: MRC | None = None

    @field_validator("myotome")
    @classmethod
    def _root(cls, v: str) -> str:
        return _check_root(v)


class Neuro(_Model):
    """Neurological examination."""

    motor: list[MotorFinding] | None = None
    progressive_weakness: bool | None = Field(
        default=None, description="Weakness that is getting worse over hours, days or weeks"
    )
    bilateral_leg_weakness: bool | None = None
    straight_leg_raise_positive: bool | None = None
    reflexes_reduced: bool | None = None
    hyperreflexia: bool | None = None
    hoffmann_sign: bool | None = None
    gait_disturbance: bool | None = None
    hand_clumsiness: bool | None = None
    bilateral_hand_numbness: bool | None = None
    facial_sensory_deficit: bool | None = Field(
        default=None, description="Reduced sensation in the trigeminal territory on examination"
    )
    abnormal_trigeminal_reflexes: bool | None = None
    hand_intrinsic_weakness: bool | None = None
    hand_muscle_wasting: bool | None = None


class RedFlagSymptoms(_Model):
    """Symptoms and history that point to a serious cause; each may be unknown."""

    saddle_anaesthesia: bool | None = None
    urinary_retention_or_new_difficulty: bool | None = None
    bowel_incontinence_or_loss_of_rectal_sensation: bool | None = None
    reduced_anal_tone: bool | None = None
    new_sexual_dysfunction: bool | None = None
    bilateral_sciatica: bool | None = None
    fever: bool | None = None
    iv_drug_use: bool | None = None
    immunosuppression: bool | None = None
    recent_bacteraemia_or_infection: bool | None = None
    recent_spinal_procedure: bool | None = None
    tb_risk: bool | None = None
    history_of_cancer: bool | None = None
    unexplained_weight_loss: bool | None = None
    night_pain: bool | None = None
    significant_trauma: bool | None = None
    prolonged_corticosteroid_use: bool | None = None
    osteoporosis: bool | None = None
    bilateral_trigeminal_symptoms: bool | None = None


class ImagingFinding(_Model):
    """One finding on MRI or CT, by level and side (Fardon 2014 morphology for discs)."""

    modality: Literal["mri", "ct", "xray", "ultrasound", "nerve_conduction"] | None = None
    date: dt.date | None = None
    region: Literal["cervical", "thoracic", "lumbar", "sacral", "cranial", "elbow"] | None = None
    level: str | None = Field(default=None, description="Motion segment, e.g. L4-L5")
    side: FindingSide | None = None
    morphology: (
        Literal["normal", "bulge", "protrusion", "extrusion", "sequestration"] | None
    ) = Field(default=None, description="Fardon 2014 disc morphology")
    central_stenosis: Literal["none", "mild", "moderate", "severe"] | None = None
    foraminal_stenosis: Literal["none", "mild", "moderate", "severe"] | None = None
    facet_arthropathy: bool | None = None
    epidural_fibrosis: bool | None = None
    root_compressed: str | None = Field(default=None, description="Nerve root compressed, e.g. L5")
    instability: bool | None = Field(
        default=None, description="Segmental instability or spondylolisthesis needing fusion"
    )
    high_intensity_zone: bool | None = None
    calcified_herniation: bool | None = None
    neurovascular_contact: bool | None = Field(
        default=None, description="Trigeminal root neurovascular contact on MRI"
    )
    secondary_cause: bool | None = Field(
        default=None, description="A tumour, MS plaque or other structural cause of the pain"
    )
    ulnar_nerve_entrapment: bool | None = Field(
        default=None, description="Ulnar neuropathy at the elbow confirmed (ultrasound or EMG/NCS)"
    )
    severe_ulnar_neuropathy: bool | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return _check_level(v)

    @field_validator("root_compressed")
    @classmethod
    def _root(cls, v: str | None) -> str | None:
        return None if v is None else _check_root(v)


TreatmentKind = Literal[
    "advice_self_management",
    "exercise",
    "physiotherapy",
    "manual_therapy",
    "psychological_therapy",
    "heat",
    "nsaid",
    "muscle_relaxant",
    "neuropathic_medication",
    "opioid",
    "carbamazepine_or_oxcarbazepine",
    "activity_modification",
    "splint",
]


class PriorTreatment(_Model):
    """A conservative treatment already tried."""

    kind: TreatmentKind
    weeks: Weeks | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    response: Response | None = None
    tolerated: bool | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> PriorTreatment:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class DiagnosticBlock(_Model):
    """A diagnostic block and the relief it gave."""

    kind: Literal["medial_branch_block", "intra_articular_facet", "selective_nerve_root"]
    region: Literal["cervical", "thoracic", "lumbar"] | None = None
    level: str | None = None
    side: Side | None = None
    date: dt.date | None = None
    relief_pct: Percent | None = Field(default=None, description="Peak pain relief, 0-100 %")

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return _check_level(v)


class PriorProcedure(_Model):
    """A procedure already done, with its result."""

    procedure: str = Field(description="Procedure id from the knowledge base, e.g. rf-facet-lumbar")
    date: dt.date | None = None
    level: str | None = None
    side: Side | None = None
    relief_pct: Percent | None = None
    relief_months: float | None = Field(default=None, ge=0, le=600)
    complications: list[str] | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return _check_level(v)


class PriorSurgery(_Model):
    """Spine surgery already done."""

    kind: Literal["discectomy", "laminectomy", "fusion", "microvascular_decompression", "other"]
    region: Literal["cervical", "thoracic", "lumbar", "cranial"] | None = None
    level: str | None = None
    date: dt.date | None = None

    @field_validator("level")
    @classmethod
    def _level(cls, v: str | None) -> str | None:
        return _check_level(v)


class Medicine(_Model):
    """A medicine the patient takes; ``name`` is matched to the antithrombotic table."""

    name: str = Field(min_length=1, max_length=120)
    indication: str | None = None

    @field_validator("name")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


class Comorbidities(_Model):
    """Conditions that change safety or choice of procedure."""

    diabetes: bool | None = None
    diabetes_poorly_controlled: bool | None = None
    coagulopathy: bool | None = Field(default=None, description="Uncorrected bleeding disorder")
    local_infection_at_site: bool | None = None
    systemic_infection: bool | None = None
    heart_failure: bool | None = None
    implanted_device: bool | None = Field(
        default=None, description="Pacemaker, defibrillator or neurostimulator"
    )
    renal_impairment: bool | None = None
    liver_disease: bool | None = None
    multiple_sclerosis: bool | None = None
    cannot_lie_prone: bool | None = None
    cannot_cooperate_awake_testing: bool | None = None
    psychological_distress: bool | None = None


Allergy = Literal[
    "contrast", "local_anaesthetic", "corticosteroid", "hyaluronidase", "latex", "dextrose"
]


class Preferences(_Model):
    """What the patient wants; refusal is respected as a hard stop."""

    declines_injections: bool | None = None
    declines_surgery: bool | None = None
    prefers_awake_procedure: bool | None = None


class PatientCase(_Model):
    """One patient's case, as entered by a clinician or imported from FHIR.

    Every field may be absent; the assessment then reports unknowns and the gaps that would
    change the result.
    """

    id: str | None = Field(default=None, max_length=120)
    age: int | None = Field(default=None, ge=0, le=120)
    sex: Literal["female", "male", "other"] | None = None
    pregnant: bool | None = None
    pain: Pain | None = None
    neuro: Neuro | None = None
    red_flags: RedFlagSymptoms | None = None
    imaging: list[ImagingFinding] | None = None
    treatments: list[PriorTreatment] | None = None
    blocks: list[DiagnosticBlock] | None = None
    procedures: list[PriorProcedure] | None = None
    surgery: list[PriorSurgery] | None = None
    medicines: list[Medicine] | None = None
    comorbidities: Comorbidities | None = None
    allergies: list[Allergy] | None = None
    preferences: Preferences | None = None
    notes: str | None = Field(default=None, max_length=4000)

