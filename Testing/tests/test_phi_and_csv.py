"""Spreadsheet-safe CSVs and patient identity in the outputs (issue 16, items 7-8).

A real CT (lung1 around its nodule) is written as a DICOM series carrying a patient identity,
in a folder named after the patient, as a hospital export often is.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.csvsafe import original_text, spreadsheet_safe
from ALKRadiomicsLib.io import read_image

IDENTITY = ("Doe^Jane", "PHI-12345", "19510203", "ACC-998877", "St Elsewhere")


@pytest.fixture(scope="module")
def patient_series(lidc_0314, tmp_path_factory) -> tuple[Path, Path]:
    """The LIDC-IDRI-0314 slices through the nodule, given a patient identity, in a folder named after
    the patient; the consensus outline on their grid."""
    pydicom = pytest.importorskip("pydicom")
    mask = sitk.ReadImage(str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"))
    z = np.nonzero(sitk.GetArrayViewFromImage(mask))[0]
    low = mask.TransformIndexToPhysicalPoint((0, 0, int(z.min()) - 3))[2]
    high = mask.TransformIndexToPhysicalPoint((0, 0, int(z.max()) + 3))[2]
    folder = tmp_path_factory.mktemp("phi") / "Doe_Jane_1951"
    folder.mkdir()
    for source in sorted((lidc_0314 / "dicom").glob("*.dcm")):
        dataset = pydicom.dcmread(source)
        if min(low, high) <= float(dataset.ImagePositionPatient[2]) <= max(low, high):
            dataset.PatientName, dataset.PatientID, dataset.PatientBirthDate = IDENTITY[:3]
            dataset.AccessionNumber, dataset.InstitutionName = IDENTITY[3:]
            dataset.save_as(folder / source.name)
    image = read_image(folder)  # only for the grid
    outline = sitk.Resample(mask, image, sitk.Transform(), sitk.sitkNearestNeighbor)
    sitk.WriteImage(outline, str(folder.parent / "m.nrrd"))
    return folder, folder.parent / "m.nrrd"


def _score(series: Path, mask: Path, out: Path, *extra: str) -> dict[str, Path]:
    out.mkdir()
    paths = {"json": out / "r.json", "sr": out / "sr.dcm", "seg": out / "seg.dcm"}
    assert main(["score", "--image", str(series), "--mask", str(mask), "--no-outline-uncertainty", "--json",
                 str(paths["json"]), "--dicom-sr", str(paths["sr"]), "--dicom-seg", str(paths["seg"]), *extra]) == 0
    return paths


def test_json_names_inputs_without_their_folders_and_dicom_can_be_deidentified(patient_series, tmp_path):
    pytest.importorskip("highdicom")
    import pydicom

    series, mask = patient_series
    plain = _score(series, mask, tmp_path / "plain")
    text = plain["json"].read_text()
    assert "Doe_Jane" not in text and str(series.parent) not in text
    recorded = json.loads(text)["case"]
    assert recorded["image"].startswith("folder sha256:") and recorded["mask"] == "m.nrrd"
    # DICOM SR and SEG carry the patient's identity by design (PACS files them under the patient) ...
    for kind in ("sr", "seg"):
        data = plain[kind].read_bytes()
        assert all(value.encode() in data for value in IDENTITY[:4]), kind
    # ... and not with --deidentify-dicom, while still referencing the CT series.
    clean = _score(series, mask, tmp_path / "clean", "--deidentify-dicom", "--case-id", "study-17")
    for kind in ("sr", "seg"):
        data = clean[kind].read_bytes()
        assert not any(value.encode() in data for value in IDENTITY), kind
        dataset = pydicom.dcmread(clean[kind])
        assert dataset.PatientID == "study-17" and dataset.PatientIdentityRemoved == "YES"
        assert dataset.StudyInstanceUID == pydicom.dcmread(next(series.iterdir())).StudyInstanceUID
    full = _score(series, mask, tmp_path / "full", "--include-phi")
    assert json.loads(full["json"].read_text())["case"]["image"] == str(series)


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+2", "-2+3", "@SUM(A1:A9)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(cell):
    assert spreadsheet_safe(cell) == "'" + cell
    assert original_text(spreadsheet_safe(cell)) == cell
    assert spreadsheet_safe("lung1") == "lung1" and spreadsheet_safe(-0.5) == -0.5


def test_batch_csv_is_spreadsheet_safe(sample_data, tmp_path):
    image, mask = sample_data / "lung1_image.nrrd", sample_data / "lung1_label.nrrd"
    ids = ['=HYPERLINK("http://evil","x")', "+1+2", "-7", "@SUM(A1)", "plain"]
    with open(tmp_path / "cohort.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "mask"])
        writer.writerows([[i, str(image), str(mask)] for i in ids])
    out = tmp_path / "features.csv"
    assert main(["batch", str(tmp_path / "cohort.csv"), "--out", str(out), "--serial"]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["'" + i for i in ids[:4]] + ["plain"]
    assert all(not r["id"].startswith(("=", "+", "-", "@")) for r in rows)
    values = [float(r["wavelet-LLL_firstorder_Skewness"]) for r in rows]
    assert len(set(values)) == 1  # numbers stay numbers (a negative value is not quoted)


def test_an_incomplete_dicom_header_is_one_line_not_a_traceback(patient_series, tmp_path, capsys):
    pytest.importorskip("highdicom")
    import pydicom

    series, mask = patient_series
    broken = tmp_path / "no_frame_of_reference"
    broken.mkdir()
    for source in series.iterdir():
        dataset = pydicom.dcmread(source)
        del dataset.FrameOfReferenceUID
        dataset.save_as(broken / source.name)
    out = tmp_path / "seg.dcm"
    status = main(["score", "--image", str(broken), "--mask", str(mask), "--no-outline-uncertainty",
                   "--dicom-seg", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(err) == 1 and "Cannot build the DICOM SEG" in err[0], err
    assert not out.exists()


def test_help_says_which_outputs_carry_patient_identity(capsys):
    with pytest.raises(SystemExit):
        main(["score", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "DICOM SR and SEG always carry the CT's patient and study identity" in text
    assert "--deidentify-dicom" in text and "record the input paths in full" in text


def test_a_formula_like_id_still_joins_the_cohort_to_its_features(tmp_path):
    """batch writes '=1+1' as \"'=1+1\" for spreadsheets; training reads it back as the cohort's id."""
    pytest.importorskip("pandas")
    from ALKRadiomicsLib.training.data import cohort_frame

    names = ["original_glcm_Autocorrelation"]
    ids = ["=1+1", "+a", "-b", "@c", "plain"] + [f"p{i}" for i in range(7)]
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("id,image,mask,alk\n" + "".join(f"{i},ct.nrrd,mask.nrrd,{k % 2}\n" for k, i in enumerate(ids)))
    features = tmp_path / "features.csv"
    from ALKRadiomicsLib.csvsafe import spreadsheet_safe

    features.write_text("id,error,original_glcm_Autocorrelation\n"
                        + "".join(f"{spreadsheet_safe(i)},,{k + 1.5}\n" for k, i in enumerate(ids)))
    data, notes = cohort_frame(cohort, features, names)
    assert sorted(data.index) == sorted(ids) and notes == []
