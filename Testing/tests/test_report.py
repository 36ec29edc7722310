"""Per-case reports (issue 6): PDF and HTML say what the JSON says; DICOM SR/SEG round-trip;
no patient identity without --include-phi; every warning shown; nothing partial written."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.report.content import BANNER, percent
from ALKRadiomicsLib.report.figures import OUTLINE_COLOUR, nodule_views, views_png

pypdf = pytest.importorskip("pypdf", reason="the report tests read PDFs with pypdf (make test installs it)")


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages)


def squash(text: str) -> str:
    """Text without whitespace, so that line wrapping does not matter."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def lung2_report(sample_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lung2")
    paths = {name: folder / f"lung2.{name}" for name in ("json", "pdf", "html")}
    assert main(["score", "--image", str(sample_data / "lung2_image.nrrd"),
                 "--mask", str(sample_data / "lung2_label.nrrd"), "--case-id", "demo-7", "--json", str(paths["json"]),
                 "--report", str(paths["pdf"]),
                 "--html", str(paths["html"])]) == 0
    return paths


def test_pdf_states_the_json_probability_risk_group_model_and_banner(lung2_report):
    document = json.loads(lung2_report["json"].read_text())
    text = pdf_text(lung2_report["pdf"])
    assert len(pypdf.PdfReader(str(lung2_report["pdf"])).pages) <= 2
    assert percent(document["alk"]["probability"]) in text
    assert f"{document['dfs']['risk_group'].upper()} risk group" in text
    assert document["model"]["name"] in text and document["model"]["sha256"] in text
    assert BANNER in text
    assert "demo-7" in text


def test_report_shows_every_warning(lung2_report):
    warnings = json.loads(lung2_report["json"].read_text())["warnings"]
    assert len(warnings) >= 5
    pdf, html_text = squash(pdf_text(lung2_report["pdf"])), lung2_report["html"].read_text()
    for warning in warnings:
        assert squash(warning) in pdf, warning
        assert warning.replace("'", "&#x27;") in html_text, warning


def test_html_is_self_contained_with_the_same_numbers(lung2_report):
    document = json.loads(lung2_report["json"].read_text())
    page = lung2_report["html"].read_text()
    assert "<img" in page and "data:image/png;base64," in page and "src=\"http" not in page
    assert percent(document["alk"]["probability"]) in page and BANNER in page


