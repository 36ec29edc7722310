"""The paper's published numbers, exactly as printed, and the assumptions that fill its gaps.

Han Y, Feng W, Li H, Wang H, Ye Z. Radiomic features and tumor immune microenvironment
associated with anaplastic lymphoma kinase-rearranged lung adenocarcinoma and their prognostic
value. Table 2 (ALK signature), Table 3 (RAD-risk), Results 3.2 (combined ALK model) and 3.3
(N stage). Betas are per standard deviation of each feature; ORs and HRs are per unit of the
covariate. Nothing in this module is computed from data.
"""

from __future__ import annotations

import math

from . import derivations
from .schema import Parameter, Provenance, Regression, Term

CITATION = (
    "Han Y, Feng W, Li H, Wang H, Ye Z. Radiomic features and tumor immune microenvironment associated "
    "with anaplastic lymphoma kinase-rearranged lung adenocarcinoma and their prognostic value."
)

# (pyradiomics name, paper name, beta as printed, ratio, ratio CI low, ratio CI high, P as printed)
TABLE_2 = (
    ("original_glcm_Autocorrelation", "Original.GLCM.Autocorrelation", -0.777, 0.46, 0.21, 1.00, "0.050"),
    ("wavelet-LLH_glszm_SmallAreaEmphasis", "Wavelet_LLH.GLSZM.SmallAreaEmphasis", 0.648, 1.91, 1.23, 2.98, "0.004"),
    ("wavelet-HLL_glcm_Correlation", "Wavelet_HLL.GLCM.Correlation", 0.742, 2.10, 1.33, 3.32, "0.001"),
    ("wavelet-LLL_firstorder_Skewness", "Wavelet_LLL.Firstorder.Skewness", -1.185, 0.31, 0.14, 0.68, "0.004"),
)
TABLE_3 = (
    ("wavelet-LLH_ngtdm_Busyness", "Wavelet_LLH.NGTDM.Busyness", 0.973, 2.65, 1.78, 3.93, "<0.001"),
    ("wavelet-LLL_glcm_MaximumProbability", "Wavelet_LLL.GLCM.MaximumProbability", 0.566, 1.76, 1.18, 2.64, "0.006"),
)
# Combined ALK model, Results 3.2 (Supplementary Table S4): (variable, label, unit, OR, CI low, CI high)
COMBINED_ALK = (
    ("rad_score", "Rad-score", "per unit", 2.88, 1.82, 4.88),
    ("hla_i_hscore", "HLA-I H-score", "per H-score point", 0.99, 0.98, 0.99),
    ("pdl1_hscore", "PD-L1 H-score", "per H-score point", 0.99, 0.98, 0.99),
)
# Clinicopathological DFS model, Results 3.3: N stage (N1-2 vs N0).
N_STAGE_HR = (5.31, 2.34, 12.02)

DFS_COMBINED_NOTE = (
    "The combined DFS model (N stage + RAD-risk score, Supplementary Table S8) is not published: its "
    "coefficients are not in the paper, so ALKRadiomics does not compute it. Its reported C-index was "
    "0.808 (0.723-0.887) vs 0.752 for RAD-risk alone and 0.712 for N stage alone."
)


def _ratio_term(variable: str, label: str, beta: float, ratio: float, low: float, high: float,
                source: str, printed: str, unit: str = "per SD") -> Term:
    return Term(variable, Parameter(beta, Provenance.published(source, printed), (math.log(low), math.log(high))),
                label, unit)


def alk_radiomic(intercept: Parameter) -> Regression:
    """The Rad-score: logistic regression on four standardized features (Table 2)."""
    terms = tuple(
        _ratio_term(name, paper, beta, ratio, low, high, "Table 2",
                    f"beta {beta}; OR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P {p}")
        for name, paper, beta, ratio, low, high, p in TABLE_2
    )
    return Regression("logistic", terms, intercept=intercept, intercept_prior=STUDY_PRIOR,
                      description="Rad-score = intercept + sum(beta * standardized feature); "
                                  "P(ALK) = logistic(Rad-score).")


STUDY_PRIOR = 0.5  # the paper's 1:1 ALK-positive:ALK-negative design: the prior its intercepts hold at
# Table 1 medians (IQR) of the H-scores, (ALK-positive, ALK-negative).
TABLE_1 = {"hla_i_hscore": ((20.0, 64.5), (90.0, 167.75)), "pdl1_hscore": ((23.0, 75.0), (88.0, 114.25))}


def h_score_beta(variable: str) -> Parameter:
    """An H-score's per-point beta: the centre of every beta consistent with the printed OR 0.99
    (0.98-0.99), P < 0.001, and that printed CI (as logs) as its 95 % interval."""
    _, label, _, ratio, low, high = next(row for row in COMBINED_ALK if row[0] == variable)
    feasible = derivations.feasible_beta_range(ratio, (low, high), 0.001)
    centre = (feasible[0] + feasible[1]) / 2
    printed = f"OR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P < 0.001"
    return Parameter(centre, Provenance.assumed(
        f"{label}: printed as {printed}, rounded to two decimals, so ln {ratio} = {math.log(ratio):.5f} is only one "
        f"reading. Every beta for which some standard error reproduces all three printed numbers lies in "
        f"[{feasible[0]:.5f}, {feasible[1]:.5f}] (ln 0.99 lies just outside, since a beta that small cannot have a "
        f"CI whose upper end rounds to 0.99 while P < 0.001); the value is that range's centre, and the "
        "uncertainty draws the beta uniformly over it (feasible_range)."),
        (math.log(low), math.log(high)), feasible)


