"""Disease-free survival among ALK-positive patients (Methods 2.4.2, Results 3.3): the RAD-risk score.

Selection: univariate Cox screening (P < 0.05), LASSO Cox (10-fold CV, lambda.min by default), then the
events-per-variable cap applied by choosing the best subset of the allowed size among LASSO's survivors by
partial likelihood (:func:`selection.best_subset_cox`), never by forcing elimination past its stopping rule.
RAD-risk groups split at the median. Every C-index, log-rank test, group hazard ratio and likelihood-ratio test
is labelled: apparent (all patients), cross-validated (the paper's, features fixed) or nested (selection and
fits inside each outer fold; groups cut at the training folds' medians). Out-of-fold comparison of the combined
model (N stage + RAD-risk) with N stage alone: the likelihood-ratio test of the pre-validated RAD-risk
(Tibshirani and Efron 2002: each patient's out-of-fold score as a covariate beside N stage), with both nested C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from . import selection
from .common import (
    NESTED_RERUN,
    Coefficient,
    SelectionFrequency,
    SelectionSteps,
    TrainSettings,
    coefficient_table,
    selection_frequency,
    stratified_folds,
)
from .estimates import APPARENT, CROSS_VALIDATED, NESTED, Comparison, Estimate, PaperBootstrap, plain

PREVALIDATED_LRT = ("likelihood-ratio test of the pre-validated (out-of-fold) RAD-risk added to N stage in a Cox "
                    "model (Tibshirani and Efron 2002), 1 df")


def select_dfs_features(frame: pd.DataFrame, features: list[str], settings: TrainSettings) -> SelectionSteps:
    """Screening, LASSO Cox, best subset within the cap: the RAD-risk score's features and each step's result."""
    screened = selection.screen_cox(frame, features, settings.screen_p)
    lasso = (selection.lasso_cox_path(frame, screened, settings.seed, settings.lasso_folds, settings.dfs_lambda)
             if screened else None)
    candidates = lasso["selected"] if lasso else []
    limit = selection.max_variables(frame["event"].sum(), settings.dfs_events_per_variable)
    chosen, how = selection.best_subset_cox(frame, candidates, limit=limit) if candidates else ([], "")
    return SelectionSteps(screened, lasso, limit, chosen, how)


def why_empty(steps: SelectionSteps) -> str:
    if not steps.screened:
        return "no feature passed univariate Cox screening (P < 0.05)"
    if not steps.lasso_selected:
        return f"{len(steps.screened)} features passed screening but LASSO Cox (lambda.{steps.lasso['rule']}) kept none"
    return f"LASSO kept {len(steps.lasso_selected)} but no subset kept a variable with P <= 0.10"


def survival_folds(frame: pd.DataFrame, settings: TrainSettings):
    """K folds stratified by event, so every fold has events to rank."""
    return stratified_folds(frame["event"].to_numpy(int), settings)


def _c(time, event, risk, kind: str, method: str) -> Estimate:
    c, low, high = stats.harrell_c_ci(time, event, risk)
    return Estimate(c, kind, method, (low, high))


def _groups(time, event, high, kind: str, method: str) -> tuple[Comparison, Estimate] | tuple[None, None]:
    """Log-rank test and Cox hazard ratio of the high vs the low group."""
    if not 0 < high.sum() < len(high):
        return None, None
    from lifelines.statistics import logrank_test

    test = logrank_test(time[high], time[~high], event[high], event[~high])
    fit = selection.cox_fit(pd.DataFrame({"time": time, "event": event, "high": high.astype(float)}), ["high"])
    low_ci, high_ci = fit.conf_int()[0]
    return (Comparison("log-rank", float(test.test_statistic), float(test.p_value), kind,
                       f"high {int(high.sum())} vs low {int((~high).sum())}"),
            Estimate(math.exp(fit.params[0]), kind, method, (math.exp(low_ci), math.exp(high_ci))))


@dataclass(frozen=True)
class DfsResult:
    """The DFS half of a training. ``chosen`` empty: no RAD-risk was trained, and ``absent`` says why."""

    steps: SelectionSteps
    chosen: list[str]
    patients: int
    events: int
    median_followup_months: float
    absent: str = ""
    fit: object = None
    risk: np.ndarray | None = None
    cutoff: float = math.nan
    group_fit: object = None
    n_stage_fit: object = None
    estimates: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    comparisons: dict[str, dict[str, Comparison]] = field(default_factory=dict)
    nested_steps: list[SelectionSteps] = field(default_factory=list)  #: each outer fold's selection
    bootstrap: PaperBootstrap | None = None
    curves: dict = field(default_factory=dict)

    def coefficients(self) -> dict[str, Coefficient]:
        """The RAD-risk's Cox model on all ALK-positive patients (apparent); empty when none was trained."""
        return coefficient_table(self.fit, self.chosen, "hr") if self.chosen else {}

    @property
    def fold_frequency(self) -> SelectionFrequency:
        """How often each outer fold's selection chose the RAD-risk's features again."""
        return selection_frequency(self.steps, self.nested_steps, NESTED_RERUN)

    def to_dict(self) -> dict:
        data = {"selection": self.steps.to_dict(), "patients": self.patients, "events": self.events,
                "median_followup_months": self.median_followup_months}
        if self.absent:
            return {**data, "absent": self.absent}
        return {**data, "coefficients": plain(self.coefficients()), "median_cutoff": self.cutoff,
                "estimates": plain(self.estimates), "comparisons": plain(self.comparisons),
                "nested_selected_per_fold": [fold.selected for fold in self.nested_steps],
                "selection_frequency": self.fold_frequency.to_dict(),
                "paper_bootstrap": plain(self.bootstrap)}


