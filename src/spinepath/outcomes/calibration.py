"""The cohort generator's calibration: the model of ``calibration.yaml`` and its loader.

Every figure the synthetic cohort (:mod:`spinepath.outcomes.cohort`) draws from — shares, curves,
rates — lives in that file with its REFERENCE section and source key, or marked as an assumption.
The models here check it on load (shares add up to one, relief curves never rise, every figure
names a source), so a generator never runs on a calibration that contradicts itself.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from spinepath.errors import InputError
from spinepath.knowledge.loader import load_yaml

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shares_sum_to_one(shares: dict[str, float], what: str) -> None:
    if shares and abs(sum(shares.values()) - 1.0) > 1e-6:
        raise ValueError(f"{what} shares must add up to 1, they add up to {sum(shares.values()):.6f}")


class Figure(_Strict):
    value: float = Field(ge=0, le=1)
    source: str = Field(min_length=1)


class CurvePoint(_Strict):
    """The share of episodes still substantially relieved (NRS down >= 50%) ``days`` after the procedure."""

    days: int = Field(ge=0, le=3650)
    share: float = Field(gt=0, le=1)
    source: str = Field(min_length=1)


def _check_curve(points: list[CurvePoint]) -> list[CurvePoint]:
    if len(points) < 2:
        raise ValueError("a relief curve needs at least two points (the tail continues the last segment)")
    days = [p.days for p in points]
    if days != sorted(days) or len(set(days)) != len(days):
        raise ValueError("relief points must be in increasing order of days")
    shares = [p.share for p in points]
    if any(b > a for a, b in itertools.pairwise(shares)):
        raise ValueError("relief shares cannot rise over time")
    return points


class PredictorValue(_Strict):
    share: float = Field(gt=0, le=1)
    share_source: str = Field(min_length=1)
    relief_scale: float = Field(default=1.0, gt=0, le=5)
    relief: list[CurvePoint] | None = None

    @field_validator("relief")
    @classmethod
    def _curve(cls, v: list[CurvePoint] | None) -> list[CurvePoint] | None:
        return v if v is None else _check_curve(v)


class PredictorCalibration(_Strict):
    source: str = Field(min_length=1)
    values: dict[str, PredictorValue] = Field(min_length=2)

    @model_validator(mode="after")
    def _shares(self) -> PredictorCalibration:
        _shares_sum_to_one({k: v.share for k, v in self.values.items()}, "predictor value")
        return self


class RepeatCalibration(_Strict):
    share: float = Field(ge=0, lt=1)
    share_source: str = Field(min_length=1)
    min_interval_days: int = Field(ge=0, le=3650)
    min_interval_source: str = Field(min_length=1)


class ComplicationCalibration(_Strict):
    event: str = Field(min_length=1)
    rate: float = Field(ge=0, le=1)
    serious: bool
    source: str = Field(min_length=1)


class ProcedureCalibration(_Strict):
    share: float = Field(gt=0, le=1)
    share_source: str = Field(min_length=1)
    levels: dict[str, float]
    sides: dict[str, float]
    placement_source: str = Field(min_length=1)
    relief: list[CurvePoint]
    predictors: dict[str, PredictorCalibration] = Field(default_factory=dict)
    repeat: RepeatCalibration
    complications: list[ComplicationCalibration] = Field(default_factory=list)

    @field_validator("relief")
    @classmethod
    def _curve(cls, v: list[CurvePoint]) -> list[CurvePoint]:
        return _check_curve(v)

    @model_validator(mode="after")
    def _shares(self) -> ProcedureCalibration:
        _shares_sum_to_one(self.levels, "level")
        _shares_sum_to_one(self.sides, "side")
        if sum(any(v.relief is not None for v in p.values.values()) for p in self.predictors.values()) > 1:
            raise ValueError("only one predictor of a procedure may replace its relief curve")
        return self


class Dates(_Strict):
    first: date
    last: date
    source: str = Field(min_length=1)


class Age(_Strict):
    mean: float
    sd: float = Field(gt=0)
    minimum: int = Field(ge=0)
    maximum: int = Field(le=120)
    source: str = Field(min_length=1)


class Sites(_Strict):
    count: int = Field(ge=1, le=999)
    source: str = Field(min_length=1)


class BaselineNrs(_Strict):
    probabilities: list[float] = Field(min_length=11, max_length=11)
    source: str = Field(min_length=1)

    @field_validator("probabilities")
    @classmethod
    def _sum(cls, v: list[float]) -> list[float]:
        if any(p < 0 for p in v) or abs(sum(v) - 1.0) > 1e-6:
            raise ValueError("baseline NRS probabilities must be >= 0 and add up to 1")
        return v


class Normal(_Strict):
    mean: float
    sd: float = Field(gt=0)
    source: str = Field(min_length=1)


class WarningShare(_Strict):
    early: float = Field(ge=0, le=1)
    late: float = Field(ge=0, le=1)
    source: str = Field(min_length=1)


class CompletionPoint(_Strict):
    days: int = Field(gt=0)
    share: float = Field(ge=0, le=1)
    source: str = Field(min_length=1)


class Completion(_Strict):
    baseline: Figure
    points: list[CompletionPoint] = Field(min_length=1)


class Mean(_Strict):
    mean: float = Field(ge=0)
    source: str = Field(min_length=1)


class Calibration(_Strict):
    """calibration.yaml, checked: shares add up, curves never rise, every figure has a source."""

    version: int
    sites: Sites
    dates: Dates
    age: Age
    female_share: Figure
    baseline_nrs: BaselineNrs
    baseline_odi_sum: Normal
    nrs_missing_share: Figure
    warning_share: WarningShare
    completion: Completion
    repeat_delay_days: Mean
    procedures: dict[str, ProcedureCalibration] = Field(min_length=1)

    @model_validator(mode="after")
    def _procedure_shares(self) -> Calibration:
        _shares_sum_to_one({k: v.share for k, v in self.procedures.items()}, "procedure")
        if self.dates.last < self.dates.first:
            raise ValueError("dates.last is before dates.first")
        return self


def load_calibration(path: Path | None = None) -> Calibration:
    """The bundled calibration (or another file of the same shape)."""
    path = path or CALIBRATION_FILE
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"cannot read calibration {path}: {e.strerror or e}", field="calibration") from None
    except yaml.YAMLError as e:
        raise InputError(f"calibration {path} is not valid YAML: {e}", field="calibration") from None
    try:
        return Calibration.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InputError(f"calibration {path.name} at {where}: {first['msg']}", field=f"calibration.{where}") from None
