"""Content schemas: what every knowledge file may hold, and nothing else (extra="forbid").

Clinical content is data. These models only describe its shape; cross-file rules (source ids
exist, codes are well formed, hard rules are not resting on unverified sources, criteria name
known facts) live in :mod:`spinepath.knowledge.checks`. Follow-up questionnaires (instruments) have
their own module, :mod:`spinepath.knowledge.instrument_schema`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Id = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*[a-z0-9]$", max_length=80)]
SourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=60)]
Tag = Literal["V", "S", "NV"]
Status = Literal["draft", "submitted", "under_review", "changes_requested", "approved", "retired"]
Urgency = Literal["emergency", "urgent", "soon"]
WarningUrgency = Literal["emergency", "call_today", "mention_at_followup"]
AsraClass = Literal["low", "intermediate", "high", "surgical"]
Audience = Literal["patient", "clinician"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ sources


class Source(Strict):
    """One entry of the source register."""

    id: SourceId
    kind: Literal[
        "guideline", "sr_ma", "rct", "cohort", "consensus", "payer", "regulatory", "secondary",
        "instrument", "classification",
    ]
    citation: str = Field(min_length=10)
    doi: str | None = None
    pmid: str | None = Field(default=None, pattern=r"^\d{1,9}$")
    url: str | None = None
    tag: Tag = Field(description="Verification tag from REFERENCE: V verified, S secondary, NV not verified")
    note: str | None = None


class SourceRef(Strict):
    """A pointer into the register; ``tag`` overrides the source's tag for this one fact."""

    id: SourceId
    locator: str | None = Field(default=None, description="Section, table or page, e.g. 'REFERENCE §9.3'")
    tag: Tag | None = None


class SourceRegister(Strict):
    sources: list[Source]


# ------------------------------------------------------------------ editorial metadata


class Review(Strict):
    name: str
    date: date
    role: str | None = None


class Editorial(Strict):
    """Metadata every knowledge item carries for the review workflow."""

    id: Id
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    status: Status
    authors: list[str] = Field(min_length=1)
    reviewers: list[Review] = Field(default_factory=list)
    updated: date
    review_due: date
    review_note: str | None = Field(
        default=None, description="What a reviewer still needs to check (required unless approved)"
    )


# ------------------------------------------------------------------ shared parts


class Code(Strict):
    system: Literal["icd10cm", "snomedct", "cpt", "hcpcs", "loinc"]
    code: str
    display: str
    tag: Tag
    note: str | None = None


