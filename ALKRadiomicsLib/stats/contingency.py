"""Table 1's tests of a clinical variable between ALK-positive and ALK-negative patients.

Two-valued (categorical) variables: Pearson's chi-square *without* continuity correction, the test
whose P values the paper prints (its Table 1 P values are recovered from its counts by Pearson, not
by Yates's corrected test), or Fisher's exact test where an expected count is below 5, the usual
rule where the chi-square approximation fails. Continuous, skewed variables: the two-sided
Mann-Whitney U test (scipy's; asymptotic with tie correction where n is large, as R's wilcox.test).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

#: Below this expected count in any cell, the chi-square approximation is not trusted (Cochran's rule).
MIN_EXPECTED = 5.0

PEARSON = "Pearson chi-squared (no continuity correction)"
FISHER = "Fisher's exact (an expected count < 5)"
MANN_WHITNEY = "Mann-Whitney U (two-sided)"


def compare_proportions(counts) -> dict[str, float | str]:
    """Test a 2 x k table of counts (rows: groups). Returns ``test`` (its name), ``statistic``
    (chi-square, or the odds ratio for Fisher's test), ``p`` and ``expected_min``."""
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] != 2 or table.shape[1] < 2:
        raise ValueError(f"counts must be a 2 x k table (k >= 2), got shape {table.shape}")
    if (table < 0).any() or not np.isfinite(table).all() or (table != np.round(table)).any():
        raise ValueError("counts must be non-negative whole numbers")
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        raise ValueError("every row and column of the table needs at least one patient")
    expected = stats.contingency.expected_freq(table)
    if expected.min() < MIN_EXPECTED and table.shape == (2, 2):
        odds_ratio, p = stats.fisher_exact(table)
        return {"test": FISHER, "statistic": float(odds_ratio), "p": float(p), "expected_min": float(expected.min())}
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return {"test": PEARSON, "statistic": float(chi2), "p": float(p), "expected_min": float(expected.min())}


def compare_distributions(positive, negative) -> dict[str, float | str]:
    """Two-sided Mann-Whitney U test of two samples: ``test``, ``statistic`` (U of ``positive``) and ``p``."""
    a, b = np.asarray(positive, dtype=float), np.asarray(negative, dtype=float)
    if len(a) < 1 or len(b) < 1 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("both samples need at least one finite value")
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {"test": MANN_WHITNEY, "statistic": float(result.statistic), "p": float(result.pvalue)}
