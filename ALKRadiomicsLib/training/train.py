"""The paper's pipeline (Methods 2.4-2.5) re-run on a site's cohort: a model file and every table.

ALK: univariate logistic screening (P < 0.05), LASSO logistic (10-fold CV, minimum deviance),
forward stepwise logistic -> Rad-score; clinicopathological model (univariate, then
multivariate logistic); combined model (Rad-score + HLA-I + PD-L1, the model file's structure);
ROC AUCs with DeLong CIs from five-fold cross-validated predictions and DeLong tests between the
models; 500 bootstrap refits (AUC mean, SD, coefficient of variation).
DFS (ALK-positive patients): univariate Cox screening, LASSO Cox (10-fold CV), backward
stepwise Cox -> RAD-risk score and its median cutoff, Kaplan-Meier log-rank test of the two
groups, N-stage and combined Cox models, Harrell's C (apparent, five-fold CV, 500-bootstrap
CI), likelihood-ratio tests between nested models, reverse Kaplan-Meier median follow-up.
Table 1 (chi-squared / Mann-Whitney U) and Spearman correlations of the scores.

Two numbers the paper does not report are added because the paper's five-fold CV keeps the
features chosen on all patients and so flatters the model: the AUC and C-index with the whole
selection repeated inside every fold ("nested"), the honest estimate for a new patient.
"""

from __future__ import annotations

import datetime
import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError
from ..model import Model, Parameter, Provenance, Regression, Standardization, Term, published
from ..model.derivations import Z_95
from ..model.schema import ReferencePopulation
from ..resources import load_parameters
from . import selection
from .tables import spearman, table1

#: Cohort columns that are not clinical candidates for the clinicopathological models.
NOT_CLINICAL = ("alk", "dfs_months", "event", "image", "mask", "label")


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    lasso_folds: int = 10
    cv_folds: int = 5
    bootstraps: int = 500
    screen_p: float = 0.05
    #: The paper picks the ALK LASSO's lambda at minimum CV deviance ("minimum criteria"). For the
    #: Cox LASSO it says only "selected by 10-fold cross-validation", keeping 5 of 400 features;
    #: glmnet's own default for coef() is lambda.1se, which leaves backward selection a model it
    #: can fit (about 8 candidates for 40 events instead of 19).
    alk_lambda: str = "min"
    dfs_lambda: str = "1se"
    events_per_variable: int = selection.EVENTS_PER_VARIABLE


@dataclass
class Training:
    """What ``train`` produced: the model file, the JSON-ready report and the figures' data."""

    model: Model
    report: dict
    curves: dict = field(default_factory=dict)


class _Stopwatch:
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


def select_alk_features(X: pd.DataFrame, y: np.ndarray, settings: TrainSettings) -> dict:
    """Screening, LASSO logistic, forward stepwise: the Rad-score's features and each step's result."""
    screened = selection.screen_logistic(X, y, settings.screen_p)
    lasso = (selection.lasso_logistic_path(X[screened], y, settings.seed, settings.lasso_folds, settings.alk_lambda)
             if screened else None)
    candidates = lasso["selected"] if lasso else []
    limit = selection.max_variables(min(y.sum(), len(y) - y.sum()), settings.events_per_variable)
    chosen = selection.forward_logistic(X, y, candidates, limit=limit)
    return {"screened": screened, "lasso": lasso, "variable_limit": limit, "selected": chosen}


def select_dfs_features(frame: pd.DataFrame, features: list[str], settings: TrainSettings) -> dict:
    """Screening, LASSO Cox, backward stepwise: the RAD-risk score's features and each step's result."""
    screened = selection.screen_cox(frame, features, settings.screen_p)
    lasso = (selection.lasso_cox_path(frame, screened, settings.seed, settings.lasso_folds, settings.dfs_lambda)
             if screened else None)
    candidates = lasso["selected"] if lasso else []
    limit = selection.max_variables(frame["event"].sum(), settings.events_per_variable)
    chosen = selection.backward_cox(frame, candidates, limit=limit)
    return {"screened": screened, "lasso": lasso, "variable_limit": limit, "selected": chosen}


def _step_summary(steps: dict) -> dict:
    lasso = steps["lasso"] or {}
    return {"screened": len(steps["screened"]), "screened_top": steps["screened"][:20],
            "lasso_rule": lasso.get("rule"), "lasso_lambda": lasso.get("lambda"),
            "lasso_lambda_min": lasso.get("lambda_min"), "lasso_lambda_1se": lasso.get("lambda_1se"),
            "lasso_minimum_at_path_end": lasso.get("minimum_at_path_end"),
            "lasso_selected": lasso.get("selected", []), "variable_limit": steps["variable_limit"],
            "selected": steps["selected"]}


