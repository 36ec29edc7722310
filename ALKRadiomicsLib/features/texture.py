"""Gray-level discretisation and the texture features the bundled models use.

Each function implements pyradiomics' documented definition (pyradiomics.readthedocs.io,
"Radiomic Features") on a cropped ROI: ``image`` and ``mask`` are (z, y, x) arrays covering the
ROI's bounding box, so neighbours outside the box do not exist, as in pyradiomics.
Only segment-based extraction with pyradiomics' defaults is implemented: distance 1,
symmetrical GLCM, no distance weighting, 26-connected zones and neighbourhoods.
"""

from __future__ import annotations

import itertools

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

_EPS = np.spacing(1)

# The 13 offsets (dz, dy, dx) that cover all 26 neighbours once each, with their mirror images
# implied; the GLCM is made symmetrical, so the half-space chosen does not change any value.
_HALF_NEIGHBOURHOOD = [
    offset for offset in itertools.product((1, 0, -1), repeat=3)
    if offset > (0, 0, 0)
]


def discretize(values: np.ndarray, bin_width: float) -> np.ndarray:
    """Fixed-bin-width gray levels, 1 for the lowest bin (pyradiomics ``binWidth``).

    Bins are equally spaced from 0 with width ``bin_width``; the first edge is the multiple
    of the width at or below the ROI minimum, and each bin is half-open [lower, upper).
    """
    minimum = values.min()
    maximum = values.max()
    low_edge = minimum - (minimum % bin_width)
    edges = np.arange(low_edge, maximum + 2 * bin_width, bin_width)
    if len(edges) == 1:  # a flat region still gets one bin
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    return np.digitize(values, edges)


def gray_levels(image: np.ndarray, mask: np.ndarray, bin_width: float) -> np.ndarray:
    """The discretised image inside ``mask``; 0 outside."""
    levels = np.zeros(image.shape, dtype=np.int64)
    levels[mask] = discretize(image[mask], bin_width)
    return levels


def _pairs(levels: np.ndarray, mask: np.ndarray, offset: tuple[int, int, int]):
    """Gray levels of the voxel pairs (p, p + offset) with both voxels in the ROI."""
    source, target = [], []
    for step, n in zip(offset, levels.shape, strict=False):
        source.append(slice(max(0, -step), n - max(0, step)))
        target.append(slice(max(0, step), n - max(0, -step)))
    source, target = tuple(source), tuple(target)
    both = mask[source] & mask[target]
    return levels[source][both], levels[target][both]


def glcm_matrices(levels: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised symmetrical GLCMs, one per non-empty direction, shape (Ng, Ng, directions).

    Rows and columns are the gray levels present in the ROI (returned second), as in
    pyradiomics, which drops absent gray levels before normalising.
    """
    present = np.unique(levels[mask])
    index = np.zeros(int(present.max()) + 1, dtype=np.int64)
    index[present] = np.arange(len(present))
    n = len(present)
    matrices = []
    for offset in _HALF_NEIGHBOURHOOD:
        a, b = _pairs(levels, mask, offset)
        if a.size == 0:
            continue  # an empty direction is left out of the average
        counts = np.bincount(index[a] * n + index[b], minlength=n * n).reshape(n, n).astype(float)
        counts += counts.T
        matrices.append(counts / counts.sum())
    if not matrices:
        raise ValueError("No two ROI voxels are neighbours; the GLCM is empty.")
    return np.stack(matrices, axis=-1), present.astype(float)


def glcm_features(levels: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """GLCM Autocorrelation, Correlation and MaximumProbability, averaged over directions."""
    p, g = glcm_matrices(levels, mask)
    i = g[:, None, None]
    j = g[None, :, None]
    ux = np.sum(p * i, axis=(0, 1))
    uy = np.sum(p * j, axis=(0, 1))
    autocorrelation = np.sum(p * (i * j), axis=(0, 1))
    sigma_x = np.sqrt(np.sum(p * (i - ux) ** 2, axis=(0, 1)))
    sigma_y = np.sqrt(np.sum(p * (j - uy) ** 2, axis=(0, 1)))
    covariance = np.sum(p * (i - ux) * (j - uy), axis=(0, 1))
    correlation = covariance / (sigma_x * sigma_y + _EPS)
    correlation[sigma_x * sigma_y == 0] = 1.0  # flat region: pyradiomics' documented value
    return {
        "Autocorrelation": float(np.mean(autocorrelation)),
        "Correlation": float(np.mean(correlation)),
        "MaximumProbability": float(np.mean(p.max(axis=(0, 1)))),
    }


def glszm_small_area_emphasis(levels: np.ndarray, mask: np.ndarray) -> float:
    """GLSZM SmallAreaEmphasis: mean over zones of 1 / size**2.

    A zone is a 26-connected set of ROI voxels sharing one gray level.
    """
    image = sitk.GetImageFromArray(levels.astype(np.int32))
    roi = sitk.GetImageFromArray(mask.astype(np.uint8))
    zones = sitk.GetArrayFromImage(
        sitk.ScalarConnectedComponent(image, roi, 0.0, True)
    )
    sizes = np.bincount(zones.ravel())[1:]
    sizes = sizes[sizes > 0].astype(float)
    return float(np.sum(1.0 / sizes ** 2) / len(sizes))


def ngtdm_busyness(levels: np.ndarray, mask: np.ndarray) -> float:
    """NGTDM Busyness from the 26-neighbourhood within the ROI.

    s_i sums |i - mean gray level of the voxel's ROI neighbours| over voxels of level i (0 for
    a voxel with no ROI neighbour); p_i is the fraction of ROI voxels at level i.
    Busyness = sum_i p_i s_i / sum_i sum_j |i p_i - j p_j| (0 when the denominator is 0).
    """
    kernel = np.ones((3, 3, 3), dtype=np.int64)
    kernel[1, 1, 1] = 0
    inside = mask.astype(np.int64)
    neighbour_sum = ndimage.correlate(levels * inside, kernel, mode="constant", cval=0)[mask]
    neighbour_count = ndimage.correlate(inside, kernel, mode="constant", cval=0)[mask]
    centre = levels[mask]
    difference = np.zeros(centre.shape, dtype=float)
    has_neighbours = neighbour_count > 0
    mean_of_neighbours = neighbour_sum[has_neighbours] / neighbour_count[has_neighbours]
    difference[has_neighbours] = np.abs(centre[has_neighbours] - mean_of_neighbours)

    present, position = np.unique(centre, return_inverse=True)
    n_i = np.bincount(position).astype(float)
    s_i = np.bincount(position, weights=difference)
    p_i = n_i / n_i.sum()
    i_p = present.astype(float) * p_i
    denominator = np.sum(np.abs(i_p[:, None] - i_p[None, :]))
    if denominator == 0:
        return 0.0
    return float(np.sum(p_i * s_i) / denominator)


def skewness(values: np.ndarray) -> float:
    """First-order Skewness, mu_3 / sigma**3 with population moments; 0 for a flat region."""
    centred = values.astype(float) - values.mean()
    m2 = np.mean(centred ** 2)
    m3 = np.mean(centred ** 3)
    if m2 == 0:
        return 0.0
    return float(m3 / m2 ** 1.5)
