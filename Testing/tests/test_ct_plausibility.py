"""Damaged and implausible CTs are refused, one line, exit 2 (issue 21, items 2-3); every real CT passes.

Measured before: lung1 cut at 60 % of its gzip bytes was scored P(ALK) 0.999 instead of 0.214, exit 0; a
wrong-endian CT, a soft-tissue window export (-160..240 HU) and an int8-clipped CT were scored (the int8 one
"inside" the reference population); the same HU stored as float gave P 0.170 against 0.214; a NaN scl_slope was
read as 1. The rule (``hounsfield.check_ct``) must not refuse a single real CT we have.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import write_cropped_lung1

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.errors import InputError
from ALKRadiomicsLib.io import read_image
from ALKRadiomicsLib.scoring import score_case


@pytest.fixture(scope="module")
def lung1(sample_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("plausibility")
    image, mask = write_cropped_lung1(sample_data, folder)
    return sitk.ReadImage(str(image)), mask


def one_line_refusal(capsys, image, mask, *words) -> None:
    status = main(["score", "--image", str(image), "--mask", str(mask), "--no-outline-uncertainty"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(err) == 1, err
    assert all(word in err[0] for word in words), err[0]


def like(reference: sitk.Image, array: np.ndarray) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    return image


def test_every_real_ct_we_have_passes(sample_data, lidc_0314, lidc_nodules):
    from ALKRadiomicsLib.hounsfield import check_ct

    refused = {}
    paths = [sample_data / "lung1_image.nrrd", sample_data / "lung2_image.nrrd", lidc_0314 / "dicom",
             *sorted((lidc_nodules / "image").glob("*.nii.gz"))]
    for path in paths:
        try:
            check_ct(read_image(path))
        except InputError as err:
            refused[path.name] = str(err)
    assert len(paths) == 3 + 496
    assert refused == {}


@pytest.mark.parametrize("damage, words", [
    ("wrong byte order", ("wrong byte order",)),
    ("soft-tissue window -160..240", ("clipped to a display window", "-160 HU")),
    ("lung window -1350..150", ("clipped to a display window", "150 HU")),
    ("int8", ("clipped to a display window", "-128 HU")),
    ("no lung: a CT of the abdomen's soft tissue", ("between -1200 and -400 HU",)),
    ("not whole HU", ("not whole Hounsfield units",)),
])
def test_an_implausible_ct_is_refused_with_the_reason(damage, words, lung1, tmp_path, capsys):
    image, mask = lung1
    array = sitk.GetArrayFromImage(image)
    damaged = {"wrong byte order": lambda: array.byteswap(),
               "soft-tissue window -160..240": lambda: np.clip(array, -160, 240),
               "lung window -1350..150": lambda: np.clip(array, -1350, 150),
               "int8": lambda: np.clip(array, -128, 127).astype(np.int8),
               "no lung: a CT of the abdomen's soft tissue": lambda: np.where(array < -400, 40, array).astype(np.int16),
               "not whole HU": lambda: array.astype(np.float32) + 0.5}[damage]()
    path = tmp_path / "damaged.nrrd"
    sitk.WriteImage(like(image, damaged), str(path), True)
    one_line_refusal(capsys, path, mask, *words)


def test_the_same_hu_give_the_same_result_whatever_their_storage(lung1, tmp_path):
    """int16, float32, int32 and a NIfTI of uint16 with scl_inter -1024 (read by ITK as float) are one CT."""
    from ALKRadiomicsLib.io import load_case

    image, mask = lung1
    array = sitk.GetArrayFromImage(image)
    files = {}
    for name, stored in (("int16.nrrd", array), ("float32.nrrd", array.astype(np.float32)),
                         ("float64.nii.gz", array.astype(np.float64)), ("int32.mha", array.astype(np.int32))):
        files[name] = tmp_path / name
        sitk.WriteImage(like(image, stored), str(files[name]), True)
    unsigned = tmp_path / "uint16_scl.nii"
    sitk.WriteImage(like(image, (array.astype(np.int32) + 1024).astype(np.uint16)), str(unsigned))
    header = bytearray(unsigned.read_bytes())
    header[116:120] = struct.pack("<f", -1024.0)  # scl_inter
    unsigned.write_bytes(bytes(header))
    assert sitk.ReadImage(str(unsigned)).GetPixelID() == sitk.sitkFloat32
    files["uint16_scl.nii"] = unsigned
    results = {name: score_case(load_case(path, mask), outline_uncertainty=False) for name, path in files.items()}
    probabilities = {name: r.alk.probability for name, r in results.items()}
    assert len(set(probabilities.values())) == 1, probabilities
    assert len({r.alk.domain.status for r in results.values()}) == 1


def truncated(path, fraction=0.6):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


@pytest.mark.parametrize("name", ["ct.nii.gz", "ct.nii", "ct.mha", "ct_raw.mha", "ct.nrrd", "ct_raw.nrrd", "ct.hdr"])
def test_a_truncated_file_of_any_format_is_refused(name, lung1, tmp_path, capsys):
    image, mask = lung1
    path = tmp_path / name.replace("_raw", "")
    sitk.WriteImage(image, str(path), "_raw" not in name and name != "ct.nii")
    data_file = path.with_suffix(".img") if name == "ct.hdr" else path
    truncated(data_file)
    status = main(["score", "--image", str(path), "--mask", str(mask), "--no-outline-uncertainty"])
    captured = capsys.readouterr()
    err = [line for line in (captured.err + captured.out).splitlines() if line.strip()]
    assert status == 2 and len(err) == 1, err  # nothing else printed first (ITK's MetaIO wrote to stdout)
    assert any(word in err[0] for word in ("truncated", "expected")), err[0]


@pytest.mark.parametrize("field, value", [(112, float("nan")), (112, float("inf")), (116, float("nan"))])
def test_a_nifti_scaling_that_is_not_a_number_is_refused(field, value, lung1, tmp_path, capsys):
    image, mask = lung1
    path = tmp_path / "ct.nii"
    sitk.WriteImage(image, str(path))
    header = bytearray(path.read_bytes())
    header[field:field + 4] = struct.pack("<f", value)
    path.write_bytes(bytes(header))
    one_line_refusal(capsys, path, mask, "scaling that is not a number")


def test_itk_warnings_stay_off_the_screen_unless_verbose(lung1, tmp_path):
    """Issue 21, item 8: ITK printed its warning, with its build paths, before our one line (a NIfTI whose sform
    is sheared: 'unexpected scales in sform')."""
    import subprocess
    import sys

    image, mask = lung1
    path = tmp_path / "sheared.nii"
    sitk.WriteImage(image, str(path))
    header = bytearray(path.read_bytes())
    row = list(struct.unpack("<4f", header[280:296]))
    row[1] = 0.3  # shear in srow_x
    header[280:296] = struct.pack("<4f", *row)
    header[252:254] = struct.pack("<h", 0)  # qform_code 0: ITK takes the sform
    path.write_bytes(bytes(header))
    command = [sys.executable, "-m", "ALKRadiomicsLib", "extract", "--image", str(path), "--mask", str(mask)]
    quiet = subprocess.run(command, capture_output=True, text=True, timeout=120)
    lines = [line for line in quiet.stderr.splitlines() if line.strip()]
    assert quiet.returncode == 2 and len(lines) == 1 and lines[0].startswith("alk-radiomics: error:"), lines
    verbose = subprocess.run(command[:3] + ["--verbose"] + command[3:], capture_output=True, text=True, timeout=120)
    assert "unexpected scales in sform" in verbose.stderr
