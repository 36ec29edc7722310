"""A site's cohort file: one CSV row per patient, validated with a clear message per bad row.

Columns: ``id``, ``image``, ``mask`` (paths, relative to the CSV's folder or absolute; DICOM
folders allowed), ``label`` (optional), and for training ``alk`` (0/1), ``dfs_months``, ``event``
(0/1), ``hla``, ``pdl1`` (H-scores 0-300), ``n_stage`` (0 = N0, 1 = N1-2), plus any other
clinical columns (kept as given).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

REQUIRED = ("id", "image", "mask")
BINARY = ("alk", "event", "n_stage")
NUMERIC_RANGES = {"dfs_months": (0.0, math.inf), "hla": (0.0, 300.0), "pdl1": (0.0, 300.0)}
MAX_LISTED_ERRORS = 10


@dataclass(frozen=True)
class CohortRow:
    id: str
    image: str
    mask: str
    label: int | None = None
    clinical: dict[str, float | str | None] = field(default_factory=dict)


def read_cohort(path: str | os.PathLike, *, require: tuple[str, ...] = ()) -> list[CohortRow]:
    """Read and validate a cohort CSV; ``require`` names clinical columns that must be present."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"Cohort file {path} does not exist.")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
    missing = [c for c in (*REQUIRED, *require) if c not in columns]
    if missing:
        raise InputError(f"Cohort file {path} lacks the column(s) {', '.join(missing)}; it has {', '.join(columns)}.")
    if not rows:
        raise InputError(f"Cohort file {path} has no rows.")
    errors, parsed, seen = [], [], set()
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"line {number} (id {row.get('id') or '?'})"
        try:
            parsed.append(_row(row, path.parent, seen, require))
        except ValueError as err:
            errors.append(f"{where}: {err}")
    if errors:
        listed = "; ".join(errors[:MAX_LISTED_ERRORS])
        more = f"; and {len(errors) - MAX_LISTED_ERRORS} more" if len(errors) > MAX_LISTED_ERRORS else ""
        raise InputError(f"Cohort file {path} has {len(errors)} bad row(s): {listed}{more}.")
    return parsed


def _row(row: dict[str, str], folder: Path, seen: set[str], require: tuple[str, ...]) -> CohortRow:
    identifier = row["id"]
    if not identifier:
        raise ValueError("id is empty")
    if identifier in seen:
        raise ValueError("id is repeated")
    seen.add(identifier)
    paths = {}
    for column in ("image", "mask"):
        if not row[column]:
            raise ValueError(f"{column} is empty")
        paths[column] = str((folder / row[column]).resolve()) if not os.path.isabs(row[column]) else row[column]
    label = row.get("label") or None
    if label is not None:
        try:
            label = int(label)
        except ValueError:
            raise ValueError(f"label must be an integer, got {row['label']!r}") from None
    clinical: dict[str, float | str | None] = {}
    for column, text in row.items():
        if column in (*REQUIRED, "label"):
            continue
        clinical[column] = _clinical_value(column, text, column in require)
    return CohortRow(identifier, paths["image"], paths["mask"], label, clinical)


def _clinical_value(column: str, text: str, required: bool) -> float | str | None:
    if text == "" or text.upper() in ("NA", "NAN"):
        if required:
            raise ValueError(f"{column} is missing")
        return None
    if column in BINARY:
        if text not in ("0", "1", "0.0", "1.0"):  # 0.0 / 1.0: how pandas writes a 0/1 column with gaps
            raise ValueError(f"{column} must be 0 or 1, got {text!r}")
        return float(text)
    if column in NUMERIC_RANGES:
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{column} must be a number, got {text!r}") from None
        low, high = NUMERIC_RANGES[column]
        if not low <= value <= high:
            raise ValueError(f"{column} must be from {low:g} to {high:g}, got {text}")
        return value
    try:
        return float(text)
    except ValueError:
        return text
