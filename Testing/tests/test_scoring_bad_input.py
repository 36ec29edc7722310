"""Bad input to `score`: one clear line, exit 2, no traceback, no partial output (issue 3)."""

from __future__ import annotations

import os
import stat

import pytest

from ALKRadiomicsLib.cli import main


@pytest.fixture()
def lung1_args(sample_data):
    return ["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask", str(sample_data / "lung1_label.nrrd")]


def run(capsys, args):
    status = main(args)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return status, err


def assert_refused(status, err, *words):
    assert status == 2
    assert len(err) == 1 and "Traceback" not in err[0], err
    for word in words:
        assert word.lower() in err[0].lower(), err[0]


@pytest.mark.parametrize("hla, pdl1, words", [
    ("301", "20", ["HLA-I", "0 to 300"]),
    ("20", "-1", ["PD-L1", "0 to 300"]),
    ("abc", "20", ["HLA-I", "number"]),
    ("nan", "20", ["HLA-I"]),
])
def test_h_score_outside_0_300_or_not_a_number(lung1_args, tmp_path, capsys, hla, pdl1, words):
    out = tmp_path / "score.json"
    status, err = run(capsys, [*lung1_args, "--hla", hla, "--pdl1", pdl1, "--json", str(out)])
    assert_refused(status, err, *words)
    assert not out.exists()


def test_only_one_h_score(lung1_args, tmp_path, capsys):
    status, err = run(capsys, [*lung1_args, "--hla", "20", "--json", str(tmp_path / "s.json")])
    assert_refused(status, err, "both")


def test_unknown_n_stage(lung1_args, tmp_path, capsys):
    out = tmp_path / "score.json"
    status, err = run(capsys, [*lung1_args, "--n-stage", "N3", "--json", str(out)])
    assert_refused(status, err, "N stage", "N0", "N1-2")
    assert not out.exists()


@pytest.mark.parametrize("prevalence", ["0", "1", "5", "x"])
def test_prevalence_must_be_a_fraction(lung1_args, capsys, prevalence):
    status, err = run(capsys, [*lung1_args, "--prevalence", prevalence])
    assert_refused(status, err, "prevalence")


def test_model_whose_content_no_longer_matches_its_checksum(lung1_args, tmp_path, capsys, edited_model):
    model = edited_model(lambda d: d["dfs_radiomic"]["cutoff"].update(value=5.0), reseal=False)
    out = tmp_path / "score.json"
    status, err = run(capsys, [*lung1_args, "--model", str(model), "--json", str(out)])
    assert_refused(status, err, "checksum", str(model))
    assert not out.exists()


def test_model_failing_the_schema(lung1_args, tmp_path, capsys, edited_model):
    model = edited_model(lambda d: d["alk_radiomic"].pop("intercept"), reseal=True)
    out = tmp_path / "score.json"
    status, err = run(capsys, [*lung1_args, "--model", str(model), "--json", str(out)])
    assert_refused(status, err, "schema", "intercept")
    assert not out.exists()


def test_model_file_that_is_not_json(lung1_args, tmp_path, capsys):
    model = tmp_path / "model.json"
    model.write_text("{not json")
    status, err = run(capsys, [*lung1_args, "--model", str(model)])
    assert_refused(status, err, "not valid JSON")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_output_folder_as_user(lung1_args, tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    status, err = run(capsys, [*lung1_args, "--json", str(folder / "score.json")])
    assert_refused(status, err, "not writable")
    assert list(folder.iterdir()) == []


def test_unwritable_output_path(lung1_args, tmp_path, capsys):
    # A path under a regular file can never be created, whoever runs the test (even root).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status, err = run(capsys, [*lung1_args, "--json", str(blocker / "score.json")])
    assert_refused(status, err, "does not exist")


def test_output_is_atomic_when_writing_fails(lung1_args, tmp_path, capsys, monkeypatch):
    import ALKRadiomicsLib.atomic as atomic

    def failing_fsync(_):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    out = tmp_path / "score.json"
    status, err = run(capsys, [*lung1_args, "--json", str(out), "--no-outline-uncertainty"])
    assert_refused(status, err, "cannot write", "disk full")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary left behind
