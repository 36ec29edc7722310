"""The paper's published numbers, exactly as printed, and the assumptions that fill its gaps.

Han Y, Feng W, Li H, Wang H, Ye Z. Radiomic features and tumor immune microenvironment
associated with anaplastic lymphoma kinase-rearranged lung adenocarcinoma and their prognostic
value. Table 2 (ALK signature), Table 3 (RAD-risk), Results 3.2 (combined ALK model) and 3.3
(N stage). Betas are per standard deviation of each feature; ORs and HRs are per unit of the
covariate. Nothing in this module is computed from data.
"""

from __future__ import annotations

import math

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
# Table 1 medians (IQR), ALK-positive vs ALK-negative.
TABLE_1_MEDIANS = {"hla_i_hscore": (20.0, 90.0), "pdl1_hscore": (23.0, 88.0)}

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
    return Regression("logistic", terms, intercept=intercept,
                      description="Rad-score = intercept + sum(beta * standardized feature); "
                                  "P(ALK) = logistic(Rad-score).")


def alk_combined() -> Regression:
    """Rad-score + HLA-I + PD-L1 H-scores (Results 3.2), with the intercept assumed below."""
    terms = tuple(
        Term(variable, Parameter(math.log(ratio), Provenance.published(
            "Results 3.2 (Supplementary Table S4)", f"OR {ratio:.2f} (95% CI {low:.2f}-{high:.2f}); P < 0.001"),
            (math.log(low), math.log(high))), label, unit)
        for variable, label, unit, ratio, low, high in COMBINED_ALK
    )
    midpoint = {k: (a + b) / 2 for k, (a, b) in TABLE_1_MEDIANS.items()}
    beta = {t.variable: t.beta.value for t in terms}
    value = -(beta["hla_i_hscore"] * midpoint["hla_i_hscore"] + beta["pdl1_hscore"] * midpoint["pdl1_hscore"])
    reason = (
        "Not published. Chosen so that, under the study's 1:1 design, a patient with a centred Rad-score (0) and "
        "H-scores at the midpoint of the two groups' Table 1 medians (HLA-I (20+90)/2 = 55, PD-L1 (23+88)/2 = 55.5) "
        f"has log-odds 0: intercept = -(ln 0.99 x 55 + ln 0.99 x 55.5) = {value:.6f}."
    )
    return Regression("logistic", terms, intercept=Parameter(value, Provenance.assumed(reason)),
                      description="logit P(ALK) = intercept + beta_rad * Rad-score + beta_hla * HLA-I "
                                  "+ beta_pdl1 * PD-L1.")


def rad_score_intercept() -> Parameter:
    return Parameter(0.0, Provenance.assumed(
        "Not published. The study sampled ALK-positive and ALK-negative patients 1:1, and the features are centred "
        "on the reference population, so a patient with average features is given log-odds 0 (probability 0.5 at "
        "the study's prior)."))


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
