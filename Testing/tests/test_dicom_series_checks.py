"""Broken DICOM series are refused with the reason, never scored silently (issue 16, item 3).

Variants of the real LIDC-IDRI-0314 series are built in the test from 40 consecutive slices
(unchanged slices are symbolic links, changed ones are rewritten with pydicom): slices removed,
positions duplicated, one file truncated, a 15 degree gantry tilt, Modality MR, a sheared
orientation. The geometry is checked from the headers before any voxel is read, so 40 slices
show what the whole series would.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.errors import InputError
from ALKRadiomicsLib.io import read_image

pydicom = pytest.importorskip("pydicom", reason="building the variants needs pydicom (the [report] extra)")


@pytest.fixture(scope="module")
def slices(lidc_0314) -> list[Path]:
    """40 consecutive slices of the series, in position order."""
    files = sorted((lidc_0314 / "dicom").glob("*.dcm"))
    z = {f: float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in files}
    ordered = sorted(files, key=z.get)
    return ordered[100:140]


def build(folder: Path, slices: list[Path], change=None, *, only: set[int] | None = None,
          drop: set[int] = frozenset(), extra: dict[str, tuple[int, object]] | None = None) -> Path:
    """A series folder: slice k is linked, or rewritten with ``change(dataset, k)`` when k is in ``only``."""
    folder.mkdir()
    for k, source in enumerate(slices):
        if k in drop:
            continue
        if change is not None and (only is None or k in only):
            dataset = pydicom.dcmread(source)
            change(dataset, k)
            dataset.save_as(folder / source.name)
        else:
            (folder / source.name).symlink_to(source)
    for name, (k, edit) in (extra or {}).items():
        dataset = pydicom.dcmread(slices[k])
        edit(dataset)
        dataset.save_as(folder / name)
    return folder


def refused(capsys, folder: Path, tmp_path: Path, lidc_0314: Path, *words: str) -> str:
    out = tmp_path / "result.json"
    status = main(["score", "--image", str(folder), "--mask", str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"),
                   "--json", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(err) == 1, err
    for word in words:
        assert word.lower() in err[0].lower(), err[0]
    assert not out.exists()
    return err[0]


def test_the_unchanged_slices_read(slices, tmp_path):
    image = read_image(build(tmp_path / "ok", slices))
    assert image.GetSize()[2] == 40


def test_missing_slices_are_refused(slices, lidc_0314, tmp_path, capsys):
    folder = build(tmp_path / "missing", slices, drop={10, 20, 21})
    refused(capsys, folder, tmp_path, lidc_0314, "not uniform", "about 3 missing slice")


def test_duplicated_positions_are_refused(slices, lidc_0314, tmp_path, capsys):
    def same_place_as_slice_10(dataset):
        dataset.SOPInstanceUID = pydicom.uid.generate_uid()
        dataset.ImagePositionPatient = pydicom.dcmread(slices[10], stop_before_pixels=True).ImagePositionPatient

    folder = build(tmp_path / "duplicated", slices, extra={"dup1.dcm": (11, same_place_as_slice_10),
                                                           "dup2.dcm": (12, same_place_as_slice_10)})
    refused(capsys, folder, tmp_path, lidc_0314, "repeat another slice's position")


def test_a_truncated_slice_is_refused_not_dropped(slices, lidc_0314, tmp_path, capsys):
    folder = build(tmp_path / "truncated", slices)
    victim = folder / slices[15].name
    data = slices[15].read_bytes()
    victim.unlink()
    victim.write_bytes(data[: len(data) // 2])
    refused(capsys, folder, tmp_path, lidc_0314, "cannot be read", slices[15].name)


def test_a_gantry_tilt_is_refused_with_its_angle(slices, lidc_0314, tmp_path, capsys):
    angle = math.radians(15)

    def tilt(dataset, k):  # the image plane tilts; the table still moves along z
        dataset.ImageOrientationPatient = [1, 0, 0, 0, math.cos(angle), math.sin(angle)]

    folder = build(tmp_path / "tilted", slices, tilt)
    refused(capsys, folder, tmp_path, lidc_0314, "gantry tilt of 15.0 degrees")


def test_modality_mr_is_refused(slices, lidc_0314, tmp_path, capsys):
    def mr(dataset, k):
        dataset.Modality = "MR"

    refused(capsys, build(tmp_path / "mr", slices, mr), tmp_path, lidc_0314, "Modality MR, not CT")


def test_a_sheared_orientation_is_refused(slices, lidc_0314, tmp_path, capsys):
    def shear(dataset, k):
        dataset.ImageOrientationPatient = [1, 0, 0, math.sin(math.radians(10)), math.cos(math.radians(10)), 0]

    refused(capsys, build(tmp_path / "sheared", slices, shear), tmp_path, lidc_0314, "not orthogonal", "80.0 degrees")


def test_a_fifo_in_the_series_folder_is_refused_at_once(slices, tmp_path):
    folder = build(tmp_path / "fifo", slices[:5])
    import os
    import time

    os.mkfifo(folder / "pipe.dcm")
    started = time.perf_counter()
    with pytest.raises(InputError, match="FIFO"):
        read_image(folder)
    assert time.perf_counter() - started < 1.0


def test_the_complete_series_still_scores(lidc_0314, tmp_path):
    image = read_image(lidc_0314 / "dicom")
    assert image.GetSize() == (512, 512, 275)
    assert np.isclose(image.GetSpacing()[2], 1.0, atol=0.3)


def test_other_dicom_objects_beside_the_series_are_left_alone(slices, tmp_path):
    """A DICOMDIR or a damaged object of another series is not a missing slice of this one."""
    def other_series(dataset):
        dataset.SeriesInstanceUID = pydicom.uid.generate_uid()

    folder = build(tmp_path / "others", slices, extra={"other.dcm": (0, other_series)})
    data = (folder / "other.dcm").read_bytes()
    (folder / "other.dcm").write_bytes(data[: len(data) // 2])
    (folder / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    assert read_image(folder).GetSize()[2] == 40
