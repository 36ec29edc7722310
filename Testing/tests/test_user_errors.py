"""Every user error is one line and exit 2 (issue 16, item 6): the inputs that gave tracebacks.

Hostile files are built in the test from the real lung1 CT, the LIDC-IDRI-0314 series and the
bundled model.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import write_cropped_lung1

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.model import bundled_model_path
from ALKRadiomicsLib.model.schema import CHECKSUM_KEY, content_checksum


@pytest.fixture(scope="module")
def case(sample_data, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("user_errors")
    write_cropped_lung1(sample_data, folder)
    return folder / "ct.nrrd", folder / "mask.nrrd"


def one_line(capsys, status: int, *words: str) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert status == 2, err
    assert len(err) == 1 and "Traceback" not in err[0], err
    for word in words:
        assert word.lower() in err[0].lower(), err[0]
    return err[0]


def _model(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model.json"
    path.write_text(text)
    return path


def _resealed(change) -> str:
    document = json.loads(bundled_model_path().read_text())
    change(document)
    document[CHECKSUM_KEY] = content_checksum(document)
    return json.dumps(document)


def _tiny_sd(document: dict) -> None:
    document["standardization"]["original_glcm_Autocorrelation"]["sd"]["value"] = 1e-300


BUNDLED_TEXT = bundled_model_path().read_text()
_SD = json.loads(BUNDLED_TEXT)["standardization"]["original_glcm_Autocorrelation"]["sd"]["value"]
SD_TEXT = f'"value": {_SD!r}'
MODEL_FILES = {
    "NaN literal": (lambda: BUNDLED_TEXT.replace(SD_TEXT, '"value": NaN'), "NaN"),
    "Infinity literal": (lambda: BUNDLED_TEXT.replace(SD_TEXT, '"value": -Infinity'), "Infinity"),
    "deep nesting": (lambda: "[" * 100000 + "]" * 100000, "nested too deeply"),
    "tiny SD": (lambda: _resealed(_tiny_sd), "too small"),
}


@pytest.mark.parametrize("kind", MODEL_FILES)
def test_hostile_model_file_is_one_line(kind, case, tmp_path, capsys):
    text, word = MODEL_FILES[kind]
    model = _model(tmp_path, text())
    out = tmp_path / "r.json"
    status = main(["score", "--image", str(case[0]), "--mask", str(case[1]), "--model", str(model),
                   "--json", str(out), "--no-outline-uncertainty"])
    one_line(capsys, status, word)
    assert not out.exists()


def test_score_on_an_empty_folder(case, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    status = main(["score", "--image", str(empty), "--mask", str(case[1])])
    one_line(capsys, status, "No DICOM series")


def test_score_on_a_folder_without_dicom(case, tmp_path, capsys):
    folder = tmp_path / "notdicom"
    folder.mkdir()
    shutil.copy(case[0], folder / "ct.nrrd")
    (folder / "notes.txt").write_text("not a slice\n")
    status = main(["score", "--image", str(folder), "--mask", str(case[1])])
    one_line(capsys, status, "No DICOM series")


def test_score_with_an_unknown_series(lidc_0314, tmp_path, capsys):
    status = main(["score", "--image", str(lidc_0314 / "dicom"), "--mask",
                   str(lidc_0314 / "LIDC-IDRI-0314_consensus50_mask.nii.gz"), "--series", "1.2.3.4"])
    one_line(capsys, status, "1.2.3.4", "is not in")


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_segment_with_a_seed_that_is_not_a_number(case, value, tmp_path, capsys):
    status = main(["segment", "--image", str(case[0]), "--seed", value, "0", "0", "--out", str(tmp_path / "m.nrrd")])
    one_line(capsys, status, "finite")
    assert not (tmp_path / "m.nrrd").exists()


def test_train_with_seed_nan(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:  # argparse's usage error, one line
        main(["train", "c.csv", "--features", "f.csv", "--out", str(tmp_path / "m.json"), "--report",
              str(tmp_path / "r.pdf"), "--seed", "nan"])
    one_line(capsys, stopped.value.code, "--seed")


@pytest.fixture()
def cohort(case, tmp_path) -> Path:
    path = tmp_path / "cohort.csv"
    path.write_text(f"id,image,mask\nlung1,{case[0]},{case[1]}\n")
    return path


def test_batch_recomputes_a_corrupted_cache_entry(cohort, tmp_path, capsys):
    out, cache = tmp_path / "f.csv", tmp_path / "cache"
    assert main(["batch", str(cohort), "--out", str(out), "--serial", "--cache", str(cache)]) == 0
    first = out.read_text()
    (entry,) = cache.iterdir()
    for broken in ("{\"id\": \"lung1\", \"err", "[" * 50000, json.dumps({"id": "lung1", "error": "", "features": 3})):
        entry.write_text(broken)
        out.unlink()
        capsys.readouterr()
        assert main(["batch", str(cohort), "--out", str(out), "--serial", "--cache", str(cache)]) == 0
        assert "1 computed (1 of them because their cache entry failed its check), 0 from the cache" in \
            capsys.readouterr().out
        assert out.read_text() == first
        assert json.loads(entry.read_text())["seal"]  # repaired, so later runs use it


def test_batch_with_a_file_as_cache(cohort, tmp_path, capsys):
    cache = tmp_path / "cache"
    cache.write_text("a file")
    status = main(["batch", str(cohort), "--out", str(tmp_path / "f.csv"), "--serial", "--cache", str(cache)])
    one_line(capsys, status, "is a file")
    assert cache.read_text() == "a file" and not (tmp_path / "f.csv").exists()


def test_batch_with_a_cache_that_cannot_be_created(cohort, tmp_path, capsys):
    status = main(["batch", str(cohort), "--out", str(tmp_path / "f.csv"), "--serial", "--cache", "/proc/alk-cache"])
    one_line(capsys, status, "cache")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write into a read-only folder")
def test_batch_with_a_read_only_cache(cohort, tmp_path, capsys):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o555)
    status = main(["batch", str(cohort), "--out", str(tmp_path / "f.csv"), "--serial", "--cache", str(cache)])
    one_line(capsys, status, "not writable")


def test_batch_with_an_unreachable_scheduler_fails_fast(cohort, tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "f.csv"
    started = time.perf_counter()
    status = main(["batch", str(cohort), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    elapsed = time.perf_counter() - started
    one_line(capsys, status, "scheduler", "tcp://127.0.0.1:9")
    assert elapsed < 10, elapsed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohort.csv"]  # no cache folder, no CSV
