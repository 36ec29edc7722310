"""What the Slicer panel installs on first use (issue 14): it fits each supported Slicer's bundled
packages without changing one, and the install pins everything already there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ALKRadiomicsLib import dependencies

SLICER = Path(__file__).resolve().parents[3] / "shared" / "slicer"


def bundled(release: str) -> dict[str, str]:
    path = SLICER / release / "bundled-python-packages.txt"
    if not path.is_file():
        pytest.skip(f"needs Slicer's bundled package list {path} (../shared/slicer beside the checkout)")
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.strip().lower().split("==") for line in lines if "==" in line)


@pytest.mark.parametrize("release", ["v5.10.0", "v5.12.3"])
def test_requirements_resolve_against_slicers_bundled_packages_without_changing_any(release, tmp_path):
    """pip's own resolver, for Slicer's Python 3.12, with the release's bundled versions as constraints."""
    shipped = bundled(release)
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in shipped.items()))
    report = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                          "--python-version", "3.12", "--only-binary=:all:", "--report", str(report),
                          "-c", str(constraints), "-r", str(dependencies.requirements_path())],
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0 and ("No matching distribution" not in run.stderr and "conflict" not in run.stderr.lower()):
        pytest.skip(f"pip could not reach the package index: {run.stderr.strip().splitlines()[-1:]}")
    assert run.returncode == 0, run.stderr
    resolved = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
                for item in json.loads(report.read_text(encoding="utf-8"))["install"]}
    changed = {name: (shipped[name], version) for name, version in resolved.items()
               if name in shipped and shipped[name] != version}
    assert changed == {}
    for requirement in dependencies.load_requirements():
        name = requirement.name.lower()
        assert name in resolved and requirement.specifier.contains(resolved[name]), name


def test_requirements_are_minimum_versions_from_the_librarys_resources():
    requirements = dependencies.load_requirements()
    assert {r.name for r in requirements} >= {"PyWavelets", "scipy", "matplotlib", "pydicom", "highdicom"}
    assert all(str(r.specifier).startswith(">=") for r in requirements)


def test_missing_and_constraints_pin_what_is_installed():
    installed = {"numpy": "2.0.2", "pydicom": "2.4.4", "scipy": "1.13.1"}
    needed = dependencies.missing([Requirement("pydicom>=2.4"), Requirement("scipy>=1.14"),
                                   Requirement("highdicom>=0.22")], installed)
    assert [str(r) for r in needed] == ["scipy>=1.14", "highdicom>=0.22"]
    assert dependencies.constraints_text(installed) == "numpy==2.0.2\npydicom==2.4.4\nscipy==1.13.1\n"
    real = dependencies.installed_versions()
    assert real["numpy"] == __import__("numpy").__version__


def test_ensure_asks_once_installs_with_constraints_and_reports_the_truth():
    present, absent = Requirement("numpy>=1.0"), Requirement("alk-radiomics-no-such-package>=1")
    calls = []

    def install(requirements, constraints):
        calls.append((requirements, constraints.read_text(encoding="utf-8")))

    assert dependencies.ensure(ask=lambda m: pytest.fail("asked"), install=install, requirements=[present])
    assert not dependencies.ensure(ask=lambda m: False, install=install, requirements=[present, absent])
    assert calls == []
    # The user agrees, pip runs, and the package is still not there: ensure says so instead of returning True.
    assert not dependencies.ensure(ask=lambda m: m == [str(absent)], install=install, requirements=[present, absent])
    [(requirements, constraints)] = calls
    assert requirements == [str(absent)] and f"numpy=={__import__('numpy').__version__}\n" in constraints
