"""ALK status (Methods 2.4.1, Results 3.2): the Rad-score, the clinicopathological and combined models.

Selection: univariate logistic screening (P < 0.05), LASSO logistic (10-fold CV), forward stepwise logistic
-> Rad-score. Clinicopathological model: the clinical columns significant on univariate logistic regression,
fitted together. Combined: Rad-score + HLA-I + PD-L1. Each model's AUC is reported three ways, labelled:
apparent (all patients), cross-validated (the paper's: features fixed, coefficients refitted per fold), nested
(screening, LASSO, stepwise, clinical selection and every fit repeated inside each outer fold; the Rad-score
entering the combined model rebuilt in the fold, its weight fitted on the training patients' inner out-of-fold
Rad-score, itself nested). The DeLong tests between models use the nested out-of-fold predictions of the same patients.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError
from . import selection
from .common import (
    NESTED_RERUN,
    Coefficient,
    SelectionFrequency,
    SelectionSteps,
    TrainSettings,
    coefficient_table,
    log_odds,
    selection_frequency,
    stratified_folds,
)
from .estimates import APPARENT, CROSS_VALIDATED, NESTED, Comparison, Estimate, PaperBootstrap, plain

COMBINED = ["rad_score", "hla", "pdl1"]
DELONG = "DeLong's paired test of two AUCs (pROC's roc.test), on the nested out-of-fold predictions"


def select_alk_features(X: pd.DataFrame, y: np.ndarray, settings: TrainSettings) -> SelectionSteps:
    """Screening, LASSO logistic, forward stepwise: the Rad-score's features and each step's result."""
    screened = selection.screen_logistic(X, y, settings.screen_p)
    lasso = (selection.lasso_logistic_path(X[screened], y, settings.seed, settings.lasso_folds, settings.alk_lambda)
             if screened else None)
    candidates = lasso["selected"] if lasso else []
    limit = selection.max_variables(min(y.sum(), len(y) - y.sum()), settings.events_per_variable)
    chosen = selection.forward_logistic(X, y, candidates, limit=limit)
    return SelectionSteps(screened, lasso, limit, chosen,
                          "forward stepwise (enter P < 0.05, leave P > 0.10) among LASSO survivors, at most the cap")


def clinical_selection(frame: pd.DataFrame, y: np.ndarray, names: list[str],
                       threshold: float) -> tuple[dict[str, Coefficient], list[str]]:
    """Univariate logistic regression of each clinical column; those with P < ``threshold``."""
    univariate = {}
    for name in names:
        fit = selection.logistic_fit(frame[[name]], y)
        univariate[name] = coefficient_table(fit, [name], "or")[name]
    return univariate, [n for n in names if univariate[n].p < threshold]


def _constant(y_train: np.ndarray, n: int) -> np.ndarray:
    rate = float(np.clip(y_train.mean(), 1e-6, 1 - 1e-6))
    return np.full(n, np.log(rate / (1 - rate)))


def _fold_predictions(X: pd.DataFrame, clinical: pd.DataFrame, y: np.ndarray, train: np.ndarray,
                      test: np.ndarray, settings: TrainSettings
                      ) -> tuple[dict[str, np.ndarray], SelectionSteps, list[str]]:
    """Every model built on ``train`` alone (selection included), predicting ``test``: log-odds per model, the
    Rad-score's selection and the significant clinical variables."""
    steps = select_alk_features(X.iloc[train], y[train], settings)
    chosen = steps.selected
    out: dict[str, np.ndarray] = {}
    if chosen:
        fit = selection.logistic_fit(X.iloc[train][chosen], y[train])
        out["radiomic"] = log_odds(fit, X.iloc[test], chosen)
        # The combined model's weights are fitted on the training patients' own nested (inner out-of-fold)
        # Rad-score: their apparent one, or one on features chosen on them, is overfitted and makes the combined
        # model trust noise (on cohorts where the Rad-score adds nothing, it then did worse than the clinical one).
        rad_train = _inner_nested(X.iloc[train], y[train], settings)
    else:  # nothing selected in this fold: the Rad-score knows only the prevalence
        rad_train, out["radiomic"] = _constant(y[train], len(train)), _constant(y[train], len(test))
    _, significant = clinical_selection(clinical.iloc[train], y[train], list(clinical.columns), settings.screen_p)
    if significant:
        fit = selection.logistic_fit(clinical.iloc[train][significant], y[train])
        out["clinicopathological"] = log_odds(fit, clinical.iloc[test], significant)
    else:
        out["clinicopathological"] = _constant(y[train], len(test))
    if {"hla", "pdl1"} <= set(clinical.columns):
        frame = pd.DataFrame({"rad_score": np.r_[rad_train, out["radiomic"]],
                              "hla": clinical["hla"].to_numpy()[np.r_[train, test]],
                              "pdl1": clinical["pdl1"].to_numpy()[np.r_[train, test]]})
        names = COMBINED if len(np.unique(rad_train)) > len(rad_train) // 2 else COMBINED[1:]
        try:
            fit = selection.logistic_fit(frame.iloc[:len(train)][names], y[train])
        except np.linalg.LinAlgError:  # a Rad-score that only knows the prevalence: the H-scores alone
            names = COMBINED[1:]
            fit = selection.logistic_fit(frame.iloc[:len(train)][names], y[train])
        out["combined"] = log_odds(fit, frame.iloc[len(train):], names)
    return out, steps, significant


