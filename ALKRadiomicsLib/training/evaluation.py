"""How a model file performs on a site's cohort: discrimination, calibration, risk groups.

Used by ``validate`` (any model) and ``recalibrate`` (before and after). The cohort is a data
frame with one row per patient: the model's features, ``alk`` (0/1) and, where known,
``hla``/``pdl1`` H-scores, ``dfs_months``/``event`` and ``n_stage``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError
from ..model import Model
from ..scoring.score import logistic
from .estimates import Result


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


@dataclass(frozen=True)
class HosmerLemeshow(Result):
    """Hosmer-Lemeshow over groups of predicted risk; ``not_tested`` says why there is no test."""

    statistic: float | None
    dof: int | None
    p: float | None
    groups: tuple[dict, ...] = ()
    fitted_parameters: int = 0  #: fitted on these patients: the groups less these are the degrees of freedom
    not_tested: str = ""


@dataclass(frozen=True)
class Calibration(Result):
    """Every calibration number of rms::val.prob (:mod:`ALKRadiomicsLib.stats.calibration`): Brier; ``slope`` and
    ``intercept_with_slope`` (the joint recalibration fit, val.prob's "Slope" and "Intercept");
    ``calibration_in_the_large`` (slope fixed at 1); Emax, E90, Eavg; Spiegelhalter's z; Hosmer-Lemeshow. A
    perfectly calibrated model has slope 1 and both intercepts 0."""

    brier: float
    slope: float
    slope_ci95: tuple[float, float]
    intercept_with_slope: float
    intercept_with_slope_ci95: tuple[float, float]
    calibration_in_the_large: float
    calibration_in_the_large_ci95: tuple[float, float]
    emax: float
    e90: float
    eavg: float
    spiegelhalter_z: float
    spiegelhalter_p: float
    hosmer_lemeshow: HosmerLemeshow
    mean_predicted: float
    observed: float

    @classmethod
    def of(cls, y: np.ndarray, log_odds: np.ndarray, fitted_here: int = 0) -> Calibration:
        """``fitted_here``: parameters of the model fitted on these patients (0: a model from elsewhere)."""
        numbers = stats.validation_statistics(y, log_odds, fitted_here)
        grouped = numbers.pop("hosmer_lemeshow")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in numbers.items()},
                   hosmer_lemeshow=HosmerLemeshow(grouped["statistic"], grouped["dof"], grouped["p"],
                                                  tuple(grouped["groups"]), grouped["fitted_parameters"],
                                                  grouped.get("not_tested", "")))


@dataclass(frozen=True)
class PairedTest(Result):
    """DeLong's paired test of two AUCs on the same patients; ``not_tested`` says why there is none."""

    z: float | None
    p: float | None
    not_tested: str = ""


@dataclass(frozen=True)
class AlkValidation(Result):
    """One ALK model (Rad-score or combined) on the cohort's patients with known ALK status."""

    n: int
    auc: float
    auc_ci95: tuple[float, float]
    calibration: Calibration
    calibration_table: tuple[dict, ...] | None = None
    delong_vs_radiomic: PairedTest | None = None


@dataclass(frozen=True)
class LogRank(Result):
    statistic: float
    p: float


@dataclass(frozen=True)
class DfsValidation(Result):
    """The RAD-risk on the ALK-positive patients with known DFS: C-index, the model's own cutoff and groups."""

    n: int
    events: int
    c_index: float
    c_index_ci95: tuple[float, float]
    cutoff: float
    high_risk: int
    median_followup_months: float
    logrank_at_model_cutoff: LogRank | None = None
    group_hazard_ratio: float | None = None
    group_hazard_ratio_ci95: tuple[float, float] | None = None  #: Wald 95 % CI of the Cox model on the group


@dataclass(frozen=True)
class ModelIdentity(Result):
    name: str
    version: str
    sha256: str
    calibrated: bool


@dataclass(frozen=True)
class PriorShift(Result):
    """Where the probabilities hold: each model's ``intercept_prior``, or moved to a stated prevalence."""

    prevalence: float | None
    rad_score_intercept_prior: float
    combined_intercept_prior: float
    log_odds_shift: dict[str, float]
    note: str

    def to_dict(self) -> dict:
        return {**super().to_dict(), "prevalence": self.prevalence}  # null says no prevalence was given


@dataclass(frozen=True)
class Validation(Result):
    """Every validation number of a model on a cohort; ``alk_combined`` / ``dfs_radiomic`` None where the cohort
    lacks H-scores / DFS, and ``not_validated`` then says why."""

    model: ModelIdentity
    patients: int
    prior: PriorShift
    alk_radiomic: AlkValidation
    alk_combined: AlkValidation | None = None
    dfs_radiomic: DfsValidation | None = None
    cohort: str = ""
    not_validated: dict[str, str] | None = None
    intercepts_fitted_here: bool = False  #: recalibrate's "after": the numbers in APPARENT_WHEN_REFITTED are apparent

    def to_dict(self) -> dict:
        data = {**super().to_dict(), "intervals_95": INTERVALS}
        if self.intercepts_fitted_here:
            data["apparent"] = {"fields": [name for names in APPARENT_WHEN_REFITTED.values() for name in names],
                                "why": "the intercepts, RAD-risk cutoff and group hazard ratio were fitted on these "
                                       "patients"}
        return data


#: The method of each 95 % interval of a :class:`Validation` (JSON ``intervals_95``).
INTERVALS = {"auc_ci95": "DeLong (pROC)", "slope_ci95": "Wald, logistic recalibration fit (val.prob's Slope)",
             "intercept_with_slope_ci95": "Wald, the same fit",
             "calibration_in_the_large_ci95": "Wald, intercept-only fit with the log-odds as offset",
             "c_index_ci95": "infinitesimal jackknife (survival::concordance)",
             "group_hazard_ratio_ci95": "Wald, Cox model on the high-risk group"}
#: Report rows (and their JSON fields) that are apparent when a model's intercepts and cutoff were refitted on the
#: cohort it is measured on: everything that depends on them. AUC, C-index and slope do not.
APPARENT_WHEN_REFITTED = {
    "calibration-in-the-large": ("calibration_in_the_large",), "intercept with the slope": ("intercept_with_slope",),
    "Brier score": ("brier",), "Emax / E90 / Eavg": ("emax", "e90", "eavg"), "Spiegelhalter z": ("spiegelhalter_z",),
    "mean predicted / observed": ("mean_predicted",), "Hosmer-Lemeshow": ("hosmer_lemeshow",),
    "model cutoff": ("cutoff", "high_risk"), "log-rank at the cutoff": ("logrank_at_model_cutoff",),
    "hazard ratio, high vs low": ("group_hazard_ratio",)}


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


def evaluate(model: Model, data: pd.DataFrame, prevalence: float | None = None, intercepts_fitted_here: bool = False,
             cohort: str = "") -> Validation:
    """Every validation number of a model on a cohort (named ``cohort`` in the result). Every number is the model's
    performance on patients it was (as far as the file says) not fitted on: none is apparent unless ``data`` is
    the training cohort, or ``intercepts_fitted_here`` (recalibrate's "after": the Hosmer-Lemeshow test then loses
    one degree of freedom per refitted intercept). With
    ``prevalence`` the model's log-odds are moved from its ``intercept_prior`` to that ALK prevalence before
    calibration is measured (discrimination does not change)."""
    scores = linear_predictors(model, data)
    shifts = {"rad_score": prior_shift(model.alk_radiomic.intercept_prior, prevalence),
              "combined": prior_shift(model.alk_combined.intercept_prior, prevalence)}
    prior = PriorShift(prevalence, model.alk_radiomic.intercept_prior, model.alk_combined.intercept_prior, shifts,
                       "probabilities moved from each model's intercept_prior to the stated prevalence"
                       if prevalence is not None else
                       "probabilities as the model gives them, at its intercept_prior; give --prevalence for a cohort "
                       "whose ALK prevalence differs")
    known = data["alk"].notna()
    y = data.loc[known, "alk"].to_numpy(int)
    rad = scores.loc[known, "rad_score"].to_numpy() + shifts["rad_score"]
    auc, low, high = stats.auc_ci(y, rad)
    fitted_here = int(intercepts_fitted_here)
    radiomic = AlkValidation(int(len(y)), auc, (low, high), Calibration.of(y, rad, fitted_here),
                             tuple(calibration_table(y, rad)))
    combined_part = None
    absent = {}
    both = known & scores["combined"].notna()
    if not (both.sum() >= 4 and data.loc[both, "alk"].nunique() == 2):
        lacking = [c for c in ("hla", "pdl1") if c not in data.columns]
        absent["combined"] = (f"the cohort has no {' or '.join(lacking)} column" if lacking else
                              f"H-scores (hla and pdl1) known for {int(both.sum())} patients with ALK status; the "
                              "combined model needs at least 4, ALK-positive and ALK-negative")
    else:
        yc = data.loc[both, "alk"].to_numpy(int)
        combined = scores.loc[both, "combined"].to_numpy() + shifts["combined"]
        auc_c, low_c, high_c = stats.auc_ci(yc, combined)
        try:
            _, _, z, p = stats.delong_test(yc, combined, scores.loc[both, "rad_score"].to_numpy())
            delong = PairedTest(z, p)
        except ValueError as err:  # e.g. both scores rank a small cohort identically: no test is possible
            delong = PairedTest(None, None, str(err))
        combined_part = AlkValidation(int(len(yc)), auc_c, (low_c, high_c), Calibration.of(yc, combined, fitted_here),
                                      delong_vs_radiomic=delong)
    dfs = None
    if why := _why_no_dfs(data):
        absent["rad_risk"] = why
    else:
        dfs = _dfs_validation(model, data, scores)
    return Validation(ModelIdentity(model.name, model.version, model.sha256, model.calibrated), int(len(data)),
                      prior, radiomic, combined_part, dfs, cohort, absent or None, intercepts_fitted_here)


#: The readable names of ``Validation.not_validated``'s keys.
PART_NAMES = {"combined": "combined model", "rad_risk": "RAD-risk (DFS)"}


def _why_no_dfs(data: pd.DataFrame) -> str:
    """Why the RAD-risk cannot be validated on ``data``; empty when it can (at least 4 ALK-positive patients with
    known DFS and 1 event)."""
    missing = [c for c in ("dfs_months", "event") if c not in data.columns]
    if missing:
        return f"the cohort has no {' or '.join(missing)} column"
    survival = known_dfs(data)
    patients, events = int(survival.sum()), int(data.loc[survival, "event"].sum())
    if patients >= 4 and events > 0:
        return ""
    return (f"{patients} ALK-positive patients with known DFS and {events} events; the RAD-risk needs at least 4 "
            "patients and 1 event")


def known_dfs(data: pd.DataFrame) -> pd.Series:
    """The ALK-positive patients whose DFS (``dfs_months`` and ``event``) is known: the RAD-risk's patients."""
    missing = pd.Series(np.nan, index=data.index)
    return (data["alk"] == 1) & data.get("dfs_months", missing).notna() & data.get("event", missing).notna()


def _dfs_validation(model: Model, data: pd.DataFrame, scores: pd.DataFrame) -> DfsValidation:
    """The RAD-risk on the ALK-positive patients with known DFS (where :func:`_why_no_dfs` finds enough)."""
    survival = known_dfs(data)
    time = data.loc[survival, "dfs_months"].to_numpy(float)
    event = data.loc[survival, "event"].to_numpy(int)
    risk = scores.loc[survival, "rad_risk"].to_numpy()
    cutoff = model.dfs_radiomic.cutoff.value
    high = risk > cutoff
    c_index, c_low, c_high = stats.harrell_c_ci(time, event, risk)
    logrank = hazard_ratio = hazard_ratio_ci95 = None
    if 0 < high.sum() < len(high):
        from lifelines import CoxPHFitter
        from lifelines.statistics import logrank_test

        test = logrank_test(time[high], time[~high], event[high], event[~high])
        logrank = LogRank(float(test.test_statistic), float(test.p_value))
        cox = CoxPHFitter().fit(pd.DataFrame({"t": time, "e": event, "high": high.astype(float)}), "t", "e")
        hazard_ratio = float(math.exp(cox.params_["high"]))
        bounds = cox.confidence_intervals_.loc["high"].to_numpy(float)
        if np.all(np.abs(bounds) < 700):  # else a group without events: no finite interval
            hazard_ratio_ci95 = (float(np.exp(bounds[0])), float(np.exp(bounds[1])))
    return DfsValidation(int(survival.sum()), int(event.sum()), c_index, (c_low, c_high), cutoff, int(high.sum()),
                         stats.reverse_km_median_followup(time, event), logrank, hazard_ratio,
                         hazard_ratio_ci95)
