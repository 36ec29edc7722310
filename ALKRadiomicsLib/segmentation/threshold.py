"""One-click nodule segmentation by adaptive threshold, lung envelope and opening (DESIGN section 6).

From a seed inside the nodule, in a search box around it:
1. The threshold lies a fixed fraction of the way from the surrounding lung parenchyma (median
   HU of the box's lung voxels) to the nodule's core (a high percentile near the seed), so that
   solid, part-solid and ground-glass nodules are each cut at their own edge.
2. Chest wall and mediastinum are excluded with the lung envelope: the box's air/lung voxels
   closed by a ball larger than the nodule (the "rolling ball" of lung segmentation), which
   fills the nodule in but not the wall it sits on.
3. Vessels are cut by an opening with a ball of about half the nodule's inscribed radius; the
   part holding the seed is dilated back by the same ball inside the thresholded region.
4. Holes (cavities, air bronchograms) are filled.
All morphology uses true balls in millimetres (:mod:`.morphology`), so 1 mm and 5 mm slices are
treated alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..errors import SegmentationError
from . import morphology

LUNG_BELOW_HU = -500.0  # air and lung parenchyma
AIR_BELOW_HU = -900.0  # air (outside the body, trachea) or emphysema
BONE_ABOVE_HU = 400.0


@dataclass(frozen=True)
class ThresholdSettings:
    """Parameters of the threshold segmenter; defaults tuned on ../shared/data (see README)."""

    edge_fraction: float = 0.4  # threshold: lung + fraction x (core - lung)
    lowest_threshold_hu: float = -800.0
    highest_threshold_hu: float = -300.0
    core_radius_mm: float = 3.0
    core_percentile: float = 75.0
    opening_fractions: tuple[float, ...] = (0.5, 0.7, 0.9)  # opening radius / inscribed radius, tried in turn
    leak_reach_factor: float = 2.5  # an outline reaching farther than this x inscribed radius + margin leaks
    leak_reach_margin_mm: float = 4.0
    max_opening_mm: float = 8.0
    envelope_factor: float = 1.5  # rolling ball radius / inscribed radius
    min_envelope_mm: float = 5.0
    max_envelope_mm: float = 40.0
    seed_search_mm: float = 6.0  # how far a seed in a cavity or just outside the nodule is moved
    soft_tissue_hu: float = 60.0  # the core used for the threshold is capped here (calcified nodules)
    # The partial-volume rim: voxels above lung + rim_fraction x (core - lung) within rim_mm of
    # the outline are added, as expert outlines include the nodule's blurred edge.
    rim_fraction: float = 0.1
    rim_mm: float = 0.0


@dataclass(frozen=True)
class Outline:
    """The segmenter's output inside the search box, with what it decided along the way."""

    mask: np.ndarray  # bool, (z, y, x) of the box
    seed_index: tuple[int, int, int]
    threshold_hu: float
    lung_hu: float
    core_hu: float
    opening_mm: float
    seed_moved_mm: float
    inscribed_radius_mm: float
    leak_cut: bool  # the outline was cut at the nodule's reach from the seed


