"""Instrument schemas: the shape of a follow-up questionnaire in ``content/instruments`` — its
items and their answers, how answers become a score (and its interpretation bands), and how a FHIR
QuestionnaireResponse maps onto it.

Split from :mod:`spinepath.knowledge.schema` (whose shared parts, ``Editorial``, ``Code`` and
``SourceRef``, these build on) because scoring rules are the bulk of it; like every content model
these only describe shape, and cross-file rules live in :mod:`spinepath.knowledge.checks`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from spinepath.knowledge.schema import Code, Editorial, Id, SourceRef, Strict

ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class Choice(Strict):
    """One answer of a choice item: the stored value, and the spellings accepted for it."""

    value: int
    label: str
    accepts: list[str] = Field(default_factory=list, description="Other spellings accepted, e.g. 'I' or 'BNI I'")
    codes: list[Code] = Field(default_factory=list)


class InstrumentItem(Strict):
    """One question. Labels are paraphrased names, never the official wording of a licensed
    instrument."""

    id: ItemId
    label: str
    type: Literal["integer", "yes_no", "choice"]
    minimum: int | None = None
    maximum: int | None = None
    choices: list[Choice] = Field(default_factory=list)
    fhir_link_ids: list[str] = Field(default_factory=list, description="FHIR Questionnaire linkIds mapped to this item")
    codes: list[Code] = Field(default_factory=list)
    warning_sign: Id | None = Field(default=None, description="yes_no only: a yes raises an urgent alert for this "
                                    "shared warning sign (shared.yaml shared_warning_signs[].id)")

    @model_validator(mode="after")
    def _shape(self) -> InstrumentItem:
        if self.type == "integer" and (self.minimum is None or self.maximum is None or self.minimum >= self.maximum):
            raise ValueError("an integer item needs minimum < maximum")
        if self.type == "choice" and len(self.choices) < 2:
            raise ValueError("a choice item needs at least two choices")
        if self.type != "choice" and self.choices:
            raise ValueError("only a choice item has choices")
        if self.warning_sign is not None and self.type != "yes_no":
            raise ValueError("only a yes_no item can link to a warning sign")
        return self


class Band(Strict):
    """An interpretation band: scores up to ``max`` (inclusive) and above the previous band's max."""

    label: str
    max: float


class Scoring(Strict):
    """How answers become a score.

    ``items``: each answered item is its own score (pain NRS per site); at least ``min_answered``.
    ``percent_of_answered``: sum / (item maximum x answered items) x 100 (ODI); no score when more
    than ``max_missing`` items are unanswered. ``ordinal``: the one choice item's value is the
    score (BNI). ``none``: no score (warning-sign questions)."""

    method: Literal["items", "percent_of_answered", "ordinal", "none"]
    min_answered: int = Field(default=1, ge=0)
    max_missing: int | None = Field(default=None, ge=0)
    max_missing_sources: list[SourceRef] = Field(default_factory=list)
    multiple_marks: Literal["reject", "highest"] = Field(
        default="reject", description="More than one answer marked in an item: refuse, or score the highest")
    multiple_marks_sources: list[SourceRef] = Field(default_factory=list)
    sources: list[SourceRef] = Field(min_length=1)
    bands: list[Band] = Field(default_factory=list, description="Ordered by max; the last covers the top of the range")
    band_sources: list[SourceRef] = Field(default_factory=list)
    band_note: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Scoring:
        if self.max_missing is not None and not self.max_missing_sources:
            raise ValueError("max_missing needs max_missing_sources")
        if self.multiple_marks != "reject" and not self.multiple_marks_sources:
            raise ValueError("a multiple-marks rule needs multiple_marks_sources")
        if self.bands and not self.band_sources:
            raise ValueError("bands need band_sources")
        maxima = [b.max for b in self.bands]
        if maxima != sorted(maxima) or len(set(maxima)) != len(maxima):
            raise ValueError("bands must be in increasing order of max")
        return self


class FhirMapping(Strict):
    """How a FHIR R4 QuestionnaireResponse maps onto this instrument."""

    questionnaires: list[str] = Field(default_factory=list, description="Canonical Questionnaire URLs (no version)")
    codes: list[Code] = Field(default_factory=list, description="Questionnaire codes (LOINC)")
    score_link_id: str | None = Field(default=None, description="The item that carries a reported total score")
    score_codes: list[Code] = Field(default_factory=list)
    item_from_request: list[str] = Field(
        default_factory=list, description="linkIds that do not say which of our items they answer (a pain "
        "score without a site): the request names the item")
    sources: list[SourceRef] = Field(min_length=1)


class Instrument(Editorial):
    """A follow-up questionnaire: its items, scoring, interpretation and FHIR mapping."""

    kind: Literal["instrument"] = "instrument"
    name: str
    short_name: str = Field(max_length=20)
    measure: Literal["nrs", "odi", "bni", "warning"] = Field(
        description="What the score is, in the outcomes dataset's terms")
    description: str
    recall: str | None = Field(default=None, description="Recall period and anchors, stored with every answer")
    items: list[InstrumentItem] = Field(min_length=1)
    scoring: Scoring
    includes: list[Id] = Field(default_factory=list, description="Instruments whose items may be answered with "
                               "this one (e.g. the warning-sign questions)")
    fhir: FhirMapping | None = None
    licence_note: str | None = None
    sources: list[SourceRef] = Field(min_length=1)

    @model_validator(mode="after")
    def _items(self) -> Instrument:
        ids = [i.id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique")
        links = [link for i in self.items for link in i.fhir_link_ids]
        if len(set(links)) != len(links):
            raise ValueError("a FHIR linkId may map to one item only")
        if self.scoring.method == "ordinal" and (len(self.items) != 1 or self.items[0].type != "choice"):
            raise ValueError("ordinal scoring needs exactly one choice item")
        top = self.items[0].maximum
        if self.scoring.method == "percent_of_answered" and any(
                i.type != "integer" or i.minimum != 0 or i.maximum != top for i in self.items):
            raise ValueError("percent_of_answered needs integer items scored 0..the same maximum")
        return self
