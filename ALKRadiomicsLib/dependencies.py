"""The Python packages the Slicer panel installs on first use, without replacing anything Slicer ships.

3D Slicer bundles its own numpy, scipy, SimpleITK, pydicom... and has already imported some of
them when a module asks for more. Installing our requirements must therefore never upgrade or
downgrade an installed distribution: 5.10 ships pydicom 2.4.4, and an unconstrained
``pip install highdicom`` would replace it with pydicom 3 under Slicer's feet. The panel installs
with a constraints file that pins every installed distribution at its installed version, so pip
either finds versions that fit (highdicom 0.22 on 5.10, the bundled 0.27 on 5.12) or fails
without touching anything. No Slicer import here: the panel passes the result to Slicer's pip.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .resources import resource_path

REQUIREMENTS_FILE = "requirements.txt"


def requirements_path() -> Path:
    """``Resources/requirements.txt`` of the extension (installed beside the library's resources)."""
    return resource_path(REQUIREMENTS_FILE)


def load_requirements(path: str | Path | None = None) -> list[Requirement]:
    """The requirement lines of a requirements file (comments and blank lines skipped)."""
    lines = Path(path or requirements_path()).read_text(encoding="utf-8").splitlines()
    return [Requirement(line.split("#", 1)[0].strip()) for line in lines if line.split("#", 1)[0].strip()]


def installed_versions() -> dict[str, str]:
    """Every installed distribution of this Python, canonical name -> version."""
    versions = {}
    for distribution in importlib.metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            versions[canonicalize_name(name)] = distribution.version
    return versions


def missing(requirements: Iterable[Requirement], installed: Mapping[str, str] | None = None) -> list[Requirement]:
    """The requirements that the installed distributions do not satisfy."""
    installed = installed_versions() if installed is None else installed
    return [r for r in requirements
            if canonicalize_name(r.name) not in installed
            or not r.specifier.contains(installed[canonicalize_name(r.name)], prereleases=True)]


def constraints_text(installed: Mapping[str, str] | None = None) -> str:
    """A pip constraints file pinning every installed distribution: pip may add packages, never change one."""
    installed = installed_versions() if installed is None else installed
    return "".join(f"{name}=={version}\n" for name, version in sorted(installed.items())
                   if re.fullmatch(r"[A-Za-z0-9.+!_-]+", version))


def ensure(*, ask: Callable[[list[str]], bool], install: Callable[[list[str], Path], None],
           requirements: list[Requirement] | None = None) -> bool:
    """Install what is missing, after one ``ask``, with every installed package pinned; True when all is there.

    ``install(requirements, constraints_file)`` is the front end's pip (Slicer's ``pip_install``);
    it is called only when something is missing and the user agreed.
    """
    requirements = load_requirements() if requirements is None else requirements
    needed = [str(r) for r in missing(requirements)]
    if not needed:
        return True
    if not ask(needed):
        return False
    with tempfile.TemporaryDirectory(prefix="alk-radiomics-") as folder:
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text(constraints_text(), encoding="utf-8")
        install(needed, constraints)
    importlib.invalidate_caches()
    return not missing(requirements)