def alk_combined() -> Regression:
    """Rad-score + HLA-I + PD-L1 H-scores (Results 3.2); intercept from the score equation (derivations)."""
    rad_variable, rad_label, rad_unit, ratio, low, high = COMBINED_ALK[0]
    rad = Term(rad_variable, Parameter(math.log(ratio), Provenance.published(
        "Results 3.2 (Supplementary Table S4)", f"OR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P < 0.001"),
        (math.log(low), math.log(high))), rad_label, rad_unit)
    h_terms = tuple(Term(variable, h_score_beta(variable), label, unit)
                    for variable, label, unit, *_ in COMBINED_ALK[1:])
    beta = {t.variable: t.beta.value for t in (rad, *h_terms)}
    solved = derivations.combined_intercept(beta["rad_score"], beta["hla_i_hscore"], beta["pdl1_hscore"], TABLE_1)
    value, se = solved["intercept"], solved["se"]
    reason = (
        "Not published. The score equation of a logistic fit with an intercept makes the mean predicted probability "
        "equal the observed rate, 0.5 in the paper's 1:1 cohort; the intercept solves it over a modelled cohort: "
        f"Rad-score binormal with equal variance, calibrated (log-odds slope 1), AUC {derivations.RADIOMIC_AUC}; "
        "HLA-I and PD-L1 H-scores log-normal with Table 1's medians and IQRs (HLA-I 20 (64.5) vs 90 (167.75), PD-L1 "
        "23 (75) vs 88 (114.25)), capped at 300, independent given ALK status; betas as stored "
        f"({beta['hla_i_hscore']:.5f} per point). Midpoints of the medians, which ignore the right skew the IQRs "
        "show, gave 1.11 and a mean predicted probability of 0.40. The 95 % interval is +-1.96 standard errors of "
        f"the intercept at the covariates' weighted centre, {se:.3f} = 1 / sqrt(Fisher information over 132 "
        "patients); when an H-score beta is varied the intercept moves by -(change) x intercept_centres, the "
        "p(1-p)-weighted mean H-score (the score equation's derivative)."
    )
    return Regression("logistic", (rad, *h_terms),
                      intercept=Parameter(value, Provenance.assumed(reason),
                                          (value - derivations.Z_95 * se, value + derivations.Z_95 * se)),
                      intercept_prior=STUDY_PRIOR,
                      intercept_centres={"hla_i_hscore": solved["centre_hla_i_hscore"],
                                         "pdl1_hscore": solved["centre_pdl1_hscore"]},
                      description="logit P(ALK) = intercept + beta_rad * Rad-score + beta_hla * HLA-I "
                                  "+ beta_pdl1 * PD-L1, at the study's 1:1 design.")


def rad_score_intercept() -> Parameter:
    se = derivations.rad_score_intercept_se()
    return Parameter(0.0, Provenance.assumed(
        "Not published. The study sampled ALK-positive and ALK-negative patients 1:1, and the features are centred "
        "on the reference population, so a patient with average features is given log-odds 0 (probability 0.5 at "
        "the study's prior). The 95 % interval is +-1.96 x the standard error the paper's own intercept would have "
        f"had, {se:.3f} = 1 / sqrt(sum p(1-p)) over 132 patients whose Rad-score is binormal with AUC "
        f"{derivations.RADIOMIC_AUC}. It does not cover a shift between the paper's cohort and the reference "
        "population, which cannot be estimated without the paper's data."),
        (-derivations.Z_95 * se, derivations.Z_95 * se))


def dfs_radiomic(cutoff: Parameter | None = None, group_hazard_ratio: Parameter | None = None) -> Regression:
    """The RAD-risk score: Cox regression on two standardized features (Table 3).

    The cutoff and the hazard ratio between groups are not published; a model file needs them
    (see :mod:`.reference`).
    """
    terms = tuple(
        _ratio_term(name, paper, beta, ratio, low, high, "Table 3",
                    f"beta {beta}; HR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P {p}")
        for name, paper, beta, ratio, low, high, p in TABLE_3
    )
    return Regression("cox", terms, cutoff=cutoff, group_hazard_ratio=group_hazard_ratio,
                      description="RAD-risk score = sum(beta * standardized feature); "
                                  "high risk above the median cutoff.")


def dfs_clinical() -> Regression:
    ratio, low, high = N_STAGE_HR
    term = Term("n_stage", Parameter(math.log(ratio), Provenance.published(
        "Results 3.3", f"N stage HR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P < 0.001"),
        (math.log(low), math.log(high))), "N stage (N1-2 vs N0)", "0 = N0, 1 = N1-2")
    return Regression("cox", (term,), description="Clinicopathological DFS model: hazard ratio of N1-2 vs N0.")
