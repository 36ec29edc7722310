"""Inputs are never written (issue 16): every command refuses an output that is one of its inputs.

For each command, the output is the input itself, a symbolic link to it, or (where it matters) a
hard link or a file inside an input folder: exit 2, one line, and the input unchanged byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk
from conftest import write_cropped_lung1

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.model import bundled_model_path


@pytest.fixture(scope="module")
def files(sample_data, tmp_path_factory) -> dict[str, Path]:
    """A real case (lung1 cropped to its nodule), a cohort of it, a features CSV and a model copy."""
    folder = tmp_path_factory.mktemp("protected")
    write_cropped_lung1(sample_data, folder)
    (folder / "cohort.csv").write_text("id,image,mask,alk\ncase1,ct.nrrd,mask.nrrd,1\n")
    (folder / "features.csv").write_text("id,error,original_glcm_Autocorrelation\ncase1,,1.5\n")
    shutil.copy(bundled_model_path(), folder / "model.json")
    data = folder / "lidc_nodules"
    data.mkdir()
    (data / "metadata.csv").write_text("case,malignancy\n")
    return {name: folder / name for name in ("ct.nrrd", "mask.nrrd", "cohort.csv", "features.csv", "model.json")} | {
        "data": data, "folder": folder}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commands(f: dict[str, Path]) -> list[tuple[str, list[str], str]]:
    """(name, arguments with OUT where the output goes, the input OUT stands for)."""
    case = ["--image", str(f["ct.nrrd"]), "--mask", str(f["mask.nrrd"])]
    cohort = [str(f["cohort.csv"]), "--features", str(f["features.csv"])]
    return [
        ("extract: --out = the CT", ["extract", *case, "--out", "OUT"], "ct.nrrd"),
        ("extract: --out = the mask", ["extract", *case, "--out", "OUT"], "mask.nrrd"),
        ("score: --json = the model", ["score", *case, "--model", str(f["model.json"]), "--json", "OUT"], "model.json"),
        ("score: --html = the CT", ["score", *case, "--html", "OUT"], "ct.nrrd"),
        ("score: --report = the mask", ["score", *case, "--report", "OUT"], "mask.nrrd"),
        ("segment: --out = the CT", ["segment", "--image", str(f["ct.nrrd"]), "--seed", "0", "0", "0", "--out", "OUT"],
         "ct.nrrd"),
        ("segment: --json = the CT", ["segment", "--image", str(f["ct.nrrd"]), "--seed", "0", "0", "0", "--out",
                                      str(f["folder"] / "new_mask.nrrd"), "--json", "OUT"], "ct.nrrd"),
        ("batch: --out = the cohort", ["batch", str(f["cohort.csv"]), "--out", "OUT", "--serial"], "cohort.csv"),
        ("batch: --out = a CT of the cohort", ["batch", str(f["cohort.csv"]), "--out", "OUT", "--serial"], "ct.nrrd"),
        ("validate: --json = the features", ["validate", *cohort, "--json", "OUT"], "features.csv"),
        ("validate: --report = the cohort", ["validate", *cohort, "--report", "OUT"], "cohort.csv"),
        ("recalibrate: --out = the model", ["recalibrate", *cohort, "--model", str(f["model.json"]), "--out", "OUT"],
         "model.json"),
        ("train: --out = the features", ["train", *cohort, "--out", "OUT", "--report", str(f["folder"] / "t.pdf")],
         "features.csv"),
        ("train: --report = the cohort", ["train", *cohort, "--out", str(f["folder"] / "m.json"), "--report", "OUT"],
         "cohort.csv"),
        ("build-reference: --out = its metadata", ["build-reference", "--data", str(f["data"]), "--out", "OUT"],
         "lidc_nodules/metadata.csv"),
    ]


def _resolve(files: dict[str, Path], name: str) -> Path:
    return files["folder"] / name


@pytest.mark.parametrize("spelling", ["same path", "symbolic link", "hard link"])
@pytest.mark.parametrize("index", range(15))
def test_every_command_refuses_to_write_over_an_input(files, spelling, index, tmp_path, capsys):
    name, arguments, target_name = _commands(files)[index]
    target = _resolve(files, target_name)
    before = _digest(target)
    if spelling == "same path":
        out = target
    elif spelling == "symbolic link":
        out = tmp_path / ("link" + "".join(target.suffixes))
        out.symlink_to(target)
    else:
        out = tmp_path / ("hard" + "".join(target.suffixes))
        try:
            os.link(target, out)
        except OSError:
            pytest.skip("hard links across these folders are not possible here")
    status = main([str(out) if a == "OUT" else a for a in arguments])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2, name
    assert len(err) == 1 and "inputs are never written" in err[0], (name, err)
    assert _digest(target) == before, name


def test_an_output_inside_a_dicom_input_folder_is_refused(lidc_0314, tmp_path, capsys):
    out = lidc_0314 / "dicom" / "mask.nrrd"
    status = main(["segment", "--image", str(lidc_0314 / "dicom"), "--seed", "0", "0", "0", "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "lies inside the input folder" in err and not out.exists()


def test_a_detached_headers_data_file_is_an_input(files, tmp_path, capsys):
    """Writing over the raw file a .nhdr reads destroys the CT as surely as writing the header."""
    image = sitk.ReadImage(str(files["ct.nrrd"]))
    header = tmp_path / "ct.nhdr"
    sitk.WriteImage(image, str(header))  # ITK writes ct.nhdr + ct.raw
    raw = tmp_path / "ct.raw"
    assert raw.is_file()
    before = _digest(raw)
    status = main(["extract", "--image", str(header), "--mask", str(files["mask.nrrd"]), "--out",
                   str(tmp_path / "x.csv"), "--label", "1"])
    assert status == 0
    (tmp_path / "x.csv").unlink()
    out = tmp_path / "segment_into_raw.nrrd"
    out.symlink_to(raw)
    status = main(["segment", "--image", str(header), "--seed", "0", "0", "0", "--out", str(out)])
    assert status == 2 and "inputs are never written" in capsys.readouterr().err
    assert _digest(raw) == before


def test_two_outputs_that_are_one_file_are_refused(files, tmp_path, capsys):
    json_out = tmp_path / "r.json"
    status = main(["validate", str(files["cohort.csv"]), "--features", str(files["features.csv"]),
                   "--json", str(json_out), "--report", str(tmp_path / "r.pdf")])
    capsys.readouterr()
    assert status == 2  # a one-patient cohort is refused, but only after the paths were accepted
    out = tmp_path / "m.json"
    status = main(["train", str(files["cohort.csv"]), "--features", str(files["features.csv"]), "--out", str(out),
                   "--report", str(tmp_path / "m.pdf")])
    error = capsys.readouterr().err
    assert status == 2 and "same file" in error and len(error.strip().splitlines()) == 1
    assert "the report's JSON (--report's name with .json; --json to choose) and --out" in error  # no --json given