def _inner_nested(X: pd.DataFrame, y: np.ndarray, settings: TrainSettings) -> np.ndarray:
    """Out-of-fold Rad-score of the patients of ``X``, selection repeated inside each inner fold."""
    prediction = np.zeros(len(y))
    for train, test in stratified_folds(y, settings):
        chosen = select_alk_features(X.iloc[train], y[train], settings).selected
        if chosen:
            fit = selection.logistic_fit(X.iloc[train][chosen], y[train])
            prediction[test] = log_odds(fit, X.iloc[test], chosen)
        else:
            prediction[test] = _constant(y[train], len(test))
    return prediction


def nested_predictions(X: pd.DataFrame, clinical: pd.DataFrame, y: np.ndarray,
                       settings: TrainSettings) -> tuple[dict[str, np.ndarray], list[SelectionSteps], list[list[str]]]:
    """Out-of-fold log-odds of every model, each fold's models built without its patients; each fold's Rad-score
    selection and significant clinical variables."""
    predictions: dict[str, np.ndarray] = {}
    radiomic_per_fold, clinical_per_fold = [], []
    for train, test in stratified_folds(y, settings):
        fold, steps, significant = _fold_predictions(X, clinical, y, train, test, settings)
        for name, values in fold.items():
            predictions.setdefault(name, np.zeros(len(y)))[test] = values
        radiomic_per_fold.append(steps)
        clinical_per_fold.append(significant)
    return predictions, radiomic_per_fold, clinical_per_fold


def _auc(y: np.ndarray, prediction: np.ndarray, kind: str, method: str) -> Estimate:
    auc, low, high = stats.auc_ci(y, prediction)
    return Estimate(auc, kind, method, (low, high))


