"""Recovery can only finish its own work (issue 21, item 1): a staging folder planted in a shared results folder
never makes a run write, replace or delete anything.

On the previous design a planted ``COMMIT`` journal of ``[["<staging>/payload", "/any/file"], ["/any/folder/x",
"/tmp/y"]]`` turned a colleague's ``score ... --json shared/r.json`` into a write of the attacker's bytes over
``/any/file`` and an ``rmtree`` of ``/any/folder``. Each variant below is planted, a real command (or the recovery
it runs first) is run, and every file outside the shared folder is compared before and after.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from pathlib import Path

import pytest

from ALKRadiomicsLib.atomic import host_name
from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.outputs import recover

DEAD_PID = 2**22 + 4321  # above Linux's pid_max: no such process


def snapshot(root: Path, *, skip: Path) -> dict[str, str]:
    """Every file and folder under ``root`` outside ``skip``, with a hash of each file's bytes."""
    found = {}
    for folder, _names, files in os.walk(root):
        if Path(folder) == skip or skip in Path(folder).parents:
            continue
        found[folder] = "folder"
        for name in files:
            path = Path(folder) / name
            found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest() if not path.is_symlink() else "link"
    return found


@pytest.fixture()
def site(tmp_path):
    """A shared results folder beside a colleague's files the planted journal aims at."""
    victim = tmp_path / "any"
    (victim / "folder").mkdir(parents=True)
    (victim / "file").write_text("precious\n")
    (victim / "folder" / "x").write_text("keep\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    return tmp_path, victim, shared


def plant(shared: Path, journal, *, host: str | None = None, payload: bool = True) -> Path:
    staging = shared / f".alk-staging-{host or host_name()}-{DEAD_PID}-planted"
    staging.mkdir()
    if payload:
        (staging / "payload").write_text("attacker\n")
        (staging / "0.json").write_text("attacker\n")
    (staging / "COMMIT").write_text(journal if isinstance(journal, str) else json.dumps(journal))
    return staging


def test_the_measured_attack_through_score_changes_nothing_outside(site, sample_data, caplog):
    root, victim, shared = site
    staging = plant(shared, [[str(shared / ".alk-staging-x" / "payload"), str(victim / "file")],
                             [str(victim / "folder" / "x"), str(root / "y")]])
    staging.joinpath("COMMIT").write_text(json.dumps([[str(staging / "payload"), str(victim / "file")],
                                                      [str(victim / "folder" / "x"), str(root / "y")]]))
    before = snapshot(root, skip=shared)
    with caplog.at_level(logging.WARNING):
        status = main(["score", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                       str(sample_data / "lung1_label.nrrd"), "--no-outline-uncertainty", "--json",
                       str(shared / "r.json")])
    assert status == 0
    assert snapshot(root, skip=shared) == before
    assert (victim / "file").read_text() == "precious\n" and (victim / "folder" / "x").is_file()
    assert staging.is_dir() and (staging / "payload").is_file()  # left alone, not obeyed, not removed
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and staging.name in warnings[0] and "left alone" in warnings[0], warnings
    assert json.loads((shared / "r.json").read_text())["alk"]["probability"] > 0


JOURNALS = {
    "absolute target": {"version": 2, "moves": [["0.json", "/etc/passwd"]]},
    "target up and out": {"version": 2, "moves": [["0.json", "../any/file"]]},
    "target in a subfolder": {"version": 2, "moves": [["0.json", "sub/r.json"]]},
    "source outside its staging": {"version": 2, "moves": [["../../any/file", "r.json"]]},
    "source not a staged name": {"version": 2, "moves": [["payload", "r.json"]]},
    "target is the staging prefix": {"version": 2, "moves": [["0.json", ".alk-staging-x"]]},
    "old absolute format": [["/x/payload", "/any/file"]],
    "not JSON": "[[",
    "deeply nested": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("variant", sorted(JOURNALS))
def test_a_journal_naming_anything_but_its_own_files_is_not_obeyed(variant, site, caplog):
    root, victim, shared = site
    journal = JOURNALS[variant]
    if variant == "target up and out":  # relative to the shared folder, the victim's file
        journal = {"version": 2, "moves": [["0.json", os.path.relpath(victim / "file", shared)]]}
    staging = plant(shared, journal)
    before = snapshot(root, skip=shared)
    with caplog.at_level(logging.WARNING):
        recover(shared)
    assert snapshot(root, skip=shared) == before
    assert staging.is_dir() and sorted(p.name for p in shared.iterdir()) == [staging.name]
    assert any(staging.name in r.getMessage() for r in caplog.records), variant


def test_a_target_that_is_a_link_out_of_the_folder_is_not_written_through(site, caplog):
    root, victim, shared = site
    (shared / "r.json").symlink_to(victim / "file")
    staging = plant(shared, {"version": 2, "moves": [["0.json", "r.json"]]})
    before = snapshot(root, skip=shared)
    recover(shared)
    assert snapshot(root, skip=shared) == before and (shared / "r.json").is_symlink() and staging.is_dir()


def test_a_staged_source_that_is_a_link_is_not_moved_into_place(site):
    root, victim, shared = site
    staging = plant(shared, {"version": 2, "moves": [["0.json", "r.json"]]}, payload=False)
    (staging / "0.json").symlink_to(victim / "file")
    recover(shared)
    assert not (shared / "r.json").exists() and (victim / "file").read_text() == "precious\n"


def test_a_staging_folder_that_is_a_link_is_left_alone(site):
    root, victim, shared = site
    (shared / f".alk-staging-{host_name()}-{DEAD_PID}-link").symlink_to(victim / "folder")
    before = snapshot(root, skip=shared)
    recover(shared)
    assert snapshot(root, skip=shared) == before


def test_a_pointer_to_a_journal_elsewhere_is_ignored(site):
    """The previous design's PRIMARY file named the folder whose journal decided; no file names one now."""
    root, victim, shared = site
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "COMMIT").write_text(json.dumps({"version": 2, "moves": [["0.json", "file"]]}))
    (elsewhere / "0.json").write_text("attacker\n")
    staging = shared / f".alk-staging-{host_name()}-{DEAD_PID}-secondary"
    staging.mkdir()
    (staging / "PRIMARY").write_text(str(elsewhere))
    before = snapshot(root, skip=shared)
    recover(shared)
    assert snapshot(root, skip=shared) == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="planting as another user needs root")
