"""What the outputs record about where the inputs came from (issue 16, PHI).

Folder names often carry a patient's name or ID (``/data/Doe_Jane_1951/ct.nrrd``). Unless the
user asks with ``--include-phi``, the JSON outputs record an input file by its name alone and a
folder (a DICOM series) by a short hash of its full path, which tells two inputs apart without
saying where they are.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def recorded_path(path: str | os.PathLike | None, include_phi: bool) -> str | None:
    """How an input path appears in an output: as given with ``include_phi``, else its name or a hash."""
    if path is None or str(path) == "":
        return None
    if include_phi:
        return str(path)
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        return f"folder sha256:{digest}"
    return path.name
