"""Table 1 (clinicopathological features by ALK status, Results 3.1) and the scores' Spearman correlations.

Two-valued columns: Pearson chi-square without continuity correction, or Fisher's exact test where an
expected count is below 5 (each row names its test); other columns: Mann-Whitney U with medians and IQRs.
"""

from __future__ import annotations

import pandas as pd
from scipy import stats as scipy_stats

from ..stats.contingency import compare_distributions, compare_proportions
from .estimates import APPARENT


def table1(data: pd.DataFrame, clinical: list[str]) -> dict:
    """ALK-positive vs negative for each clinical column (JSON-ready, one row per column)."""
    table = {}
    positive, negative = data[data["alk"] == 1], data[data["alk"] == 0]
    for column in clinical:
        values = data[column].astype(float)
        if values.nunique() == 2:
            counts = pd.crosstab(data["alk"], values).loc[[1, 0]]
            level = values.max()
            table[column] = {**compare_proportions(counts.to_numpy()), "level": float(level),
                             "positive_n": int((positive[column] == level).sum()), "positive_total": len(positive),
                             "negative_n": int((negative[column] == level).sum()), "negative_total": len(negative)}
        else:
            table[column] = {**compare_distributions(positive[column].astype(float), negative[column].astype(float)),
                             **{f"{group}_median_iqr": [float(part[column].median()),
                                                        *map(float, part[column].astype(float).quantile([.25, .75]))]
                                for group, part in (("positive", positive), ("negative", negative))}}
    return table


def spearman(scores: dict[str, pd.Series], data: pd.DataFrame, clinical: list[str]) -> dict:
    """Spearman's rho (and P) of each score with each clinical variable, over patients with both."""
    result = {}
    for score, values in scores.items():
        for column in clinical:
            both = values.notna() & data[column].notna()
            rho, p = scipy_stats.spearmanr(values[both], data.loc[both, column].astype(float))
            result[f"{score} ~ {column}"] = {"rho": float(rho), "p": float(p), "n": int(both.sum()),
                                             "estimate": APPARENT}  # the scores were fitted on these patients
    return result
