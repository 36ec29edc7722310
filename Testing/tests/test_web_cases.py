"""What the web app may open (issue 15), without a browser or trame: files under --data only, the lung2
sample, and uploads refused by name, size and first bytes before any reader sees them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.errors import InputError
from ALKRadiomicsLib.web import cases


@pytest.fixture()
def data_dir(tmp_path):
    root = tmp_path / "data"
    (root / "patient1" / "series").mkdir(parents=True)
    (root / "patient1" / "ct.nrrd").write_bytes(b"NRRD0004\n")
    (root / "patient1" / "series" / "slice1.dcm").write_bytes(b"")
    (root / "notes.txt").write_text("x")
    (tmp_path / "secret.nrrd").write_bytes(b"NRRD0004\n")
    return root


def test_the_case_list_holds_the_sample_and_the_ct_files_and_dicom_folders_under_data(data_dir):
    assert cases.list_cases(data_dir) == [cases.SAMPLE_CASE, "patient1/ct.nrrd", "patient1/series"]
    assert cases.list_cases(None) == [cases.SAMPLE_CASE]


def test_a_listed_file_resolves_inside_the_data_folder(data_dir):
    assert cases.resolve_case(data_dir, "patient1/ct.nrrd") == (data_dir / "patient1" / "ct.nrrd").resolve()
    assert cases.resolve_case(data_dir, "patient1/series").is_dir()


@pytest.mark.parametrize("name", ["../secret.nrrd", "patient1/../../secret.nrrd", "/etc/passwd"])
def test_a_path_outside_the_data_folder_is_refused(data_dir, name):
    with pytest.raises(InputError, match="outside the data folder"):
        cases.resolve_case(data_dir, name)


def test_a_symlink_pointing_out_of_the_data_folder_is_refused(data_dir):
    os.symlink(data_dir.parent / "secret.nrrd", data_dir / "link.nrrd")
    with pytest.raises(InputError, match="outside the data folder"):
        cases.resolve_case(data_dir, "link.nrrd")


def test_a_file_that_is_no_ct_or_missing_is_refused(data_dir):
    with pytest.raises(InputError, match="not a CT file"):
        cases.resolve_case(data_dir, "notes.txt")
    with pytest.raises(InputError, match="does not exist"):
        cases.resolve_case(data_dir, "patient2.nrrd")
    with pytest.raises(InputError, match="no data folder"):
        cases.resolve_case(None, "patient1/ct.nrrd")


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("scan.png", b"\x89PNG\r\n\x1a\n", "not a CT volume"),
    ("report.pdf", b"%PDF-1.7", "not a CT volume"),
    ("ct.nrrd", b"\x89PNG\r\n\x1a\n", "not a .nrrd file"),
    ("ct.nii.gz", b"NRRD0004", "not a .nii.gz file"),
    ("ct.mha", b"", "not a .mha file"),
])
def test_an_upload_is_refused_by_name_and_first_bytes(name, content, reason):
    with pytest.raises(InputError, match=reason):
        cases.check_upload(name, content)


def test_an_upload_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(cases, "MAX_UPLOAD_BYTES", 8)
    with pytest.raises(InputError, match="the limit is"):
        cases.check_upload("ct.nrrd", b"NRRD0004 and more")


def test_a_refused_upload_names_the_users_file_and_leaves_no_temporary_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(InputError) as raised, cases.uploaded_file("mine.nrrd", b"NRRD0004\n") as path:
        raise InputError(f"Cannot read image {path}: truncated")
    assert str(raised.value) == "Cannot read image mine.nrrd: truncated"
    assert not any(tmp_path.iterdir())


def test_web_data_must_be_a_folder(tmp_path, capsys):
    assert main(["web", "--data", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().err.strip().endswith("is not a folder.")


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zipped_series_unpacks_flat_so_no_name_climbs_out(tmp_path):
    folder = cases.extract_dicom_zip("series.zip", _zip({"../../evil.dcm": b"a", "/etc/x.dcm": b"b", "s/1.dcm": b"c"}))
    try:
        assert sorted(p.name for p in Path(folder.name).iterdir()) == ["00000.dcm", "00001.dcm", "00002.dcm"]
        assert not (Path(folder.name).parent.parent / "evil.dcm").exists()
    finally:
        folder.cleanup()


def test_a_zip_that_is_no_series_is_refused(monkeypatch):
    with pytest.raises(InputError, match="not a .zip file"):
        cases.extract_dicom_zip("series.zip", b"NRRD0004")
    with pytest.raises(InputError, match="holds 0 files"):
        cases.extract_dicom_zip("series.zip", _zip({}))
    monkeypatch.setattr(cases, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(InputError, match="unpacks to more than"):  # a zip bomb: small packed, large unpacked
        cases.extract_dicom_zip("series.zip", _zip({"1.dcm": bytes(5000)}))
