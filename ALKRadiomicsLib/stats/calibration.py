"""Calibration of predicted probabilities on a validation cohort: the numbers of R's ``rms::val.prob``.

Two intercept conventions, named apart because they answer different questions:

- ``calibration_in_the_large``: the intercept of ``logit(P(y)) = a + lp`` (slope fixed at 1, the log-odds as
  offset). Zero when the mean predicted risk matches the observed rate (Steyerberg's "mean calibration").
- ``intercept_with_slope`` and ``slope``: the logistic recalibration ``logit(P(y)) = a + b lp`` fitted jointly;
  val.prob's "Intercept" and "Slope". A slope below 1 means predictions too extreme (overfitting).

Emax, E90 and Eavg are the maximum, 90th percentile and mean of |p - smoothed observed rate| over the patients'
predictions, the smooth being Cleveland's lowess with val.prob's settings (span 2/3, no robustness iterations).
Spiegelhalter's z tests calibration of each prediction (val.prob's "S:z"). Hosmer-Lemeshow groups patients by
deciles of predicted risk (ResourceSelection::hoslem.test's grouping; ``groups - 2`` degrees of freedom).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(y, log_odds) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y, dtype=float)
    lp = np.asarray(log_odds, dtype=float)
    if labels.ndim != 1 or lp.shape != labels.shape:
        raise ValueError("y and the log-odds must be 1-D arrays of the same length")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("y must hold 0 (negative) and 1 (positive) only")
    if not np.isfinite(lp).all():
        raise ValueError("log-odds must be finite")
    if labels.sum() < 1 or labels.sum() == len(labels):
        raise ValueError("calibration needs both outcomes among the patients")
    return labels, lp


def probability(log_odds) -> np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(log_odds, dtype=float)))


def brier_score(y, log_odds) -> float:
    """Mean squared difference of the predicted probability and the 0/1 outcome."""
    labels, lp = _check(y, log_odds)
    return float(np.mean((probability(lp) - labels) ** 2))


def logistic_calibration(y, log_odds) -> dict[str, float | list[float]]:
    """Slope and intercept of the joint recalibration fit, and calibration-in-the-large (slope fixed at 1),
    each with a Wald 95 % CI."""
    import statsmodels.api as sm

    labels, lp = _check(y, log_odds)
    joint = sm.GLM(labels, sm.add_constant(lp, has_constant="add"), family=sm.families.Binomial()).fit()
    large = sm.GLM(labels, np.ones((len(lp), 1)), family=sm.families.Binomial(), offset=lp).fit()
    joint_ci, large_ci = np.asarray(joint.conf_int()), np.asarray(large.conf_int())
    return {"slope": float(joint.params[1]), "slope_ci95": [float(v) for v in joint_ci[1]],
            "intercept_with_slope": float(joint.params[0]),
            "intercept_with_slope_ci95": [float(v) for v in joint_ci[0]],
            "calibration_in_the_large": float(large.params[0]),
            "calibration_in_the_large_ci95": [float(v) for v in large_ci[0]]}


def smoothed_calibration(y, log_odds) -> tuple[np.ndarray, np.ndarray]:
    """The lowess calibration curve as val.prob draws it: (sorted predicted probabilities, smoothed observed
    rate), span 2/3, no robustness iterations, R's default ``delta`` of 1 % of the range."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    labels, lp = _check(y, log_odds)
    p = probability(lp)
    curve = lowess(labels, p, frac=2 / 3, it=0, delta=0.01 * float(np.ptp(p)), return_sorted=True)
    return curve[:, 0], curve[:, 1]


