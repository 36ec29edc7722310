"""A case's outputs are one unit (issue 16): kill -9 at any point leaves all new outputs or none.

``score --json --report --html`` on the real lung2 CT is killed with SIGKILL 20 times: 10 times
a whole run at a random moment, 10 times the commit of a run's outputs at a random step (half way
through a staged file, before the journal, before a rename). Afterwards, once the next run has
recovered the folder, either all three outputs are the new, complete ones, or all three are byte
for byte the previous ones; no staging folder or ``.partial`` file is left.

The runs are children forked from one warm process (imports and fonts loaded once); the commits
use the outputs of one score run computed there beforehand, so a kill at the tenth step does not
cost a whole run. Every child is a real process killed by the kernel.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ALKRadiomicsLib.cli import main
from ALKRadiomicsLib.outputs import recover

SERVER = textwrap.dedent("""
    import contextlib, json, os, signal, sys, time
    from ALKRadiomicsLib import cli, outputs

    arguments = json.loads(sys.argv[1])
    real_replace, real_write, real_together = os.replace, outputs._write, outputs.write_together

    # Warm-up and capture: one whole score run whose outputs are kept in memory, not written.
    captured = {}
    cli.write_together = lambda files, overwrite: captured.update(files)
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # stdout is our reply channel
        cli.main(arguments + ["--case-id", "run captured"])
    cli.write_together = real_together
    print("captured", time.perf_counter() - started, flush=True)

    def inject(step):
        count = [0]
        def tick():
            count[0] += 1
            if count[0] == step:
                os.kill(os.getpid(), signal.SIGKILL)
        def replace(a, b):
            tick(); real_replace(a, b)
        def write(path, content):
            tick()
            if count[0] + 1 == step and isinstance(content, (bytes, str)):  # die half way through a file
                data = content.encode() if isinstance(content, str) else content
                with open(path, "wb") as stream:
                    stream.write(data[: len(data) // 2]); stream.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            real_write(path, content)
        os.replace, outputs._write = replace, write

    for line in sys.stdin:
        run, mode, value = line.split()
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            sys.stdout = open(os.devnull, "w")
            if mode == "time":  # the whole score command, killed from outside at a random moment
                os._exit(cli.main(arguments + ["--case-id", f"run {run}"]))
            inject(int(value))  # the commit of score's outputs, killed at a random step
            real_together(captured, overwrite=True)
            os._exit(0)
        deadline = started + (float(value) if mode == "time" else 600)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() >= deadline:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.002)
        outcome = "killed" if os.WIFSIGNALED(status) else f"exit{os.WEXITSTATUS(status)}"
        print(outcome, time.perf_counter() - started, flush=True)
""")


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    if path.suffix == ".json":
        return json.loads(data)["case"]["case_id"].startswith("run ")
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    return data.rstrip().endswith(b"</html>")


def test_kill_9_during_score_leaves_all_new_outputs_or_none(sample_data, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    image, mask = sample_data / "lung2_image.nrrd", sample_data / "lung2_label.nrrd"
    folder = tmp_path / "out"
    folder.mkdir()
    outputs = [folder / "case.json", folder / "case.pdf", folder / "case.html"]
    arguments = ["score", "--image", str(image), "--mask", str(mask), "--no-outline-uncertainty", "--overwrite",
                 "--json", str(outputs[0]), "--report", str(outputs[1]), "--html", str(outputs[2])]
    assert main([*arguments, "--case-id", "run 0"]) == 0  # the previous outputs
    capsys.readouterr()
    first = [p.read_bytes() for p in outputs]
    server = subprocess.Popen([sys.executable, "-c", SERVER, json.dumps(arguments)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])

    def run(number: int, mode: str, value: float) -> str:
        server.stdin.write(f"{number} {mode} {value}\n")
        server.stdin.flush()
        return server.stdout.readline().split()[0]

    tally = {"all new": 0, "none": 0}
    try:
        label, duration = server.stdout.readline().split()
        duration = float(duration)  # one whole run, less writing
        plan = [("time", random.uniform(0, 1.1 * duration)) for _ in range(10)]
        plan += [("step", random.randint(1, 9)) for _ in range(10)]
        random.shuffle(plan)
        for number, (mode, value) in enumerate(plan, start=1):
            if mode == "step":  # start from the first run's files: the commit under test replaces them
                for path, data in zip(outputs, first, strict=True):
                    path.write_bytes(data)
            previous = [p.read_bytes() for p in outputs]
            outcome = run(number, mode, value)
            recover(folder)  # what the next run does first
            now = [p.read_bytes() if p.exists() else None for p in outputs]
            if now == previous:
                tally["none"] += 1
            else:
                assert all(p.exists() and _complete(p) for p in outputs), (mode, value, outcome)
                assert all(a != b for a, b in zip(now, previous, strict=True)), (mode, value, outcome)
                expected = f"run {number}" if mode == "time" else "run captured"
                assert json.loads(now[0])["case"]["case_id"] == expected
                tally["all new"] += 1
            assert sorted(p.name for p in folder.iterdir()) == ["case.html", "case.json", "case.pdf"], \
                (mode, value, sorted(p.name for p in folder.iterdir()))
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    print(f"one run {duration:.2f} s; after kill -9: {tally}")
    assert tally["none"] > 0 and tally["all new"] > 0


def test_existing_outputs_are_kept_without_overwrite(sample_data, tmp_path, capsys):
    out = tmp_path / "features.json"
    out.write_text("previous\n")
    status = main(["extract", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                   str(sample_data / "lung1_label.nrrd"), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and "--overwrite" in err and out.read_text() == "previous\n"
    assert main(["extract", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                 str(sample_data / "lung1_label.nrrd"), "--out", str(out), "--overwrite"]) == 0
    assert "wavelet-LLL_firstorder_Skewness" in out.read_text()


def test_stale_leftovers_are_cleaned_by_the_next_run(sample_data, tmp_path, capsys):
    """A dead writer's .partial file and uncommitted staging folder go; a live writer's stay."""
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    partial = tmp_path / f".features.csv.{_host()}-{dead}-abc123.partial"
    partial.write_text("half")
    staging = tmp_path / f".alk-staging-{_host()}-{dead}-xyz"
    staging.mkdir()
    (staging / "0.json").write_text("{")
    alive = tmp_path / f".alk-staging-{_host()}-1-live"  # pid 1 always runs
    alive.mkdir()
    started = time.perf_counter()
    assert main(["extract", "--image", str(sample_data / "lung1_image.nrrd"), "--mask",
                 str(sample_data / "lung1_label.nrrd"), "--out", str(tmp_path / "features.csv")]) == 0
    assert time.perf_counter() - started < 30
    assert not partial.exists() and not staging.exists() and alive.exists()


def _host() -> str:
    from ALKRadiomicsLib.atomic import host_name

    return host_name()


class _Killed(BaseException):
    """Stands for SIGKILL inside the commit: nothing after it runs, no cleanup."""


def test_a_reader_never_sees_a_manifest_whose_set_is_mixed(tmp_path, monkeypatch):
    """Killed at every step of the commit (issue 21, item 8: a new r.json beside the old r.pdf, 1 in 16 kills):
    whenever the JSON is there, the files it lists are the ones written with it; the next run finishes the set."""
    from ALKRadiomicsLib import outputs
    from ALKRadiomicsLib.outputs import Manifest, check_manifest, write_together

    folder = tmp_path / "out"
    folder.mkdir()
    paths = {"pdf": folder / "r.pdf", "html": folder / "r.html", "dcm": folder / "r_SR.dcm", "json": folder / "r.json"}

    def outputs_of(run: str) -> dict:
        return {paths["pdf"]: f"pdf of {run}", paths["html"]: f"html of {run}", paths["dcm"]: f"sr of {run}".encode(),
                paths["json"]: Manifest({"run": run})}

    write_together(outputs_of("old"), overwrite=True)
    assert sorted(check_manifest(paths["json"])) == ["r.html", "r.pdf", "r_SR.dcm"]
    real_replace, real_unlink = os.replace, Path.unlink
    for step in range(1, 10):  # the journal's rename (the commit point), 4 removals of the old files, 4 renames
        count = [0]
        previous = json.loads(paths["json"].read_text())["run"]

        def tick(count=count, step=step):
            count[0] += 1
            if count[0] == step:
                raise _Killed

        monkeypatch.setattr(outputs.os, "replace", lambda a, b: (tick(), real_replace(a, b)))
        monkeypatch.setattr(outputs.Path, "unlink",
                            lambda self, missing_ok=False: (tick(), real_unlink(self, missing_ok)))
        with pytest.raises(_Killed):
            write_together(outputs_of(f"new {step}"), overwrite=True)
        monkeypatch.undo()
        if paths["json"].exists():  # a reader that waits for the manifest and checks it takes only a whole set
            check_manifest(paths["json"])
            run = json.loads(paths["json"].read_text())["run"]
            assert paths["pdf"].read_text() == f"pdf of {run}"
        recover(folder)
        assert json.loads(paths["json"].read_text())["run"] == (previous if step == 1 else f"new {step}")
        check_manifest(paths["json"])
        assert sorted(p.name for p in folder.iterdir()) == ["r.html", "r.json", "r.pdf", "r_SR.dcm"]


def test_verify_outputs_names_a_file_replaced_by_another_run(tmp_path, capsys):
    from ALKRadiomicsLib.outputs import Manifest, write_together

    json_path, pdf = tmp_path / "r.json", tmp_path / "r.pdf"
    write_together({pdf: b"%PDF one", json_path: Manifest({"run": 1})}, overwrite=False)
    assert main(["verify-outputs", str(json_path)]) == 0
    assert "r.pdf" in capsys.readouterr().out
    pdf.write_bytes(b"%PDF two")
    assert main(["verify-outputs", str(json_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "r.pdf differs" in err[0]
