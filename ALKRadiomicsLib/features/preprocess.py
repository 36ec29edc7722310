"""Resampling onto pyradiomics' 1 mm grid without resampling the whole CT.

pyradiomics (``imageoperations.resampleImage``) resamples the ROI's bounding box plus a pad on a
grid aligned to the *full* image's first voxel, and its B-spline interpolator prefilters the
entire input CT, which is most of its run time. The prefilter is a recursive filter whose pole
is z = sqrt(3) - 2; the influence of a voxel d voxels away decays as |z|**d. We therefore
compute pyradiomics' exact output grid from the full geometry, but hand SimpleITK only the part
of the CT within ``BSPLINE_MARGIN`` voxels of that grid: |z|**30 < 1e-17, below double
precision. Cropping the CT *before* choosing the grid would move the grid (DESIGN section 3).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from .settings import ExtractionSettings

logger = logging.getLogger(__name__)

BSPLINE_MARGIN = 30
MIN_BSPLINE_SAMPLES = 3


@dataclass(frozen=True)
class ResampledROI:
    """The ROI on the resampled grid, as pyradiomics' feature classes see it.

    ``image`` / ``mask`` cover the padded region pyradiomics filters (wavelets see all of it);
    ``bbox`` is the slice of that region holding the ROI, to which features are cropped.
    Arrays are numpy (z, y, x) order; ``spacing_mm`` is (x, y, z) as in SimpleITK.
    """

    image: np.ndarray
    mask: np.ndarray
    bbox: tuple[slice, slice, slice]
    spacing_mm: tuple[float, float, float]


def label_bounding_box(hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower index and size, both (x, y, z), of the True voxels of a (z, y, x) boolean array."""
    # Slice by slice first: one pass over the volume, then only the slabs holding the ROI.
    slices = np.flatnonzero(hits.reshape(hits.shape[0], -1).any(axis=1))
    slab = hits[slices[0]: slices[-1] + 1]
    rows = np.flatnonzero(slab.any(axis=(0, 2)))
    columns = np.flatnonzero(slab.any(axis=(0, 1)))
    lower = np.array([columns[0], rows[0], slices[0]])
    upper = np.array([columns[-1], rows[-1], slices[-1]])
    return lower, upper - lower + 1


@dataclass(frozen=True)
class _Grid:
    """A region of the resampled lattice: index (x, y, z) of its first voxel, size, spacing."""

    lower: np.ndarray
    size: np.ndarray
    spacing: np.ndarray
    interpolate: bool  # False when the CT is already on the target spacing (a crop suffices)

    @property
    def upper(self) -> np.ndarray:
        return self.lower + self.size

    def slices_within(self, outer_lower: np.ndarray) -> tuple[slice, slice, slice]:
        """This region as (z, y, x) slices of an array whose first voxel is ``outer_lower``."""
        start = self.lower - outer_lower
        return tuple(slice(int(a), int(a + n)) for a, n in zip(start[::-1], self.size[::-1], strict=True))


def _grid(image: sitk.Image, mask: sitk.Image, hits: np.ndarray, settings: ExtractionSettings) -> _Grid:
    """The region pyradiomics resamples for the ROI ``hits`` (pyradiomics' ``resampleImage``)."""
    lower, size = label_bounding_box(hits)
    mask_spacing = np.array(mask.GetSpacing())
    spacing = np.array(settings.resampled_spacing_mm, dtype=float)
    spacing = np.where(spacing == 0, mask_spacing, spacing)
    # A direction in which the ROI is one voxel thick keeps its own spacing (pyradiomics rule).
    spacing = np.where(size != 1, spacing, mask_spacing)
    if np.allclose(np.array(image.GetSpacing()), spacing):
        start = np.maximum(lower - settings.pad_distance, 0)
        stop = np.minimum(lower + size + settings.pad_distance, np.array(mask.GetSize()))
        return _Grid(start.astype(int), (stop - start).astype(int), np.array(image.GetSpacing()), False)
    ratio = mask_spacing / spacing
    new_lower = np.floor((lower - 0.5) * ratio - settings.pad_distance)
    new_upper = np.ceil((lower + size - 0.5) * ratio + settings.pad_distance)
    max_upper = np.ceil(np.array(mask.GetSize()) * ratio) - 1
    new_lower = np.where(new_lower < 0, 0, new_lower)
    new_upper = np.where(new_upper > max_upper, max_upper, new_upper)
    return _Grid(new_lower.astype(int), (new_upper - new_lower + 1).astype(int), spacing, True)


def resample_roi(image: sitk.Image, mask: sitk.Image, label: int, settings: ExtractionSettings) -> ResampledROI:
    """Resample ``image`` and the voxels of ``mask`` equal to ``label`` as pyradiomics does.

    ``mask`` must lie on ``image``'s grid (see :func:`ALKRadiomicsLib.io.check_same_grid`).
    """
    return resample_rois(image, [(mask, label)], settings)[0]


