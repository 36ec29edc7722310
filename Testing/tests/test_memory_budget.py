"""Memory is budgeted in bytes, estimated from the headers before a voxel is read (issue 21, item 6).

Measured before: at the voxel limit (512 x 512 x 2048 int16, a 1 MB gzip) ``score`` peaked at 5.8 GB, and
512 x 512 x 1024 float64 at 4.5 GB: an 8 GB workstation dies on an input the tool called plausible. Here each
child process's own peak (VmHWM) is read from /proc; the budget is set low with --memory-limit so that inputs
near it stay small enough for a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ALKRadiomicsLib.limits import estimated_peak, parse_memory

REPOSITORY = Path(__file__).resolve().parents[2]
PEAK_SCRIPT = """
import json, sys
from ALKRadiomicsLib.cli import main
status = main(sys.argv[1:])
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": status, "peak_mb": peak_kb / 1024}))
"""
pytestmark = pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak memory is read from /proc")


def run_with_peak(*arguments: str) -> tuple[dict, str]:
    run = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, *arguments], capture_output=True, text=True,
                         timeout=600, cwd=REPOSITORY)
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr


def tall_lung1(sample_data: Path, folder: Path, slices: int) -> tuple[Path, Path]:
    """lung1 (512 x 512 x 48) repeated to ``slices`` slices, its nodule outlined in the first 48."""
    image = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung1_image.nrrd")))
    mask = sitk.GetArrayFromImage(sitk.ReadImage(str(sample_data / "lung1_label.nrrd")))
    tall = np.tile(image, (-(-slices // image.shape[0]), 1, 1))[:slices]
    outline = np.zeros(tall.shape, np.uint8)
    outline[: mask.shape[0]] = mask
    paths = folder / f"ct_{slices}.nrrd", folder / f"mask_{slices}.nrrd"
    for array, path in zip((tall, outline), paths, strict=True):
        volume = sitk.GetImageFromArray(array)
        volume.SetSpacing((0.5703125, 0.5703125, 1.0))
        sitk.WriteImage(volume, str(path), False)
    return paths


def test_a_ct_near_the_budget_runs_within_it_and_one_above_is_refused_before_reading(sample_data, tmp_path):
    limit = "1000M"
    voxels_per_slice = 512 * 512
    # The most slices whose estimate (int16 CT, uint8 mask, report) lies within the limit.
    slices = max(n for n in range(48, 2048, 8)
                 if estimated_peak((n * voxels_per_slice, 2), (n * voxels_per_slice, 1)) < 0.9 * parse_memory(limit))
    image, mask = tall_lung1(sample_data, tmp_path, slices)
    report = ["--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "r.pdf"), "--no-outline-uncertainty"]
    outcome, err = run_with_peak("score", "--image", str(image), "--mask", str(mask), "--memory-limit", limit, *report)
    assert outcome["status"] == 0, err
    assert outcome["peak_mb"] * 2**20 <= parse_memory(limit), outcome
    report = [str(tmp_path / "again.json") if word.endswith("r.json") else word for word in report]
    refused, err = run_with_peak("score", "--image", str(image), "--mask", str(mask), "--memory-limit", "600M", *report,
                                 "--overwrite")
    lines = [line for line in err.splitlines() if line.strip()]
    assert refused["status"] == 2 and len(lines) == 1 and "more than the budget of 0.6 GB" in lines[0], lines
    assert refused["peak_mb"] < 450 and not (tmp_path / "again.json").exists()  # nothing was read
    print(f"{slices} slices: peak {outcome['peak_mb']:.0f} MB within {limit}; refused at 600M with a peak of "
          f"{refused['peak_mb']:.0f} MB")


def test_the_default_budget_refuses_what_the_voxel_limit_let_through(tmp_path):
    """512 x 512 x 1024 float64 (4.5 GB before) is refused from its header; the header claims, the file is small."""
    header = tmp_path / "big.mhd"
    header.write_text("ObjectType = Image\nNDims = 3\nDimSize = 512 512 1024\nElementType = MET_DOUBLE\n"
                      "ElementSpacing = 1 1 1\nElementDataFile = big.raw\n")
    with open(tmp_path / "big.raw", "wb") as data:
        data.truncate(512 * 512 * 1024 * 8)  # sparse: no disk used
    outcome, err = run_with_peak("score", "--image", str(header), "--mask", str(header))
    assert outcome["status"] == 2 and "more than the budget of 4.0 GB" in err, err
    assert outcome["peak_mb"] < 450


def test_an_outline_whose_box_is_the_whole_ct_is_refused_before_the_features(sample_data, tmp_path, capsys):
    """Two specks at opposite corners: a few voxels, but a box the size of the CT on the 1 mm grid."""
    from ALKRadiomicsLib.cli import main

    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    specks = np.zeros(sitk.GetArrayViewFromImage(image).shape, np.uint8)
    specks[2:5, 2:6, 2:6] = specks[-5:-2, -6:-2, -6:-2] = 1
    mask = sitk.GetImageFromArray(specks)
    mask.CopyInformation(image)
    sitk.WriteImage(mask, str(tmp_path / "specks.nrrd"), True)
    status = main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask", str(tmp_path / "specks.nrrd"),
                   "--memory-limit", "2G"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "features of this outline" in err[0], err


@pytest.mark.parametrize("text, expected", [("4G", 4 * 2**30), ("6GB", 6 * 2**30), ("8000M", 8000 * 2**20),
                                            ("2.5", int(2.5 * 2**30)), ("512MiB", 512 * 2**20)])
def test_memory_sizes_read_as_people_write_them(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "lots", "-1G", "0", "4X"])
def test_a_memory_size_that_is_not_one_is_one_line(text, capsys, sample_data):
    from ALKRadiomicsLib.cli import main

    status = main(["extract", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                   str(sample_data / "lung1_label.nrrd"), f"--memory-limit={text}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "is not a size" in err[0], err
