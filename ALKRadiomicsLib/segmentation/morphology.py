"""Euclidean morphology in millimetres on anisotropic voxels, through distance transforms.

A ball of radius r mm on 0.7 x 0.7 x 2.5 mm voxels is not a voxel stencil one can write down;
with the exact Euclidean distance transform (scipy) dilation, erosion, opening and closing by a
true ball cost the same whatever the radius.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def distance_mm(mask: np.ndarray, spacing_zyx: tuple[float, float, float]) -> np.ndarray:
    """Distance (mm) from each voxel outside ``mask`` to the nearest voxel inside it (0 inside)."""
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask, sampling=spacing_zyx)


def dilate(mask: np.ndarray, radius_mm: float, spacing_zyx) -> np.ndarray:
    if radius_mm <= 0:
        return mask.copy()
    return distance_mm(mask, spacing_zyx) <= radius_mm


def erode(mask: np.ndarray, radius_mm: float, spacing_zyx) -> np.ndarray:
    if radius_mm <= 0:
        return mask.copy()
    # The array is a box cut from a larger volume: beyond its faces the mask continues as at the
    # face (edge padding), so a nodule cut by the box is not eroded from the cut.
    pad = [int(np.ceil(radius_mm / s)) + 1 for s in spacing_zyx]
    padded = np.pad(mask, [(p, p) for p in pad], mode="edge")
    eroded = distance_mm(~padded, spacing_zyx) > radius_mm
    return eroded[pad[0]:-pad[0], pad[1]:-pad[1], pad[2]:-pad[2]]


def opening(mask: np.ndarray, radius_mm: float, spacing_zyx) -> np.ndarray:
    return dilate(erode(mask, radius_mm, spacing_zyx), radius_mm, spacing_zyx)


def closing(mask: np.ndarray, radius_mm: float, spacing_zyx) -> np.ndarray:
    # Pad as in erode(): the volume continues beyond the box as at its faces.
    pad = [int(np.ceil(radius_mm / s)) + 1 for s in spacing_zyx]
    padded = np.pad(mask, [(p, p) for p in pad], mode="edge")
    closed = erode(dilate(padded, radius_mm, spacing_zyx), radius_mm, spacing_zyx)
    return closed[pad[0]:-pad[0], pad[1]:-pad[1], pad[2]:-pad[2]]


def component_at(mask: np.ndarray, index: tuple[int, int, int], *, full_connectivity: bool = True) -> np.ndarray:
    """The connected component of ``mask`` holding ``index`` (empty if the voxel is outside)."""
    if not mask[index]:
        return np.zeros_like(mask)
    structure = ndimage.generate_binary_structure(3, 3 if full_connectivity else 1)
    labels, _ = ndimage.label(mask, structure=structure)
    return labels == labels[index]


def count_parts(mask: np.ndarray) -> int:
    _, count = ndimage.label(mask, structure=ndimage.generate_binary_structure(3, 3))
    return int(count)