class Criterion(Strict):
    """A rule line: a criteria-language expression with its meaning, reason and sources."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    when: str = Field(description="Criteria-language expression over fact and parameter names")
    label: str = Field(description="What it means, in a clinician's words")
    because: str | None = None
    sources: list[SourceRef] = Field(min_length=1)


class Prerequisite(Criterion):
    missing: str = Field(description="What is still missing when this is not met, e.g. '≥4 weeks of conservative care'")


class Outcome(Strict):
    measure: str
    result: str
    timepoint: str | None = None
    population: str | None = None
    sources: list[SourceRef] = Field(min_length=1)


class Complication(Strict):
    event: str
    frequency: str | None = None
    sources: list[SourceRef] = Field(min_length=1)


class WarningSign(Strict):
    id: Id | None = Field(default=None, description="Needed where a follow-up question links to the sign "
                          "(every shared warning sign has one)")
    sign: str
    urgency: WarningUrgency
    action: str
    sources: list[SourceRef] = Field(min_length=1)


class CourseStep(Strict):
    text: str
    sources: list[SourceRef] = Field(min_length=1)


class Course(Strict):
    before: list[CourseStep] = Field(default_factory=list)
    during: list[CourseStep] = Field(default_factory=list)
    after: list[CourseStep] = Field(default_factory=list)
    relief: list[CourseStep] = Field(default_factory=list, description="Onset and duration of relief")
    repeat: list[CourseStep] = Field(default_factory=list, description="When a repeat is possible")


class EducationSection(Strict):
    text: str
    sources: list[SourceRef] = Field(min_length=1)


EDUCATION_SECTIONS = (
    "what_it_is", "who_it_helps", "before", "during", "after", "relief_duration", "risks",
    "warning_signs", "alternatives",
)


class AudienceText(Strict):
    """Per-audience article sections; filled in by the education work, optional here."""

    what_it_is: EducationSection | None = None
    who_it_helps: EducationSection | None = None
    before: EducationSection | None = None
    during: EducationSection | None = None
    after: EducationSection | None = None
    relief_duration: EducationSection | None = None
    risks: EducationSection | None = None
    warning_signs: EducationSection | None = None
    alternatives: EducationSection | None = None


class Discharge(Strict):
    """Patient discharge instructions by time after the procedure (plain words, sourced)."""

    day_0: list[CourseStep] = Field(min_length=1, description="The day of the procedure")
    days_1_2: list[CourseStep] = Field(min_length=1)
    week_1: list[CourseStep] = Field(min_length=1)
    later: list[CourseStep] = Field(min_length=1, description="After the first week")


class Education(Strict):
    patient: AudienceText = Field(default_factory=AudienceText)
    clinician: AudienceText = Field(default_factory=AudienceText)


# ------------------------------------------------------------------ conditions


class Condition(Editorial):
    kind: Literal["condition"] = "condition"
    name: str
    aliases: list[str] = Field(default_factory=list)
    summary: str
    key_facts: list[CourseStep] = Field(default_factory=list)
    phenotypes: list[Id] = Field(default_factory=list, description="Phenotype ids this condition presents as")
    codes: list[Code] = Field(default_factory=list)
    procedures: list[Id] = Field(default_factory=list, description="Procedures that treat it")
    sources: list[SourceRef] = Field(min_length=1)
    education: Education = Field(default_factory=Education)


# ------------------------------------------------------------------ procedures


class FollowupPoint(Strict):
    label: str = Field(min_length=1, max_length=40)
    days_after: int = Field(ge=0, le=3650)



class Contraindications(Strict):
    absolute: list[Criterion] = Field(default_factory=list)
    relative: list[Criterion] = Field(default_factory=list)


class Predictors(Strict):
    favourable: list[Criterion] = Field(default_factory=list)
    unfavourable: list[Criterion] = Field(default_factory=list)


class Repeat(Strict):
    """Rules for doing the procedure again; evaluated only when ``when`` holds (prior done)."""

    when: str = Field(description="Expression that is TRUE when this procedure was done before")
    criteria: list[Prerequisite] = Field(default_factory=list)
    sources: list[SourceRef] = Field(min_length=1)


class Variant(Strict):
    id: Id
    name: str
    codes: list[Code] = Field(default_factory=list)
    note: str | None = None


PainSite = Literal["back", "leg", "neck", "arm", "face"]
PAIN_SITES: tuple[str, ...] = ("back", "leg", "neck", "arm", "face")


class PrimaryPain(Strict):
    """Which pain NRS site is the procedure's primary outcome. ``worst`` means the site with the
    highest baseline score (for procedures that treat several pain patterns)."""

    default: PainSite | Literal["worst"]
    cervical: PainSite | None = Field(default=None, description="Instead of default when the recorded level is cervical")


class ProcedureFollowup(Strict):
    """Follow-up of a performed procedure: its schedule (or the shared default), its primary pain
    measure and the instruments its follow-up asks for."""

    schedule: list[FollowupPoint] | Literal["inherit"] = Field(
        description="Time points after the procedure, or 'inherit' for shared.followup_schedule")
    schedule_sources: list[SourceRef] = Field(default_factory=list, description="Required for an own schedule")
    primary_pain: PrimaryPain
    instruments: list[Id] = Field(min_length=1, description="Instrument ids (content/instruments)")
    relief_onset_days: int | None = Field(
        default=None, ge=0, le=365,
        description="Days after the procedure by which its relief is expected to have developed; follow-ups "
                    "scheduled before this day do not decide that relief ended (unset: judged from the first "
                    "follow-up, as 0). Needs relief_onset_sources")
    relief_onset_sources: list[SourceRef] = Field(default_factory=list,
                                                  description="Required when relief_onset_days is set")

    @property
    def onset_days(self) -> int:
        """The relief onset the analytics apply: the content's value, or 0 (the first follow-up)."""
        return self.relief_onset_days or 0

    @model_validator(mode="after")
    def _own_schedule_cited(self) -> ProcedureFollowup:
        if self.schedule != "inherit":
            if not self.schedule_sources:
                raise ValueError("an own schedule needs schedule_sources (or use schedule: inherit)")
            if len(self.schedule) < 2 or self.schedule[0].days_after != 0:
                raise ValueError("a schedule starts with a baseline point (days_after 0) and has at least one more")
        # The onset decides when relief can be found to have ended, so it is cited like a rule.
        if self.relief_onset_days is not None and not self.relief_onset_sources:
            raise ValueError("relief_onset_days needs relief_onset_sources (the REFERENCE section and source key "
                             "that state when relief develops)")
        if self.relief_onset_days is None and self.relief_onset_sources:
            raise ValueError("relief_onset_sources is given without relief_onset_days")
        return self


