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
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from ..errors import InputError
from .settings import ExtractionSettings

logger = logging.getLogger(__name__)

BSPLINE_MARGIN = 30


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


def resample_roi(image: sitk.Image, mask: sitk.Image, label: int, settings: ExtractionSettings) -> ResampledROI:
    """Resample ``image`` and the voxels of ``mask`` equal to ``label`` as pyradiomics does.

    ``mask`` must lie on ``image``'s grid (see :func:`ALKRadiomicsLib.io.check_same_grid`).
    """
    mask_array = sitk.GetArrayViewFromImage(mask)
    hits = mask_array == label
    if not hits.any():
        raise InputError(f"Label {label} is not in the mask; segment the nodule or choose another label.")
    lower, size = label_bounding_box(hits)
    mask_spacing = np.array(mask.GetSpacing())
    spacing = np.array(settings.resampled_spacing_mm, dtype=float)
    spacing = np.where(spacing == 0, mask_spacing, spacing)
    # A direction in which the ROI is one voxel thick keeps its own spacing (pyradiomics rule).
    spacing = np.where(size != 1, spacing, mask_spacing)

    if np.allclose(np.array(image.GetSpacing()), spacing):
        # Already on the target spacing: no interpolation, only a crop with the pad.
        start = np.maximum(lower - settings.pad_distance, 0)
        stop = np.minimum(lower + size + settings.pad_distance, np.array(mask.GetSize()))
        region = tuple(slice(int(a), int(b)) for a, b in zip(start[::-1], stop[::-1], strict=False))
        image_array = np.array(sitk.GetArrayViewFromImage(image)[region])
        return _finish(image_array, hits[region], tuple(float(s) for s in image.GetSpacing()), settings)

    ratio = mask_spacing / spacing
    new_lower = np.floor((lower - 0.5) * ratio - settings.pad_distance)
    new_upper = np.ceil((lower + size - 0.5) * ratio + settings.pad_distance)
    max_upper = np.ceil(np.array(mask.GetSize()) * ratio) - 1
    new_lower = np.where(new_lower < 0, 0, new_lower)
    new_upper = np.where(new_upper > max_upper, max_upper, new_upper)
    new_size = [int(n) for n in (new_upper - new_lower + 1)]
    # The first new voxel's centre, as a continuous index of the original grid.
    origin_index = 0.5 * (spacing - mask_spacing) / mask_spacing + new_lower / ratio
    origin = mask.TransformContinuousIndexToPhysicalPoint([float(v) for v in origin_index])

    resampler = sitk.ResampleImageFilter()
    resampler.SetOutputSpacing([float(s) for s in spacing])
    resampler.SetOutputDirection(mask.GetDirection())
    resampler.SetOutputOrigin(origin)
    resampler.SetSize(new_size)

    source = _crop_for_interpolation(image, resampler, settings)
    resampler.SetOutputPixelType(image.GetPixelID())
    resampler.SetInterpolator(settings.sitk_interpolator)
    resampled_image = sitk.GetArrayFromImage(resampler.Execute(source))

    # Nearest neighbour reads one voxel per output point, so the full mask costs nothing extra
    # and keeps the ties at half-voxel positions exactly as pyradiomics breaks them.
    resampler.SetOutputPixelType(mask.GetPixelID())
    resampler.SetInterpolator(sitk.sitkNearestNeighbor)
    resampled_mask = sitk.GetArrayFromImage(resampler.Execute(mask)) == label

    return _finish(resampled_image, resampled_mask, tuple(float(s) for s in spacing), settings)


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


def _finish(image: np.ndarray, mask: np.ndarray, spacing: tuple[float, float, float],
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