def train_dfs(frame: pd.DataFrame, n_stage: np.ndarray | None, settings: TrainSettings, clock) -> DfsResult:
    """``frame``: standardized features with ``time`` and ``event`` of the ALK-positive patients; ``n_stage``
    (0/1 per patient) where known for all of them."""
    features = [c for c in frame.columns if c not in ("time", "event")]
    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(int)
    facts = {"patients": int(len(frame)), "events": int(event.sum()),
             "median_followup_months": stats.reverse_km_median_followup(time, event)}
    steps = select_dfs_features(frame, features, settings)
    chosen = steps.selected
    clock.lap("dfs_selection")
    if not chosen:
        stage_fit = (selection.cox_fit(frame[["time", "event"]].assign(n_stage=n_stage), ["n_stage"])
                     if n_stage is not None else None)
        return DfsResult(steps, [], **facts, absent=f"No RAD-risk score was trained: {why_empty(steps)}.",
                         n_stage_fit=stage_fit)
    fit = selection.cox_fit(frame, chosen)
    risk = frame[chosen].to_numpy() @ fit.params
    cutoff = float(np.median(risk))
    high = risk > cutoff
    estimates: dict = {"c_index": {"apparent": _c(time, event, risk, APPARENT, "fitted on all ALK-positive patients"),
                                   "cross_validated": _c(time, event, _paper_cv(frame, chosen, settings),
                                                         CROSS_VALIDATED, "five-fold CV, features chosen on all")}}
    comparisons: dict = {}
    logrank, group_hr = _groups(time, event, high, APPARENT, "median split of the apparent RAD-risk")
    if logrank is not None:
        comparisons["logrank"] = {"apparent": logrank}
        estimates["group_hazard_ratio"] = {"apparent": group_hr}
    clock.lap("dfs_models")
    nested, nested_high, combined, stage, selected = _nested(frame, features, n_stage, settings)
    estimates["c_index"]["nested"] = _c(time, event, nested, NESTED, "five-fold CV, selection inside the folds")
    logrank, group_hr = _groups(time, event, nested_high, NESTED, "groups cut at each training fold's median")
    if logrank is not None:
        comparisons["logrank"]["nested"] = logrank
        estimates["group_hazard_ratio"]["nested"] = group_hr
    n_stage_fit = None
    if n_stage is not None:
        with_stage = frame[["time", "event"]].assign(n_stage=n_stage, rad_risk=risk, prevalidated=nested)
        n_stage_fit = selection.cox_fit(with_stage, ["n_stage"])
        estimates["n_stage_c_index"] = {"apparent": _c(time, event, n_stage, APPARENT, "N stage alone"),
                                        "nested": _c(time, event, stage, NESTED, "N stage, fitted inside each fold")}
        estimates["combined_c_index"] = {"nested": _c(time, event, combined, NESTED, "N stage + RAD-risk, both fitted "
                                                      "inside each fold")}
        tests = [("apparent", "rad_risk", APPARENT)]
        if np.ptp(nested) > 0:  # some fold trained a RAD-risk
            tests.append(("nested", "prevalidated", NESTED))
        for label, column, kind in tests:
            statistic, _, p = stats.cox_lrt(with_stage, "time", "event", ["n_stage"], ["n_stage", column])
            test = PREVALIDATED_LRT if kind == NESTED else "likelihood-ratio test, RAD-risk fitted on these patients"
            comparisons.setdefault("combined_vs_n_stage", {})[label] = Comparison("likelihood ratio", statistic, p,
                                                                                  kind, test)
    clock.lap("dfs_nested_cv")
    bootstrap = paper_bootstrap_c(frame, chosen, settings)
    clock.lap("dfs_bootstrap")
    group_fit = selection.cox_fit(frame.assign(high_risk=high.astype(float)), ["high_risk"])
    return DfsResult(steps, chosen, **facts, fit=fit, risk=risk, cutoff=cutoff, group_fit=group_fit,
                     n_stage_fit=n_stage_fit, estimates=estimates, comparisons=comparisons, nested_steps=selected,
                     bootstrap=bootstrap, curves={"dfs": {"time": time, "event": event, "high_risk": high},
                                        "dfs_nested": {"time": time, "event": event, "high_risk": nested_high},
                                        "lasso_dfs": steps.lasso})


