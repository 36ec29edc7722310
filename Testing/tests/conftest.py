"""Fixtures: real lung CT from pyradiomics' source release and from ../shared/data."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from ALKRadiomicsLib import io
from ALKRadiomicsLib.sample_data import sample_data_dir

REPOSITORY = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("ALK_RADIOMICS_SHARED_DATA", REPOSITORY.parent / "shared" / "data"))
LIDC_0314 = SHARED_DATA / "lidc_0314"


@pytest.fixture()
def edited_model(tmp_path):
    """Write a copy of the bundled model with ``change(document)`` applied; ``reseal`` records the
    new content checksum (a schema problem), without it the file no longer matches its checksum."""
    from ALKRadiomicsLib.model import bundled_model_path
    from ALKRadiomicsLib.model.schema import CHECKSUM_KEY, content_checksum

    def write(change, *, reseal: bool) -> Path:
        document = json.loads(bundled_model_path().read_text())
        change(document)
        if reseal:
            document[CHECKSUM_KEY] = content_checksum(document)
        path = tmp_path / "model.json"
        path.write_text(json.dumps(document))
        return path

    return write


@pytest.fixture(scope="session")
def sample_data() -> Path:
    return sample_data_dir()


@pytest.fixture(scope="session")
def lidc_0314() -> Path:
    if not (LIDC_0314 / "dicom").is_dir():
        pytest.skip(f"needs the LIDC-IDRI-0314 DICOM series in {LIDC_0314} (../shared/data beside the checkout)")
    return LIDC_0314


@pytest.fixture(scope="session")
def lidc_nodules() -> Path:
    folder = SHARED_DATA / "lidc_nodules"
    if not (folder / "metadata.csv").is_file():
        pytest.skip(f"needs the LIDC nodules in {folder} (../shared/data beside the checkout)")
    return folder


def case_paths(name: str, sample: Path) -> tuple[Path, Path]:
    if name == "lidc0314":
        if not (LIDC_0314 / "dicom").is_dir():
            pytest.skip(f"needs the LIDC-IDRI-0314 DICOM series in {LIDC_0314} (../shared/data beside the checkout)")
        return LIDC_0314 / "dicom", LIDC_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"
    return sample / f"{name}_image.nrrd", sample / f"{name}_label.nrrd"


@pytest.fixture(scope="session")
def load_real_case(sample_data):
    """Load a real case by name: lung1, lung2 (pyradiomics data) or lidc0314 (shared data)."""
    cache: dict[str, io.Case] = {}

    def load(name: str) -> io.Case:
        if name not in cache:
            cache[name] = io.load_case(*case_paths(name, sample_data))
        return cache[name]

    return load


@pytest.fixture(scope="session")
def stock_pyradiomics(load_real_case):
    """All features of a real case from stock pyradiomics on the full, uncropped image."""
    radiomics = pytest.importorskip("radiomics", reason="the parity tests need pyradiomics (make test installs it)")
    from radiomics import featureextractor

    from ALKRadiomicsLib.resources import PARAMETER_FILE_NAME, resource_path

    logging.getLogger("radiomics").setLevel(logging.ERROR)
    extractor = featureextractor.RadiomicsFeatureExtractor(str(resource_path(PARAMETER_FILE_NAME)))
    cache: dict[str, dict[str, float]] = {}

    def features(name: str) -> dict[str, float]:
        if name not in cache:
            case = load_real_case(name)
            result = extractor.execute(case.image, case.mask, label=case.label)
            cache[name] = {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}
        return cache[name]

    assert radiomics is not None
    return features


def write_cropped_lung1(sample_data: Path, folder: Path) -> tuple[Path, Path]:
    """lung1 cropped in-plane to 20 voxels around its nodule (all slices), as ct.nrrd and mask.nrrd in ``folder``:
    a real case that the bad-input tests can copy and damage quickly."""
    import numpy as np
    import SimpleITK as sitk

    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    z, y, x = np.nonzero(sitk.GetArrayViewFromImage(mask))
    region = (slice(int(x.min()) - 20, int(x.max()) + 20), slice(int(y.min()) - 20, int(y.max()) + 20), slice(None))
    sitk.WriteImage(image[region], str(folder / "ct.nrrd"), True)
    sitk.WriteImage(mask[region], str(folder / "mask.nrrd"), True)
    return folder / "ct.nrrd", folder / "mask.nrrd"
