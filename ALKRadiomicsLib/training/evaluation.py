"""How a model file performs on a site's cohort: discrimination, calibration, risk groups.

Used by ``validate`` (any model) and ``recalibrate`` (before and after). The cohort is a data
frame with one row per patient: the model's features, ``alk`` (0/1) and, where known,
``hla``/``pdl1`` H-scores, ``dfs_months``/``event`` and ``n_stage``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError
from ..model import Model
from ..scoring.score import logistic


def linear_predictors(model: Model, data: pd.DataFrame) -> pd.DataFrame:
    """Rad-score, combined log-odds (where H-scores are known) and RAD-risk score per patient."""
    rows = []
    for _, patient in data.iterrows():
        z = model.standardize({name: float(patient[name]) for name in model.feature_names})
        rad = model.alk_radiomic.linear_predictor(z)
        combined = math.nan
        if pd.notna(patient.get("hla")) and pd.notna(patient.get("pdl1")):
            combined = model.alk_combined.linear_predictor(
                {"rad_score": rad, "hla_i_hscore": float(patient["hla"]), "pdl1_hscore": float(patient["pdl1"])})
        rows.append({"rad_score": rad, "combined": combined, "rad_risk": model.dfs_radiomic.linear_predictor(z)})
    return pd.DataFrame(rows, index=data.index)


def calibration(y: np.ndarray, log_odds: np.ndarray) -> dict:
    """Every calibration number of ``log_odds`` (rms::val.prob's, :mod:`ALKRadiomicsLib.stats.calibration`):
    Brier; ``slope`` and ``intercept_with_slope`` (the joint recalibration fit, val.prob's "Slope" and
    "Intercept"); ``calibration_in_the_large`` (slope fixed at 1); Emax, E90, Eavg; Spiegelhalter's z;
    Hosmer-Lemeshow. A perfectly calibrated model has slope 1 and both intercepts 0."""
    return stats.validation_statistics(y, log_odds)


def prior_shift(model_prior: float, prevalence: float | None) -> float:
    """What to add to a model's log-odds (holding at ``model_prior``) for a cohort whose ALK prevalence is
    ``prevalence``: logit(prevalence) - logit(model_prior); 0 when no prevalence is given."""
    if prevalence is None:
        return 0.0
    if not 0 < prevalence < 1:
        raise InputError(f"--prevalence must lie strictly between 0 and 1, got {prevalence}.")
    return math.log(prevalence / (1 - prevalence)) - math.log(model_prior / (1 - model_prior))


def calibration_table(y: np.ndarray, log_odds: np.ndarray, groups: int = 5) -> list[dict[str, float]]:
    """Predicted vs observed ALK rate in groups of equal size by predicted probability (the plot's points)."""
    order = np.argsort(log_odds)
    table = []
    for part in np.array_split(order, min(groups, len(order))):
        table.append({"predicted": float(np.mean([logistic(v) for v in log_odds[part]])),
                      "observed": float(np.mean(y[part])), "n": int(len(part))})
    return table


def evaluate(model: Model, data: pd.DataFrame, prevalence: float | None = None) -> dict:
    """Every validation number of a model on a cohort (JSON-ready). Every number is the model's performance on
    patients it was (as far as the file says) not fitted on: none is apparent unless ``data`` is the training
    cohort. With ``prevalence`` the model's log-odds are moved from its ``intercept_prior`` to that ALK
    prevalence before calibration is measured (discrimination does not change)."""
    scores = linear_predictors(model, data)
    result: dict = {"model": {"name": model.name, "version": model.version, "sha256": model.sha256,
                              "calibrated": model.calibrated}, "patients": int(len(data))}
    shifts = {"rad_score": prior_shift(model.alk_radiomic.intercept_prior, prevalence),
              "combined": prior_shift(model.alk_combined.intercept_prior, prevalence)}
    result["prior"] = {"prevalence": prevalence, "rad_score_intercept_prior": model.alk_radiomic.intercept_prior,
                       "combined_intercept_prior": model.alk_combined.intercept_prior,
                       "log_odds_shift": shifts,
                       "note": ("probabilities moved from each model's intercept_prior to the stated prevalence"
                                if prevalence is not None else
                                "probabilities as the model gives them, at its intercept_prior; give --prevalence "
                                "for a cohort whose ALK prevalence differs")}
    known = data["alk"].notna()
    y = data.loc[known, "alk"].to_numpy(int)
    rad = scores.loc[known, "rad_score"].to_numpy() + shifts["rad_score"]
    auc, low, high = stats.auc_ci(y, rad)
    result["alk_radiomic"] = {"n": int(len(y)), "auc": auc, "auc_ci95": [low, high],
                              "calibration": calibration(y, rad), "calibration_table": calibration_table(y, rad)}
    both = known & scores["combined"].notna()
    if both.sum() >= 4 and data.loc[both, "alk"].nunique() == 2:
        yc = data.loc[both, "alk"].to_numpy(int)
        combined = scores.loc[both, "combined"].to_numpy() + shifts["combined"]
        auc_c, low_c, high_c = stats.auc_ci(yc, combined)
        try:
            _, _, z, p = stats.delong_test(yc, combined, scores.loc[both, "rad_score"].to_numpy())
            delong = {"z": z, "p": p}
        except ValueError as err:  # e.g. both scores rank a small cohort identically: no test is possible
            delong = {"z": None, "p": None, "not_tested": str(err)}
        result["alk_combined"] = {"n": int(len(yc)), "auc": auc_c, "auc_ci95": [low_c, high_c],
                                  "calibration": calibration(yc, combined), "delong_vs_radiomic": delong}
    survival = (data["alk"] == 1) & data.get("dfs_months", pd.Series(index=data.index, dtype=float)).notna() \
        & data.get("event", pd.Series(index=data.index, dtype=float)).notna()
    if survival.sum() >= 4 and data.loc[survival, "event"].sum() > 0:
        time = data.loc[survival, "dfs_months"].to_numpy(float)
        event = data.loc[survival, "event"].to_numpy(int)
        risk = scores.loc[survival, "rad_risk"].to_numpy()
        cutoff = model.dfs_radiomic.cutoff.value
        high = risk > cutoff
        c_index, c_low, c_high = stats.harrell_c_ci(time, event, risk)
        dfs: dict = {"n": int(survival.sum()), "events": int(event.sum()),
                     "c_index": c_index, "c_index_ci95": [c_low, c_high],
                     "cutoff": cutoff, "high_risk": int(high.sum()),
                     "median_followup_months": stats.reverse_km_median_followup(time, event)}
        if 0 < high.sum() < len(high):
            from lifelines import CoxPHFitter
            from lifelines.statistics import logrank_test

            test = logrank_test(time[high], time[~high], event[high], event[~high])
            dfs["logrank_at_model_cutoff"] = {"statistic": float(test.test_statistic), "p": float(test.p_value)}
            cox = CoxPHFitter().fit(pd.DataFrame({"t": time, "e": event, "high": high.astype(float)}), "t", "e")
            dfs["group_hazard_ratio"] = float(math.exp(cox.params_["high"]))
        result["dfs_radiomic"] = dfs
    return result
