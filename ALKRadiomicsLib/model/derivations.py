"""Numbers the paper implies but did not print, derived from what it did print (DESIGN sections 4-5).

Each function is the written method behind one ``derived`` or ``assumed`` number of the bundled
model; :mod:`.reference` calls them and records the method in the number's provenance.

The modelled study cohort (used for the intercepts): 66 ALK-positive and 66 ALK-negative patients
(1:1). The Rad-score is binormal with equal variance in the two groups, centred between them, and
calibrated as its own logistic model says (log-odds slope 1): then its AUC fixes both the
separation and the spread (AUC = Phi(s / sqrt 2), separation = s^2); the paper's cross-validated
AUC 0.763 gives s = 1.013. H-scores are log-normal in each group with Table 1's median and IQR
(values above 300, the H-score maximum, set to 300, which leaves median and quartiles unchanged),
independent of each other and of the Rad-score given ALK status.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

Z_95 = float(stats.norm.ppf(0.975))
Z_QUARTILE = float(stats.norm.ppf(0.75))
H_SCORE_MAX = 300.0
STUDY_N = 132  # 66 ALK-positive + 66 ALK-negative
RADIOMIC_AUC = 0.763  # five-fold CV AUC of the Rad-score (Results 3.2)
_QUANTILES = 400  # points per H-score distribution (midpoint quantiles)
_HERMITE = 40  # Gauss-Hermite nodes for the Rad-score


def feasible_beta_range(odds_ratio: float, ci: tuple[float, float], p_below: float,
                        digits: int = 2) -> tuple[float, float]:
    """Every log-odds-ratio beta consistent with an OR and its 95 % CI printed to ``digits`` decimals
    and a two-sided P below ``p_below`` (for some standard error).

    For beta, the standard errors allowed by the CI's two printed ends and by P form an interval;
    beta is feasible where that interval is not empty. Scanned on a 1e-7 grid of beta.
    """
    half = 0.5 * 10.0 ** -digits
    z_p = float(stats.norm.isf(p_below / 2))
    betas = np.arange(math.log(odds_ratio - half), math.log(odds_ratio + half), 1e-7)
    # se bounds from the lower CI end rounding to ci[0], the upper end to ci[1], and |beta| / se > z_p.
    se_low = np.maximum((betas - math.log(ci[0] + half)) / Z_95, (math.log(ci[1] - half) - betas) / Z_95)
    se_high = np.minimum.reduce([(betas - math.log(ci[0] - half)) / Z_95, (math.log(ci[1] + half) - betas) / Z_95,
                                 np.abs(betas) / z_p])
    feasible = betas[(se_low < se_high) & (se_high > 0)]
    if not len(feasible):
        raise ValueError(f"no beta is consistent with OR {odds_ratio} ({ci[0]}-{ci[1]}), P < {p_below}")
    return float(feasible.min()), float(feasible.max())


def lognormal_sigma(median: float, iqr: float) -> float:
    """sigma of the log-normal with this median whose interquartile range (Q3 - Q1) is ``iqr``."""
    return math.asinh(iqr / (2.0 * median)) / Z_QUARTILE


def _h_score_quantiles(median: float, iqr: float) -> np.ndarray:
    q = (np.arange(_QUANTILES) + 0.5) / _QUANTILES
    return np.minimum(median * np.exp(lognormal_sigma(median, iqr) * stats.norm.ppf(q)), H_SCORE_MAX)


def _rad_score_nodes() -> tuple[np.ndarray, np.ndarray, float]:
    """Gauss-Hermite nodes and weights of a standard normal, and the Rad-score's within-group SD."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(_HERMITE)
    return nodes, weights / weights.sum(), math.sqrt(2.0) * float(stats.norm.ppf(RADIOMIC_AUC))


def rad_score_intercept_se() -> float:
    """The standard error the paper's own Rad-score intercept would have had: 1 / sqrt(sum p(1 - p))
    over the modelled 132-patient cohort (the intercept's Fisher information, centred covariates)."""
    nodes, weights, s = _rad_score_nodes()
    information = 0.0
    for sign in (1.0, -1.0):  # ALK-positive, ALK-negative: Rad-score mean +-s^2/2
        p = 1.0 / (1.0 + np.exp(-(sign * s * s / 2 + s * nodes)))
        information += STUDY_N / 2 * float(weights @ (p * (1 - p)))
    return 1.0 / math.sqrt(information)


def combined_intercept(beta_rad: float, beta_hla: float, beta_pdl1: float,
                       table_1: dict[str, tuple[tuple[float, float], tuple[float, float]]]) -> dict[str, float]:
    """The combined model's intercept from the score equation: the value that makes the mean predicted
    probability 0.5 over the modelled 1:1 cohort (a logistic fit with an intercept always does).

    ``table_1`` maps ``hla_i_hscore`` and ``pdl1_hscore`` to ((median, IQR) ALK-positive, (median, IQR)
    ALK-negative). Returns the intercept, its standard error at the covariates' weighted centre
    (1 / sqrt of the intercept's Fisher information over 132 patients) and the two centres: the
    p(1 - p)-weighted mean H-scores, by which the intercept moves when an H-score beta moves
    (implicit function theorem on the score equation: d intercept / d beta = -weighted mean).
    """
    nodes, weights, s = _rad_score_nodes()
    groups = []
    for index, sign in ((0, 1.0), (1, -1.0)):
        rad = sign * s * s / 2 + s * nodes
        hla = _h_score_quantiles(*table_1["hla_i_hscore"][index])
        pdl1 = _h_score_quantiles(*table_1["pdl1_hscore"][index])
        groups.append((beta_rad * rad, hla, pdl1))

    def predicted(c: float) -> list[np.ndarray]:
        return [1.0 / (1.0 + np.exp(-(c + rad[:, None, None] + beta_hla * hla[None, :, None]
                                       + beta_pdl1 * pdl1[None, None, :]))) for rad, hla, pdl1 in groups]

    def mean_probability(c: float) -> float:
        return sum(0.5 * float(np.einsum("i,ijk->", weights, p)) / (_QUANTILES ** 2) for p in predicted(c))

    intercept = optimize.brentq(lambda c: mean_probability(c) - 0.5, -20.0, 20.0, xtol=1e-13)
    information = centre_hla = centre_pdl1 = 0.0
    for (_, hla, pdl1), p in zip(groups, predicted(intercept), strict=True):
        w = np.einsum("i,ijk->ijk", weights, p * (1 - p)) / (_QUANTILES ** 2) * 0.5
        information += float(w.sum())
        centre_hla += float(np.einsum("ijk,j->", w, hla))
        centre_pdl1 += float(np.einsum("ijk,k->", w, pdl1))
    return {"intercept": intercept, "se": 1.0 / math.sqrt(STUDY_N * information),
            "centre_hla_i_hscore": centre_hla / information, "centre_pdl1_hscore": centre_pdl1 / information}


def logrank_implied_hazard_ratio(p_two_sided: float, events: int) -> float:
    """The group hazard ratio a log-rank P implies with this many events (Schoenfeld, 1:1 groups):
    log HR = z x sqrt(4 / events)."""
    return math.exp(float(stats.norm.isf(p_two_sided / 2)) * math.sqrt(4.0 / events))
