"""All 851 features with pyradiomics itself (the optional ``[full]`` extra).

pyradiomics is not needed for scoring; it is the reference and the tool for the full feature
set used in training. It needs a C compiler to install on Python 3.10+ (``pyradiomics-bhklab``).
"""

from __future__ import annotations

import logging

import SimpleITK as sitk

from ..errors import InputError, MissingDependencyError
from ..resources import PARAMETER_FILE_NAME, resource_path

INSTALL_HINT = (
    "pip install 'alk-radiomics[full]' (pyradiomics-bhklab, built from source: needs a C compiler "
    "and the Python headers)"
)


def pyradiomics_extractor():
    """A stock pyradiomics extractor configured with the bundled parameter file."""
    try:
        from radiomics import featureextractor
    except ImportError:
        raise MissingDependencyError(
            f"All 851 features need pyradiomics, which is not installed: {INSTALL_HINT}."
        ) from None
    logging.getLogger("radiomics").setLevel(logging.ERROR)
    return featureextractor.RadiomicsFeatureExtractor(str(resource_path(PARAMETER_FILE_NAME)))


def compute_all_features(image: sitk.Image, mask: sitk.Image, *, label: int = 1) -> dict[str, float]:
    """All features of the parameter file (851 with the bundled one), pyradiomics' names and order."""
    extractor = pyradiomics_extractor()
    try:
        result = extractor.execute(image, mask, label=label)
    except ValueError as err:
        raise InputError(f"pyradiomics could not extract features: {err}") from None
    return {name: float(value) for name, value in result.items() if not name.startswith("diagnostics_")}
