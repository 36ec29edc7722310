"""One-click nodule segmentation with review aids (DESIGN section 6).

:func:`segment_nodule` takes a CT and one point inside the nodule and returns a new 0/1 mask on
the CT's grid with its :class:`~.review.OutlineReview`. It never changes the CT. Segmenters are
plugins (like Slicer's SegmentStatistics): a class with a ``name`` and ``segment()``, added with
:func:`register_segmenter`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ..errors import SegmentationError
from . import morphology, threshold
from .review import OutlineReview, review_mask, review_outline

SEARCH_RADIUS_MM = 35.0
AIR_HU = -900.0
BONE_HU = 400.0
MAX_CALCIFIED_NODULE_MM3 = 15000.0  # a dense region larger than a 30 mm ball is bone, not a nodule
WHOLE_CHEST_MM = 200.0  # an axial field of view at least this wide shows the body's outline
# What no lung nodule holds (measured on the 496 LIDC nodules of ../shared/data, README): an
# outline with more dense voxels than this contains bone (calcified nodules: at most 1.3 cm3
# in the readers' outlines, 1.04 cm3 in ours) ...
DENSE_HU = 300.0
MAX_DENSE_MM3 = 1500.0
# ... or, larger than this and with less than this fraction of lung around it, it has run into
# the chest wall (LIDC: no nodule with less than half lung around exceeds 5 cm3; lung2's
# juxtapleural mass is 53 cm3 with 65 % lung around).
CHEST_WALL_MIN_MM3 = 10000.0
CHEST_WALL_LUNG_FRACTION = 0.5


class Segmenter:
    """Base class: segment the nodule at ``seed`` in a CT box (HU, (z, y, x))."""

    name: ClassVar[str] = ""

    def segment(self, box: np.ndarray, spacing_zyx: tuple[float, float, float], seed: tuple[int, int, int],
                outside_body: np.ndarray) -> threshold.Outline:
        raise NotImplementedError


class ThresholdSegmenter(Segmenter):
    name = "threshold"

    def __init__(self, settings: threshold.ThresholdSettings | None = None) -> None:
        self.settings = settings or threshold.ThresholdSettings()

    def segment(self, box, spacing_zyx, seed, outside_body):
        return threshold.segment_in_box(box, spacing_zyx, seed, self.settings, outside_body)


_SEGMENTERS: dict[str, Segmenter] = {}


def register_segmenter(segmenter: Segmenter) -> None:
    if not segmenter.name:
        raise ValueError("a segmenter needs a name")
    _SEGMENTERS[segmenter.name] = segmenter


register_segmenter(ThresholdSegmenter())


@dataclass(frozen=True)
class SegmentationResult:
    mask: sitk.Image  # UInt8, 1 = nodule, on the CT's grid
    review: OutlineReview
    seed_lps: tuple[float, float, float]
    seed_index: tuple[int, int, int]  # (x, y, z), after moving off a cavity or edge
    threshold_hu: float
    segmenter: str

    def to_dict(self) -> dict:
        return {"seed_lps_mm": list(self.seed_lps), "seed_index_xyz": list(self.seed_index),
                "threshold_hu": self.threshold_hu, "segmenter": self.segmenter, **self.review.to_dict()}


def seed_to_lps(seed: tuple[float, float, float], space: str) -> tuple[float, float, float]:
    """A point in LPS millimetres (ITK's convention) from LPS or RAS (Slicer's) coordinates."""
    space = space.lower()
    if space not in ("lps", "ras"):
        raise SegmentationError(f"Seed space must be 'lps' or 'ras', got {space!r}.")
    x, y, z = (float(v) for v in seed)
    if not all(np.isfinite((x, y, z))):
        raise SegmentationError(f"The seed must be three finite coordinates in mm, got {tuple(seed)}.")
    return (-x, -y, z) if space == "ras" else (x, y, z)


def segment_nodule(image: sitk.Image, seed_lps: tuple[float, float, float], *, segmenter: str = "threshold",
                   search_radius_mm: float = SEARCH_RADIUS_MM) -> SegmentationResult:
    """Outline the nodule holding ``seed_lps`` (mm, LPS); raise SegmentationError if there is none."""
    if segmenter not in _SEGMENTERS:
        raise SegmentationError(f"Unknown segmenter {segmenter!r}; choose from {sorted(_SEGMENTERS)}.")
    seed_index = _seed_index(image, seed_lps)
    spacing_xyz = np.array(image.GetSpacing())
    size_xyz = np.array(image.GetSize())
    reach = np.ceil(search_radius_mm / spacing_xyz).astype(int)
    start = np.maximum(np.array(seed_index) - reach, 0)
    stop = np.minimum(np.array(seed_index) + reach + 1, size_xyz)
    box = tuple(slice(int(a), int(b)) for a, b in zip(start[::-1], stop[::-1], strict=True))
    ct = sitk.GetArrayViewFromImage(image)[box].astype(np.float32)
    seed_in_box = tuple(int(v) for v in (np.array(seed_index) - start)[::-1])
    spacing_zyx = tuple(float(s) for s in spacing_xyz[::-1])
    _check_seed_tissue(ct, seed_in_box, spacing_zyx)

    field_of_view_mm = spacing_xyz[:2] * size_xyz[:2]
    # Only a CT showing the whole chest section can say which air is outside the patient; a
    # small sub-volume (LIDC's, a crop) has lung reaching its borders.
    outside = (_outside_body(sitk.GetArrayViewFromImage(image), box) if field_of_view_mm.min() >= WHOLE_CHEST_MM
               else np.zeros(ct.shape, dtype=bool))
    outline = _SEGMENTERS[segmenter].segment(ct, spacing_zyx, seed_in_box, outside)
    if not outline.mask.any():
        raise SegmentationError("No outline could be made at the seed; click inside the nodule.")
    # A face of the box that is not the CT's own edge cuts the outline only if it leaked.
    inner_faces = [(axis, side) for axis in range(3) for side in (0, -1)
                   if (start[::-1][axis] > 0 if side == 0 else stop[::-1][axis] < size_xyz[::-1][axis])]
    hit_edge = outline.leak_cut or any(np.take(outline.mask, side, axis=axis).any() for axis, side in inner_faces)
    lung_around = _lung_around(ct, outline.mask, spacing_zyx)
    _refuse_bone_and_chest_wall(ct, outline.mask, spacing_zyx, lung_around)
    warnings = []
    if outline.seed_moved_mm > 0:
        warnings.append(f"The seed was moved {outline.seed_moved_mm:.1f} mm to the nearest dense voxel of the nodule.")
    if lung_around < 0.25:
        warnings.append("The outline is not surrounded by lung: the seed may be outside the lung parenchyma "
                        "(mediastinum, chest wall); check the outline.")
    review = review_outline(ct, outline.mask, spacing_zyx, search_edge_hit=hit_edge, extra_warnings=tuple(warnings))

    patch = sitk.GetImageFromArray(outline.mask.astype(np.uint8))
    mask = sitk.Image(image.GetSize(), sitk.sitkUInt8)
    mask.CopyInformation(image)
    mask = sitk.Paste(mask, patch, patch.GetSize(), [0, 0, 0], [int(v) for v in start])
    moved_index = tuple(int(v) for v in start + np.array(outline.seed_index[::-1]))
    return SegmentationResult(mask=mask, review=review, seed_lps=tuple(float(v) for v in seed_lps),
                              seed_index=moved_index, threshold_hu=outline.threshold_hu, segmenter=segmenter)


def _refuse_bone_and_chest_wall(ct: np.ndarray, outline: np.ndarray, spacing_zyx, lung_around: float) -> None:
    """An outline holding bone, or a large one mostly outside the lung, is not a nodule: refuse it."""
    voxel_mm3 = float(np.prod(spacing_zyx))
    volume = np.count_nonzero(outline) * voxel_mm3
    dense = np.count_nonzero(ct[outline] >= DENSE_HU) * voxel_mm3
    if dense > MAX_DENSE_MM3:
        raise SegmentationError(
            f"The outline ({volume / 1000:.0f} cm3) holds {dense / 1000:.1f} cm3 above {DENSE_HU:.0f} HU (up to "
            f"{float(ct[outline].max()):.0f} HU): bone, more than any calcified nodule holds (limit "
            f"{MAX_DENSE_MM3 / 1000:.1f} cm3). The seed is probably in the chest wall; click inside the nodule or "
            "draw the outline by hand."
        )
    if volume > CHEST_WALL_MIN_MM3 and lung_around < CHEST_WALL_LUNG_FRACTION:
        raise SegmentationError(
            f"The outline ({volume / 1000:.0f} cm3) has lung on only {100 * lung_around:.0f} % of its surroundings: "
            f"it runs into the chest wall or mediastinum (limit: larger than {CHEST_WALL_MIN_MM3 / 1000:.0f} cm3 with "
            f"less than {100 * CHEST_WALL_LUNG_FRACTION:.0f} % lung around). Click inside the nodule or draw the "
            "outline by hand."
        )


def _seed_index(image: sitk.Image, seed_lps) -> tuple[int, int, int]:
    continuous = np.array(image.TransformPhysicalPointToContinuousIndex([float(v) for v in seed_lps]))
    size = np.array(image.GetSize())
    if np.any(continuous < -0.5) or np.any(continuous > size - 0.5):
        low = image.TransformIndexToPhysicalPoint([0, 0, 0])
        high = image.TransformIndexToPhysicalPoint([int(n) - 1 for n in size])
        raise SegmentationError(
            f"The seed ({', '.join(f'{v:.1f}' for v in seed_lps)}) mm LPS lies outside the CT, which spans "
            f"{tuple(round(v, 1) for v in low)} to {tuple(round(v, 1) for v in high)} mm; a point from Slicer is "
            "in RAS: use --seed-space ras."
        )
    return tuple(int(v) for v in np.clip(np.round(continuous), 0, size - 1))


def _check_seed_tissue(ct: np.ndarray, seed, spacing_zyx) -> None:
    """Refuse seeds in air outside the body and in bone, with the reason."""
    value = float(ndimage.median_filter(ct[seed[0]], size=3)[seed[1], seed[2]])
    if value < AIR_HU:
        labels, _ = ndimage.label(ct[seed[0]] < -400)
        here = labels[seed[1], seed[2]]
        border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
        if here and here in border:
            raise SegmentationError(f"The seed is in air outside the body ({value:.0f} HU); click inside the nodule.")
    if value > BONE_HU:
        components = ndimage.label(ct > 200, structure=ndimage.generate_binary_structure(3, 3))[0]
        volume = np.count_nonzero(components == components[seed]) * float(np.prod(spacing_zyx))
        if volume > MAX_CALCIFIED_NODULE_MM3:
            raise SegmentationError(
                f"The seed is in bone ({value:.0f} HU, part of a dense structure of {volume / 1000:.0f} cm3); "
                "click inside the nodule."
            )


def _outside_body(ct: np.ndarray, box: tuple[slice, slice, slice]) -> np.ndarray:
    """Air outside the patient within ``box``: per axial slice, the air connected to the slice's border."""
    outside = np.zeros(tuple(s.stop - s.start for s in box), dtype=bool)
    for k, z in enumerate(range(box[0].start, box[0].stop)):
        air = ct[z] < threshold.LUNG_BELOW_HU
        labels, _ = ndimage.label(air)
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        outside[k] = np.isin(labels[box[1], box[2]], border[border > 0])
    return outside


def _lung_around(ct: np.ndarray, outline: np.ndarray, spacing_zyx) -> float:
    """Fraction of a 2-5 mm shell around the outline that is lung parenchyma or air."""
    shell = morphology.dilate(outline, 5.0, spacing_zyx) & ~morphology.dilate(outline, 2.0, spacing_zyx)
    return float((ct[shell] < threshold.LUNG_BELOW_HU).mean()) if shell.any() else 1.0


__all__ = ["OutlineReview", "SegmentationResult", "Segmenter", "ThresholdSegmenter", "register_segmenter",
           "review_mask", "review_outline", "seed_to_lps", "segment_nodule"]
