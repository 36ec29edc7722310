"""Recalibrating a model file to a site's cohort: the betas stay, the gaps are refitted.

Refitted on the local cohort (DESIGN section 5): each feature's standardization (mean, SD),
the Rad-score and combined-model intercepts (logistic regression with the model's own linear
predictor as an offset: calibration-in-the-large), the RAD-risk cutoff (median among ALK-positive
patients) and the hazard ratio between the two risk groups (Cox regression on the group). The
result has ``calibrated: true``, ``derived`` provenance naming the cohort, and ``intercept_prior``
set to the cohort's ALK prevalence, at which its refitted intercepts hold.

Calibrated is not validated: the result stays "research use only" (a validation record from
``validate --record`` on other patients is what lifts it). :func:`recalibration_problems` lists what
a cohort cannot support; the command refuses such a cohort unless told ``--force``, and then writes
the problems into the model's ``flags``, which every score repeats.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import stats
from ..model import Model, Parameter, Provenance, Standardization
from ..model.schema import ReferencePopulation
from .evaluation import known_dfs, linear_predictors

MIN_PER_CLASS = 10  # ALK-positive and ALK-negative patients for one fitted intercept (10 events per parameter)
MIN_DFS_EVENTS = 10  # recurrences for the group hazard ratio


def recalibrate(model: Model, data: pd.DataFrame, *, cohort: str, command: str, date: str | None = None) -> Model:
    """A new model: ``model``'s betas with standardization, intercepts and cutoff fitted on ``data``."""
    import statsmodels.api as sm

    date = date or datetime.date.today().isoformat()

    def derived(method: str, n: int) -> Provenance:
        return Provenance.derived(f"{cohort} ({n} patients)", method, command, date)

    standardization = {}
    for name in model.feature_names:
        values = data[name].to_numpy(float)
        standardization[name] = Standardization(
            Parameter(float(values.mean()), derived("local mean", len(values))),
            Parameter(float(values.std(ddof=1)), derived("local sample standard deviation (n - 1)", len(values))))
    centred = replace(model, standardization=standardization,
                      alk_radiomic=replace(model.alk_radiomic, intercept=Parameter(0.0, Provenance.assumed("refit"))))
    scores = linear_predictors(centred, data)

    known = data["alk"].notna()
    y = data.loc[known, "alk"].to_numpy(float)
    offset = scores.loc[known, "rad_score"].to_numpy()
    fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=offset).fit()
    low, high = (float(v) for v in fit.conf_int()[0])
    rad_intercept = Parameter(float(fit.params[0]), derived(
        "logistic regression of ALK status with the Rad-score as offset (calibration-in-the-large); it carries "
        "this cohort's ALK prevalence", len(y)), (low, high))
    alk_radiomic = replace(model.alk_radiomic, intercept=rad_intercept, intercept_prior=float(np.mean(y)))

    alk_combined = model.alk_combined
    with_h = known & data.get("hla", pd.Series(index=data.index, dtype=float)).notna() \
        & data.get("pdl1", pd.Series(index=data.index, dtype=float)).notna()
    if with_h.sum() >= 10 and data.loc[with_h, "alk"].nunique() == 2:
        rad = scores.loc[with_h, "rad_score"].to_numpy() + rad_intercept.value
        no_intercept = replace(model.alk_combined, intercept=Parameter(0.0, Provenance.assumed("refit")))
        combined_offset = np.array([no_intercept.linear_predictor({"rad_score": r, "hla_i_hscore": h, "pdl1_hscore": p})
                                    for r, h, p in zip(rad, data.loc[with_h, "hla"], data.loc[with_h, "pdl1"],
                                                       strict=True)])
        yc = data.loc[with_h, "alk"].to_numpy(float)
        fit_c = sm.GLM(yc, np.ones((len(yc), 1)), family=sm.families.Binomial(), offset=combined_offset).fit()
        low_c, high_c = (float(v) for v in fit_c.conf_int()[0])
        # The betas stay fixed in the fit; when the uncertainty varies them, the intercept keeps the log-odds at the
        # cohort's mean H-scores.
        alk_combined = replace(model.alk_combined, intercept=Parameter(float(fit_c.params[0]), derived(
            "logistic regression of ALK status with the combined linear predictor as offset", len(yc)),
            (low_c, high_c)), intercept_prior=float(np.mean(yc)),
            intercept_centres={"hla_i_hscore": float(data.loc[with_h, "hla"].mean()),
                               "pdl1_hscore": float(data.loc[with_h, "pdl1"].mean())})

    dfs_radiomic = model.dfs_radiomic
    positive = data["alk"] == 1
    risk = scores.loc[positive, "rad_risk"].to_numpy()
    if len(risk) >= 10:
        cutoff = float(np.median(risk))
        group_hr = model.dfs_radiomic.group_hazard_ratio
        survival = known_dfs(data)
        if survival.sum() >= 10 and data.loc[survival, "event"].sum() > 0:
            from lifelines import CoxPHFitter

            frame = pd.DataFrame({"t": data.loc[survival, "dfs_months"].to_numpy(float),
                                  "e": data.loc[survival, "event"].to_numpy(int),
                                  "high": (scores.loc[survival, "rad_risk"].to_numpy() > cutoff).astype(float)})
            if 0 < frame["high"].sum() < len(frame):
                cox = CoxPHFitter().fit(frame, "t", "e")
                beta = float(cox.params_["high"])
                ci = cox.confidence_intervals_.loc["high"].to_numpy(float)
                group_hr = Parameter(math.exp(beta), derived(
                    "Cox regression of disease-free survival on the high-risk group (RAD-risk above the local "
                    "median) among ALK-positive patients", int(survival.sum())),
                    (math.exp(ci[0]), math.exp(ci[1])))
        dfs_radiomic = replace(model.dfs_radiomic, cutoff=Parameter(cutoff, derived(
            "median RAD-risk score among ALK-positive patients", len(risk))), group_hazard_ratio=group_hr)

    return replace(
        model, name=f"{model.name}-recalibrated", version=f"{model.version}+local.{date}", calibrated=True,
        description=f"{model.description} Recalibrated on {cohort}: the betas of {model.name} {model.version} "
                    "unchanged; standardization, intercepts and cutoff fitted locally.",
        standardization=standardization, alk_radiomic=alk_radiomic, alk_combined=alk_combined,
        dfs_radiomic=dfs_radiomic, sha256="", path="",
        reference=ReferencePopulation(
            description=f"The local cohort {cohort}: {len(data)} patients with extracted features.",
            differs_from_paper="A site's own patients: the standardization, intercepts and cutoff describe them.",
            cases=tuple(str(i) for i in data.index),
            feature_values={n: tuple(float(v) for v in data[n]) for n in model.feature_names}),
    )