def resample_rois(image: sitk.Image, masks: Sequence[tuple[sitk.Image, int]],
                  settings: ExtractionSettings) -> list[ResampledROI]:
    """:func:`resample_roi` for several outlines of one nodule, interpolating the CT once.

    All regions with the same spacing lie on one lattice anchored at the CT's first voxel, so
    the CT is resampled once over their union and each region is a slice of it.
    """
    grids, hits = [], []
    for mask, label in masks:
        roi = sitk.GetArrayViewFromImage(mask) == label
        if not roi.any():
            raise InputError(f"Label {label} is not in the mask; segment the nodule or choose another label.")
        grids.append(_grid(image, mask, roi, settings))
        # The voxel array is needed again only for a crop without interpolation; a CT-sized
        # boolean per outline is not kept otherwise.
        hits.append(None if grids[-1].interpolate else roi)
    results: list[ResampledROI | None] = [None] * len(masks)
    families: dict[tuple, list[int]] = {}
    for index, grid in enumerate(grids):
        families.setdefault((tuple(grid.spacing), grid.interpolate), []).append(index)
    for members in families.values():
        lower = np.min([grids[i].lower for i in members], axis=0)
        upper = np.max([grids[i].upper for i in members], axis=0)
        union = _Grid(lower, upper - lower, grids[members[0]].spacing, grids[members[0]].interpolate)
        if union.interpolate:
            image_array, masks_on_union = _interpolate(image, union, [masks[i] for i in members], settings)
        else:  # the CT's own grid: crop
            region = union.slices_within(np.zeros(3, dtype=int))
            image_array = np.array(sitk.GetArrayViewFromImage(image)[region])
            masks_on_union = [hits[i][region] for i in members]
        for i, roi_mask in zip(members, masks_on_union, strict=True):
            region = grids[i].slices_within(union.lower)
            results[i] = finish_roi(image_array[region], roi_mask[region],
                                 tuple(float(v) for v in grids[i].spacing), settings)
    return results


def _interpolate(image: sitk.Image, grid: _Grid, masks: Sequence[tuple[sitk.Image, int]],
                 settings: ExtractionSettings) -> tuple[np.ndarray, list[np.ndarray]]:
    """The CT (B-spline) and each mask (nearest neighbour) on ``grid``, as (z, y, x) arrays."""
    reference = masks[0][0]
    mask_spacing = np.array(reference.GetSpacing())
    # The first new voxel's centre, as a continuous index of the original grid.
    ratio = mask_spacing / grid.spacing
    origin_index = 0.5 * (grid.spacing - mask_spacing) / mask_spacing + grid.lower / ratio
    origin = reference.TransformContinuousIndexToPhysicalPoint([float(v) for v in origin_index])
    resampler = sitk.ResampleImageFilter()
    resampler.SetOutputSpacing([float(s) for s in grid.spacing])
    resampler.SetOutputDirection(reference.GetDirection())
    resampler.SetOutputOrigin(origin)
    resampler.SetSize([int(n) for n in grid.size])

    if settings.sitk_interpolator == sitk.sitkBSpline and min(image.GetSize()) < MIN_BSPLINE_SAMPLES:
        # ITK's cubic B-spline reads outside the buffer along an axis of 2 samples: the result (pyradiomics'
        # too) changes from run to run. Refuse rather than return numbers that are not reproducible.
        raise InputError(
            f"The CT has only {min(image.GetSize())} voxels along one axis (size {image.GetSize()}); B-spline "
            f"resampling to the 1 mm grid needs at least {MIN_BSPLINE_SAMPLES}. Give a CT with more slices."
        )
    source = _crop_for_interpolation(image, resampler, settings)
    resampler.SetOutputPixelType(image.GetPixelID())
    resampler.SetInterpolator(settings.sitk_interpolator)
    image_array = sitk.GetArrayFromImage(resampler.Execute(source))

    # Nearest neighbour reads one voxel per output point, so the full mask costs nothing extra
    # and keeps the ties at half-voxel positions exactly as pyradiomics breaks them.
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    mask_arrays = []
    for mask, label in masks:
        resampler.SetOutputPixelType(mask.GetPixelID())
        mask_arrays.append(sitk.GetArrayFromImage(resampler.Execute(mask)) == label)
    return image_array, mask_arrays


def _crop_for_interpolation(image: sitk.Image, resampler: sitk.ResampleImageFilter,
                            settings: ExtractionSettings) -> sitk.Image:
    """The part of ``image`` the interpolator needs for the resampler's output grid."""
    if settings.sitk_interpolator != sitk.sitkBSpline:
        margin = 2  # linear and nearest neighbour are local
    else:
        margin = BSPLINE_MARGIN
    size = np.array(resampler.GetSize())
    spacing = np.array(resampler.GetOutputSpacing())
    origin = np.array(resampler.GetOutputOrigin())
    direction = np.array(resampler.GetOutputDirection()).reshape(3, 3)
    corners = [origin + direction @ (np.array(c) * (size - 1) * spacing) for c in itertools.product((0, 1), repeat=3)]
    indices = np.array([image.TransformPhysicalPointToContinuousIndex([float(v) for v in p]) for p in corners])
    start = np.maximum(np.floor(indices.min(axis=0)).astype(int) - margin, 0)
    stop = np.minimum(np.ceil(indices.max(axis=0)).astype(int) + margin + 1, np.array(image.GetSize()))
    if np.any(stop <= start):
        raise InputError("The mask's region lies outside the image; check that mask and CT belong together.")
    return image[int(start[0]):int(stop[0]), int(start[1]):int(stop[1]), int(start[2]):int(stop[2])]


def finish_roi(image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float, float],
            settings: ExtractionSettings) -> ResampledROI:
    if not mask.any():
        raise InputError(
            "The mask has no voxel left after resampling to the 1 mm grid; the outline is too small "
            "to compute radiomic features."
        )
    lower, size = label_bounding_box(mask)
    dimensions = int(np.sum(size > 1))
    if dimensions == 0:
        raise InputError("The outline is a single voxel after resampling; radiomic features need a 3D region.")
    if dimensions < settings.minimum_roi_dimensions:
        raise InputError(
            f"The outline extends over only {dimensions} dimension(s) after resampling; radiomic "
            "texture features need a region spanning at least two directions."
        )
    bbox = tuple(slice(int(lo), int(lo + n)) for lo, n in zip(lower[::-1], size[::-1], strict=False))
    return ResampledROI(image=image, mask=mask, bbox=bbox, spacing_mm=spacing)
