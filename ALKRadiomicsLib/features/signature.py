"""Computing selected pyradiomics features without pyradiomics (DESIGN section 3).

Feature names are pyradiomics' (``wavelet-LLH_glszm_SmallAreaEmphasis``). The values equal
stock pyradiomics run on the full image with the same settings (proved in the test suite),
but only the ROI's neighbourhood is resampled, only the needed wavelet sub-bands are computed,
and only the needed features.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk
from scipy import ndimage

from ..errors import InputError
from . import texture
from .preprocess import ResampledROI, finish_roi, resample_rois
from .settings import ExtractionSettings
from .wavelet import SUB_BANDS, wavelet_sub_bands

logger = logging.getLogger(__name__)

# (feature class, feature) pairs this module computes, on any image type.
_IMPLEMENTED = {
    ("firstorder", "Skewness"),
    ("glcm", "Autocorrelation"),
    ("glcm", "Correlation"),
    ("glcm", "MaximumProbability"),
    ("glszm", "SmallAreaEmphasis"),
    ("ngtdm", "Busyness"),
}

IMAGE_TYPES = ("original",) + tuple(f"wavelet-{band}" for band in SUB_BANDS)


@dataclass(frozen=True)
class FeatureName:
    """A pyradiomics feature name split into its parts."""

    image_type: str
    feature_class: str
    feature: str

    @classmethod
    def parse(cls, name: str) -> "FeatureName":
        parts = name.split("_")
        if len(parts) != 3 or parts[0] not in IMAGE_TYPES:
            raise InputError(
                f"{name!r} is not a pyradiomics feature name of an Original or Wavelet image "
                "(expected e.g. 'wavelet-LLH_glszm_SmallAreaEmphasis')."
            )
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.image_type}_{self.feature_class}_{self.feature}"


def can_compute(names: Iterable[str]) -> bool:
    """Whether every feature in ``names`` is implemented here (else pyradiomics is needed)."""
    try:
        return all((n.feature_class, n.feature) in _IMPLEMENTED for n in map(FeatureName.parse, names))
    except InputError:
        return False


def compute_features(image: sitk.Image, mask: sitk.Image, names: Iterable[str], *, label: int = 1,
                     settings: ExtractionSettings | None = None) -> dict[str, float]:
    """Compute the named features of the voxels of ``mask`` equal to ``label``.

    ``mask`` must lie on ``image``'s grid; see :mod:`ALKRadiomicsLib.io` for validation.
    """
    return compute_features_of_outlines(image, [(mask, label)], names, settings=settings)[0]


def compute_features_of_outlines(image: sitk.Image, masks: Sequence[tuple[sitk.Image, int]], names: Iterable[str], *,
                                 settings: ExtractionSettings | None = None) -> list[dict[str, float]]:
    """:func:`compute_features` for several outlines (mask, label) of one nodule, sharing the CT's resampling."""
    settings = ExtractionSettings.from_parameters() if settings is None else settings
    parsed = [FeatureName.parse(n) for n in names]
    missing = sorted(str(n) for n in parsed if (n.feature_class, n.feature) not in _IMPLEMENTED)
    if missing:
        raise InputError(f"Features {missing} need pyradiomics; install the [full] extra.")
    return [compute_on_roi(roi, parsed, settings) for roi in resample_rois(image, masks, settings)]


def compute_on_roi(roi: ResampledROI, names: list[FeatureName], settings: ExtractionSettings) -> dict[str, float]:
    """Compute the features on an already resampled ROI."""
    return _compute_on_rois(roi.image, [roi], names, settings)[0]


def compute_features_of_shifted_outlines(image: sitk.Image, mask: sitk.Image, names: Iterable[str], *,
                                         label: int = 1, settings: ExtractionSettings | None = None
                                         ) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Features of the outline as drawn and moved in and out by one voxel of the resampled grid (1 mm).

    The outline is eroded and dilated (6-connected) on the grid the features are computed on, so the
    move is the same number of millimetres on every CT. Returns the features by outline ("as drawn",
    "eroded", "dilated") and, for an outline that could not be used (too thin to erode), why.
    """
    settings = ExtractionSettings.from_parameters() if settings is None else settings
    parsed = [FeatureName.parse(n) for n in names]
    [roi] = resample_rois(image, [(mask, label)], settings)
    rois, skipped = {"as drawn": roi}, {}
    cross = ndimage.generate_binary_structure(3, 1)
    for name, operation in (("eroded", ndimage.binary_erosion), ("dilated", ndimage.binary_dilation)):
        try:
            rois[name] = finish_roi(roi.image, operation(roi.mask, structure=cross), roi.spacing_mm, settings)
        except InputError as err:
            skipped[name] = str(err)
    values = _compute_on_rois(roi.image, list(rois.values()), parsed, settings)
    return dict(zip(rois, values, strict=True)), skipped


def _compute_on_rois(image: np.ndarray, rois: Sequence[ResampledROI], names: list[FeatureName],
                     settings: ExtractionSettings) -> list[dict[str, float]]:
    """The features of several ROIs on one resampled image, filtering the image once."""
    bands = {n.image_type.split("-")[1] for n in names if n.image_type.startswith("wavelet-")}
    filtered = {"original": image}
    filtered.update({f"wavelet-{b}": a for b, a in wavelet_sub_bands(image, bands, settings.wavelet).items()})
    results = []
    for roi in rois:
        mask = roi.mask[roi.bbox]
        values: dict[str, float] = {}
        for image_type in dict.fromkeys(n.image_type for n in names):
            wanted = {(n.feature_class, n.feature) for n in names if n.image_type == image_type}
            computed = _features_of_image(filtered[image_type][roi.bbox], mask, wanted, settings)
            values.update({f"{image_type}_{c}_{f}": v for (c, f), v in computed.items()})
        results.append({str(n): values[str(n)] for n in names})
    return results


def _features_of_image(image: np.ndarray, mask: np.ndarray, wanted: set[tuple[str, str]],
                       settings: ExtractionSettings) -> dict[tuple[str, str], float]:
    result: dict[tuple[str, str], float] = {}
    if ("firstorder", "Skewness") in wanted:
        result["firstorder", "Skewness"] = texture.skewness(image[mask])
    if not wanted - {("firstorder", "Skewness")}:
        return result
    levels = texture.gray_levels(image, mask, settings.bin_width)
    glcm = {f for c, f in wanted if c == "glcm"}
    if glcm:
        result.update({("glcm", f): v for f, v in texture.glcm_features(levels, mask).items() if f in glcm})
    if ("glszm", "SmallAreaEmphasis") in wanted:
        result["glszm", "SmallAreaEmphasis"] = texture.glszm_small_area_emphasis(levels, mask)
    if ("ngtdm", "Busyness") in wanted:
        result["ngtdm", "Busyness"] = texture.ngtdm_busyness(levels, mask)
    return result
