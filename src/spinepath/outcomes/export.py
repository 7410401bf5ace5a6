"""CSV and Parquet export of every table of the outcomes report.

One file per table (``responders.csv``, ``relief.parquet``, …), plus ``definitions`` (the
responder definitions with their sources). Column names and types come from the report model, so
an empty table still has its columns and a Parquet file reads back to the same rows.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pydantic import BaseModel

from spinepath.errors import InputError
from spinepath.outcomes.analytics.model import (
    CompletenessRow,
    ComplicationRow,
    ComplicationTypeRow,
    KMRow,
    OutcomesReport,
    ReliefRow,
    RepeatRow,
    ResponderRow,
)

ROW_MODELS: dict[str, type[BaseModel]] = {
    "completeness": CompletenessRow, "responders": ResponderRow, "relief": ReliefRow, "km": KMRow,
    "repeats": RepeatRow, "complications": ComplicationRow, "complication_types": ComplicationTypeRow,
}
DEFINITIONS_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False), pa.field("label", pa.string(), nullable=False),
    pa.field("measure", pa.string(), nullable=False), pa.field("min_reduction_points", pa.float64()),
    pa.field("min_reduction_pct", pa.float64()), pa.field("sources", pa.string(), nullable=False),
])


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    nullable = False
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(get_args(annotation))
        annotation = args[0]
    return {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}[annotation], nullable


def schema_of(model: type[BaseModel]) -> pa.Schema:
    fields = []
    for name, f in model.model_fields.items():
        t, nullable = _arrow_type(f.annotation)
        fields.append(pa.field(name, t, nullable=nullable))
    return pa.schema(fields)


def report_tables(report: OutcomesReport) -> dict[str, pa.Table]:
    """Every result table as Arrow, plus the definitions."""
    out = {}
    for name, rows in report.tables().items():
        out[name] = pa.Table.from_pylist([r.model_dump() for r in rows], schema=schema_of(ROW_MODELS[name]))
    out["definitions"] = pa.Table.from_pylist([
        {"id": d.id, "label": d.label, "measure": d.measure, "min_reduction_points": d.min_reduction_points,
         "min_reduction_pct": d.min_reduction_pct,
         "sources": "; ".join(f"{s.id}{f' ({s.locator})' if s.locator else ''}{f' [{s.tag}]' if s.tag else ''}"
                              for s in d.sources)}
        for d in report.definitions], schema=DEFINITIONS_SCHEMA)
    return out


def _directory(directory: Path, option: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create --{option} {directory}: {e.strerror or e}", field=option) from None


def _write(report: OutcomesReport, directory: Path, fmt: str) -> list[Path]:
    _directory(directory, fmt)
    paths = []
    for name, table in report_tables(report).items():
        path = directory / f"{name}.{fmt}"
        if fmt == "csv":
            pacsv.write_csv(table, path)
        else:
            pq.write_table(table, path)
        paths.append(path)
    return paths


def write_csv(report: OutcomesReport, directory: Path) -> list[Path]:
    return _write(report, directory, "csv")


def write_parquet(report: OutcomesReport, directory: Path) -> list[Path]:
    return _write(report, directory, "parquet")


def read_csv_table(path: Path, name: str) -> pa.Table:
    """A CSV written by :func:`write_csv`, read back with the table's own column types."""
    schema = DEFINITIONS_SCHEMA if name == "definitions" else schema_of(ROW_MODELS[name])
    opts = pacsv.ConvertOptions(column_types={f.name: f.type for f in schema}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    return pacsv.read_csv(path, convert_options=opts).select(schema.names)
