"""Review aids for an outline, drawn by the segmenter or edited by the radiologist (DESIGN 6).

The numbers a reviewer needs to decide whether to trust an outline: volume, longest axial
diameter and the longest diameter perpendicular to it, connected parts, contact with the
pleura, a leak to the search region's edge, HU inside, and plain-language warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

from . import morphology

MIN_TEXTURE_VOXELS = 64  # on pyradiomics' 1 mm grid: fewer and texture features are unreliable
PLEURA_CONTACT_FRACTION = 0.10  # of the outline's 1.5 mm shell lying in chest wall / mediastinum
SOFT_TISSUE_ABOVE_HU = -300.0


@dataclass(frozen=True)
class OutlineReview:
    voxel_count: int
    volume_mm3: float
    longest_axial_diameter_mm: float
    perpendicular_diameter_mm: float
    connected_parts: int
    touches_pleura: bool
    hit_search_edge: bool
    mean_hu: float
    min_hu: float
    max_hu: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        return data


def axial_diameters_mm(mask_zyx: np.ndarray, spacing_zyx) -> tuple[float, float]:
    """Longest in-plane diameter over all slices and the longest chord perpendicular to it (mm).

    As in RECIST/Fleischner practice: on the slice with the longest diameter, the longest
    extent of the outline measured at right angles to it.
    """
    best = (0.0, 0.0)
    for z in np.flatnonzero(mask_zyx.any(axis=(1, 2))):
        rows, columns = np.nonzero(mask_zyx[z])
        # Voxel corners, so a one-voxel outline measures one voxel across.
        points = np.column_stack([columns * spacing_zyx[2], rows * spacing_zyx[1]]).astype(float)
        corners = np.concatenate([points + [dx, dy] for dx in (-0.5 * spacing_zyx[2], 0.5 * spacing_zyx[2])
                                  for dy in (-0.5 * spacing_zyx[1], 0.5 * spacing_zyx[1])])
        try:
            corners = corners[ConvexHull(corners).vertices]
        except QhullError:
            pass  # collinear: all corners are fine as they are
        gaps = corners[:, None, :] - corners[None, :, :]
        lengths = np.hypot(gaps[..., 0], gaps[..., 1])
        i, j = np.unravel_index(np.argmax(lengths), lengths.shape)
        if lengths[i, j] <= best[0]:
            continue
        axis = gaps[i, j] / lengths[i, j]
        normal = np.array([-axis[1], axis[0]])
        across = corners @ normal
        best = (float(lengths[i, j]), float(across.max() - across.min()))
    return best


def review_outline(image_zyx: np.ndarray, mask_zyx: np.ndarray, spacing_zyx, *, search_edge_hit: bool = False,
                   extra_warnings: tuple[str, ...] = ()) -> OutlineReview:
    """Review numbers of a boolean outline on a CT box (HU), both (z, y, x)."""
    spacing = np.asarray(spacing_zyx, dtype=float)
    count = int(mask_zyx.sum())
    warnings = list(extra_warnings)
    if count == 0:
        raise ValueError("empty outline")
    volume = count * float(np.prod(spacing))
    longest, perpendicular = axial_diameters_mm(mask_zyx, spacing)
    parts = morphology.count_parts(mask_zyx)
    inside = image_zyx[mask_zyx]
    shell = morphology.dilate(mask_zyx, 1.5, tuple(spacing)) & ~mask_zyx
    touches_pleura = False
    if shell.any():
        soft = ndimage.gaussian_filter(image_zyx.astype(np.float32), 0.5) > SOFT_TISSUE_ABOVE_HU
        # Chest wall or mediastinum: soft tissue outside the outline that reaches the box's edge,
        # touching a good part of the outline's surface (a vessel touches only a little of it).
        walls, _ = ndimage.label(soft & ~mask_zyx, structure=ndimage.generate_binary_structure(3, 1))
        edge_labels = set(np.unique(np.concatenate([walls[0].ravel(), walls[-1].ravel(), walls[:, 0].ravel(),
                                                    walls[:, -1].ravel(), walls[:, :, 0].ravel(),
                                                    walls[:, :, -1].ravel()]))) - {0}
        big = [lab for lab in edge_labels if np.count_nonzero(walls == lab) * np.prod(spacing) > 2000]
        if big:
            touches_pleura = float(np.isin(walls[shell], big).mean()) >= PLEURA_CONTACT_FRACTION
    if volume < MIN_TEXTURE_VOXELS:
        warnings.append(f"Fewer than {MIN_TEXTURE_VOXELS} voxels on the 1 mm grid ({volume:.0f} mm3): texture "
                        "features unreliable.")
    if parts > 1:
        warnings.append(f"The outline has {parts} separate parts; check that they are all the nodule.")
    if search_edge_hit:
        warnings.append("Leak suspected: the outline reaches the edge of the search region; check for vessel or "
                        "chest-wall inclusion.")
    if touches_pleura:
        warnings.append("The nodule touches the pleura or mediastinum; check that no chest wall is included.")
    return OutlineReview(
        voxel_count=count, volume_mm3=volume, longest_axial_diameter_mm=longest,
        perpendicular_diameter_mm=perpendicular, connected_parts=parts, touches_pleura=touches_pleura,
        hit_search_edge=search_edge_hit, mean_hu=float(inside.mean()), min_hu=float(inside.min()),
        max_hu=float(inside.max()), warnings=tuple(warnings),
    )


def review_mask(image: sitk.Image, mask: sitk.Image, label: int = 1, margin_mm: float = 20.0) -> OutlineReview:
    """:func:`review_outline` for a label of a mask on the CT's grid (e.g. an edited segment)."""
    hits = sitk.GetArrayViewFromImage(mask) == label
    if not hits.any():
        raise ValueError(f"label {label} is empty")
    spacing = np.array(image.GetSpacing()[::-1])
    nonzero = np.nonzero(hits)
    margin = np.ceil(margin_mm / spacing).astype(int)
    start = [max(int(a.min()) - m, 0) for a, m in zip(nonzero, margin, strict=True)]
    stop = [min(int(a.max()) + m + 1, n) for a, m, n in zip(nonzero, margin, hits.shape, strict=True)]
    box = tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
    return review_outline(sitk.GetArrayViewFromImage(image)[box], hits[box], spacing)