def test_another_users_staging_folder_is_never_obeyed_or_removed(site, caplog):
    root, victim, shared = site
    staging = plant(shared, {"version": 2, "moves": [["0.json", "r.json"]]})
    for path in (staging, *staging.iterdir()):
        os.chown(path, 54321, 54321)
    with caplog.at_level(logging.WARNING):
        recover(shared)
    assert staging.is_dir() and not (shared / "r.json").exists()
    assert any("another user" in r.getMessage() for r in caplog.records)


def test_another_hosts_day_old_journal_is_not_obeyed_even_when_the_command_then_fails(site, sample_data, capsys):
    """The mtime of another host's leftover is forged with ``touch -d``; the command itself fails on a bad seed."""
    root, victim, shared = site
    staging = plant(shared, [[str(shared / "payload"), str(victim / "file")], [str(victim / "folder" / "x"), "/y"]],
                    host="otherhost")
    old = time.time() - 3 * 24 * 3600
    os.utime(staging, (old, old))
    before = snapshot(root, skip=shared)
    status = main(["segment", "--image", str(sample_data / "lung1_image.nrrd"), "--seed", "0", "0", "-9999",
                   "--out", str(shared / "m.nrrd")])
    assert status == 2 and "error" in capsys.readouterr().err
    assert snapshot(root, skip=shared) == before and staging.is_dir()


def test_this_users_own_interrupted_commit_is_still_finished(site):
    """What recovery is for: a journal written by write_together in a run killed after its commit point."""
    root, victim, shared = site
    (shared / "r.json").write_text("old json\n")
    (shared / "r.pdf").write_text("old pdf\n")
    staging = shared / f".alk-staging-{host_name()}-{DEAD_PID}-mine"
    staging.mkdir()
    (staging / "0.pdf").write_text("new pdf\n")
    (staging / "1.json").write_text("new json\n")
    (staging / "COMMIT").write_text(json.dumps({"version": 2, "moves": [["0.pdf", "r.pdf"], ["1.json", "r.json"]]}))
    recover(shared)
    assert (shared / "r.json").read_text() == "new json\n" and (shared / "r.pdf").read_text() == "new pdf\n"
    assert sorted(p.name for p in shared.iterdir()) == ["r.json", "r.pdf"]
