"""The one parameter file in Resources/ holds the paper's settings (DESIGN section 3)."""

from __future__ import annotations

import pytest

from ALKRadiomicsLib.errors import InputError
from ALKRadiomicsLib.features import ExtractionSettings
from ALKRadiomicsLib.resources import PARAMETER_FILE_NAME, load_parameters, resource_path


def test_parameter_file_states_design_settings():
    settings = ExtractionSettings.from_parameters()
    assert settings.bin_width == 25
    assert settings.resampled_spacing_mm == (1.0, 1.0, 1.0)
    assert settings.interpolator == "sitkBSpline"
    assert settings.label == 1


def test_parameter_file_passes_pyradiomics_schema_and_enables_851_features():
    pytest.importorskip("radiomics")
    from radiomics import featureextractor

    extractor = featureextractor.RadiomicsFeatureExtractor(str(resource_path(PARAMETER_FILE_NAME)))  # validates
    assert set(extractor.enabledImagetypes) == {"Original", "Wavelet"}
    assert extractor.settings["binWidth"] == 25


@pytest.mark.parametrize("change", [
    {"setting": {"binWidth": 25, "normalize": True}},
    {"imageType": {"Original": {}}},
    {"imageType": {"Original": {}, "Wavelet": {"wavelet": "haar"}}},
    {"setting": {"binWidth": -1}},
])
def test_settings_the_signature_path_does_not_implement_are_refused(change):
    parameters = {**load_parameters(), **change}
    with pytest.raises(InputError):
        ExtractionSettings.from_parameters(parameters)
