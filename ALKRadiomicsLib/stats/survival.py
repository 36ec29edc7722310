"""Survival statistics of the paper's DFS analysis (Methods 2.4.2), on lifelines.

Each function checks its inputs and returns plain numbers; the values equal R's survival
package (concordance, coxph likelihood-ratio test, survdiff, survfit on reversed censoring),
which the test suite checks where R is installed.
"""

from __future__ import annotations

import numpy as np

from ..errors import MissingDependencyError


def _lifelines():
    try:
        import lifelines
        from lifelines import statistics as lifelines_statistics
        from lifelines import utils as lifelines_utils
    except ImportError:
        raise MissingDependencyError("Survival statistics need lifelines: pip install 'alk-radiomics[train]'.") \
            from None
    return lifelines, lifelines_statistics, lifelines_utils


def _survival_data(time, event, *scores) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    times = np.asarray(time, dtype=float)
    events = np.asarray(event)
    if times.ndim != 1 or events.shape != times.shape:
        raise ValueError("time and event must be 1-D arrays of the same length")
    if not np.isfinite(times).all() or (times < 0).any():
        raise ValueError("times must be finite and non-negative")
    if not np.isin(events, (0, 1)).all():
        raise ValueError("event must hold 0 (censored) and 1 (event) only")
    if events.sum() == 0:
        raise ValueError("there is no event; survival statistics are undefined")
    arrays = []
    for score in scores:
        array = np.asarray(score, dtype=float)
        if array.shape != times.shape or not np.isfinite(array).all():
            raise ValueError("a score must be finite, one value per patient")
        arrays.append(array)
    return times, events.astype(int), arrays


def harrell_c(time, event, score) -> float:
    """Harrell's concordance index of a risk ``score`` (higher = earlier event); ties in score count 1/2."""
    times, events, (risk,) = _survival_data(time, event, score)
    _, _, utils = _lifelines()
    return float(utils.concordance_index(times, -risk, events))


def cox_lrt(df, duration_col: str, event_col: str, reduced_covariates: list[str],
            full_covariates: list[str]) -> tuple[float, int, float]:
    """Likelihood-ratio test of nested Cox models (Efron ties): (statistic, degrees of freedom, p).

    ``reduced_covariates`` may be empty (the null model).
    """
    reduced, full = list(reduced_covariates), list(full_covariates)
    if not set(reduced) < set(full):
        raise ValueError("the reduced model's covariates must be a proper subset of the full model's")
    missing = [c for c in [duration_col, event_col, *full] if c not in df.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in the data frame")
    _survival_data(df[duration_col], df[event_col])
    lifelines, _, _ = _lifelines()
    from scipy import stats

    full_fit = lifelines.CoxPHFitter().fit(df[[duration_col, event_col, *full]], duration_col, event_col)
    if not reduced:  # against the null model (no covariates)
        test = full_fit.log_likelihood_ratio_test()
        return float(test.test_statistic), int(test.degrees_freedom), float(test.p_value)
    reduced_fit = lifelines.CoxPHFitter().fit(df[[duration_col, event_col, *reduced]], duration_col, event_col)
    statistic = float(2 * (full_fit.log_likelihood_ - reduced_fit.log_likelihood_))
    dof = len(full) - len(reduced)
    return statistic, dof, float(stats.chi2.sf(statistic, dof))


def logrank_median_split(time, event, score) -> tuple[float, float, float]:
    """Split at the median score (high: above it) and compare the groups: (cutoff, chi-square, p)."""
    times, events, (values,) = _survival_data(time, event, score)
    cutoff = float(np.median(values))
    high = values > cutoff
    if high.all() or not high.any():
        raise ValueError("the median does not split the scores into two groups (too many ties)")
    _, statistics, _ = _lifelines()
    result = statistics.logrank_test(times[high], times[~high], events[high], events[~high])
    return cutoff, float(result.test_statistic), float(result.p_value)


def reverse_km_median_followup(time, event) -> float:
    """Median follow-up by the reverse Kaplan-Meier method (censoring treated as the event).

    The median is the first time the curve reaches 0.5 or below; where it stays exactly at 0.5
    up to the next drop, the midpoint of those two times (R's survfit convention).
    """
    times, events, _ = _survival_data(time, 1 - np.asarray(event))
    lifelines, _, _ = _lifelines()
    curve = lifelines.KaplanMeierFitter().fit(times, events).survival_function_.iloc[:, 0]
    at_or_below = np.flatnonzero(curve.values <= 0.5 + 1e-12)
    if len(at_or_below) == 0:
        return float("inf")  # not reached
    first = at_or_below[0]
    if abs(curve.values[first] - 0.5) < 1e-12:
        later = np.flatnonzero(curve.values < 0.5 - 1e-12)
        if len(later):
            return float((curve.index[first] + curve.index[later[0]]) / 2)
    return float(curve.index[first])


def harrell_c_ci(time, event, score, level: float = 0.95) -> tuple[float, float, float]:
    """Harrell's C of a risk ``score`` and its ``level`` CI from the infinitesimal-jackknife variance, as R's
    ``survival::concordance(..., reverse = TRUE)``: the variance is the sum over patients of the squared
    derivative of C with respect to the patient's case weight. Pairs are comparable when the earlier time is an
    event (a censoring at the same time counts as later); ties in score count 1/2."""
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    times, events, (risk,) = _survival_data(time, event, score)
    earlier, later = times[:, None], times[None, :]
    comparable = ((earlier < later) | ((earlier == later) & (events[None, :] == 0))) & (events[:, None] == 1)
    if not comparable.any():
        raise ValueError("no pair of patients is comparable (an event before another patient's time)")
    agree = comparable * ((risk[:, None] > risk[None, :]) + 0.5 * (risk[:, None] == risk[None, :]))
    total = comparable.sum()
    c = agree.sum() / total
    influence = (agree.sum(axis=1) + agree.sum(axis=0) - c * (comparable.sum(axis=1) + comparable.sum(axis=0))) / total
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(np.sum(influence ** 2))
    return float(c), float(max(c - half, 0.0)), float(min(c + half, 1.0))
