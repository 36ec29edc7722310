"""Which files an image file makes ITK read, checked before ITK reads them (DESIGN section 7).

A detached NRRD header (``.nhdr``, or ``.nrrd`` with a ``data file`` field) and a MetaImage
(``.mhd``/``.mha`` with ``ElementDataFile``) name the file holding their voxels; an Analyze or
NIfTI pair ``.hdr`` reads the ``.img`` beside it. Left to ITK, such a name may point anywhere:
``/dev/urandom``, a FIFO (which blocks for ever), ``../../etc``. Here a data file must be a
regular file in the header's own folder or below it; anything else is refused at once, without
opening it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError

HEADER_BYTES = 65536  # a real header is a few hundred bytes; nothing past this is read as header
_NRRD_DATA_KEYS = ("data file", "datafile")


def check_regular_file(path: Path, what: str) -> None:
    """Refuse anything but a regular file (after symlinks): devices, FIFOs and sockets never end or block."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise InputError(f"Cannot read {what} {path}: {err.strerror}.") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"The {what} {path} is not a regular file (a device, FIFO or socket); give an image file.")


def data_files(path: str | os.PathLike, what: str = "image") -> list[Path]:
    """The other files reading ``path`` opens, each checked: a regular file in the header's folder or below.

    Raises :class:`InputError` for a reference outside the folder, to a device or FIFO, or in a form
    ITK expands itself (a file list or a numbered pattern), which cannot be checked beforehand.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".nhdr", ".nrrd")):
        references = _nrrd_references(path, what)
    elif name.endswith((".mhd", ".mha")):
        references = _metaimage_references(path, what)
    elif name.endswith(".hdr"):
        references = [path.with_suffix(".img").name]
    else:
        return []
    return [_checked_reference(path, reference, what) for reference in references]


def _header_lines(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    return head.decode("latin-1").splitlines()


def _nrrd_references(path: Path, what: str) -> list[str]:
    for line in _header_lines(path):
        if not line.strip():
            break  # the blank line ends the header; attached data follow
        key, sep, value = line.partition(":")
        if not sep or value.startswith("="):  # "key:=value" pairs are free text
            continue
        if key.strip().lower() in _NRRD_DATA_KEYS:
            return _single_reference(path, value.strip(), what, "data file")
    return []


def _metaimage_references(path: Path, what: str) -> list[str]:
    for line in _header_lines(path):
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "elementdatafile":
            value = value.strip()
            return [] if value.upper() == "LOCAL" else _single_reference(path, value, what, "ElementDataFile")
    return []


def _single_reference(path: Path, value: str, what: str, field: str) -> list[str]:
    words = value.split()
    if not words or words[0].upper() == "LIST" or "%" in value or len(words) > 1:
        raise InputError(
            f"The {what} header {path} spreads its voxels over several files ({field} = {value!r}); only one data "
            "file beside the header is accepted. Convert it to one .nrrd, .nii.gz or .mha file."
        )
    return [value]


def _checked_reference(header: Path, reference: str, what: str) -> Path:
    folder = Path(os.path.realpath(header.parent))
    target = Path(reference) if os.path.isabs(reference) else header.parent / reference
    resolved = Path(os.path.realpath(target))
    if resolved != folder and folder not in resolved.parents:
        raise InputError(
            f"The {what} header {header} points to data file {reference}, outside its own folder; a header may "
            "only reference files in its folder or below."
        )
    if not resolved.exists():
        raise InputError(f"The {what} header {header} names data file {reference}, which does not exist.")
    check_regular_file(resolved, f"{what} data file")
    return resolved
