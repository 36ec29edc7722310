"""Which files an image file makes ITK read, and whether they hold what the header declares, checked
before ITK reads them (DESIGN section 7).

A detached NRRD header (``.nhdr``, or ``.nrrd`` with a ``data file`` field) and a MetaImage
(``.mhd``/``.mha`` with ``ElementDataFile``) name the file holding their voxels; an Analyze or
NIfTI pair ``.hdr`` reads the ``.img`` beside it. Left to ITK, such a name may point anywhere:
``/dev/urandom``, a FIFO (which blocks for ever), ``../../etc``. Here a data file must be a
regular file in the header's own folder or below it; anything else is refused at once, without
opening it.

A header also declares how many voxel bytes follow it. ITK fills a truncated NIfTI with zeros without a word
(lung1 cut at 60 % of its gzip bytes scored P(ALK) 0.999 instead of 0.214) and refuses a short MetaImage with
a misleading "No such file or directory": :func:`check_complete` counts the bytes first. A truncated NRRD is
refused by ITK itself, with the counts.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
import struct
import zlib
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


def check_complete(path: Path, what: str, voxels: int, voxel_bytes: int) -> None:
    """Refuse a NIfTI or MetaImage file that holds fewer voxel bytes than its header declares, or whose
    NIfTI scaling (scl_slope, scl_inter) is not finite. ``voxel_bytes`` is the bytes per voxel ITK reports."""
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        _check_nifti(path, what, path)
    elif name.endswith(".hdr"):
        _check_nifti(path, what, path.with_suffix(".img"))
    elif name.endswith((".mha", ".mhd")):
        _check_metaimage(path, what, voxels * voxel_bytes)


def _truncated(path: Path, what: str, present: int, expected: int) -> InputError:
    return InputError(f"The {what} {path} is truncated or damaged: it holds {present:,} of the {expected:,} bytes "
                      "of voxels its header declares (a copy or download cut short). Copy the file again.")


def _nifti_fields(head: bytes, path: Path, what: str) -> tuple[int, int, float, float, float]:
    """(voxels, bits per voxel, vox_offset, scl_slope, scl_inter) from a NIfTI-1 or NIfTI-2 header."""
    for order in "<>":
        if len(head) >= 348 and struct.unpack(order + "i", head[:4])[0] == 348:
            dims = struct.unpack(order + "8h", head[40:56])
            bitpix = struct.unpack(order + "h", head[72:74])[0]
            offset, slope, inter = struct.unpack(order + "3f", head[108:120])
            break
        if len(head) >= 540 and struct.unpack(order + "i", head[:4])[0] == 540:
            bitpix = struct.unpack(order + "h", head[14:16])[0]
            dims = struct.unpack(order + "8q", head[16:80])
            offset = struct.unpack(order + "q", head[168:176])[0]
            slope, inter = struct.unpack(order + "2d", head[176:192])
            break
    else:
        raise InputError(f"The {what} {path} does not start with a NIfTI header; the file is damaged.")
    if not 1 <= dims[0] <= 7 or any(n < 1 for n in dims[1:dims[0] + 1]) or bitpix not in (8, 16, 32, 64, 128):
        raise InputError(f"The {what} {path} has a damaged NIfTI header (dim {list(dims)}, bitpix {bitpix}).")
    if not (math.isfinite(slope) and math.isfinite(inter)):
        raise InputError(f"The {what} {path} declares a scaling that is not a number (scl_slope {slope}, scl_inter "
                         f"{inter}); its voxels cannot be turned into HU. Re-export the CT.")
    return math.prod(dims[1:dims[0] + 1]), bitpix, offset, slope, inter


def _check_nifti(path: Path, what: str, data: Path) -> None:
    compressed = path.name.lower().endswith(".gz")
    try:
        with (gzip.open if compressed else open)(path, "rb") as handle:
            head = handle.read(540)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"Cannot read the {what} {path}: {getattr(err, 'strerror', None) or err}.") from None
    voxels, bitpix, offset, _, _ = _nifti_fields(head, path, what)
    expected = voxels * bitpix // 8 + (int(offset) if data == path else 0)
    if not compressed:
        present = data.stat().st_size if data.is_file() else 0
    else:
        present = _gzip_length(path, expected)
    if present < expected:
        raise _truncated(path, what, present, expected)


def _gzip_length(path: Path, expected: int) -> int:
    """The decompressed length of a gzip file: its trailer when that agrees with ``expected``, else counted
    (several gzip members, or a damaged stream: then what could be read)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() >= 18:
            handle.seek(-4, os.SEEK_END)
            if struct.unpack("<I", handle.read(4))[0] == expected % 2**32:
                return expected  # the trailer of a complete stream records its length (mod 2^32)
    length = 0
    with gzip.open(path, "rb") as stream:
        try:
            while chunk := stream.read(1 << 20):
                length += len(chunk)
        except (EOFError, OSError, zlib.error):
            pass  # cut short or damaged
    return length


def _check_metaimage(path: Path, what: str, expected: int) -> None:
    fields, data_offset = {}, None
    with open(path, "rb") as handle:
        head = handle.read(HEADER_BYTES)
    position = 0
    for line in head.split(b"\n"):
        position += len(line) + 1
        key, sep, value = line.decode("latin-1").partition("=")
        if sep:
            fields[key.strip().lower()] = value.strip()
            if key.strip().lower() == "elementdatafile":
                data_offset = position
                break
    if data_offset is None:
        return  # ITK refuses a header without ElementDataFile itself
    source = fields["elementdatafile"]
    local = source.upper() == "LOCAL"
    present = (path.stat().st_size - data_offset if local
               else (data_files(path, what) or [path])[0].stat().st_size)
    if fields.get("compresseddata", "").lower() == "true":
        declared = fields.get("compresseddatasize", "")
        if not declared.isdigit():
            return  # nothing to compare with; ITK refuses a short stream
        expected = int(declared)
    if present < expected:
        raise _truncated(path, what, present, expected)
