"""The paper's feature selection (Methods 2.4): univariate screening, LASSO with 10-fold
cross-validation, then forward (logistic) or backward (Cox) stepwise regression.

Features are standardized (mean 0, SD 1) by the caller. Unpenalized logistic and Cox fits use
statsmodels (Cox with Efron ties, as R's coxph; lifelines where statsmodels' Newton diverges). Two steps
rerun hundreds of times by the nested CV and the optimism bootstrap are done for many models at once instead:
univariate screening fits every feature's model in one vectorized Newton iteration, and the best-subset and
backward Cox steps rank candidate subsets by their Breslow likelihoods fitted together; both equal statsmodels'
fits column by column (Testing/tests/test_selection_fast.py).
The LASSO fits use skglm, whose objectives are glmnet's: ``-(1/n) log-likelihood + lambda *
|beta|_1`` with an unpenalized intercept for the logistic model and Breslow's partial likelihood
for Cox; a test compares both with R's glmnet. The penalty path and the cross-validation follow
cv.glmnet: ``lambda`` from the smallest that zeroes every coefficient down to 1 % of it, chosen
at the minimum cross-validated deviance or by the one-SE rule (binomial deviance of the held-out
patients; for Cox, Verweij and van Houwelingen's cross-validated partial likelihood).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: SPSS's stepwise defaults: a variable enters at P < 0.05 and leaves at P > 0.10.
ENTRY_P = 0.05
REMOVAL_P = 0.10
#: At least this many events (the smaller outcome class; recurrences) per variable in a stepwise
#: model: Harrell's m/15 (Regression Modeling Strategies, 2nd ed., section 4.4), stricter than
#: Peduzzi's 10 because the variables are chosen on the same patients. Without a cap, forward
#: selection on 132 patients keeps adding noise features until the fit separates the classes; on
#: simulated cohorts a cap of 10 let the cross-validated AUC overstate fresh-data AUC by 0.05.
EVENTS_PER_VARIABLE = 15
#: The penalty path spans lambda_max down to this fraction of it, in 50 log-spaced steps. Cox fits
#: near saturation (66 patients, dozens of features) are slow and never chosen by cross-validation,
#: so the Cox path stops earlier than glmnet's default; a minimum at the path's end is reported.
LOGISTIC_LAMBDA_RATIO = 0.01
COX_LAMBDA_RATIO = 0.05
#: How cross-validation picks lambda, as cv.glmnet names it: "min" (lowest mean deviance) or "1se".
LAMBDA_RULES = ("min", "1se")


def logistic_fit(X: pd.DataFrame, y: np.ndarray):
    """Maximum-likelihood logistic regression of ``y`` on the columns of ``X`` plus an intercept."""
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and separation are handled by the callers
        return sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(disp=0, maxiter=200)


@dataclass(frozen=True)
class CoxFit:
    """A fitted Cox model: coefficients in the order of the names fitted, their standard errors,
    and the maximized log partial likelihood."""

    params: np.ndarray
    bse: np.ndarray
    llf: float

    @property
    def pvalues(self) -> np.ndarray:
        from scipy.stats import norm

        return 2 * norm.sf(np.abs(self.params / self.bse))

    def conf_int(self, level: float = 0.95) -> np.ndarray:
        """Wald intervals, one row (low, high) per coefficient."""
        from scipy.stats import norm

        half = norm.ppf(0.5 + level / 2) * self.bse
        return np.column_stack([self.params - half, self.params + half])


def cox_fit(frame: pd.DataFrame, names: list[str]) -> CoxFit:
    """Cox regression (Efron ties) of (``time``, ``event``) on the columns ``names`` of ``frame``.

    statsmodels first (fast); its Newton steps have no step-halving and overshoot into NaN on wide
    models with correlated variables and few events, where lifelines' damped Newton (the same
    likelihood) is used instead, as R's coxph would converge."""
    import statsmodels.api as sm

    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.PHReg(time, frame[names].to_numpy(float), status=event, ties="efron").fit(disp=0)
        if np.isfinite(fit.llf) and np.all(np.isfinite(fit.bse)):
            return CoxFit(np.asarray(fit.params), np.asarray(fit.bse), float(fit.llf))
        from lifelines import CoxPHFitter

        columns = [f"x{k}" for k in range(len(names))]  # feature names may clash with "time" or "event"
        table = pd.DataFrame(frame[names].to_numpy(float), columns=columns).assign(time=time, event=event)
        fit = CoxPHFitter().fit(table, "time", "event")
    return CoxFit(fit.params_[columns].to_numpy(), fit.standard_errors_[columns].to_numpy(),
                  float(fit.log_likelihood_))


