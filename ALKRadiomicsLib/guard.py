"""Inputs are never written (DESIGN section 7, issue 16).

Every command names its inputs and its outputs; :func:`refuse_outputs_onto_inputs` refuses,
before any work, an output that is one of the inputs however it is spelt: the same path, a
symbolic link to it, a hard link (same device and inode), or a file inside an input folder (a
DICOM series, the reference data). Two outputs that are one file are refused too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from .errors import InputError
from .headers import data_files


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of what ``path`` leads to, or None if nothing is there yet."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _expanded_inputs(inputs: Iterable[str | os.PathLike | None]) -> list[Path]:
    """The inputs and every data file a detached header among them reads."""
    expanded = []
    for given in inputs:
        if given is None or str(given) == "":
            continue
        path = Path(given)
        expanded.append(path)
        if path.is_file():
            try:
                expanded.extend(data_files(path))
            except (InputError, OSError):
                pass  # reading the input refuses it later, with the reason
    return expanded


def _identities(sources: list[Path]) -> dict[tuple[int, int], Path]:
    """(device, inode) of every input file, and of every file inside an input folder (a hard link
    to one DICOM slice is that slice)."""
    found: dict[tuple[int, int], Path] = {}
    for source in sources:
        if source.is_dir():
            for root, _, names in os.walk(source):
                for name in names:
                    identity = _identity(Path(root) / name)
                    if identity is not None:
                        found.setdefault(identity, Path(root) / name)
        identity = _identity(source)
        if identity is not None:
            found.setdefault(identity, source)
    return found


def refuse_outputs_onto_inputs(outputs: Mapping[str, str | os.PathLike | None],
                               inputs: Iterable[str | os.PathLike | None]) -> None:
    """Raise :class:`InputError` if an output (option name -> path) would write over an input."""
    given = {option: Path(path) for option, path in outputs.items() if path is not None and str(path) != ""}
    if not given:
        return
    sources = _expanded_inputs(inputs)
    # Only an existing output can be a link to an input: walk the input folders only then.
    identities = _identities(sources) if any(_identity(out) is not None for out in given.values()) else {}
    folders = [Path(os.path.realpath(s)) for s in sources if s.is_dir()]
    seen: dict[tuple[int, int] | Path, str] = {}
    for option, out in given.items():
        real_out = Path(os.path.realpath(out))
        identity = _identity(out)
        if identity is not None and identity in identities:
            raise InputError(f"{option} {out} is the input {identities[identity]}; inputs are never written. "
                             "Choose another output path.")
        for folder in folders:
            if folder in real_out.parents or folder == real_out:
                raise InputError(f"{option} {out} lies inside the input folder {folder}; inputs are never written. "
                                 "Choose another output path.")
        key = identity if identity is not None else real_out
        if key in seen:
            raise InputError(f"{option} and {seen[key]} are the same file {out}; give each output its own path.")
        seen[key] = option