class Procedure(Editorial):
    """A procedure in scope and every rule that decides its status for a case."""

    kind: Literal["procedure"] = "procedure"
    name: str
    aliases: list[str] = Field(default_factory=list)
    summary: str
    family: str
    region: Literal["lumbar", "cervical", "cranial", "peripheral", "any"]
    ladder_step: int = Field(ge=1, le=9)
    invasiveness: int = Field(ge=0, le=100, description="Orders options within a status: lower first")
    max_status: Literal["recommended", "consider"] = "recommended"
    asra_risk_class: AsraClass
    asra_sources: list[SourceRef] = Field(min_length=1)
    uses_fluoroscopy: bool = False
    uses_contrast: bool = False
    uses_steroid: bool = False
    is_injection: bool = False
    is_surgery: bool = False
    is_intervention: bool = Field(default=True, description="False for conservative care: peri-procedure cautions do not apply")
    treats: list[Id] = Field(default_factory=list)
    applies_when: Criterion
    indications: list[Criterion] = Field(default_factory=list)
    exclusions: list[Criterion] = Field(default_factory=list)
    prerequisites: list[Prerequisite] = Field(default_factory=list)
    contraindications: Contraindications = Field(default_factory=Contraindications)
    recommend_when: list[Criterion] = Field(default_factory=list)
    repeat: Repeat | None = None
    predictors: Predictors = Field(default_factory=Predictors)
    outcomes: list[Outcome] = Field(default_factory=list)
    complications: list[Complication] = Field(default_factory=list)
    course: Course = Field(default_factory=Course)
    warning_signs: list[WarningSign] = Field(default_factory=list)
    shared_warning_signs: bool = Field(default=True, description="Also show the shared post-procedure warning signs")
    codes: list[Code] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    sources: list[SourceRef] = Field(min_length=1)
    education: Education = Field(default_factory=Education)
    discharge: Discharge | None = Field(default=None, description="Discharge instructions (interventions only)")
    followup: ProcedureFollowup = Field(description="Follow-up schedule, primary pain site and instruments")


# ------------------------------------------------------------------ red flags


class RedFlag(Editorial):
    kind: Literal["red_flag"] = "red_flag"
    name: str
    urgency: Urgency
    features: list[Criterion] = Field(min_length=1, description="Fires when any feature is met")
    action: str
    defers: list[Id] | Literal["all_elective"] = "all_elective"
    not_detected: str | None = Field(default=None, description="What structured data cannot show")
    sources: list[SourceRef] = Field(min_length=1)


# ------------------------------------------------------------------ phenotypes, ladder, cautions


class Phenotype(Strict):
    id: Id
    name: str
    when: str
    because: str
    sources: list[SourceRef] = Field(min_length=1)