def _nested(frame: pd.DataFrame, features: list[str], n_stage: np.ndarray | None, settings: TrainSettings):
    """Out-of-fold RAD-risk, high-risk group (training fold's median) and N stage + RAD-risk log-hazard."""
    n = len(frame)
    risk, high, combined, selected = np.zeros(n), np.zeros(n, bool), np.zeros(n), []
    stage = np.zeros(n)
    for train, test in survival_folds(frame, settings):
        part = frame.iloc[train]
        if n_stage is not None:
            stage_fit = selection.cox_fit(part[["time", "event"]].assign(n_stage=n_stage[train]), ["n_stage"])
            stage[test] = n_stage[test] * stage_fit.params[0]
            combined[test] = stage[test]  # replaced below when the fold has a RAD-risk
        steps = select_dfs_features(part, features, settings)
        selected.append(steps)
        chosen = steps.selected
        if not chosen:
            continue  # risk 0 and low risk: the fold's model knows nothing
        fit = selection.cox_fit(part, chosen)
        train_risk = part[chosen].to_numpy() @ fit.params
        risk[test] = frame.iloc[test][chosen].to_numpy() @ fit.params
        high[test] = risk[test] > np.median(train_risk)
        if n_stage is not None:
            both = part[["time", "event"]].assign(n_stage=n_stage[train], rad_risk=train_risk)
            combined_fit = selection.cox_fit(both, ["n_stage", "rad_risk"])
            combined[test] = np.column_stack([n_stage[test], risk[test]]) @ combined_fit.params
    return risk, high, combined, stage, selected


def _paper_cv(frame: pd.DataFrame, names: list[str], settings: TrainSettings) -> np.ndarray:
    """Out-of-fold risk of a Cox model on fixed ``names`` (the paper's CV)."""
    risk = np.zeros(len(frame))
    for train, test in survival_folds(frame, settings):
        fit = selection.cox_fit(frame.iloc[train], names)
        risk[test] = frame.iloc[test][names].to_numpy() @ fit.params
    return risk


def paper_bootstrap_c(frame: pd.DataFrame, names: list[str], settings: TrainSettings) -> PaperBootstrap:
    """The paper's bootstrap of C: the Cox model on fixed ``names`` refitted and measured on each resample
    (apparent; mean and SD only: a percentile range of apparent C is not a confidence interval)."""
    rng = np.random.default_rng(settings.seed)
    values = []
    while len(values) < settings.bootstraps:
        sample = frame.iloc[rng.integers(0, len(frame), len(frame))]
        if sample["event"].sum() < 2:
            continue
        fit = selection.cox_fit(sample, names)
        values.append(stats.harrell_c(sample["time"], sample["event"], sample[names].to_numpy() @ fit.params))
    return PaperBootstrap(settings.bootstraps, float(np.mean(values)), float(np.std(values, ddof=1)))