def segment_in_box(box: np.ndarray, spacing_zyx: tuple[float, float, float], seed: tuple[int, int, int],
                   settings: ThresholdSettings = ThresholdSettings(),
                   outside_body: np.ndarray | None = None) -> Outline:
    """Segment the nodule at ``seed`` in a CT box (HU, (z, y, x)); raises SegmentationError.

    ``outside_body`` marks the box's air outside the patient, which must not count as lung.
    """
    spacing = np.asarray(spacing_zyx, dtype=float)
    smooth = ndimage.gaussian_filter(box.astype(np.float32), sigma=np.minimum(0.5 / spacing, 1.0), mode="nearest")
    near_seed = _ball_around(box.shape, seed, settings.core_radius_mm, spacing)
    lung = smooth < LUNG_BELOW_HU
    if outside_body is not None:
        lung &= ~outside_body
    if lung.sum() < 0.05 * lung.size:
        raise SegmentationError("There is almost no lung around the seed; click inside a lung nodule.")
    lung_hu = float(np.median(smooth[lung & (smooth > AIR_BELOW_HU)])) if (lung & (smooth > AIR_BELOW_HU)).any() \
        else float(np.median(smooth[lung]))
    core_hu = float(np.percentile(smooth[near_seed], settings.core_percentile))
    if core_hu < lung_hu + 100:
        raise SegmentationError(
            f"No nodule at the seed: within {settings.core_radius_mm:g} mm it is lung parenchyma or air "
            f"({core_hu:.0f} HU vs lung {lung_hu:.0f} HU); click inside the nodule."
        )
    # Calcium is denser than the soft tissue whose edge against the lung is the nodule's edge.
    threshold = lung_hu + settings.edge_fraction * (min(core_hu, settings.soft_tissue_hu) - lung_hu)
    threshold = float(np.clip(threshold, settings.lowest_threshold_hu, settings.highest_threshold_hu))
    dense = smooth > threshold

    seed, moved = _snap_seed(dense, smooth, seed, settings.seed_search_mm, spacing)
    if moved is None:
        raise SegmentationError(f"No voxel above {threshold:.0f} HU within {settings.seed_search_mm:g} mm of the "
                                "seed; click inside the nodule.")

    inscribed = _inscribed_radius(dense, seed, spacing)
    candidate = dense
    for factor in (settings.envelope_factor, 2 * settings.envelope_factor):
        envelope_mm = float(np.clip(factor * inscribed, settings.min_envelope_mm, settings.max_envelope_mm))
        envelope = morphology.closing(lung, envelope_mm, tuple(spacing))
        if envelope[seed]:
            candidate = dense & envelope
            break

    # Cut vessels (and what the envelope left of the wall) with the smallest opening that gives a
    # compact outline; a leak is an outline reaching much farther from the seed than the nodule.
    reach_mm = settings.leak_reach_factor * inscribed + settings.leak_reach_margin_mm + 2 * moved
    distance_from_seed = np.sqrt(_squared_distance(box.shape, seed, spacing))
    outline, opening_mm = None, 0.0
    for fraction in settings.opening_fractions:
        radius = float(min(fraction * inscribed, settings.max_opening_mm))
        core = morphology.component_at(morphology.opening(candidate, radius, tuple(spacing)), seed)
        if not core.any():
            continue  # the ball no longer fits in the nodule at the seed
        trial = morphology.component_at(morphology.dilate(core, radius, tuple(spacing)) & candidate, seed)
        outline, opening_mm = trial, radius
        if distance_from_seed[trial].max() <= reach_mm:
            break
    if outline is None:
        outline = morphology.component_at(candidate, seed)
    if distance_from_seed[outline].max() > reach_mm:
        # Last resort: keep the part within the nodule's reach of the seed, and say so.
        outline = morphology.component_at(outline & (distance_from_seed <= reach_mm), seed)
        leak_cut = True
    else:
        leak_cut = False
    if settings.rim_mm > 0:
        rim_threshold = lung_hu + settings.rim_fraction * (core_hu - lung_hu)
        outline |= morphology.dilate(outline, settings.rim_mm, tuple(spacing)) & (smooth > rim_threshold) & envelope
    outline = ndimage.binary_fill_holes(outline)
    return Outline(outline, seed, threshold, lung_hu, core_hu, opening_mm, moved, inscribed, leak_cut)


def _squared_distance(shape, centre, spacing: np.ndarray) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre, spacing, strict=True))


def _ball_around(shape, centre, radius_mm: float, spacing: np.ndarray) -> np.ndarray:
    return _squared_distance(shape, centre, spacing) <= radius_mm ** 2


def _snap_seed(dense: np.ndarray, smooth: np.ndarray, seed, radius_mm: float, spacing: np.ndarray):
    """The seed, or the densest above-threshold voxel within ``radius_mm``, and how far it moved."""
    if dense[seed]:
        return seed, 0.0
    candidates = _ball_around(dense.shape, seed, radius_mm, spacing) & dense
    if not candidates.any():
        return seed, None
    index = np.unravel_index(np.argmax(np.where(candidates, smooth, -np.inf)), dense.shape)
    index = tuple(int(i) for i in index)
    return index, float(np.sqrt(sum(((a - b) * s) ** 2 for a, b, s in zip(index, seed, spacing, strict=True))))


def _inscribed_radius(dense: np.ndarray, seed, spacing: np.ndarray) -> float:
    """Radius (mm) of the largest ball in ``dense`` that holds the seed: the nodule's local thickness.

    Looking only within the seed's own depth keeps a wall or vessel the nodule touches from
    counting as the nodule.
    """
    inside = ndimage.distance_transform_edt(dense, sampling=spacing)
    near = _ball_around(dense.shape, seed, float(inside[seed]), spacing)
    return float(max(inside[near].max(), spacing.min()))
