"""``validate --record``: a copy of a model file carrying its validation on an independent cohort."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pandas as pd

from ..errors import InputError
from ..model import Model
from ..model.validation import ValidationRecord
from .evaluation import Validation


def validated_model(model: Model, data: pd.DataFrame, result: Validation, *, cohort: str, command: str,
                    date: str | None = None) -> Model:
    """``model`` with the validation ``result`` (from :func:`evaluate`) as its record.

    Refuses a cohort that shares patients with the model's own reference (the patients it was fitted
    or recalibrated on): that would be an apparent, not an external, validation.
    """
    shared = sorted(set(map(str, data.index)) & set(model.reference.cases))
    if shared:
        raise InputError(f"{len(shared)} patient(s) of this cohort helped fit the model ({', '.join(shared[:5])}); "
                         "a validation record needs patients the model has never seen.")
    alk, dfs = result.alk_radiomic, result.dfs_radiomic
    known = data["alk"].dropna()
    record = ValidationRecord(
        cohort=cohort, date=date or datetime.date.today().isoformat(), command=command,
        alk_positive=int((known == 1).sum()), alk_negative=int((known == 0).sum()),
        auc=float(alk.auc), auc_ci95=tuple(alk.auc_ci95),
        calibration_slope=float(alk.calibration.slope), calibration_slope_ci95=tuple(alk.calibration.slope_ci95),
        dfs_events=dfs.events if dfs else 0, c_index=dfs.c_index if dfs else None,
        group_hazard_ratio=dfs.group_hazard_ratio if dfs else None,
        logrank_p=dfs.logrank_at_model_cutoff.p if dfs and dfs.logrank_at_model_cutoff else None,
    )
    return replace(model, version=f"{model.version}+validated.{record.date}", validation=record, sha256="", path="")
