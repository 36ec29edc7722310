"""Static checks: the library stays valid for the Pythons of supported Slicer releases (3.10-3.12)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing_for_python_3_10():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (make test installs it)")
    completed = subprocess.run([ruff, "check", "--target-version", "py310", "--output-format", "concise", "."],
                               cwd=REPOSITORY, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_library_core_never_imports_slicer_qt_or_vtk():
    offenders = [
        str(path.relative_to(REPOSITORY))
        for path in (REPOSITORY / "ALKRadiomicsLib").rglob("*.py")
        if path.name != "mrml.py"
        and any(line.strip().startswith(("import slicer", "import qt", "import vtk", "from slicer", "from vtk"))
                for line in path.read_text().splitlines())
    ]
    assert offenders == []