def _wald_screen(names, beta: np.ndarray, se: np.ndarray, threshold: float) -> list[str]:
    """The names whose Wald P < ``threshold``, most significant first; a fit that did not converge (NaN) is not
    a usable single predictor."""
    from scipy.stats import norm

    p = 2 * norm.sf(np.abs(beta / se))
    kept = sorted((float(p[k]), name) for k, name in enumerate(names) if np.isfinite(p[k]) and p[k] < threshold)
    return [name for _, name in kept]


def screen_logistic(X: pd.DataFrame, y: np.ndarray, threshold: float = 0.05) -> list[str]:
    """Features whose univariate logistic regression has Wald P < ``threshold``, most significant first."""
    return _wald_screen(X.columns, *univariate_logistic(X.to_numpy(float), y), threshold)


def screen_cox(frame: pd.DataFrame, features: list[str], threshold: float = 0.05) -> list[str]:
    """Features whose univariate Cox regression (Efron ties) has Wald P < ``threshold``, most significant first."""
    return _wald_screen(features, *univariate_cox(frame[features].to_numpy(float), frame["time"].to_numpy(float),
                                                  frame["event"].to_numpy(int)), threshold)


@np.errstate(over="ignore", divide="ignore", invalid="ignore")  # separation: handled below
def univariate_logistic(values: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood slope and its Wald SE of ``logit P(y) = a + b x`` for every column ``x`` of ``values`` at
    once (Newton-Raphson on the 2 x 2 information matrices, column by column in parallel). Equal to statsmodels'
    Logit on each column (test); NaN where a column's fit does not converge (the classes separate)."""
    y = np.asarray(y, float)

    def information(a, b):
        mu = 1 / (1 + np.exp(-(a + values * b)))
        w = mu * (1 - mu)
        return mu, w.sum(axis=0), (w * values).sum(axis=0), (w * values ** 2).sum(axis=0)

    a, b = np.zeros(values.shape[1]), np.zeros(values.shape[1])
    for _ in range(iterations):
        mu, haa, hab, hbb = information(a, b)
        residual = y[:, None] - mu
        ga, gb = residual.sum(axis=0), (values * residual).sum(axis=0)
        det = haa * hbb - hab ** 2
        step_a, step_b = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a + step_a, b + step_b
        converged = np.abs(step_b) < 1e-10 * (1 + np.abs(b))
        if converged.all():
            break
    mu, haa, hab, hbb = information(a, b)
    converged &= ~np.all(np.abs(mu - y[:, None]) < 1e-8, axis=0)  # perfect prediction: the slope has no maximum
    se = np.sqrt(haa / (haa * hbb - hab ** 2))
    return np.where(converged, b, np.nan), np.where(converged, se, np.nan)


@np.errstate(over="ignore", divide="ignore", invalid="ignore")  # separation: handled below
def univariate_cox(values: np.ndarray, time: np.ndarray, event: np.ndarray,
                   iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood log-hazard ratio and its Wald SE of a Cox model (Efron ties, as coxph and statsmodels'
    PHReg) on each column of ``values`` alone, all columns at once (Newton-Raphson with step-halving per column).
    Equal to statsmodels on each column (test, with ties); NaN where a fit does not converge."""
    order = np.argsort(time, kind="stable")
    time, event, values = np.asarray(time, float)[order], np.asarray(event)[order] == 1, values[order]
    # Each event's risk set starts at the first patient with its time; tied events share Efron's fractions.
    first = np.searchsorted(time, time, side="left")
    event_rows = np.flatnonzero(event)
    start = first[event_rows]
    tie_size = np.bincount(start, minlength=len(time))[start]
    tie_rank = np.arange(len(event_rows)) - np.searchsorted(event_rows, start)  # 0, 1, ... within each tie
    fraction = (tie_rank / tie_size)[:, None]
    group_starts = np.flatnonzero(np.r_[True, np.diff(start) > 0])  # first event of each tied group
    group_of = np.cumsum(np.r_[True, np.diff(start) > 0]) - 1

    def efron_sums(a):
        """Sum of ``a`` over each event's risk set, less its share of the tied events' sum (Efron)."""
        risk_set = np.cumsum(a[::-1], axis=0)[::-1][start]
        tied = np.add.reduceat(a[event_rows], group_starts, axis=0)[group_of]
        return risk_set - fraction * tied

    def derivatives(b):
        eta = values * b
        shift = eta.max(axis=0)
        w = np.exp(eta - shift)
        s0, s1, s2 = efron_sums(w), efron_sums(w * values), efron_sums(w * values ** 2)
        llf = (eta[event_rows] - shift - np.log(s0)).sum(axis=0)
        mean = s1 / s0
        return llf, (values[event_rows] - mean).sum(axis=0), (s2 / s0 - mean ** 2).sum(axis=0)

    b = np.zeros(values.shape[1])
    llf, gradient, information = derivatives(b)
    converged = np.zeros(len(b), bool)
    for _ in range(iterations):
        step = np.where(converged, 0.0, gradient / information)
        for _ in range(30):  # halve the steps that would lower a column's likelihood
            new_llf, new_gradient, new_information = derivatives(b + step)
            worse = ~(new_llf >= llf - 1e-12)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        b = b + step
        converged |= np.abs(step) < 1e-10 * (1 + np.abs(b))
        llf, gradient, information = new_llf, new_gradient, new_information
        if converged.all():
            break
    se = 1 / np.sqrt(information)
    return np.where(converged, b, np.nan), np.where(converged, se, np.nan)


def _binomial_deviance(y: np.ndarray, log_odds: np.ndarray) -> float:
    return float(2 * np.sum(np.logaddexp(0, log_odds) - y * log_odds))


def _cox_log_likelihood(time: np.ndarray, event: np.ndarray, eta: np.ndarray) -> float:
    """Breslow partial log-likelihood of the linear predictor ``eta`` (ties share one risk set)."""
    order = np.argsort(-time, kind="stable")
    time, event, eta = time[order], event[order], eta[order]
    log_risk = np.logaddexp.accumulate(eta)[_last_of_ties(time)]
    return float(np.sum((eta - log_risk)[event == 1]))


def _last_of_ties(descending_time: np.ndarray) -> np.ndarray:
    """For times sorted in descending order, the index of the last one equal to each: the end
    of its risk set."""
    return np.searchsorted(-descending_time, -descending_time, side="right") - 1


def _lambda_path(lambda_max: float, ratio: float, count: int = 50) -> np.ndarray:
    return lambda_max * np.logspace(0, np.log10(ratio), count)


def _warm_started_path(X: np.ndarray, response: np.ndarray, datafit, lambdas: np.ndarray, *, tol: float,
                       intercept: bool) -> list[np.ndarray]:
    """skglm's proximal Newton solver at each of the decreasing ``lambdas`` (L1 penalty), each fit started from
    the previous lambda's solution as glmnet's are (a cold start at every lambda gives the same solutions within
    the tolerance, 20 to 50 times slower). Returns each lambda's weights, the intercept last when fitted."""
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    datafit.initialize(X, response)
    w, path = np.zeros(X.shape[1] + intercept), []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skglm warns when a tiny lambda reaches max_iter; the CV ignores those
        for alpha in lambdas:
            start = X @ w[:X.shape[1]] + (w[-1] if intercept else 0.0)
            solver = ProxNewton(max_iter=100, tol=tol, fit_intercept=intercept)
            w = solver.solve(X, response, datafit, L1(float(alpha)), w_init=w.copy(), Xw_init=start)[0]
            path.append(w.copy())
    return path


def _lasso_logistic_path(X: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """(intercept, coefficients) at each of the decreasing ``lambdas``, on glmnet's logistic objective."""
    from skglm.datafits import Logistic

    signs = 2.0 * np.asarray(y, float) - 1  # skglm's Logistic takes y in {-1, 1}
    path = _warm_started_path(np.asfortranarray(X, float), signs, Logistic(), lambdas, tol=1e-8, intercept=True)
    return [(float(w[-1]), w[:-1]) for w in path]


def _lasso_cox_path(X: np.ndarray, time: np.ndarray, event: np.ndarray, lambdas: np.ndarray) -> list[np.ndarray]:
    """Coefficients at each of the decreasing ``lambdas``, on glmnet's Cox objective (Breslow ties). Stopped at a
    KKT violation of 1e-6 (glmnet's own default stops about as far from the optimum; the test against cv.glmnet
    holds): near saturation, on bootstrap resamples, 1e-8 took twice as long for coefficients that differ by
    < 1e-3."""
    from skglm.datafits import Cox

    response = np.asfortranarray(np.column_stack([time, event]).astype(float))
    return _warm_started_path(np.asfortranarray(X, float), response, Cox("breslow"), lambdas, tol=1e-6,
                              intercept=False)


def lasso_logistic_path(X: pd.DataFrame, y: np.ndarray, seed: int, folds: int = 10, rule: str = "min") -> dict:
    """The 10-fold cross-validated LASSO logistic path; ``selected`` holds the features with
    nonzero coefficients at ``lambda_min``, the lambda of minimum mean held-out deviance (``rule``
    "min"), or at ``lambda_1se``, the largest lambda within one SE of that minimum ("1se")."""
    from sklearn.model_selection import StratifiedKFold

    values = X.to_numpy(float)
    lambdas = _lambda_path(float(np.max(np.abs(values.T @ (y - y.mean())))) / len(y), LOGISTIC_LAMBDA_RATIO)
    fold_of = np.zeros(len(y), dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(values, y)):
        fold_of[test] = k
    deviance = np.zeros((folds, len(lambdas)))
    for k in range(folds):
        train, test = fold_of != k, fold_of == k
        for j, (intercept, beta) in enumerate(_lasso_logistic_path(values[train], y[train], lambdas)):
            deviance[k, j] = _binomial_deviance(y[test], intercept + values[test] @ beta)
    weights = np.bincount(fold_of, minlength=folds).astype(float)
    whole = [beta for _, beta in _lasso_logistic_path(values, y, lambdas)]
    return _path_result(X.columns, lambdas, deviance, weights, fold_of, rule, whole)


def lasso_cox_path(frame: pd.DataFrame, features: list[str], seed: int, folds: int = 10, rule: str = "min") -> dict:
    """The 10-fold cross-validated LASSO Cox path (Breslow ties, as glmnet); ``selected`` as
    for :func:`lasso_logistic_path`, the deviance being cross-validated partial likelihood."""
    values = frame[features].to_numpy(float)
    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(float)
    lambdas = _lambda_path(_cox_lambda_max(values, time, event), COX_LAMBDA_RATIO)
    fold_of = _event_stratified_folds(event, folds, seed)
    deviance = np.zeros((folds, len(lambdas)))
    for k in range(folds):
        train = fold_of != k
        for j, beta in enumerate(_lasso_cox_path(values[train], time[train], event[train], lambdas)):
            # Verweij & van Houwelingen: the held-out fold's share of the whole cohort's partial likelihood.
            deviance[k, j] = -2 * (_cox_log_likelihood(time, event, values @ beta)
                                   - _cox_log_likelihood(time[train], event[train], values[train] @ beta))
    weights = np.bincount(fold_of, weights=event, minlength=folds)
    return _path_result(features, lambdas, deviance, weights, fold_of, rule,
                        _lasso_cox_path(values, time, event, lambdas))


def _event_stratified_folds(event: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each patient's fold (0 to ``folds - 1``), events dealt out first so that every fold holds a
    share of them: a fold without events has no partial likelihood to hold out."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(event), dtype=int)
    events = rng.permutation(np.flatnonzero(event == 1))
    censored = rng.permutation(np.flatnonzero(event != 1))
    fold_of[np.concatenate([events, censored])] = np.arange(len(event)) % folds
    return fold_of


def _cox_lambda_max(values: np.ndarray, time: np.ndarray, event: np.ndarray) -> float:
    """Largest |gradient| of glmnet's Cox objective at beta = 0: max_j |x_j . residual| / n,
    the residuals being Breslow martingale residuals of the null model."""
    order = np.argsort(-time, kind="stable")
    at_risk = np.empty(len(time))
    at_risk[order] = (np.arange(len(time)) + 1)[_last_of_ties(time[order])]
    event_times = time[event == 1]
    hazard = np.array([np.sum(1.0 / at_risk[event == 1][event_times <= t]) for t in time])
    return float(np.max(np.abs(values.T @ (event - hazard)))) / len(time)


def _path_result(names, lambdas: np.ndarray, deviance: np.ndarray, weights: np.ndarray, fold_of: np.ndarray,
                 rule: str, whole: list[np.ndarray]) -> dict:
    """cv.glmnet's summary: ``deviance`` holds each fold's held-out total, ``weights`` each fold's
    patients (logistic) or events (Cox); the mean is per patient or per event, its SE across folds.
    ``lambda_1se`` as cv.glmnet: the largest lambda whose mean is within one SE of the minimum.
    ``whole`` holds the coefficients fitted on all patients at each lambda; ``coefficients`` and ``selected`` are
    those at ``rule``'s lambda; ``coefficients_by_rule`` holds the nonzero coefficients under each rule."""
    if rule not in LAMBDA_RULES:
        raise ValueError(f"rule must be one of {LAMBDA_RULES}, not {rule!r}")
    mean = deviance.sum(axis=0) / weights.sum()
    used = weights > 0  # a fold without events (few events, many folds) adds deviance but no spread
    per_fold = deviance[used] / weights[used, None]
    spread = (weights[used, None] * (per_fold - mean) ** 2).sum(axis=0) / weights.sum()
    se = np.sqrt(spread / max(int(used.sum()) - 1, 1))
    best = int(np.argmin(mean))
    within = int(np.flatnonzero(mean <= mean[best] + se[best])[0])  # lambdas decrease along the path
    at = {"min": float(lambdas[best]), "1se": float(lambdas[within])}
    by_rule = {r: {name: float(b) for name, b in zip(names, whole[k], strict=True) if b != 0}
               for r, k in (("min", best), ("1se", within))}
    return {"lambdas": lambdas.tolist(), "cv_deviance": mean.tolist(),
            "cv_deviance_se": se.tolist(), "folds": fold_of.tolist(), "rule": rule,
            "lambda_min": at["min"], "lambda_1se": at["1se"], "lambda": at[rule],
            "minimum_at_path_end": best == len(lambdas) - 1, "coefficients_by_rule": by_rule,
            "coefficients": by_rule[rule], "selected": list(by_rule[rule])}


def max_variables(events: int, per_variable: int = EVENTS_PER_VARIABLE) -> int:
    """The largest stepwise model with ``per_variable`` events per variable (at least 1)."""
    return max(1, int(events) // per_variable)


def forward_logistic(X: pd.DataFrame, y: np.ndarray, candidates: list[str], *, limit: int,
                     entry_p: float = ENTRY_P, removal_p: float = REMOVAL_P) -> list[str]:
    """Forward stepwise logistic regression: add the candidate with the smallest Wald P while it
    is below ``entry_p`` and the model has fewer than ``limit`` variables; after each entry,
    remove any chosen variable whose P exceeds ``removal_p``. A candidate whose fit does not
    converge (the classes separate) cannot enter."""
    chosen: list[str] = []
    tried: set[tuple[str, ...]] = set()
    while len(chosen) < limit:
        best = None
        for name in candidates:
            if name in chosen or tuple(sorted([*chosen, name])) in tried:
                continue
            try:
                fit = logistic_fit(X[[*chosen, name]], y)
            except Exception:
                continue
            p = float(fit.pvalues[name])
            if fit.mle_retvals["converged"] and p < entry_p and (best is None or p < best[0]):
                best = (p, name)
        if best is None:
            break
        chosen.append(best[1])
        tried.add(tuple(sorted(chosen)))  # never revisit a set: entry and removal cannot cycle
        while len(chosen) > 1:
            p_values = logistic_fit(X[chosen], y).pvalues[chosen]
            if p_values.max() <= removal_p:
                break
            chosen.remove(p_values.idxmax())
    return chosen


def backward_cox(frame: pd.DataFrame, candidates: list[str], *, limit: int, removal_p: float = REMOVAL_P) -> list[str]:
    """Backward stepwise Cox regression by likelihood-ratio tests (SPSS's Backward:LR, with Breslow's likelihood
    for tied times as SPSS): drop the variable whose removal costs the least partial likelihood until every
    removal would cost P <= ``removal_p`` and at most ``limit`` variables remain. Wald P values of a Cox model
    with dozens of variables and a few dozen events are unreliable; the likelihood ratio is not."""
    from scipy.stats import chi2

    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(int)
    values = frame[candidates].to_numpy(float)
    null = _cox_log_likelihood(time, event, np.zeros(len(time)))
    chosen = list(range(len(candidates)))
    full = subset_breslow_llf(values, time, event, np.array([chosen]))[0] if chosen else null
    while chosen:
        others = (subset_breslow_llf(values, time, event, np.array([[c for c in chosen if c != k] for k in chosen]))
                  if len(chosen) > 1 else np.array([null]))  # each model with one variable fewer
        if np.isfinite(full):
            costs = 2 * (full - others)
            drop = int(np.argmin(costs))
            if chi2.sf(costs[drop], 1) <= removal_p and len(chosen) <= limit:
                break
        else:  # too many variables to fit: drop the one the others miss least
            drop = int(np.argmax(others))
        chosen.pop(drop)
        full = others[drop]
    return [candidates[k] for k in chosen]


#: Largest number of candidate subsets :func:`best_subset_cox` ranks; beyond it the candidates are cut to those
#: with the largest univariate partial likelihood.
MAX_SUBSETS = 5000


@np.errstate(over="ignore", divide="ignore", invalid="ignore")  # separation: handled below
def subset_breslow_llf(values: np.ndarray, time: np.ndarray, event: np.ndarray, subsets: np.ndarray,
                       iterations: int = 30) -> np.ndarray:
    """Maximized Breslow partial log-likelihood of the Cox model on each row of ``subsets`` (column indices of
    ``values``, one subset per row, all the same size), every subset's Newton iterations run together with
    step-halving per subset: a fast ranking of small candidate subsets (glmnet's likelihood; Efron's for
    untied times; equal to statsmodels' Breslow fit, test). -inf where a subset cannot be fitted."""
    order = np.argsort(-time, kind="stable")
    ends = _last_of_ties(time[order])
    dead = np.asarray(event)[order] == 1
    X = values[order][:, subsets]  # patients x subsets x size
    beta = np.zeros(subsets.shape)

    def derivatives(b, rows):
        """Log-likelihood, gradient and information of the subsets ``rows`` at their coefficients ``b``."""
        Xs = X[:, rows]
        eta = np.einsum("nsk,sk->ns", Xs, b)
        shift = eta.max(axis=0)
        w = np.exp(eta - shift)
        s0 = np.cumsum(w, axis=0)[ends][dead]
        s1 = np.cumsum(w[..., None] * Xs, axis=0)[ends][dead]
        s2 = np.cumsum(w[..., None, None] * Xs[..., :, None] * Xs[..., None, :], axis=0)[ends][dead]
        llf = np.sum(eta[dead] - shift - np.log(s0), axis=0)
        mean = s1 / s0[..., None]
        gradient = (Xs[dead] - mean).sum(axis=0)
        information = (s2 / s0[..., None, None] - mean[..., :, None] * mean[..., None, :]).sum(axis=0)
        return np.where(np.isfinite(llf), llf, -np.inf), gradient, information

    llf, gradient, information = derivatives(beta, np.arange(len(subsets)))
    fitted = np.ones(len(subsets), bool)
    active = fitted.copy()  # subsets still moving; converged ones are left alone
    for _ in range(iterations):
        rows = np.flatnonzero(active)
        usable = np.isfinite(information[rows]).all(axis=(1, 2)) & np.isfinite(gradient[rows]).all(axis=1)
        usable[usable] = np.linalg.cond(information[rows[usable]]) < 1e12  # singular: no unique maximum
        fitted[rows[~usable]] = active[rows[~usable]] = False
        rows = rows[usable]
        if not len(rows):
            break
        step = np.linalg.solve(information[rows], gradient[rows][..., None])[..., 0]
        new = list(derivatives(beta[rows] + step, rows))
        for _ in range(20):  # halve the steps that would lower a subset's likelihood
            worse = np.flatnonzero(~(new[0] >= llf[rows] - 1e-12))
            if not len(worse):
                break
            step[worse] /= 2
            for part, value in zip(new, derivatives(beta[rows[worse]] + step[worse], rows[worse]), strict=True):
                part[worse] = value
        improvement = new[0] - llf[rows]
        beta[rows] += step
        llf[rows], gradient[rows], information[rows] = new
        active[rows[np.abs(improvement) < 1e-10]] = False
        if not active.any():
            break
    return np.where(fitted, llf, -np.inf)


def best_subset_cox(frame: pd.DataFrame, candidates: list[str], *, limit: int,
                    removal_p: float = REMOVAL_P) -> tuple[list[str], str]:
    """The RAD-risk's variables: backward stepwise Cox among ``candidates`` (LASSO's survivors) with its own
    stopping rule; if that leaves more than ``limit`` (the events-per-variable cap), the subset of exactly
    ``limit`` candidates with the largest partial likelihood, then backward elimination inside it with the same
    stopping rule. Never forces elimination past the stopping rule, which on simulated cohorts at the paper's
    effect sizes dropped a driver with P 0.001 while keeping noise pairs. Returns (chosen, how it was chosen)."""
    from itertools import combinations
    from math import comb

    chosen = backward_cox(frame, candidates, limit=len(candidates) or 1, removal_p=removal_p)
    if len(chosen) <= limit:
        return chosen, "backward stepwise (within the events-per-variable cap)"
    time, event = frame["time"].to_numpy(float), frame["event"].to_numpy(int)
    values = frame[candidates].to_numpy(float)
    pool = list(range(len(candidates)))
    if comb(len(pool), limit) > MAX_SUBSETS:
        strength = dict(zip(pool, subset_breslow_llf(values, time, event, np.array(pool)[:, None]), strict=True))
        while comb(len(pool), limit) > MAX_SUBSETS:
            pool.remove(min(pool, key=strength.get))
    subsets = np.array(list(combinations(pool, limit)))
    llf = subset_breslow_llf(values, time, event, subsets)
    if not np.isfinite(llf).any():
        return [], "no subset of the allowed size could be fitted"
    best = [candidates[k] for k in subsets[int(np.argmax(llf))]]
    kept = backward_cox(frame, best, limit=limit, removal_p=removal_p)
    return kept, (f"best subset of {limit} of {len(candidates)} LASSO survivors by partial likelihood"
                  f"{'' if len(pool) == len(candidates) else f' (among the {len(pool)} strongest alone)'}, then "
                  "backward stepwise inside it")