class LadderStep(Strict):
    step: int = Field(ge=1, le=9)
    name: str
    description: str


class Caution(Strict):
    """A peri-procedure caution; applies to procedures with the named attribute."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    when: str
    applies_to: Literal[
        "all", "uses_fluoroscopy", "uses_contrast", "uses_steroid", "is_injection", "is_surgery"
    ]
    text: str
    sources: list[SourceRef] = Field(min_length=1)


class Antithrombotic(Strict):
    """One row of the ASRA hold/restart table (values verbatim from the content source)."""

    id: Id
    names: list[str] = Field(min_length=1, description="Lower-case names and brands to match")
    hold: dict[AsraClass, str] = Field(description="Hold guidance per procedure risk class")
    restart: str
    tag: Tag
    sources: list[SourceRef] = Field(min_length=1)


class Parameter(Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    type: Literal["number", "bool"]
    unit: str | None = None
    description: str
    minimum: float | None = None
    maximum: float | None = None


class PolicyValue(Strict):
    value: float | int | bool
    sources: list[SourceRef] = Field(min_length=1)
    note: str | None = None


class Policy(Editorial):
    kind: Literal["policy"] = "policy"
    name: str
    description: str
    jurisdiction: str
    default: bool = False
    values: dict[str, PolicyValue]


# ------------------------------------------------------------------ outcome analytics


class ResponderDefinition(Strict):
    """One responder definition: a follow-up counts as a response when the reduction from baseline
    reaches every threshold given (points and/or percent). Responder rates are always time-bound,
    so analytics report each definition at each follow-up time point."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str
    measure: Literal["nrs", "odi", "bni"]
    min_reduction_points: float | None = Field(default=None, gt=0)
    min_reduction_pct: float | None = Field(default=None, gt=0, le=100)
    sources: list[SourceRef] = Field(min_length=1)

    @model_validator(mode="after")
    def _some_threshold(self) -> ResponderDefinition:
        if self.min_reduction_points is None and self.min_reduction_pct is None:
            raise ValueError("give min_reduction_points, min_reduction_pct or both")
        return self


class OutcomeAnalytics(Strict):
    """How outcome analytics read follow-up data (the registry report, the pandas peer and the
    per-patient view apply the same rules; :mod:`spinepath.outcomes.dataset` is the contract).

    Responders: a follow-up responds to a definition when its reduction from baseline reaches
    every threshold the definition gives.

    Duration of relief is judged on completed post-procedure follow-ups with a primary pain score,
    from each procedure's relief onset (``followup.relief_onset_days``; 0 when the content states
    none). Some procedures take time to work (facet RF over 2-3 weeks, an epidural steroid within
    about 10 days), so a follow-up scheduled before the onset day is not used to decide that relief
    ended — it still counts for the responder rate at its own time point and for completeness.
    Relief ends at the first completed follow-up on or after the onset day whose reduction from
    baseline is below ``relief_margin_points`` (pain back within the margin of baseline); an
    episode still relieved at its last completed follow-up is censored there. Excluded, and
    counted by reason: no baseline pain score; a baseline below the margin (a reduction of the
    margin is impossible, so relief cannot be measured); no completed follow-up with a pain score
    after the procedure; such follow-ups only before the onset day."""

    responder_definitions: list[ResponderDefinition] = Field(min_length=1)
    relief_margin_points: float = Field(gt=0, le=10)
    relief_margin_sources: list[SourceRef] = Field(min_length=1)


class Shared(Strict):
    """content/shared.yaml: small tables used across items."""

    ladder: list[LadderStep]
    phenotypes: list[Phenotype]
    cautions: list[Caution]
    antithrombotics: list[Antithrombotic]
    antithrombotic_note: str
    parameters: list[Parameter]
    shared_warning_signs: list[WarningSign]
    followup_schedule: list[FollowupPoint] = Field(min_length=1, description="Default follow-up time points after a procedure")
    followup_schedule_sources: list[SourceRef] = Field(min_length=1)
    outcome_analytics: OutcomeAnalytics
    disclaimer: str
