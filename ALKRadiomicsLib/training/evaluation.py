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


def calibration(y: np.ndarray, log_odds: np.ndarray) -> dict[str, float]:
    """Calibration slope (logistic regression of y on the log-odds) and calibration-in-the-large
    (the intercept with the log-odds as an offset); 1 and 0 for a perfectly calibrated model."""
    import statsmodels.api as sm

    slope_fit = sm.GLM(y, sm.add_constant(log_odds), family=sm.families.Binomial()).fit()
    large_fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=log_odds).fit()
    slope_low, slope_high = (float(v) for v in slope_fit.conf_int()[1])
    return {"slope": float(slope_fit.params[1]), "slope_ci95": [slope_low, slope_high],
            "intercept": float(large_fit.params[0]),
            "mean_predicted": float(np.mean([logistic(v) for v in log_odds])), "observed": float(np.mean(y))}


def calibration_table(y: np.ndarray, log_odds: np.ndarray, groups: int = 5) -> list[dict[str, float]]:
    """Predicted vs observed ALK rate in groups of equal size by predicted probability (the plot's points)."""
    order = np.argsort(log_odds)
    table = []
    for part in np.array_split(order, min(groups, len(order))):
        table.append({"predicted": float(np.mean([logistic(v) for v in log_odds[part]])),
                      "observed": float(np.mean(y[part])), "n": int(len(part))})
    return table


def evaluate(model: Model, data: pd.DataFrame) -> dict:
    """Every validation number of a model on a cohort (JSON-ready)."""
    scores = linear_predictors(model, data)
    result: dict = {"model": {"name": model.name, "version": model.version, "sha256": model.sha256,
                              "calibrated": model.calibrated}, "patients": int(len(data))}
    known = data["alk"].notna()
    y = data.loc[known, "alk"].to_numpy(int)
    rad = scores.loc[known, "rad_score"].to_numpy()
    auc, low, high = stats.auc_ci(y, rad)
    result["alk_radiomic"] = {"n": int(len(y)), "auc": auc, "auc_ci95": [low, high],
                              "calibration": calibration(y, rad), "calibration_table": calibration_table(y, rad)}
    both = known & scores["combined"].notna()
    if both.sum() >= 4 and data.loc[both, "alk"].nunique() == 2:
        yc = data.loc[both, "alk"].to_numpy(int)
        combined = scores.loc[both, "combined"].to_numpy()
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
        dfs: dict = {"n": int(survival.sum()), "events": int(event.sum()),
                     "c_index": stats.harrell_c(time, event, risk),
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
