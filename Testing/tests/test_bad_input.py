"""Bad input: one clear line naming the problem, exit status 2, no traceback, nothing written.

DESIGN section 7; issue 2's list. Inputs are derived from the real lung1 CT.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ALKRadiomicsLib.cli import main


@pytest.fixture(scope="module")
def lung1_crop(sample_data, tmp_path_factory) -> tuple[Path, Path]:
    """lung1 cropped to its nodule plus a margin: a small real CT and its outline."""
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    z, y, x = np.nonzero(sitk.GetArrayViewFromImage(mask))
    region = (slice(max(x.min() - 40, 0), x.max() + 40), slice(max(y.min() - 40, 0), y.max() + 40), slice(None))
    folder = tmp_path_factory.mktemp("lung1_crop")
    image_path, mask_path = folder / "ct.nrrd", folder / "mask.nrrd"
    sitk.WriteImage(image[region], str(image_path), True)
    sitk.WriteImage(mask[region], str(mask_path), True)
    return image_path, mask_path


def run_cli(capsys, *args: str) -> tuple[int, list[str]]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, [line for line in captured.err.splitlines() if line.strip()]


def assert_one_clear_error(status: int, lines: list[str], *words: str) -> None:
    assert status == 2
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]


def write_like(reference: Path, array: np.ndarray, path: Path, *, spacing=None, origin=None) -> Path:
    source = sitk.ReadImage(str(reference))
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(source)
    if spacing is not None:
        image.SetSpacing(spacing)
    if origin is not None:
        image.SetOrigin(origin)
    sitk.WriteImage(image, str(path), True)
    return path


def test_the_good_case_extracts(lung1_crop, tmp_path, capsys):
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(lung1_crop[1]),
                            "--out", str(out))
    assert status == 0 and not lines
    assert "wavelet-LLL_firstorder_Skewness" in out.read_text()


def test_empty_mask(lung1_crop, tmp_path, capsys):
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(lung1_crop[1])))
    empty = write_like(lung1_crop[1], np.zeros_like(mask), tmp_path / "empty.nrrd")
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(empty), "--out", str(out))
    assert_one_clear_error(status, lines, "empty")
    assert not out.exists()


def test_mask_on_another_grid(lung1_crop, tmp_path, capsys):
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(lung1_crop[1])))
    shifted = write_like(lung1_crop[1], mask, tmp_path / "shifted.nrrd", origin=(0.0, 0.0, 0.0))
    out = tmp_path / "features.json"
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(shifted), "--out", str(out))
    assert_one_clear_error(status, lines, "grid", "origin")
    assert not out.exists()


def test_label_absent_from_mask(lung1_crop, tmp_path, capsys):
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(lung1_crop[1]),
                            "--label", "7", "--out", str(out))
    assert_one_clear_error(status, lines, "label 7", "[1]")
    assert not out.exists()


def test_multi_label_mask_needs_a_label(lung1_crop, tmp_path, capsys):
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(lung1_crop[1])))
    two = mask.copy()
    two[0, :3, :3] = 2
    path = write_like(lung1_crop[1], two, tmp_path / "two.nrrd")
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(path))
    assert_one_clear_error(status, lines, "several labels", "--label")
    status, _ = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(path), "--label", "1")
    assert status == 0


def test_2d_image(lung1_crop, tmp_path, capsys):
    image = sitk.ReadImage(str(lung1_crop[0]))
    flat = tmp_path / "slice.nrrd"
    sitk.WriteImage(image[:, :, 20], str(flat))
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(flat), "--mask", str(lung1_crop[1]), "--out", str(out))
    assert_one_clear_error(status, lines, "not a 3D volume")
    assert not out.exists()


def test_nan_voxels(lung1_crop, tmp_path, capsys):
    ct = sitk.GetArrayFromImage(sitk.ReadImage(str(lung1_crop[0]))).astype(np.float32)
    ct[10, 10, 10] = np.nan
    path = write_like(lung1_crop[0], ct, tmp_path / "nan.nrrd")
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(path), "--mask", str(lung1_crop[1]), "--out", str(out))
    assert_one_clear_error(status, lines, "NaN")
    assert not out.exists()


def test_non_ct_volume(sample_data, tmp_path, capsys):
    # brain1 is an MR volume: no voxel anywhere near air's -1000 HU.
    status, lines = run_cli(capsys, "extract", "--image", str(sample_data / "brain1_image.nrrd"),
                            "--mask", str(sample_data / "brain1_label.nrrd"))
    assert_one_clear_error(status, lines, "Hounsfield")


def test_nonexistent_path(lung1_crop, tmp_path, capsys):
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(tmp_path / "nope.nrrd"), "--mask", str(lung1_crop[1]),
                            "--out", str(out))
    assert_one_clear_error(status, lines, "not found", "nope.nrrd")
    assert not out.exists()


def test_unwritable_output_folder(lung1_crop, tmp_path, capsys):
    out = tmp_path / "missing-folder" / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(lung1_crop[1]),
                            "--out", str(out))
    assert_one_clear_error(status, lines, "does not exist")
    assert not out.parent.exists()


def test_too_small_nodule(lung1_crop, tmp_path, capsys):
    mask = np.zeros_like(sitk.GetArrayFromImage(sitk.ReadImage(str(lung1_crop[1]))))
    mask[20, 50, 50] = 1  # one voxel
    path = write_like(lung1_crop[1], mask, tmp_path / "dot.nrrd")
    status, lines = run_cli(capsys, "extract", "--image", str(lung1_crop[0]), "--mask", str(path))
    assert_one_clear_error(status, lines, "3D region")


def _write_dicom_series(image: sitk.Image, folder: Path, series_uid: str, first_file: int) -> None:
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(image.GetDepth()):
        slice_ = image[:, :, k]
        tags = {
            "0008|0060": "CT", "0020|000d": "1.2.826.0.1.3680043.8.498.1", "0020|000e": series_uid,
            "0020|0013": str(k + 1), "0020|0037": "1\\0\\0\\0\\1\\0",
            "0020|0032": "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k)))),
            "0008|0018": f"{series_uid}.{k + 1}", "0028|1052": "0", "0028|1053": "1",
        }
        for tag, value in tags.items():
            slice_.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"{first_file + k:04d}.dcm"))
        writer.Execute(slice_)


def test_dicom_folder_with_two_series_lists_them(lung1_crop, tmp_path, capsys):
    image = sitk.ReadImage(str(lung1_crop[0]))[:, :, :3]
    folder = tmp_path / "dicom"
    folder.mkdir()
    _write_dicom_series(image, folder, "1.2.826.0.1.3680043.8.498.11", 0)
    _write_dicom_series(image, folder, "1.2.826.0.1.3680043.8.498.12", 100)
    out = tmp_path / "features.csv"
    status, lines = run_cli(capsys, "extract", "--image", str(folder), "--mask", str(lung1_crop[1]), "--out", str(out))
    assert_one_clear_error(status, lines, "2 DICOM series", "1.2.826.0.1.3680043.8.498.11", "498.12", "--series")
    assert not out.exists()


def test_console_script_exits_2_without_traceback(lung1_crop, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "ALKRadiomicsLib", "extract", "--image", str(tmp_path / "missing.nrrd"),
         "--mask", str(lung1_crop[1])], capture_output=True, text=True,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr


def test_two_slice_ct_is_refused_rather_than_resampled_irreproducibly(lung1_crop, tmp_path, capsys):
    # ITK's cubic B-spline reads outside a 2-sample axis: stock pyradiomics gives a different
    # resampled image from run to run on such a CT. We refuse it.
    image, mask = sitk.ReadImage(str(lung1_crop[0])), sitk.ReadImage(str(lung1_crop[1]))
    z = int(np.nonzero(sitk.GetArrayViewFromImage(mask))[0].mean())
    sitk.WriteImage(image[:, :, z:z + 2], str(tmp_path / "ct.nrrd"))
    sitk.WriteImage(mask[:, :, z:z + 2], str(tmp_path / "mask.nrrd"))
    status, lines = run_cli(capsys, "extract", "--image", str(tmp_path / "ct.nrrd"),
                            "--mask", str(tmp_path / "mask.nrrd"))
    assert_one_clear_error(status, lines, "only 2 voxels along one axis")


def test_a_mask_a_thousandth_of_a_mm_off_the_grid_is_moved_onto_it_with_a_warning(lung1_crop):
    """Issue 21, item 8: a mask whose origin is 0.001 mm off (float32 rounding in other tools) was refused."""
    from ALKRadiomicsLib.io import load_case
    from ALKRadiomicsLib.scoring import score_case

    image, mask = lung1_crop
    exact = score_case(load_case(image, mask), outline_uncertainty=False)
    rounded = sitk.ReadImage(str(mask))
    origin = np.array(rounded.GetOrigin(), dtype=np.float32).astype(float) + (0.001, 0, 0)
    rounded.SetOrigin(tuple(origin))
    rounded.SetSpacing(tuple(np.array(rounded.GetSpacing(), dtype=np.float32).astype(float)))
    path = mask.parent / "rounded_mask.nrrd"
    sitk.WriteImage(rounded, str(path), True)
    moved = score_case(load_case(image, path), outline_uncertainty=False)
    assert moved.alk.probability == exact.alk.probability
    assert any("resampled onto the CT's grid by nearest neighbour; no voxel changed" in w for w in moved.warnings)


def test_a_mask_a_tenth_of_a_voxel_off_is_still_refused(lung1_crop, tmp_path, capsys):
    image, mask = lung1_crop
    shifted = sitk.ReadImage(str(mask))
    shifted.SetOrigin(tuple(np.array(shifted.GetOrigin()) + (0.1 * shifted.GetSpacing()[0], 0, 0)))
    sitk.WriteImage(shifted, str(tmp_path / "shifted.nrrd"), True)
    status, lines = run_cli(capsys, "extract", "--image", str(image), "--mask", str(tmp_path / "shifted.nrrd"))
    assert_one_clear_error(status, lines, "not on the image's voxel grid")
