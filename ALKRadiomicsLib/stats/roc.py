"""ROC AUC with DeLong's variance: confidence interval and the paired test of two AUCs.

DeLong ER, DeLong DM, Clarke-Pearson DL. Comparing the areas under two or more correlated
receiver operating characteristic curves: a nonparametric approach. Biometrics 1988;44:837-45.
Computed with midranks as in Sun X, Xu W. Fast implementation of DeLong's algorithm. IEEE Signal
Processing Letters 2014;21:1389-93. Same numbers as pROC's ``ci.auc(method="delong")`` and
``roc.test(method="delong", paired=TRUE)`` with ``direction="<"``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(y, *scores) -> tuple[np.ndarray, list[np.ndarray]]:
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.isin(labels, (0, 1)).all():
        raise ValueError("y must be a 1-D array of 0 (negative) and 1 (positive) labels")
    if labels.sum() < 2 or (labels == 0).sum() < 2:
        raise ValueError("y needs at least two positives and two negatives for DeLong's variance")
    arrays = []
    for score in scores:
        array = np.asarray(score, dtype=float)
        if array.shape != labels.shape:
            raise ValueError(f"a score has shape {array.shape}, but y has {labels.shape}")
        if not np.isfinite(array).all():
            raise ValueError("scores must be finite")
        arrays.append(array)
    return labels.astype(bool), arrays


def _structural_components(positive: np.ndarray, negative: np.ndarray):
    """AUC and DeLong's placement values V10 (per positive) and V01 (per negative)."""
    m, n = len(positive), len(negative)
    within_positive = stats.rankdata(positive)
    within_negative = stats.rankdata(negative)
    overall = stats.rankdata(np.concatenate([positive, negative]))
    auc = (overall[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (overall[:m] - within_positive) / n  # fraction of negatives below each positive (ties 1/2)
    v01 = 1.0 - (overall[m:] - within_negative) / m  # fraction of positives above each negative
    return auc, v10, v01


def _delong(labels: np.ndarray, scores: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their DeLong covariance matrix."""
    parts = [_structural_components(s[labels], s[~labels]) for s in scores]
    aucs = np.array([p[0] for p in parts])
    v10 = np.atleast_2d(np.array([p[1] for p in parts]))
    v01 = np.atleast_2d(np.array([p[2] for p in parts]))
    covariance = np.atleast_2d(np.cov(v10)) / v10.shape[1] + np.atleast_2d(np.cov(v01)) / v01.shape[1]
    return aucs, covariance


def auc_ci(y, score, level: float = 0.95) -> tuple[float, float, float]:
    """AUC of ``score`` for the 0/1 labels ``y`` and its ``level`` CI from DeLong's variance."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    labels, (array,) = _check(y, score)
    aucs, covariance = _delong(labels, [array])
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt(covariance[0, 0])
    auc = float(aucs[0])
    return auc, float(max(auc - half, 0.0)), float(min(auc + half, 1.0))


def delong_test(y, score_a, score_b) -> tuple[float, float, float, float]:
    """DeLong's test of two correlated AUCs (the same patients): (auc_a, auc_b, z, two-sided p)."""
    labels, arrays = _check(y, score_a, score_b)
    aucs, covariance = _delong(labels, arrays)
    variance = covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1]
    if variance <= 0:
        raise ValueError("the two scores rank the patients identically; their AUCs cannot be compared")
    z = float((aucs[0] - aucs[1]) / np.sqrt(variance))
    return float(aucs[0]), float(aucs[1]), z, float(2 * stats.norm.sf(abs(z)))