def calibration_errors(y, log_odds) -> dict[str, float]:
    """Emax, E90 and Eavg: |p - smoothed observed rate| at each patient's prediction (val.prob's)."""
    x, smooth = smoothed_calibration(y, log_odds)
    p = probability(np.asarray(log_odds, dtype=float))
    unique, inverse = np.unique(x, return_inverse=True)  # R's approx(ties = mean)
    at_unique = np.bincount(inverse, weights=smooth) / np.bincount(inverse)
    error = np.abs(p - (np.interp(p, unique, at_unique) if len(unique) > 1 else at_unique[0]))
    return {"emax": float(error.max()), "e90": float(np.quantile(error, 0.9)), "eavg": float(error.mean())}


def spiegelhalter_z(y, log_odds) -> tuple[float, float]:
    """Spiegelhalter's z statistic and its two-sided P (H0: every prediction calibrated)."""
    labels, lp = _check(y, log_odds)
    p = probability(lp)
    z = float(np.sum((labels - p) * (1 - 2 * p)) / np.sqrt(np.sum((1 - 2 * p) ** 2 * p * (1 - p))))
    return z, float(2 * stats.norm.sf(abs(z)))


def hosmer_lemeshow(y, log_odds, groups: int = 10, fitted_parameters: int = 2) -> dict:
    """Hosmer-Lemeshow test over groups cut at quantiles of predicted risk (intervals closed on the right, the
    lowest including its minimum; tied quantiles merge groups), on groups less ``fitted_parameters`` degrees of
    freedom: 2 (ResourceSelection::hoslem.test) for a model fitted on these patients, 0 for one fitted elsewhere
    (external validation: Hosmer, Lemeshow and Sturdivant, Applied Logistic Regression, 3rd ed., 2013), 1 where
    only its intercept was refitted here. Returns statistic, dof, p and each group's size, observed and expected
    positives and its probability range."""
    labels, lp = _check(y, log_odds)
    if groups < 3:
        raise ValueError(f"Hosmer-Lemeshow needs at least 3 groups, got {groups}")
    p = probability(lp)
    breaks = np.unique(np.quantile(p, np.linspace(0, 1, groups + 1)))
    if len(breaks) < 4:
        raise ValueError("the predictions take too few distinct values for a Hosmer-Lemeshow test")
    group = np.clip(np.searchsorted(breaks, p, side="left") - 1, 0, len(breaks) - 2)
    table, statistic = [], 0.0
    for k in range(len(breaks) - 1):
        members = group == k
        n, observed, expected = int(members.sum()), float(labels[members].sum()), float(p[members].sum())
        if n == 0:
            continue
        statistic += (observed - expected) ** 2 / expected + ((n - observed) - (n - expected)) ** 2 / (n - expected)
        table.append({"n": n, "observed": observed, "expected": expected,
                      "p_low": float(breaks[k]), "p_high": float(breaks[k + 1])})
    dof = len(table) - fitted_parameters
    return {"statistic": float(statistic), "dof": dof, "p": float(stats.chi2.sf(statistic, dof)), "groups": table,
            "fitted_parameters": fitted_parameters}


def validation_statistics(y, log_odds, fitted_parameters: int = 0) -> dict:
    """Every calibration number of predictions ``log_odds`` against outcomes ``y`` (JSON-ready);
    ``fitted_parameters``: how many of the model's parameters were fitted on these patients (0: external
    validation), which sets the Hosmer-Lemeshow degrees of freedom."""
    labels, lp = _check(y, log_odds)
    z, z_p = spiegelhalter_z(labels, lp)
    try:
        grouped = hosmer_lemeshow(labels, lp, fitted_parameters=fitted_parameters)
    except ValueError as err:  # a small cohort or few distinct predictions: no test, and the reason
        grouped = {"statistic": None, "dof": None, "p": None, "groups": [], "fitted_parameters": fitted_parameters,
                   "not_tested": str(err)}
    return {"brier": brier_score(labels, lp), **logistic_calibration(labels, lp), **calibration_errors(labels, lp),
            "spiegelhalter_z": z, "spiegelhalter_p": z_p, "hosmer_lemeshow": grouped,
            "mean_predicted": float(probability(lp).mean()), "observed": float(labels.mean())}
