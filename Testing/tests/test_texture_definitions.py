"""Texture features on small phantoms whose values are known by hand (pyradiomics' definitions)."""

from __future__ import annotations

import numpy as np
import pytest

from ALKRadiomicsLib.features import texture


def test_fixed_bin_width_edges_start_at_a_multiple_of_the_width():
    # pyradiomics' documented example: values 54..166, width 25 -> edges 50, 75, ..., 175.
    values = np.array([54, 74.9, 75, 100, 166])
    np.testing.assert_array_equal(texture.discretize(values, 25), [1, 1, 2, 3, 5])


def test_discretize_negative_hounsfield_units_floor_to_the_bin_below():
    values = np.array([-1000, -1001, -976, -975])
    np.testing.assert_array_equal(texture.discretize(values, 25), [2, 1, 2, 3])


def test_flat_region_has_one_gray_level():
    np.testing.assert_array_equal(texture.discretize(np.full(5, -30.0), 25), np.ones(5))


def test_small_area_emphasis_counts_26_connected_zones():
    levels = np.zeros((3, 3, 3), dtype=np.int64)
    mask = np.zeros((3, 3, 3), dtype=bool)
    # A diagonal pair (one zone under 26-connectivity) of level 1 and an isolated voxel of level 2.
    levels[0, 0, 0] = levels[1, 1, 1] = 1
    levels[2, 2, 0] = 2
    mask[levels > 0] = True
    # zones: size 2 and size 1 -> (1/4 + 1/1) / 2
    assert texture.glszm_small_area_emphasis(levels, mask) == pytest.approx((0.25 + 1.0) / 2)


def test_busyness_of_two_level_slab():
    # Two voxels side by side, levels 1 and 3: each one's only neighbour differs by 2.
    levels = np.array([[[1, 3]]])
    mask = np.ones_like(levels, dtype=bool)
    # p = (1/2, 1/2), s = (2, 2); numerator 2; denominator |1/2 - 3/2| * 2 = 2
    assert texture.ngtdm_busyness(levels, mask) == pytest.approx(1.0)


def test_glcm_of_a_checkerboard_line_is_perfectly_anticorrelated():
    levels = np.array([[[1, 2, 1, 2, 1, 2]]])
    mask = np.ones_like(levels, dtype=bool)
    features = texture.glcm_features(levels, mask)
    assert features["Correlation"] == pytest.approx(-1.0)
    assert features["MaximumProbability"] == pytest.approx(0.5)
    assert features["Autocorrelation"] == pytest.approx(2.0)  # every pair is (1, 2) or (2, 1)


def test_skewness_of_a_flat_region_is_zero_and_of_a_right_tail_positive():
    assert texture.skewness(np.full(10, 3.0)) == 0.0
    assert texture.skewness(np.array([0.0, 0, 0, 0, 10])) > 1
