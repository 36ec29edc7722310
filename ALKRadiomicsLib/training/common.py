"""What the ALK and DFS halves of ``train`` share: settings, standardization, folds, coefficient tables."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import selection


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    lasso_folds: int = 10
    cv_folds: int = 5
    bootstraps: int = 500
    screen_p: float = 0.05
    #: The paper picks the ALK LASSO's lambda at minimum CV deviance ("minimum criteria"). For the Cox LASSO it
    #: says only "selected by 10-fold cross-validation", keeping 5 of 400 features. lambda.min there too: at the
    #: paper's effect sizes (log-HR 0.9 and -0.7 per SD, about 32 events, 851 features) lambda.1se kept no
    #: feature in 10 of 10 fold seeds in issue 13's measurement (lambda.min: both drivers in 8 of 10); on
    #: simulate.PAPER_EFFECTS lambda.min kept both drivers in 7 of 10 (README).
    alk_lambda: str = "min"
    dfs_lambda: str = "min"
    #: ALK (forward stepwise): Harrell's m/15. DFS (best subset among LASSO survivors, then backward): Peduzzi's
    #: 10 events per variable for Cox models, which lets the paper's 26 recurrences carry its two-feature RAD-risk
    #: (m/15 allowed one).
    events_per_variable: int = selection.EVENTS_PER_VARIABLE
    dfs_events_per_variable: int = 10
    #: Harrell's optimism-corrected bootstrap: resamples of the whole pipeline (0: not run), and worker processes.
    optimism_bootstraps: int = 0
    workers: int = 1


class Stopwatch:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = round(now - self._start, 3)
        self._start = now


def standardize(data: pd.DataFrame, features: list[str]) -> tuple[pd.DataFrame, dict[str, tuple[float, float]]]:
    """Features as z-scores (cohort mean, SD with n - 1); constant features are left out."""
    scale, columns = {}, {}
    for name in features:
        values = data[name].to_numpy(float)
        sd = float(values.std(ddof=1))
        if sd > 0:
            scale[name] = (float(values.mean()), sd)
            columns[name] = (values - scale[name][0]) / sd
    return pd.DataFrame(columns, index=data.index), scale


def log_odds(fit, frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    return fit.params["const"] + frame[names].to_numpy(float) @ fit.params[names].to_numpy()


def coefficient_table(fit, names: list[str], ratio: str) -> dict:
    """Per variable: beta, odds or hazard ratio with 95 % CI, Wald P (apparent: fitted on these patients)."""
    params, pvalues, intervals = (np.asarray(fit.params), np.asarray(fit.pvalues), np.asarray(fit.conf_int()))
    offset = 1 if len(params) == len(names) + 1 else 0  # logistic results start with the constant
    table = {}
    for k, name in enumerate(names):
        beta, (low, high) = params[k + offset], intervals[k + offset]
        table[name] = {"beta": float(beta), ratio: math.exp(beta), f"{ratio}_ci95": [math.exp(low), math.exp(high)],
                       "p": float(pvalues[k + offset])}
    return table


def stratified_folds(y: np.ndarray, settings: TrainSettings) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(settings.cv_folds, shuffle=True, random_state=settings.seed)
                .split(np.zeros(len(y)), y))


def step_summary(steps: dict) -> dict:
    lasso = steps["lasso"] or {}
    return {"screened": len(steps["screened"]), "screened_top": steps["screened"][:20],
            "lasso_rule": lasso.get("rule"), "lasso_lambda": lasso.get("lambda"),
            "lasso_lambda_min": lasso.get("lambda_min"), "lasso_lambda_1se": lasso.get("lambda_1se"),
            "lasso_minimum_at_path_end": lasso.get("minimum_at_path_end"),
            "lasso_selected": lasso.get("selected", []), "variable_limit": steps["variable_limit"],
            "how": steps.get("how", ""), "selected": steps["selected"]}
