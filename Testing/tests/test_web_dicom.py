"""`alk-radiomics web` on DICOM (issue 15), in a real browser: a zipped series uploads (and a zip whose
names try to climb out is unpacked flat, writing nothing outside); a series picked under --data scores,
and its DICOM SR and SEG downloads reference the series, as the CLI's do. LIDC-IDRI-0314 (1 mm slices)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import SimpleITK as sitk
import web_harness as harness

if harness.missing_requirements():
    pytest.skip(harness.missing_requirements(), allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from ALKRadiomicsLib import io  # noqa: E402


def _zip(path, members: dict[str, bytes]):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_dicom_series_under_data_scores_and_downloads_sr_and_seg(lidc_0314, tmp_path):
    import pydicom

    data = tmp_path / "data"
    shutil.copytree(lidc_0314 / "dicom", data / "LIDC-IDRI-0314")  # under --data: a symlink out is refused
    series_uid = next(iter(io.dicom_series_in(data / "LIDC-IDRI-0314")))
    # 30 neighbouring slices (in position order: a series with gaps is refused)
    ordered = [Path(f) for f in io.dicom_series_in(lidc_0314 / "dicom")[series_uid]]
    slices = {f"LIDC/{p.name}": p.read_bytes() for p in ordered[100:130]}
    consensus = lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"
    server = harness.WebServer(tmp_path / "web", data)
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_browser(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 900}, accept_downloads=True)
            page.set_default_timeout(90000)
            page.goto(server.url)
            page.get_by_test_id("open-case").wait_for()
            scratch = sorted(server.tmp.rglob("*"))  # MRML's own empty scratch folder, made at startup
            for upload, expected in ((_zip(tmp_path / "evil.zip", {"../../evil.dcm": b"x"}), "No DICOM series"),
                                     (_zip(tmp_path / "series.zip", slices), "Opened series")):
                harness.clear_message(page)
                page.get_by_test_id("upload").locator("input[type=file]").set_input_files(upload)
                assert expected in harness.wait_message(page, expected)
            assert page.get_by_test_id("download-dicom-sr").count() == 1  # a DICOM case: SR and SEG offered
            assert not (tmp_path / "evil.dcm").exists() and not (server.tmp.parent / "evil.dcm").exists()
            harness.open_case(page, "LIDC-IDRI-0314")
            harness.wait_message(page, "Opened LIDC-IDRI-0314")
            harness.click_seed_at(page, harness.label_centre_ras(consensus))
            assert harness.message(page).startswith("Outline made"), harness.message(page)
            outline = harness.download(page, "download-outline", tmp_path / "outline.nrrd")
            reference = sitk.GetArrayFromImage(sitk.ReadImage(str(consensus))) > 0
            assert harness.dice(sitk.GetArrayFromImage(sitk.ReadImage(str(outline))) > 0, reference) >= 0.70
            page.get_by_test_id("score").click()
            assert harness.wait_message(page, "Scored|rror").startswith("Scored")
            seg = pydicom.dcmread(harness.download(page, "download-dicom-seg", tmp_path / "seg.dcm"))
            sr = pydicom.dcmread(harness.download(page, "download-dicom-sr", tmp_path / "sr.dcm"))
            browser.close()
        # the unpacked upload lived while its case was open; opening the next case removed it
        assert sorted(server.tmp.rglob("*")) == scratch
    finally:
        server.stop()
    assert seg.Modality == "SEG" and seg.ReferencedSeriesSequence[0].SeriesInstanceUID == series_uid
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert sr.Modality == "SR" and evidence.SeriesInstanceUID == series_uid
