"""``validate --record``: a copy of a model file carrying its validation on an independent cohort."""

from __future__ import annotations

import datetime
from dataclasses import replace

import pandas as pd

from ..errors import InputError
from ..model import Model
from ..model.validation import ValidationRecord


def validated_model(model: Model, data: pd.DataFrame, result: dict, *, cohort: str, command: str,
                    date: str | None = None) -> Model:
    """``model`` with the validation ``result`` (from :func:`evaluate`) as its record.

    Refuses a cohort that shares patients with the model's own reference (the patients it was fitted
    or recalibrated on): that would be an apparent, not an external, validation.
    """
    shared = sorted(set(map(str, data.index)) & set(model.reference.cases))
    if shared:
        raise InputError(f"{len(shared)} patient(s) of this cohort helped fit the model ({', '.join(shared[:5])}); "
                         "a validation record needs patients the model has never seen.")
    alk = result["alk_radiomic"]
    known = data["alk"].dropna()
    dfs = result.get("dfs_radiomic", {})
    record = ValidationRecord(
        cohort=cohort, date=date or datetime.date.today().isoformat(), command=command,
        alk_positive=int((known == 1).sum()), alk_negative=int((known == 0).sum()),
        auc=float(alk["auc"]), auc_ci95=tuple(alk["auc_ci95"]),
        calibration_slope=float(alk["calibration"]["slope"]),
        calibration_slope_ci95=tuple(alk["calibration"]["slope_ci95"]),
        dfs_events=int(dfs.get("events", 0)), c_index=dfs.get("c_index"),
        group_hazard_ratio=dfs.get("group_hazard_ratio"),
        logrank_p=dfs.get("logrank_at_model_cutoff", {}).get("p"),
    )
    return replace(model, version=f"{model.version}+validated.{record.date}", validation=record, sha256="", path="")
