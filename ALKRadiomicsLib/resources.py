"""Locating the bundled files in ``Resources/`` (parameter file, model files).

In a source checkout and in an installed Slicer module, ``Resources/`` sits beside the
``ALKRadiomicsLib`` folder; in a wheel it is packaged as ``ALKRadiomicsLib/resources``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CANDIDATES = (_HERE.parent / "Resources", _HERE / "resources")

PARAMETER_FILE_NAME = "pyradiomics_params.json"


def resources_dir() -> Path:
    """The folder holding the bundled parameter file and models."""
    for candidate in _CANDIDATES:
        if (candidate / PARAMETER_FILE_NAME).is_file():
            return candidate
    raise FileNotFoundError(
        f"Bundled Resources/ folder not found (looked in {', '.join(map(str, _CANDIDATES))}); "
        "reinstall ALKRadiomics."
    )


def resource_path(name: str) -> Path:
    return resources_dir() / name


@cache
def load_parameters() -> dict:
    """The extraction parameter file (DESIGN section 3), as pyradiomics reads it."""
    with open(resource_path(PARAMETER_FILE_NAME), encoding="utf-8") as handle:
        return json.load(handle)