def test_three_views_show_the_outline_on_the_nodule(load_real_case):
    case = load_real_case("lung2")
    views = nodule_views(case.image, case.mask, case.label)
    assert [name for name, *_ in views] == ["axial", "coronal", "sagittal"]
    for _, pixels, outline, _ in views:
        assert outline.any()
        # The view is centred on the nodule: its centre pixel is inside the outline, and dense.
        centre = tuple(n // 2 for n in outline.shape)
        assert outline[centre] and pixels[centre] > -300
    from matplotlib import image as mpimg

    rendered = mpimg.imread(io.BytesIO(views_png(case.image, case.mask, case.label)), format="png")
    yellow = np.array([int(OUTLINE_COLOUR[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    assert (np.abs(rendered[..., :3] - yellow).max(axis=-1) < 0.1).sum() > 200  # the outline is drawn


def test_dicom_outputs_need_a_dicom_ct_and_nothing_is_written(sample_data, tmp_path, capsys):
    status = main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                   str(sample_data / "lung1_label.nrrd"), "--report", str(tmp_path / "r.pdf"),
                   "--dicom-sr", str(tmp_path / "sr.dcm")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "DICOM series" in err[0]
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def lidc_0314_outputs(lidc_0314, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lidc0314")
    paths = {"json": folder / "score.json", "sr": folder / "sr.dcm", "seg": folder / "seg.dcm"}
    assert main(["score", "--image", str(lidc_0314 / "dicom"),
                 "--mask", str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"), "--no-outline-uncertainty",
                 "--json", str(paths["json"]), "--dicom-sr", str(paths["sr"]), "--dicom-seg", str(paths["seg"])]) == 0
    return paths


def test_sr_references_the_ct_series_and_holds_the_json_numbers(lidc_0314, lidc_0314_outputs):
    import highdicom as hd
    import pydicom

    from ALKRadiomicsLib.io import dicom_series_in

    [series_uid] = dicom_series_in(lidc_0314 / "dicom")
    document = json.loads(lidc_0314_outputs["json"].read_text())
    dataset = pydicom.dcmread(str(lidc_0314_outputs["sr"]))
    evidence = dataset.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.SeriesInstanceUID == series_uid
    report = hd.sr.srread(str(lidc_0314_outputs["sr"]))
    [group] = report.content.get_image_measurement_groups()
    values = {m.name.meaning: m.value for m in group.get_measurements()}
    assert values["Volume"] == pytest.approx(document["outline"]["volume_mm3"], rel=1e-6)
    assert values["Long Axis"] == pytest.approx(document["outline"]["longest_axial_diameter_mm"], rel=1e-6)
    assert values["Short Axis"] == pytest.approx(document["outline"]["perpendicular_diameter_mm"], rel=1e-6)
    assert values["ALK Rad-score (Han et al. Table 2)"] == pytest.approx(document["alk"]["rad_score"], rel=1e-6)
    assert values["Probability of ALK rearrangement"] == pytest.approx(100 * document["alk"]["probability"], rel=1e-6)
    assert values["RAD-risk score (Han et al. Table 3)"] == pytest.approx(document["dfs"]["rad_risk_score"], rel=1e-6)
    [evaluation] = group.get_qualitative_evaluations()
    assert evaluation.value.meaning.lower().startswith(document["dfs"]["risk_group"])


def test_seg_equals_the_outline_voxel_for_voxel(lidc_0314, lidc_0314_outputs):
    import highdicom as hd

    from ALKRadiomicsLib.io import dicom_series_in

    [(series_uid, files)] = dicom_series_in(lidc_0314 / "dicom").items()
    seg = hd.seg.segread(str(lidc_0314_outputs["seg"]))
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == series_uid
    import pydicom

    uids = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in files]
    frames = seg.get_pixels_by_source_instance(source_sop_instance_uids=uids, segment_numbers=[1],
                                               ignore_spatial_locations=True)[..., 0]
    outline = sitk.GetArrayFromImage(sitk.ReadImage(str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"))) == 1
    np.testing.assert_array_equal(frames.astype(bool), outline)


def _phi_series(sample_data, folder: Path) -> tuple[Path, Path]:
    """A small real CT (lung1 around its nodule) written as a DICOM series with a patient identity."""
    image = sitk.ReadImage(str(sample_data / "lung1_image.nrrd"))
    mask = sitk.ReadImage(str(sample_data / "lung1_label.nrrd"))
    z, y, x = np.nonzero(sitk.GetArrayViewFromImage(mask))
    region = (slice(int(x.min()) - 40, int(x.max()) + 40), slice(int(y.min()) - 40, int(y.max()) + 40), slice(None))
    image, mask = image[region], mask[region]
    dicom = folder / "dicom"
    dicom.mkdir()
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series = "1.2.826.0.1.3680043.8.498.77"
    for k in range(image.GetDepth()):
        slice_ = sitk.Cast(image[:, :, k], sitk.sitkInt16)
        tags = {"0010|0010": "Doe^Jane", "0010|0020": "PHI-12345", "0010|0030": "19510203", "0008|0060": "CT",
                "0020|000d": "1.2.826.0.1.3680043.8.498.7", "0020|000e": series, "0020|0013": str(k + 1),
                "0020|0037": "1\\0\\0\\0\\1\\0", "0008|0018": f"{series}.{k + 1}",
                "0020|0032": "\\".join(map(str, image.TransformIndexToPhysicalPoint((0, 0, k)))),
                "0028|1052": "0", "0028|1053": "1"}
        for tag, value in tags.items():
            slice_.SetMetaData(tag, value)
        writer.SetFileName(str(dicom / f"{k:04d}.dcm"))
        writer.Execute(slice_)
    sitk.WriteImage(mask, str(folder / "mask.nrrd"))
    return dicom, folder / "mask.nrrd"


@pytest.mark.parametrize("include_phi", [False, True])
def test_no_patient_identity_without_include_phi(sample_data, tmp_path, include_phi):
    dicom, mask = _phi_series(sample_data, tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    args = ["score", "--image", str(dicom), "--mask", str(mask), "--no-outline-uncertainty",
            "--json", str(out / "score.json"), "--report", str(out / "report.pdf"), "--html", str(out / "report.html")]
    assert main(args + (["--include-phi"] if include_phi else [])) == 0
    texts = {"pdf": pdf_text(out / "report.pdf"), "html": (out / "report.html").read_text(),
             "json": (out / "score.json").read_text(), "names": " ".join(p.name for p in out.iterdir())}
    for kind, text in texts.items():
        for identity in ("Doe", "Jane", "PHI-12345", "19510203"):
            shown = identity in text
            if include_phi and kind in ("pdf", "html"):
                assert shown, (kind, identity)
            else:
                assert not shown, (kind, identity)


def test_first_page_leads_with_the_verdict_and_every_page_names_the_case(lung2_report):
    """Outside the reference population (lung2): said above the numbers, on page 1, with domain, interval
    coverage, prior and research-use state; case and page number at the foot of every page."""
    document = json.loads(lung2_report["json"].read_text())
    pages = [page.extract_text() for page in pypdf.PdfReader(str(lung2_report["pdf"])).pages]
    first = squash(pages[0])
    headline = first.index(squash("Outside the bundled model's reference population"))
    assert headline < first.index(squash(f"ALK rearrangement probability {percent(document['alk']['probability'])}"))
    assert headline < first.index(squash("Risk group EXTRAPOLATION"))
    for phrase in ("DFS model: outside", "Not covered:", "the prevalence the model's intercept holds at",
                   BANNER, "EXTRAPOLATION, not a result"):
        assert squash(phrase) in first, phrase
    for number, text in enumerate(pages, start=1):
        assert squash("Case demo-7") in squash(text) and f"page {number} of {len(pages)}" in text
    html_text = lung2_report["html"].read_text()
    assert html_text.index("Outside the bundled model&#x27;s reference population") < html_text.index(
        "ALK rearrangement probability")


def test_a_long_case_id_is_shortened_on_the_page_and_whole_in_the_json(sample_data, tmp_path, capsys):
    """Issue 21, item 5: a 3000-character --case-id with --report was a traceback (page 1 overflowed)."""
    case_id = "patient\nline " + "X" * 3000
    paths = {kind: tmp_path / f"r.{kind}" for kind in ("pdf", "html", "json")}
    assert main(["score", "--image", str(sample_data / "lung2_image.nrrd"), "--mask",
                 str(sample_data / "lung2_label.nrrd"), "--no-outline-uncertainty", "--case-id", case_id,
                 "--report", str(paths["pdf"]), "--html", str(paths["html"]), "--json", str(paths["json"])]) == 0
    assert json.loads(paths["json"].read_text())["case"]["case_id"] == case_id
    text = squash(pdf_text(paths["pdf"]))
    assert "(3013characters;wholeintheJSON)" in text and "X" * 200 not in text
    assert "(3013 characters; whole in the JSON)" in paths["html"].read_text()
