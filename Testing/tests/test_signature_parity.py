"""The signature path gives stock pyradiomics' numbers (issue 2, DESIGN section 3).

Stock pyradiomics runs on the full, uncropped CT with the bundled parameter file; our path
resamples only the ROI's neighbourhood and computes only the six features, without pyradiomics.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import SimpleITK as sitk

from ALKRadiomicsLib.features import SIGNATURE_FEATURES, ExtractionSettings, compute_features, extract
from ALKRadiomicsLib.features.preprocess import resample_roi

CASES = ["lung1", "lung2", "lidc0314"]


def assert_same(ours: float, reference: float, name: str) -> None:
    if abs(reference) < 1e-6:
        assert abs(ours - reference) <= 1e-12, f"{name}: {ours!r} vs pyradiomics {reference!r}"
    else:
        assert math.isclose(ours, reference, rel_tol=1e-9, abs_tol=0), f"{name}: {ours!r} vs pyradiomics {reference!r}"


@pytest.mark.parametrize("case_name", CASES)
def test_signature_features_equal_stock_pyradiomics(case_name, load_real_case, stock_pyradiomics):
    case = load_real_case(case_name)
    ours = extract(case)
    reference = stock_pyradiomics(case_name)
    assert list(ours) == list(SIGNATURE_FEATURES)
    for name in SIGNATURE_FEATURES:
        assert_same(ours[name], reference[name], name)


@pytest.mark.parametrize("case_name", CASES)
def test_all_features_equal_stock_pyradiomics(case_name, load_real_case, stock_pyradiomics):
    case = load_real_case(case_name)
    ours = extract(case, all_features=True)
    reference = stock_pyradiomics(case_name)
    assert len(reference) == 851
    assert list(ours) == list(reference)
    for name, value in reference.items():
        assert_same(ours[name], value, name)


def test_resampled_roi_is_pyradiomics_resampling_of_the_full_ct(load_real_case):
    radiomics = pytest.importorskip("radiomics")
    from radiomics import imageoperations

    case = load_real_case("lung2")
    roi = resample_roi(case.image, case.mask, case.label, ExtractionSettings.from_parameters())
    image, mask = imageoperations.resampleImage(
        case.image, sitk.Cast(case.mask, sitk.sitkUInt32), resampledPixelSpacing=[1, 1, 1],
        interpolator="sitkBSpline", label=1,
    )
    assert radiomics is not None
    np.testing.assert_array_equal(roi.image, sitk.GetArrayFromImage(image))
    np.testing.assert_array_equal(roi.mask, sitk.GetArrayFromImage(mask) == 1)


def test_features_of_a_wavelet_band_outside_the_signature_also_match(load_real_case, stock_pyradiomics):
    # The implementation is per (class, feature), on any image type, not tuned to six names.
    case = load_real_case("lung1")
    names = ["wavelet-HHH_glcm_Correlation", "original_firstorder_Skewness", "wavelet-LHL_ngtdm_Busyness",
             "wavelet-HLH_glszm_SmallAreaEmphasis", "original_glcm_MaximumProbability"]
    ours = compute_features(case.image, case.mask, names, label=case.label)
    reference = stock_pyradiomics("lung1")
    for name in names:
        assert_same(ours[name], reference[name], name)