def _log_odds(fit, frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    return fit.params["const"] + frame[names].to_numpy(float) @ fit.params[names].to_numpy()


def _coefficient_table(fit, names: list[str], ratio: str) -> dict:
    """Per variable: beta, odds or hazard ratio with 95 % CI, Wald P (statsmodels' results)."""
    params, pvalues, intervals = (np.asarray(fit.params), np.asarray(fit.pvalues), np.asarray(fit.conf_int()))
    offset = 1 if len(params) == len(names) + 1 else 0  # logistic results start with the constant
    table = {}
    for k, name in enumerate(names):
        beta, (low, high) = params[k + offset], intervals[k + offset]
        table[name] = {"beta": float(beta), ratio: math.exp(beta), f"{ratio}_ci95": [math.exp(low), math.exp(high)],
                       "p": float(pvalues[k + offset])}
    return table


def _cv_log_odds(frame: pd.DataFrame, y: np.ndarray, names: list[str], settings: TrainSettings) -> np.ndarray:
    """Out-of-fold log-odds of a logistic model on fixed ``names`` (the paper's five-fold CV)."""
    prediction = np.zeros(len(y))
    for train, test in _stratified_folds(y, settings):
        fit = selection.logistic_fit(frame.iloc[train][names], y[train])
        prediction[test] = _log_odds(fit, frame.iloc[test], names)
    return prediction


def _stratified_folds(y: np.ndarray, settings: TrainSettings):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(settings.cv_folds, shuffle=True, random_state=settings.seed).split(np.zeros(len(y)), y)


def _nested_cv_auc(X: pd.DataFrame, y: np.ndarray, settings: TrainSettings) -> dict:
    """The AUC with screening, LASSO and stepwise selection repeated inside every fold."""
    prediction = np.zeros(len(y))
    chosen_per_fold = []
    for train, test in _stratified_folds(y, settings):
        chosen = select_alk_features(X.iloc[train], y[train], settings)["selected"]
        chosen_per_fold.append(chosen)
        if chosen:
            fit = selection.logistic_fit(X.iloc[train][chosen], y[train])
            prediction[test] = _log_odds(fit, X.iloc[test], chosen)
    auc, low, high = stats.auc_ci(y, prediction)
    return {"auc": auc, "ci95": [low, high], "selected_per_fold": chosen_per_fold}


def _bootstrap_auc(frame: pd.DataFrame, y: np.ndarray, names: list[str], settings: TrainSettings) -> dict:
    """Refit on each bootstrap resample: AUC on the resample (the paper's), and on the patients
    the resample left out."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(settings.seed)
    apparent, out_of_bag = [], []
    while len(apparent) < settings.bootstraps:
        sample = rng.integers(0, len(y), len(y))
        left_out = np.setdiff1d(np.arange(len(y)), sample)
        if not (0 < y[sample].sum() < len(sample) and 0 < y[left_out].sum() < len(left_out)):
            continue
        fit = selection.logistic_fit(frame.iloc[sample][names], y[sample])
        if not fit.mle_retvals["converged"]:
            continue
        apparent.append(roc_auc_score(y[sample], _log_odds(fit, frame.iloc[sample], names)))
        out_of_bag.append(roc_auc_score(y[left_out], _log_odds(fit, frame.iloc[left_out], names)))
    mean, sd = float(np.mean(apparent)), float(np.std(apparent, ddof=1))
    return {"resamples": settings.bootstraps, "mean": mean, "sd": sd, "coefficient_of_variation": sd / mean,
            "ci95": [float(v) for v in np.percentile(apparent, [2.5, 97.5])],
            "out_of_bag_mean": float(np.mean(out_of_bag))}


def train(data: pd.DataFrame, features: list[str], *, cohort: str, command: str,
          settings: TrainSettings = TrainSettings()) -> Training:
    """Run the pipeline on ``data`` (one row per patient: ``alk``, the features, clinical columns)."""
    clock = _Stopwatch()
    today = datetime.date.today().isoformat()
    y = data["alk"].to_numpy(int)
    if min(y.sum(), len(y) - y.sum()) < 10:
        raise InputError(f"Training needs at least 10 ALK-positive and 10 ALK-negative patients; the cohort has "
                         f"{int(y.sum())} and {int(len(y) - y.sum())}.")
    _dfs_patients(data)  # refuse now rather than after minutes of ALK training
    X, scale = standardize(data, features)
    report: dict = {"cohort": cohort, "patients": len(data), "alk_positive": int(y.sum()),
                    "features_offered": len(features), "features_constant": len(features) - X.shape[1],
                    "settings": settings.__dict__}
    curves: dict = {"alk": y}

    steps = select_alk_features(X, y, settings)
    chosen = steps["selected"]
    curves["lasso_alk"] = steps["lasso"]
    clock.lap("alk_selection")
    if not chosen:
        raise InputError("No radiomic feature predicts ALK status in this cohort: none survived screening, LASSO "
                         "and forward selection, so no Rad-score can be trained.")
    rad_fit = selection.logistic_fit(X[chosen], y)
    rad_score = _log_odds(rad_fit, X, chosen)
    report["alk_radiomic"] = {**_step_summary(steps), "coefficients": _coefficient_table(rad_fit, chosen, "or"),
                              "intercept": float(rad_fit.params["const"])}

    clinical, skipped = _clinical_candidates(data, features)
    report["clinical_candidates"], report["clinical_skipped"] = clinical, skipped
    clinical_frame = data[clinical].astype(float)
    univariate = {}
    for name in clinical:
        fit = selection.logistic_fit(clinical_frame[[name]], y)
        univariate[name] = _coefficient_table(fit, [name], "or")[name]
    significant = [n for n in clinical if univariate[n]["p"] < settings.screen_p]
    report["alk_clinical"] = {"univariate": univariate, "selected": significant}
    models = {"radiomic": (X, chosen)}
    fits = {"radiomic": rad_fit}  # each model fitted once on all patients
    if significant:
        clinical_fit = selection.logistic_fit(clinical_frame[significant], y)
        report["alk_clinical"]["multivariate"] = _coefficient_table(clinical_fit, significant, "or")
        models["clinicopathological"] = (clinical_frame, significant)
        fits["clinicopathological"] = clinical_fit
    combined_frame = None
    if {"hla", "pdl1"} <= set(clinical):
        combined_frame = pd.DataFrame({"rad_score": rad_score, "hla": clinical_frame["hla"],
                                       "pdl1": clinical_frame["pdl1"]}, index=data.index)
        combined_fit = selection.logistic_fit(combined_frame, y)
        report["alk_combined"] = {"coefficients": _coefficient_table(combined_fit, ["rad_score", "hla", "pdl1"], "or"),
                                  "intercept": float(combined_fit.params["const"])}
        models["combined"] = (combined_frame, ["rad_score", "hla", "pdl1"])
        fits["combined"] = combined_fit
    predictions = {name: _cv_log_odds(frame, y, names, settings) for name, (frame, names) in models.items()}
    report["roc_cv"] = {}
    for name, prediction in predictions.items():
        auc, low, high = stats.auc_ci(y, prediction)
        apparent, _, _ = stats.auc_ci(y, _log_odds(fits[name], *models[name]))
        report["roc_cv"][name] = {"auc": auc, "ci95": [low, high], "apparent_auc": apparent}
    names = list(predictions)
    report["delong"] = {f"{a} vs {b}": dict(zip(("auc_a", "auc_b", "z", "p"),
                                                stats.delong_test(y, predictions[a], predictions[b]), strict=True))
                        for i, a in enumerate(names) for b in names[i + 1:]}
    curves["roc_cv"] = predictions
    clock.lap("alk_models")
    report["alk_radiomic"]["nested_cv"] = _nested_cv_auc(X, y, settings)
    clock.lap("alk_nested_cv")
    report["bootstrap_auc"] = {name: _bootstrap_auc(frame, y, names_, settings)
                               for name, (frame, names_) in models.items()}
    clock.lap("alk_bootstrap")

    dfs = _train_dfs(data, X, settings, clock)
    report.update(dfs.report)
    curves.update(dfs.curves)
    report["table1"] = table1(data, clinical)
    scores = {"rad_score": pd.Series(rad_score, index=data.index)}
    if dfs.rad_risk is not None:
        scores["rad_risk"] = dfs.rad_risk
    report["spearman"] = spearman(scores, data, clinical)
    clock.lap("tables")
    report["seconds_per_stage"] = clock.seconds

    def derived(method: str, where: str = "all patients") -> Provenance:
        return Provenance.derived(f"{cohort} ({len(data)} patients; {where})", method, command, today)

    model_features = list(dict.fromkeys(chosen + dfs.chosen))
    model = Model(
        name="site-trained-alk-signature", version=f"1.0.0+{today}", calibrated=True,
        description=f"Trained on {cohort} ({len(data)} patients) with the pipeline of Han et al. (Methods "
                    f"2.4-2.5); features {', '.join(model_features)}.",
        citation=published.CITATION, extraction=load_parameters(),
        standardization={n: Standardization(Parameter(scale[n][0], derived("training-cohort mean")),
                                            Parameter(scale[n][1], derived("training-cohort SD (n - 1)")))
                         for n in model_features},
        reference=ReferencePopulation(
            description=f"The training cohort {cohort}: {len(data)} patients.",
            differs_from_paper="A site's own patients, with the paper's pipeline re-run on them.",
            cases=tuple(str(i) for i in data.index),
            feature_values={n: tuple(float(v) for v in data[n]) for n in model_features}),
        alk_radiomic=_logistic_regression(rad_fit, chosen, {n: (n, "per SD") for n in chosen}, derived,
                                          "forward stepwise multivariate logistic regression",
                                          "Rad-score fitted on the training cohort.", prior=float(y.mean())),
        alk_combined=(_logistic_regression(fits["combined"], ["rad_score", "hla", "pdl1"],
                                           {"rad_score": ("Rad-score", ""), "hla": ("HLA-I H-score", "0-300"),
                                            "pdl1": ("PD-L1 H-score", "0-300")}, derived,
                                           "multivariate logistic regression", "Combined model fitted on the "
                                           "training cohort.", prior=float(y.mean()),
                                           variables={"hla": "hla_i_hscore", "pdl1": "pdl1_hscore"}, centred=False)
                      if combined_frame is not None else published.alk_combined()),
        dfs_radiomic=dfs.regression(derived),
        dfs_clinical=dfs.clinical_regression(derived),
        dfs_combined_note="The combined DFS model (N stage + RAD-risk) is in the training report, not stored, as in "
                          "the bundled model's structure.",
        notes=tuple(n for n in (
            f"Trained by alk-radiomics train with seed {settings.seed}; the training report holds every table.",
            None if combined_frame is not None else "The cohort has no HLA-I/PD-L1 H-scores: the combined ALK model "
                                                    "is the bundled one, not refitted.",
            None if dfs.n_stage_fitted else "The cohort has no N stage: the N-stage DFS model is the bundled one.",
        ) if n),
    )
    return Training(model, report, curves)


def _clinical_candidates(data: pd.DataFrame, features: list[str]) -> tuple[list[str], dict[str, str]]:
    """Numeric clinical columns known for every patient; the others, with why they were left out."""
    candidates, skipped = [], {}
    for column in data.columns:
        if column in NOT_CLINICAL or column in features:
            continue
        values = pd.to_numeric(data[column], errors="coerce")
        if values.isna().any():
            skipped[column] = "not numeric, or missing for some patients"
        elif values.nunique() < 2:
            skipped[column] = "the same for every patient"
        else:
            candidates.append(column)
    return candidates, skipped


def _logistic_regression(fit, names, labels, derived, method, description, prior: float, variables=None,
                         centred: bool = True) -> Regression:
    """A fitted logistic model as a Regression; its intercept holds at the cohort's prevalence ``prior``.

    With ``centred=False`` (covariates such as H-scores not centred), the intercept's interval is that of the
    log-odds at the covariates' means (intercept_centres), from the fit's covariance matrix: the part of the
    intercept's error that does not move with the betas.
    """
    intervals = fit.conf_int()
    renamed = variables or {}
    terms = tuple(Term(renamed.get(n, n), Parameter(float(fit.params[n]), derived(method),
                                                    tuple(float(v) for v in intervals.loc[n])),
                       labels[n][0], labels[n][1]) for n in names)
    value = float(fit.params["const"])
    centres: dict[str, float] = {}
    if centred:
        ci = tuple(float(v) for v in intervals.loc["const"])
        how = "logistic regression intercept"
    else:
        exog = pd.DataFrame(fit.model.exog, columns=fit.model.exog_names)
        weights = exog.mean()
        se = float(np.sqrt(weights @ fit.cov_params().loc[weights.index, weights.index] @ weights))
        ci = (value - Z_95 * se, value + Z_95 * se)
        centres = {renamed.get(n, n): float(weights[n]) for n in names}
        how = ("logistic regression intercept; its 95 % interval is that of the log-odds at the covariates' means "
               "(intercept_centres), which varies independently of the betas")
    return Regression("logistic", terms, intercept=Parameter(value, derived(how), ci), intercept_prior=prior,
                      intercept_centres=centres, description=description)


@dataclass
class _DfsResult:
    report: dict
    curves: dict
    rad_risk: pd.Series | None
    chosen: list[str]
    fit: object
    cutoff: float
    group_fit: object
    n_stage_fit: object | None

    @property
    def n_stage_fitted(self) -> bool:
        return self.n_stage_fit is not None

    def terms(self, derived) -> list[Term]:
        where = "ALK-positive patients"
        intervals = np.asarray(self.fit.conf_int())
        return [Term(n, Parameter(float(b), derived("backward stepwise Cox regression", where),
                                  (float(lo), float(hi))), n, "per SD")
                for n, b, (lo, hi) in zip(self.chosen, self.fit.params, intervals, strict=True)]

    def regression(self, derived) -> Regression:
        where = "ALK-positive patients"
        low, high = np.asarray(self.group_fit.conf_int())[0]
        return Regression(
            "cox", tuple(self.terms(derived)),
            cutoff=Parameter(self.cutoff, derived("median RAD-risk score", where)),
            group_hazard_ratio=Parameter(math.exp(self.group_fit.params[0]),
                                         derived("Cox regression of DFS on the high-risk group", where),
                                         (math.exp(low), math.exp(high))),
            description="RAD-risk fitted on the training cohort's ALK-positive patients.")

    def clinical_regression(self, derived) -> Regression:
        if self.n_stage_fit is None:
            return published.dfs_clinical()
        low, high = np.asarray(self.n_stage_fit.conf_int())[0]
        term = Term("n_stage", Parameter(float(self.n_stage_fit.params[0]),
                                         derived("Cox regression of DFS on N stage", "ALK-positive patients"),
                                         (float(low), float(high))), "N stage (N1-2 vs N0)", "0 = N0, 1 = N1-2")
        return Regression("cox", (term,), description="N-stage DFS model fitted on the training cohort.")


def _train_dfs(data: pd.DataFrame, X: pd.DataFrame, settings: TrainSettings, clock: _Stopwatch) -> _DfsResult:
    has = _dfs_patients(data)
    frame = X[has].copy()
    frame["time"] = data.loc[has, "dfs_months"].to_numpy(float)
    frame["event"] = data.loc[has, "event"].to_numpy(int)
    features = list(X.columns)
    steps = select_dfs_features(frame, features, settings)
    chosen = steps["selected"]
    clock.lap("dfs_selection")
    if not chosen:
        raise InputError("No radiomic feature predicts DFS among the ALK-positive patients: none survived screening, "
                         "LASSO Cox and backward selection, so no RAD-risk score can be trained.")
    fit = selection.cox_fit(frame, chosen)
    risk = frame[chosen].to_numpy() @ fit.params
    time_, event = frame["time"].to_numpy(), frame["event"].to_numpy()
    cutoff, chi2, p = stats.logrank_median_split(time_, event, risk)
    high = (risk > cutoff).astype(float)
    frame["rad_risk"], frame["high_risk"] = risk, high
    group_fit = selection.cox_fit(frame, ["high_risk"])
    report: dict = {"dfs_radiomic": {
        **_step_summary(steps), "patients": int(len(frame)), "events": int(event.sum()),
        "coefficients": _coefficient_table(fit, chosen, "hr"),
        "median_cutoff": cutoff, "logrank": {"chi2": chi2, "p": p, "high_risk": int(high.sum()),
                                             "low_risk": int(len(high) - high.sum())},
        "group_hazard_ratio": _coefficient_table(group_fit, ["high_risk"], "hr")["high_risk"],
        "c_index": stats.harrell_c(time_, event, risk),
        "c_index_cv": _cv_c_index(frame, chosen, settings),
        "median_followup_months": stats.reverse_km_median_followup(time_, event)}}
    n_stage_fit = None
    if "n_stage" in data and data.loc[has, "n_stage"].notna().all() and data.loc[has, "n_stage"].nunique() == 2:
        frame["n_stage"] = data.loc[has, "n_stage"].to_numpy(float)
        n_stage_fit = selection.cox_fit(frame, ["n_stage"])
        combined_fit = selection.cox_fit(frame, ["n_stage", "rad_risk"])
        report["dfs_models"] = {
            "clinicopathological": {"coefficients": _coefficient_table(n_stage_fit, ["n_stage"], "hr"),
                                    "c_index": stats.harrell_c(time_, event, frame["n_stage"])},
            "combined": {"coefficients": _coefficient_table(combined_fit, ["n_stage", "rad_risk"], "hr"),
                         "c_index": stats.harrell_c(time_, event, frame[["n_stage", "rad_risk"]].to_numpy()
                                                    @ combined_fit.params)},
            "lrt_combined_vs_clinicopathological": dict(zip(("statistic", "dof", "p"), stats.cox_lrt(
                frame, "time", "event", ["n_stage"], ["n_stage", "rad_risk"]), strict=True)),
            "lrt_combined_vs_radiomic": dict(zip(("statistic", "dof", "p"), stats.cox_lrt(
                frame, "time", "event", ["rad_risk"], ["n_stage", "rad_risk"]), strict=True)),
        }
    clock.lap("dfs_models")
    report["dfs_radiomic"]["nested_cv"] = _nested_cv_c(frame, features, settings)
    clock.lap("dfs_nested_cv")
    report["dfs_radiomic"]["c_index_bootstrap"] = _bootstrap_c(frame, chosen, settings)
    clock.lap("dfs_bootstrap")
    rad_risk = pd.Series(np.nan, index=data.index)
    rad_risk[has] = risk
    curves = {"dfs": {"time": time_, "event": event, "high_risk": high.astype(bool)},
              "lasso_dfs": steps["lasso"]}
    return _DfsResult(report, curves, rad_risk, chosen, fit, cutoff, group_fit, n_stage_fit)


def _dfs_patients(data: pd.DataFrame) -> pd.Series:
    """ALK-positive patients with known DFS; refuses a cohort with too few of them or too few events."""
    has = data["alk"] == 1
    for column in ("dfs_months", "event"):
        has &= data[column].notna() if column in data else False
    events = int(data.loc[has, "event"].sum()) if has.any() else 0
    if has.sum() < 20 or events < 10:
        raise InputError(f"Training the RAD-risk model needs dfs_months and event for at least 20 ALK-positive "
                         f"patients with 10 events; the cohort has {int(has.sum())} with {events} events.")
    return has


def _survival_folds(frame: pd.DataFrame, settings: TrainSettings):
    """K folds stratified by event, so every fold has events to rank."""
    return _stratified_folds(frame["event"].to_numpy(int), settings)


def _cv_c_index(frame: pd.DataFrame, names: list[str], settings: TrainSettings) -> float:
    """Harrell's C of out-of-fold risk scores of a Cox model on fixed ``names`` (the paper's CV)."""
    risk = np.zeros(len(frame))
    for train, test in _survival_folds(frame, settings):
        fit = selection.cox_fit(frame.iloc[train], names)
        risk[test] = frame.iloc[test][names].to_numpy() @ fit.params
    return stats.harrell_c(frame["time"], frame["event"], risk)


def _nested_cv_c(frame: pd.DataFrame, features: list[str], settings: TrainSettings) -> dict:
    """Harrell's C with screening, LASSO Cox and backward selection repeated inside every fold."""
    risk = np.zeros(len(frame))
    chosen_per_fold = []
    for train, test in _survival_folds(frame, settings):
        chosen = select_dfs_features(frame.iloc[train], features, settings)["selected"]
        chosen_per_fold.append(chosen)
        if chosen:
            fit = selection.cox_fit(frame.iloc[train], chosen)
            risk[test] = frame.iloc[test][chosen].to_numpy() @ fit.params
    return {"c_index": stats.harrell_c(frame["time"], frame["event"], risk), "selected_per_fold": chosen_per_fold}


def _bootstrap_c(frame: pd.DataFrame, names: list[str], settings: TrainSettings) -> dict:
    """Refit the Cox model on each bootstrap resample; Harrell's C on the resample."""
    rng = np.random.default_rng(settings.seed)
    values = []
    while len(values) < settings.bootstraps:
        sample = frame.iloc[rng.integers(0, len(frame), len(frame))]
        if sample["event"].sum() < 2:
            continue
        fit = selection.cox_fit(sample, names)
        values.append(stats.harrell_c(sample["time"], sample["event"], sample[names].to_numpy() @ fit.params))
    low, high = np.percentile(values, [2.5, 97.5])
    return {"resamples": settings.bootstraps, "mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)),
            "ci95": [float(low), float(high)]}