def delong_comparisons(y: np.ndarray, predictions: dict[str, np.ndarray], kind: str) -> dict[str, Comparison]:
    names, tests = list(predictions), {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            try:
                auc_a, auc_b, z, p = stats.delong_test(y, predictions[a], predictions[b])
            except ValueError:  # identical rankings: nothing to compare
                continue
            tests[f"{a} vs {b}"] = Comparison("DeLong", z, p, kind, f"AUC {auc_a:.3f} vs {auc_b:.3f}")
    return tests


@dataclass(frozen=True)
class AlkResult:
    """The ALK half of a training: the fits on all patients and every labelled estimate."""

    steps: SelectionSteps
    chosen: list[str]
    rad_fit: object
    rad_score: np.ndarray
    clinical_univariate: dict[str, Coefficient]
    clinical_selected: list[str]
    clinical_fit: object | None
    combined_fit: object | None
    auc: dict[str, dict[str, Estimate]]
    delong: dict[str, Comparison]
    nested_steps: list[SelectionSteps]  #: each outer fold's Rad-score selection
    nested_clinical_selected: list[list[str]]
    bootstrap: dict[str, PaperBootstrap]
    curves: dict = field(default_factory=dict)

    def coefficients(self) -> dict[str, dict[str, Coefficient]]:
        """Each model fitted on all patients, variable by variable (apparent)."""
        tables = {"rad_score": coefficient_table(self.rad_fit, self.chosen, "or")}
        if self.clinical_fit is not None:
            tables["clinical"] = coefficient_table(self.clinical_fit, self.clinical_selected, "or")
        if self.combined_fit is not None:
            tables["combined"] = coefficient_table(self.combined_fit, COMBINED, "or")
        return tables

    @property
    def fold_frequency(self) -> SelectionFrequency:
        """How often each outer fold's selection chose the Rad-score's features again."""
        return selection_frequency(self.steps, self.nested_steps, NESTED_RERUN)

    def to_dict(self) -> dict:
        tables = plain(self.coefficients())
        data = {"rad_score_selection": self.steps.to_dict(), "rad_score_coefficients": tables["rad_score"],
                "rad_score_intercept": float(self.rad_fit.params["const"]),
                "clinical_univariate": plain(self.clinical_univariate), "clinical_selected": self.clinical_selected,
                "auc": plain(self.auc), "delong": {"test": DELONG, "pairs": plain(self.delong)},
                "nested_selected_per_fold": [fold.selected for fold in self.nested_steps],
                "selection_frequency": self.fold_frequency.to_dict(),
                "nested_clinical_selected_per_fold": self.nested_clinical_selected,
                "paper_bootstrap": plain(self.bootstrap)}
        if "clinical" in tables:
            data["clinical_coefficients"] = tables["clinical"]
        if "combined" in tables:
            data["combined_coefficients"] = tables["combined"]
            data["combined_intercept"] = float(self.combined_fit.params["const"])
        return data


def train_alk(X: pd.DataFrame, clinical: pd.DataFrame, y: np.ndarray, settings: TrainSettings, clock) -> AlkResult:
    """Select and fit every ALK model on all patients; estimate each AUC apparent, cross-validated and nested."""
    steps = select_alk_features(X, y, settings)
    chosen = steps.selected
    clock.lap("alk_selection")
    if not chosen:
        raise InputError("No radiomic feature predicts ALK status in this cohort: none survived screening, LASSO "
                         "and forward selection, so no Rad-score can be trained.")
    rad_fit = selection.logistic_fit(X[chosen], y)
    rad_score = log_odds(rad_fit, X, chosen)
    univariate, significant = clinical_selection(clinical, y, list(clinical.columns), settings.screen_p)
    models: dict[str, tuple[pd.DataFrame, list[str]]] = {"radiomic": (X, chosen)}
    clinical_fit = combined_fit = None
    if significant:
        clinical_fit = selection.logistic_fit(clinical[significant], y)
        models["clinicopathological"] = (clinical, significant)
    if {"hla", "pdl1"} <= set(clinical.columns):
        combined = pd.DataFrame({"rad_score": rad_score, "hla": clinical["hla"], "pdl1": clinical["pdl1"]},
                                index=X.index)
        combined_fit = selection.logistic_fit(combined, y)
        models["combined"] = (combined, COMBINED)
    fits = {"radiomic": rad_fit, "clinicopathological": clinical_fit, "combined": combined_fit}
    auc: dict[str, dict[str, Estimate]] = {}
    paper_cv = {}
    for name, (frame, names) in models.items():
        paper_cv[name] = _paper_cv(frame, y, names, settings)
        auc[name] = {"apparent": _auc(y, log_odds(fits[name], frame, names), APPARENT, "fitted on all patients"),
                     "cross_validated": _auc(y, paper_cv[name], CROSS_VALIDATED,
                                             "five-fold CV with the variables chosen on all patients")}
    clock.lap("alk_models")
    nested, radiomic_per_fold, clinical_per_fold = nested_predictions(X, clinical, y, settings)
    for name, prediction in nested.items():
        auc.setdefault(name, {})["nested"] = _auc(y, prediction, NESTED, "five-fold CV, selection inside the folds")
    clock.lap("alk_nested_cv")
    bootstrap = {name: paper_bootstrap(frame, y, names, settings) for name, (frame, names) in models.items()}
    clock.lap("alk_bootstrap")
    return AlkResult(steps, chosen, rad_fit, rad_score, univariate, significant, clinical_fit, combined_fit, auc,
                     delong_comparisons(y, nested, NESTED), radiomic_per_fold, clinical_per_fold, bootstrap,
                     {"alk": y, "roc_nested": nested, "roc_cv": paper_cv, "lasso_alk": steps.lasso})


def _paper_cv(frame: pd.DataFrame, y: np.ndarray, names: list[str], settings: TrainSettings) -> np.ndarray:
    """Out-of-fold log-odds of a logistic model on fixed ``names`` (the paper's five-fold CV)."""
    prediction = np.zeros(len(y))
    for train, test in stratified_folds(y, settings):
        fit = selection.logistic_fit(frame.iloc[train][names], y[train])
        prediction[test] = log_odds(fit, frame.iloc[test], names)
    return prediction


def paper_bootstrap(frame: pd.DataFrame, y: np.ndarray, names: list[str], settings: TrainSettings) -> PaperBootstrap:
    """The paper's bootstrap (Results 3.2: mean 0.879, SD 0.030): the model on fixed ``names`` refitted on each
    resample and its AUC measured on that resample, an apparent statistic; the mean AUC on the patients each
    resample left out (out-of-bag) alongside. No interval: a percentile range of apparent AUCs is not one."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(settings.seed)
    apparent, out_of_bag = [], []
    for _ in range(20 * settings.bootstraps):  # resamples that cannot be fitted are drawn again, not forever
        if len(apparent) == settings.bootstraps:
            break
        sample = rng.integers(0, len(y), len(y))
        left_out = np.setdiff1d(np.arange(len(y)), sample)
        if not (0 < y[sample].sum() < len(sample) and 0 < y[left_out].sum() < len(left_out)):
            continue
        try:
            fit = selection.logistic_fit(frame.iloc[sample][names], y[sample])
        except np.linalg.LinAlgError:  # a resample where a binary column is constant
            continue
        if not fit.mle_retvals["converged"]:
            continue
        apparent.append(roc_auc_score(y[sample], log_odds(fit, frame.iloc[sample], names)))
        out_of_bag.append(roc_auc_score(y[left_out], log_odds(fit, frame.iloc[left_out], names)))
    if len(apparent) < 2:
        return PaperBootstrap(0, not_run="no resample could be fitted (separation)")
    return PaperBootstrap(len(apparent), float(np.mean(apparent)), float(np.std(apparent, ddof=1)),
                          out_of_bag_mean=float(np.mean(out_of_bag)))
