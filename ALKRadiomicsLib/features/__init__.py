"""Radiomic feature extraction (paper section 2.3, DESIGN section 3).

:func:`extract` computes the features the bundled models need without pyradiomics; with
``all_features=True`` it runs pyradiomics for all 851.
"""

from __future__ import annotations

from ..io import Case
from .full import compute_all_features
from .settings import ExtractionSettings
from .signature import FeatureName, can_compute, compute_features

# The six features of the published signature (Tables 2 and 3), pyradiomics names.
SIGNATURE_FEATURES = (
    "original_glcm_Autocorrelation",
    "wavelet-LLH_glszm_SmallAreaEmphasis",
    "wavelet-HLL_glcm_Correlation",
    "wavelet-LLL_firstorder_Skewness",
    "wavelet-LLH_ngtdm_Busyness",
    "wavelet-LLL_glcm_MaximumProbability",
)


def extract(case: Case, *, all_features: bool = False, names=SIGNATURE_FEATURES) -> dict[str, float]:
    """Feature values of a validated case: ``names`` by default, all 851 with ``all_features``."""
    if all_features:
        return compute_all_features(case.image, case.mask, label=case.label)
    return compute_features(case.image, case.mask, names, label=case.label)


__all__ = ["SIGNATURE_FEATURES", "ExtractionSettings", "FeatureName", "can_compute", "compute_features",
           "compute_all_features", "extract"]