def recalibration_problems(local: Model, data: pd.DataFrame) -> list[str]:
    """What the cohort cannot support, measured on the recalibrated model (empty when nothing is wrong)."""
    problems = []
    known = data["alk"].notna()
    y = data.loc[known, "alk"].to_numpy(int)
    positive, negative = int(y.sum()), int(len(y) - y.sum())
    if min(positive, negative) < MIN_PER_CLASS:
        problems.append(f"{positive} ALK-positive and {negative} ALK-negative patients: a refitted intercept needs at "
                        f"least {MIN_PER_CLASS} of each (10 events per fitted parameter)")
    scores = linear_predictors(local, data)
    if 0 < positive < len(y):
        rad = scores.loc[known, "rad_score"].to_numpy()
        auc = stats.auc_ci(y, rad)[0]
        if auc < 0.5:
            problems.append(f"Rad-score AUC {auc:.2f} < 0.5 on this cohort: the signature ranks its patients backwards")
        slope = stats.calibration.logistic_calibration(y, rad)["slope"]
        if slope < 0:
            problems.append(f"calibration slope {slope:.2f} < 0: higher predicted probability goes with fewer "
                            "ALK-positive patients")
    survival = known_dfs(data)
    if survival.any():  # else no DFS column, or no ALK-positive patient with DFS: nothing refitted to check
        time, event = data.loc[survival, "dfs_months"].to_numpy(float), data.loc[survival, "event"].to_numpy(int)
        events = int(event.sum())
        if events < MIN_DFS_EVENTS:
            problems.append(f"{events} DFS events among ALK-positive patients: the group hazard ratio needs at least "
                            f"{MIN_DFS_EVENTS}")
        elif stats.harrell_c(time, event, scores.loc[survival, "rad_risk"].to_numpy()) < 0.5:
            problems.append("RAD-risk C-index < 0.5 on this cohort: higher scores go with longer disease-free survival")
    group = local.dfs_radiomic.group_hazard_ratio
    if group is not None and group.ci95 is not None and group.value < 1:  # refitted on this cohort (it has a CI)
        problems.append(f"hazard ratio of the high vs the low risk group {group.value:.2f} < 1: the high group "
                        "did better")
    return problems
