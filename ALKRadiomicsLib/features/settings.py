"""The extraction settings: one parameter file, validated, defaults in one place.

The file is ``Resources/pyradiomics_params.json``, written in pyradiomics' own parameter-file
format so that pyradiomics (for ``--all``) and our signature path read the same numbers.

The settings also arrive from model files, which are hostile input: ``model.schema`` refuses any model
whose settings differ from the published ones, and this module is the second line of defence: whatever
value it is given (a list, null, true, 5e-324), it raises :class:`InputError`, never a TypeError, and
never starts an extraction that would run for minutes or exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
# What an extraction of a CT nodule can be asked for (the paper: 25 HU, 1 mm). A narrower bin than 1 HU
# outnumbers the gray levels a CT resolves, and the texture matrices grow with the square of their number
# (binWidth 5e-324 asked numpy for an impossible array); a grid finer than 0.5 mm is finer than any chest CT
# and grows as the cube (0.05 mm ran 96 s on a small nodule, 1e-6 mm exhausted memory).
BIN_WIDTH_RANGE_HU = (1.0, 1000.0)
SPACING_RANGE_MM = (0.5, 10.0)
MAX_PAD_DISTANCE = 50


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
        low, high = BIN_WIDTH_RANGE_HU
        if not _is_number(self.bin_width) or not low <= self.bin_width <= high:
            raise InputError(f"binWidth must be a number from {low:g} to {high:g} HU (the paper's is 25), "
                             f"got {_shown(self.bin_width)}.")
        object.__setattr__(self, "bin_width", float(self.bin_width))
        low, high = SPACING_RANGE_MM
        spacing = self.resampled_spacing_mm
        if not isinstance(spacing, (tuple, list)) or len(spacing) != 3 \
                or not all(_is_number(s) and (s == 0 or low <= s <= high) for s in spacing):
            raise InputError(f"resampledPixelSpacing must be 3 numbers, each 0 (keep the CT's spacing) or from "
                             f"{low:g} to {high:g} mm (the paper's is [1, 1, 1]), got {_shown(spacing)}.")
        object.__setattr__(self, "resampled_spacing_mm", tuple(float(s) for s in spacing))
        if not isinstance(self.interpolator, str) or self.interpolator not in _INTERPOLATORS:
            raise InputError(f"interpolator must be one of {sorted(_INTERPOLATORS)}, got {_shown(self.interpolator)}.")
        _check_integer(self.label, "label", 1, 2**31 - 1)
        _check_integer(self.pad_distance, "padDistance", 0, MAX_PAD_DISTANCE)
        _check_integer(self.minimum_roi_dimensions, "minimum ROI dimensions", 1, 3)
        if not isinstance(self.wavelet, str) or not self.wavelet:
            raise InputError(f"wavelet must be the name of a wavelet, got {_shown(self.wavelet)}.")

    @property
    def sitk_interpolator(self) -> int:
        return _INTERPOLATORS[self.interpolator]

    @classmethod
    def from_parameters(cls, parameters: Any = None) -> "ExtractionSettings":
        """Build from a pyradiomics parameter dictionary (the bundled file by default)."""
        parameters = load_parameters() if parameters is None else parameters
        if not isinstance(parameters, dict):
            raise InputError(f"The parameter file must be a mapping of imageType, featureClass and setting, "
                             f"got {_shown(parameters)}.")
        unknown_sections = set(parameters) - {"imageType", "featureClass", "setting"}
        if unknown_sections:
            raise InputError(f"Unknown sections in the parameter file: {sorted(unknown_sections)}.")
        image_types = _section(parameters, "imageType")
        if set(image_types) != _REQUIRED_IMAGE_TYPES:
            raise InputError(
                f"The parameter file must enable exactly Original and Wavelet images, got {sorted(image_types)}."
            )
        custom = {name: value for name, value in image_types.items() if value not in (None, {})}
        if custom:
            raise InputError(f"Custom image type settings {_shown(custom)} are not supported; use pyradiomics' "
                             "defaults ({}).")
        classes = set(_section(parameters, "featureClass"))
        if classes != _FEATURE_CLASSES:
            raise InputError(
                f"The parameter file must enable the classes {sorted(_FEATURE_CLASSES)}, got {sorted(classes)}."
            )
        setting = _section(parameters, "setting")
        unsupported = set(setting) - _SUPPORTED_SETTINGS
        if unsupported:
            raise InputError(
                f"Settings {sorted(unsupported)} are not implemented by the signature path; "
                "remove them from the parameter file."
            )
        # Passed as given: __post_init__ checks each value's type and range.
        return cls(
            bin_width=setting.get("binWidth", 25),
            resampled_spacing_mm=setting.get("resampledPixelSpacing", (0, 0, 0)),
            interpolator=setting.get("interpolator", "sitkBSpline"),
            label=setting.get("label", 1),
            pad_distance=setting.get("padDistance", 5),
        )


def _section(parameters: dict, name: str) -> dict:
    value = parameters.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"The parameter file's {name} must be a mapping, got {_shown(value)}.")
    return value


def _is_number(value: Any) -> bool:
    """An int or a float; true and false are not numbers here (although True == 1). The range checks that follow
    refuse NaN and inf (every comparison with NaN is false) and compare a huge int exactly."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_integer(value: Any, name: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{name} must be a whole number from {low} to {high:,}, got {_shown(value)}.")


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
