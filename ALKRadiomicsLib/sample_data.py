"""Real lung CT for tests and the demo: the cases shipped in pyradiomics' source release.

The ``pyradiomics-bhklab`` source release on PyPI carries ``data/lung1_*``, ``lung2_*``,
``brain1_*`` and ``data/baseline/*.csv``. :func:`sample_data_dir` downloads it once with pip
into a cache folder (``$ALK_RADIOMICS_CACHE``, default ``~/.cache/alk-radiomics``) and unpacks
the data there; the same archive installs pyradiomics for the test suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .errors import InputError

PACKAGE = "pyradiomics-bhklab"
VERSION = "3.1.4"
ARCHIVE = f"pyradiomics_bhklab-{VERSION}.tar.gz"


def cache_dir() -> Path:
    root = os.environ.get("ALK_RADIOMICS_CACHE") or Path.home() / ".cache" / "alk-radiomics"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def source_archive() -> Path:
    """The cached pyradiomics-bhklab source archive, downloaded with pip the first time."""
    archive = cache_dir() / ARCHIVE
    if not archive.is_file():
        with tempfile.TemporaryDirectory(dir=cache_dir()) as download:
            command = [sys.executable, "-m", "pip", "download", "--no-deps",
                       "--quiet", "-d", download, f"{PACKAGE}=={VERSION}"]
            completed = subprocess.run(command, capture_output=True, text=True)
            fetched = Path(download) / ARCHIVE
            if completed.returncode != 0 or not fetched.is_file():
                raise InputError(
                    f"Could not download {PACKAGE}=={VERSION} with pip (needs access to PyPI): "
                    f"{completed.stderr.strip().splitlines()[-1:] or completed.returncode}"
                )
            os.replace(fetched, archive)
    return archive


def sample_data_dir() -> Path:
    """The unpacked ``data/`` folder of the pyradiomics source release."""
    target = cache_dir() / f"pyradiomics-data-{VERSION}"
    if not (target / "lung2_image.nrrd").is_file():
        prefix = f"pyradiomics_bhklab-{VERSION}/data/"
        with tempfile.TemporaryDirectory(dir=cache_dir()) as scratch, tarfile.open(source_archive()) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix) and (m.isfile() or m.isdir())]
            if hasattr(tarfile, "data_filter"):
                tar.extractall(scratch, members=members, filter="data")
            else:  # Python < 3.10.12 has no extraction filters; members are checked above
                tar.extractall(scratch, members=members)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(Path(scratch) / prefix, target)
    return target


def sample_case(name: str) -> tuple[Path, Path]:
    """Image and label paths of a sample case, e.g. ``"lung2"``."""
    folder = sample_data_dir()
    image, label = folder / f"{name}_image.nrrd", folder / f"{name}_label.nrrd"
    if not image.is_file():
        cases = sorted(p.name[: -len("_image.nrrd")] for p in folder.glob("*_image.nrrd"))
        raise InputError(f"No sample case {name!r}; choose from {cases}.")
    return image, label


if __name__ == "__main__":
    print(sample_data_dir())
