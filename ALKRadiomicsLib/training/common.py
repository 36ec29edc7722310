"""What the ALK and DFS halves of ``train`` share: settings, standardization, folds, coefficient tables."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import selection
from .estimates import Result


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


@dataclass(frozen=True)
class Coefficient:
    """One variable of a fitted model: beta, its odds or hazard ratio (``ratio_name`` "or" / "hr") with 95 % CI,
    Wald P. Apparent: fitted on these patients, the P ignoring that the variable was selected on them."""

    beta: float
    ratio: float
    ci95: tuple[float, float]
    p: float
    ratio_name: str

    def to_dict(self) -> dict:
        return {"beta": self.beta, self.ratio_name: self.ratio, f"{self.ratio_name}_ci95": list(self.ci95),
                "p": self.p}


def coefficient_table(fit, names: list[str], ratio: str) -> dict[str, Coefficient]:
    """Per variable of ``fit``: its :class:`Coefficient`."""
    params, pvalues, intervals = (np.asarray(fit.params), np.asarray(fit.pvalues), np.asarray(fit.conf_int()))
    offset = 1 if len(params) == len(names) + 1 else 0  # logistic results start with the constant
    return {name: Coefficient(float(params[k + offset]), math.exp(params[k + offset]),
                              (math.exp(intervals[k + offset][0]), math.exp(intervals[k + offset][1])),
                              float(pvalues[k + offset]), ratio)
            for k, name in enumerate(names)}


def stratified_folds(y: np.ndarray, settings: TrainSettings) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(settings.cv_folds, shuffle=True, random_state=settings.seed)
                .split(np.zeros(len(y)), y))


@dataclass(frozen=True)
class SelectionSteps:
    """What each step of a feature selection kept: screening, the LASSO path (cv.glmnet's summary, or None when
    nothing passed screening), the events-per-variable cap, the features chosen and how."""

    screened: list[str]
    lasso: dict | None
    variable_limit: int
    selected: list[str]
    how: str = ""

    @property
    def lasso_selected(self) -> list[str]:
        return (self.lasso or {}).get("selected", [])

    def to_dict(self) -> dict:
        lasso = self.lasso or {}
        return {"screened": len(self.screened), "screened_top": self.screened[:20],
                "lasso_rule": lasso.get("rule"), "lasso_lambda": lasso.get("lambda"),
                "lasso_lambda_min": lasso.get("lambda_min"), "lasso_lambda_1se": lasso.get("lambda_1se"),
                "lasso_minimum_at_path_end": lasso.get("minimum_at_path_end"),
                "lasso_selected": self.lasso_selected, "variable_limit": self.variable_limit, "how": self.how,
                "selected": self.selected}


#: The legend of every selection frequency in the report.
SELECTION_FREQUENCY = ("how often the selection, rerun without some patients (on each outer fold's training "
                       "patients; on each bootstrap resample), chose the same feature again. Fewer patients allow "
                       "fewer features, so the last feature to enter comes back less often for that reason alone; "
                       "beyond that, a feature chosen in few reruns is one these data cannot tell from its "
                       "neighbours, so its name is not a finding (Heinze, Wallisch and Dunkler 2018)")
#: The reruns behind a fold frequency (:class:`SelectionFrequency`) and behind a bootstrap one.
NESTED_RERUN = "the training patients of each outer fold of the nested CV"
BOOTSTRAP_RERUN = "each optimism bootstrap resample"


@dataclass(frozen=True)
class SelectionFrequency(Result):
    """How often the selection, rerun on ``runs`` other samples of the patients (``rerun``: the nested CV's
    outer training folds, or the optimism bootstrap's resamples), chose each feature again (Heinze, Wallisch and
    Dunkler 2018, inclusion frequencies). ``chosen``: the features chosen on all patients, with their counts;
    ``others``: the features chosen most often in their place, of ``others_total`` other features chosen at all.
    ``limit`` is the events-per-variable cap on all patients, ``rerun_limit`` the largest in any rerun: where it
    is smaller, the last feature to enter cannot come back in every rerun. A feature chosen in few reruns is one
    the data cannot tell from its neighbours: the score's nested performance, not its list of features, is what
    carries to new patients."""

    rerun: str
    runs: int
    chosen: dict[str, int]
    others: dict[str, int]
    others_total: int
    limit: int
    rerun_limit: int

    def text(self) -> str:
        """``selection rerun on ... (at most 3 features each, 4 on all patients): f_0300 5 of 5, ...``."""
        def counts(table: dict[str, int]) -> str:
            return ", ".join(f"{name} {count} of {self.runs}" for name, count in table.items())

        cap = f"at most {self.rerun_limit} feature{'s' if self.rerun_limit > 1 else ''} each" + (
            f", against {self.limit} on all patients" if self.rerun_limit < self.limit else "")
        shown = ("" if len(self.others) == self.others_total
                 else f" ({len(self.others)} of the {self.others_total} other features chosen shown)")
        others = f"; most often chosen otherwise: {counts(self.others)}{shown}" if self.others else ""
        few = (" (fewer than 100 reruns: rough counts)" if self.rerun == BOOTSTRAP_RERUN and self.runs < 100 else "")
        return f"selection rerun on {self.rerun} ({cap}); times chosen: {counts(self.chosen)}{others}{few}"


def selection_frequency(chosen: SelectionSteps, reruns: list[SelectionSteps], rerun: str,
                        others: int = 3) -> SelectionFrequency:
    """Counts of the features ``chosen`` on all patients (and of the ``others`` features most often chosen instead)
    over the ``reruns`` of the selection."""
    from collections import Counter

    counts = Counter(name for run in reruns for name in set(run.selected))
    rivals = sorted((name for name in counts if name not in chosen.selected), key=lambda name: (-counts[name], name))
    return SelectionFrequency(rerun, len(reruns), {name: counts[name] for name in chosen.selected},
                              {name: counts[name] for name in rivals[:others]}, len(rivals), chosen.variable_limit,
                              max((run.variable_limit for run in reruns), default=0))
