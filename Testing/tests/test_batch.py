"""Cohort extraction (issue 7, DESIGN section 8): Dask and serial runs agree, a killed run resumes
without recomputing finished cases, a bad case is an error row, a bad cohort file one message."""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ALKRadiomicsLib.cli import main


@pytest.fixture(scope="module")
def cohort_200(lidc_nodules, tmp_path_factory) -> Path:
    """200 real LIDC nodules as a cohort CSV (relative paths), plus one case whose CT is missing."""
    folder = tmp_path_factory.mktemp("cohort")
    with open(lidc_nodules / "metadata.csv", newline="") as handle:
        cases = [row["case"] for row in csv.DictReader(handle)][:200]
    (folder / "data").symlink_to(lidc_nodules)
    with open(folder / "cohort.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "mask", "alk"])
        for number, case in enumerate(cases):
            writer.writerow([case, f"data/image/{case}.nii.gz", f"data/mask/{case}.nii.gz", number % 2])
        writer.writerow(["missing-ct", "data/image/none.nii.gz", "data/mask/none.nii.gz", 1])
    return folder / "cohort.csv"


def test_dask_with_two_workers_and_serial_runs_write_identical_csvs(cohort_200, tmp_path):
    pytest.importorskip("dask.distributed", reason="needs Dask (the [batch] extra; make test installs it)")
    serial, parallel = tmp_path / "serial.csv", tmp_path / "dask.csv"
    assert main(["batch", str(cohort_200), "--out", str(serial), "--serial"]) == 0
    assert main(["batch", str(cohort_200), "--out", str(parallel), "--workers", "2"]) == 0
    assert serial.read_bytes() == parallel.read_bytes()
    rows = list(csv.DictReader(open(serial)))
    assert len(rows) == 201 and [r["id"] for r in rows[:3]] == [r["id"] for r in list(csv.DictReader(
        open(cohort_200)))[:3]]
    missing = rows[-1]
    assert missing["id"] == "missing-ct" and "not found" in missing["error"]
    good = [r for r in rows if not r["error"]]
    assert len(good) >= 150 and all(float(r["wavelet-LLL_firstorder_Skewness"]) == float(
        r["wavelet-LLL_firstorder_Skewness"]) for r in good)


def test_killed_run_resumes_and_recomputes_no_finished_case(cohort_200, tmp_path):
    out, cache = tmp_path / "features.csv", tmp_path / "cache"
    command = [sys.executable, "-m", "ALKRadiomicsLib", "batch", str(cohort_200), "--out", str(out), "--serial",
               "--cache", str(cache)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while (not cache.is_dir() or len(list(cache.glob("*.json"))) < 60) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = len(list(cache.glob("*.json")))
    assert 60 <= finished < 201 and not out.exists()

    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert f"{201 - finished} computed, {finished} from the cache" in completed.stdout
    reference = tmp_path / "uninterrupted.csv"
    assert main(["batch", str(cohort_200), "--out", str(reference), "--serial", "--cache", str(tmp_path / "c2")]) == 0
    assert out.read_bytes() == reference.read_bytes()


@pytest.mark.parametrize("content, message", [
    ("id,image\nA,a.nrrd\n", "lacks the column(s) mask"),
    ("id,image,mask,alk\nA,a.nrrd,m.nrrd,yes\n", "line 2 (id A): alk must be 0 or 1"),
    ("id,image,mask,event\nA,a.nrrd,m.nrrd,1.0\nB,b.nrrd,n.nrrd,0.5\n", "line 3 (id B): event must be 0 or 1"),
    ("id,image,mask,hla\nA,a.nrrd,m.nrrd,400\n", "hla must be from 0 to 300"),
    ("id,image,mask\nA,a.nrrd,m.nrrd\nA,b.nrrd,n.nrrd\n", "line 3 (id A): id is repeated"),
    ("id,image,mask,label\nA,a.nrrd,m.nrrd,one\n", "label must be an integer"),
])
def test_bad_cohort_rows_are_named(tmp_path, capsys, content, message):
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(content)
    assert main(["batch", str(cohort), "--out", str(tmp_path / "f.csv"), "--serial"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "f.csv").exists()


def test_a_cache_entry_that_fails_its_check_is_computed_again(cohort_200, tmp_path, capsys, caplog):
    """Issue 21, item 7: an entry whose features were NaN or altered was used ("0 computed, 40 from the cache")."""
    import json

    rows = open(cohort_200).read().splitlines()
    small = cohort_200.parent / "cohort_12.csv"
    small.write_text("\n".join(rows[:13]) + "\n")
    out, cache = tmp_path / "features.csv", tmp_path / "cache"
    assert main(["batch", str(small), "--out", str(out), "--serial", "--cache", str(cache)]) == 0
    clean = out.read_bytes()
    entries = sorted(cache.glob("*.json"))
    assert len(entries) == 12
    documents = [json.loads(path.read_text()) for path in entries]
    assert all(set(d) == {"key", "error", "features", "seal"} for d in documents)
    entries, documents = zip(*[(p, d) for p, d in zip(entries, documents, strict=True) if d["features"]], strict=True)
    first = next(iter(documents[0]["features"]))
    documents[0]["features"][first] = float("nan")
    documents[1]["features"][first] *= 1.5
    documents[2]["seal"] = hashlib.sha256(json.dumps(documents[2]).encode()).hexdigest()  # a forged seal
    for path, document in zip(entries[:3], documents[:3], strict=True):
        path.write_text(json.dumps(document))
    entries[4].write_text(entries[3].read_text())  # another case's entry under this case's key
    capsys.readouterr()
    assert main(["batch", str(small), "--out", str(out), "--serial", "--cache", str(cache)]) == 0
    printed = capsys.readouterr()
    assert "4 computed (4 of them because their cache entry failed its check), 8 from the cache" in printed.out
    assert any("4 cache entries failed their check" in r.getMessage() for r in caplog.records)
    assert out.read_bytes() == clean
