"""A cohort file joined with its features file: one data frame, one row per usable patient."""

from __future__ import annotations

import os

import pandas as pd

from ..cohort import read_cohort
from ..csvsafe import original_text
from ..errors import InputError


def cohort_frame(cohort_path: str | os.PathLike, features_path: str | os.PathLike, feature_names,
                 *, require: tuple[str, ...] = ("alk",)) -> tuple[pd.DataFrame, list[str]]:
    """Clinical columns and the needed features by patient id, and notes on patients left out."""
    rows = read_cohort(cohort_path, require=require)
    try:
        features = pd.read_csv(features_path, dtype={"id": str}, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError) as err:
        raise InputError(f"Cannot read features file {features_path}: {err}") from None
    missing = [n for n in ("id", *feature_names) if n not in features.columns]
    if missing:
        raise InputError(f"Features file {features_path} lacks {missing}; extract them with alk-radiomics batch.")
    # batch writes ids starting with = + - @ with a leading ' (spreadsheet-safe): join on the id as the cohort has it.
    features["id"] = features["id"].map(original_text)
    features = features.set_index("id")
    clinical = pd.DataFrame([{"id": r.id, **r.clinical} for r in rows]).set_index("id")
    notes = []
    absent = [i for i in clinical.index if i not in features.index]
    if absent:
        notes.append(f"{len(absent)} patient(s) have no row in the features file: {', '.join(absent[:5])}")
    joined = clinical.join(features[list(feature_names) + (["error"] if "error" in features else [])], how="inner")
    if "error" in joined:
        failed = joined["error"].fillna("").astype(str).str.len() > 0
        if failed.any():
            notes.append(f"{int(failed.sum())} patient(s) left out: feature extraction failed")
        joined = joined[~failed].drop(columns="error")
    joined = joined.dropna(subset=list(feature_names))
    if len(joined) < 10:
        raise InputError(f"Only {len(joined)} usable patients after joining the cohort and its features; need 10.")
    return joined, notes
