"""The extraction settings: one parameter file, validated, defaults in one place.

The file is ``Resources/pyradiomics_params.json``, written in pyradiomics' own parameter-file
format so that pyradiomics (for ``--all``) and our signature path read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import SimpleITK as sitk

from ..errors import InputError
from ..resources import load_parameters

# Settings our own signature path implements; anything else in the file would silently change
# pyradiomics' numbers but not ours, so it is refused (see ``from_parameters``).
_SUPPORTED_SETTINGS = {"binWidth", "resampledPixelSpacing", "interpolator", "label", "padDistance"}
_INTERPOLATORS = {"sitkBSpline": sitk.sitkBSpline, "sitkLinear": sitk.sitkLinear,
                  "sitkNearestNeighbor": sitk.sitkNearestNeighbor}
_REQUIRED_IMAGE_TYPES = {"Original", "Wavelet"}
_FEATURE_CLASSES = {"shape", "firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm"}


@dataclass(frozen=True)
class ExtractionSettings:
    """Paper section 2.3 settings; the unstated ones as DESIGN section 3 fixes them."""

    bin_width: float = 25.0
    resampled_spacing_mm: tuple[float, float, float] = (1.0, 1.0, 1.0)
    interpolator: str = "sitkBSpline"
    label: int = 1
    # pyradiomics resamples the ROI's bounding box plus this many voxels of the new grid.
    pad_distance: int = 5
    wavelet: str = "coif1"
    # pyradiomics' default: the ROI must extend over at least this many dimensions.
    minimum_roi_dimensions: int = 2

    def __post_init__(self) -> None:
        if not self.bin_width > 0:
            raise InputError(f"binWidth must be positive, got {self.bin_width}.")
        if len(self.resampled_spacing_mm) != 3 or any(s < 0 for s in self.resampled_spacing_mm):
            raise InputError(f"resampledPixelSpacing must be 3 non-negative numbers, got {self.resampled_spacing_mm}.")
        if self.interpolator not in _INTERPOLATORS:
            raise InputError(f"interpolator must be one of {sorted(_INTERPOLATORS)}, got {self.interpolator!r}.")

    @property
    def sitk_interpolator(self) -> int:
        return _INTERPOLATORS[self.interpolator]

    @classmethod
    def from_parameters(cls, parameters: dict | None = None) -> "ExtractionSettings":
        """Build from a pyradiomics parameter dictionary (the bundled file by default)."""
        parameters = load_parameters() if parameters is None else parameters
        unknown_sections = set(parameters) - {"imageType", "featureClass", "setting"}
        if unknown_sections:
            raise InputError(f"Unknown sections in the parameter file: {sorted(unknown_sections)}.")
        image_types = set(parameters.get("imageType") or {})
        if image_types != _REQUIRED_IMAGE_TYPES:
            raise InputError(
                f"The parameter file must enable exactly Original and Wavelet images, got {sorted(image_types)}."
            )
        classes = set(parameters.get("featureClass") or {})
        if classes != _FEATURE_CLASSES:
            raise InputError(
                f"The parameter file must enable the classes {sorted(_FEATURE_CLASSES)}, got {sorted(classes)}."
            )
        setting = dict(parameters.get("setting") or {})
        unsupported = set(setting) - _SUPPORTED_SETTINGS
        if unsupported:
            raise InputError(
                f"Settings {sorted(unsupported)} are not implemented by the signature path; "
                "remove them from the parameter file."
            )
        wavelet = (parameters["imageType"].get("Wavelet") or {})
        if wavelet:
            raise InputError(f"Custom wavelet settings {wavelet} are not supported; use pyradiomics' defaults.")
        return cls(
            bin_width=float(setting.get("binWidth", 25)),
            resampled_spacing_mm=tuple(float(s) for s in setting.get("resampledPixelSpacing", (0, 0, 0))),
            interpolator=str(setting.get("interpolator", "sitkBSpline")),
            label=int(setting.get("label", 1)),
            pad_distance=int(setting.get("padDistance", 5)),
        )
