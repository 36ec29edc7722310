"""Hostile image files (issue 16, items 4-5): data files outside the header's folder, devices,
FIFOs, headers claiming 1500^3 voxels, impossible HU, a mask as large as the CT. Each is refused
with one line, at once, before anything large is allocated. Built from the real lung1 CT."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from conftest import write_cropped_lung1

from ALKRadiomicsLib.cli import main

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lung1(sample_data, tmp_path_factory) -> dict[str, Path]:
    """lung1 cropped to its nodule, as .nrrd and as a detached .nhdr + .raw pair."""
    folder = tmp_path_factory.mktemp("limits")
    write_cropped_lung1(sample_data, folder)
    image = sitk.ReadImage(str(folder / "ct.nrrd"))
    sitk.WriteImage(image, str(folder / "ct.nhdr"))  # ct.nhdr + ct.raw
    return {"ct": folder / "ct.nrrd", "mask": folder / "mask.nrrd", "nhdr": folder / "ct.nhdr",
            "raw": folder / "ct.raw"}


def header_pointing_to(lung1, folder: Path, reference: str, *, name: str = "hostile.nhdr") -> Path:
    text = lung1["nhdr"].read_text(encoding="latin-1")
    lines = [line if not line.lower().startswith(("data file:", "datafile:")) else f"data file: {reference}"
             for line in text.splitlines()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    return path


def run_cli(capsys, *arguments: str) -> tuple[int, str, float]:
    started = time.perf_counter()
    status = main(list(arguments))
    elapsed = time.perf_counter() - started
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) <= 1, err
    return status, err[0] if err else "", elapsed


def test_the_detached_pair_itself_is_read(lung1, tmp_path, capsys):
    status, err, _ = run_cli(capsys, "extract", "--image", str(lung1["nhdr"]), "--mask", str(lung1["mask"]))
    assert status == 0, err


@pytest.mark.parametrize("reference", ["/usr/bin/ls", "/dev/urandom", "/dev/zero", "../outside.raw", "LINK"])
def test_a_data_file_outside_the_headers_folder_is_refused_at_once(reference, lung1, tmp_path, capsys):
    folder = tmp_path / "case"
    folder.mkdir()
    (tmp_path / "outside.raw").write_bytes(lung1["raw"].read_bytes())
    if reference == "LINK":  # a name inside the folder that leads outside
        (folder / "data.raw").symlink_to("/dev/zero")
        reference = "data.raw"
    header = header_pointing_to(lung1, folder, reference)
    status, err, elapsed = run_cli(capsys, "score", "--image", str(header), "--mask", str(lung1["mask"]), "--html",
                                   str(tmp_path / "r.html"))
    assert status == 2 and "outside its own folder" in err, err
    assert elapsed < 1.0 and not (tmp_path / "r.html").exists()


def test_a_metaimage_pointing_at_a_device_is_refused(lung1, tmp_path, capsys):
    header = tmp_path / "ct.mhd"
    header.write_text("ObjectType = Image\nNDims = 3\nDimSize = 64 64 64\nElementType = MET_SHORT\n"
                      "ElementDataFile = /dev/zero\n")
    status, err, elapsed = run_cli(capsys, "extract", "--image", str(header), "--mask", str(lung1["mask"]))
    assert status == 2 and "outside its own folder" in err and elapsed < 1.0


def test_a_fifo_as_data_file_is_refused_without_hanging(lung1, tmp_path):
    """In a child process with a timeout: a regression here would block for ever."""
    folder = tmp_path / "case"
    folder.mkdir()
    os.mkfifo(folder / "data.raw")
    header = header_pointing_to(lung1, folder, "data.raw")
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "ALKRadiomicsLib", "extract", "--image", str(header), "--mask",
                          str(lung1["mask"])], capture_output=True, text=True, timeout=60, cwd=REPOSITORY)
    assert run.returncode == 2 and "not a regular file" in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert time.perf_counter() - started < 30  # interpreter start-up; the refusal itself is immediate


def test_a_multi_file_data_list_is_refused(lung1, tmp_path, capsys):
    header = header_pointing_to(lung1, tmp_path, "LIST")
    status, err, _ = run_cli(capsys, "extract", "--image", str(header), "--mask", str(lung1["mask"]))
    assert status == 2 and "several files" in err


# VmHWM is this process's own peak: getrusage's ru_maxrss would carry over the forking parent's
# (pytest's) peak across exec.
PEAK_SCRIPT = """
import json, sys
from ALKRadiomicsLib.cli import main
status = main(sys.argv[1:])
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": status, "peak_mb": peak_kb / 1024}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak memory is read from /proc (Linux)")
@pytest.mark.parametrize("kind", ["nhdr", "mhd"])
def test_a_header_claiming_1500_cubed_voxels_is_refused_before_allocating(kind, lung1, tmp_path):
    if kind == "nhdr":
        header = header_pointing_to(lung1, tmp_path, "small.raw")
        text = header.read_text().splitlines()
        header.write_text("\n".join("sizes: 1500 1500 1500" if t.startswith("sizes:") else t for t in text) + "\n")
    else:
        header = tmp_path / "huge.mhd"
        header.write_text("ObjectType = Image\nNDims = 3\nDimSize = 1500 1500 1500\nElementType = MET_SHORT\n"
                          "ElementSpacing = 1 1 1\nElementDataFile = small.raw\n")
    (tmp_path / "small.raw").write_bytes(b"\0" * 1000)
    assert header.stat().st_size < 1000
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, "extract", "--image", str(header), "--mask",
                          str(lung1["mask"])], capture_output=True, text=True, timeout=120, cwd=REPOSITORY)
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 2 and "3,375,000,000 voxels" in run.stderr, run.stderr
    assert outcome["peak_mb"] < 300, outcome
    print(f"{kind}: refused, peak memory {outcome['peak_mb']:.0f} MB")


@pytest.mark.parametrize("value", [1e10, 1e15, -1e6])
def test_hu_outside_what_a_ct_can_store_is_refused(value, lung1, tmp_path, capsys):
    image = sitk.Cast(sitk.ReadImage(str(lung1["ct"])), sitk.sitkFloat32)
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(lung1["mask"])))
    z, y, x = (int(np.median(a)) for a in np.nonzero(mask))
    image[x, y, z] = value  # inside the nodule, where the binning would see it
    path = tmp_path / "hot.nrrd"
    sitk.WriteImage(image, str(path), True)
    status, err, elapsed = run_cli(capsys, "score", "--image", str(path), "--mask", str(lung1["mask"]))
    assert status == 2 and "outside the -32768 to 32767 HU" in err, err
    assert elapsed < 5


def test_a_mask_larger_than_any_tumour_is_refused(sample_data, tmp_path, capsys):
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    whole = sitk.Image(image.GetSize(), sitk.sitkUInt8) + 1
    whole.CopyInformation(image)
    path = tmp_path / "whole.nrrd"
    sitk.WriteImage(whole, str(path), True)
    status, err, elapsed = run_cli(capsys, "score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                                   str(path))
    assert status == 2 and "larger than any lung nodule or tumour (limit 1500 cm3)" in err, err
    assert elapsed < 10
