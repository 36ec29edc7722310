"""Which CT files the web app may open: the ones under ``--data``, the lung2 sample, and uploads.

No trame or Slicer here, so plain pytest checks the refusals. A path from the browser is a name
relative to the data folder; anything that resolves outside it (``..``, an absolute path, a
symlink pointing out) is refused before a byte is read. Uploads are checked by name, size and
first bytes before they reach an image reader, and are read from a temporary folder that is
deleted afterwards: the app writes nothing that outlives a request.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import ALKRadiomicsError, InputError

CT_SUFFIXES = (".nrrd", ".nii", ".nii.gz", ".mha")
SAMPLE_CASE = "sample:lung2"
MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a chest CT at 0.6 mm is ~300 MB as int16; more is not one CT
MAX_ZIP_MEMBERS = 4000  # slices of one series; more is an archive, not a series


def is_ct_file(name: str) -> bool:
    return name.lower().endswith(CT_SUFFIXES)


def list_cases(data_dir: str | Path | None) -> list[str]:
    """The sample case, then every CT file (and DICOM series folder) under ``data_dir``, relative to it."""
    cases = [SAMPLE_CASE]
    if data_dir is None:
        return cases
    root = Path(data_dir).resolve()
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        here = Path(folder)
        if any(name.lower().endswith(".dcm") for name in files):
            cases.append(here.relative_to(root).as_posix() or ".")
        cases += [(here / name).relative_to(root).as_posix() for name in sorted(files) if is_ct_file(name)]
    return cases


def resolve_case(data_dir: str | Path | None, name: str) -> Path:
    """The file (or DICOM folder) ``name`` names under ``data_dir``; refuses anything outside it."""
    if name == SAMPLE_CASE:
        from ..sample_data import sample_case

        return sample_case("lung2")[0]
    if data_dir is None:
        raise InputError("This server offers no data folder (start it with --data DIR).")
    root = Path(data_dir).resolve()
    path = (root / name).resolve()
    if path != root and root not in path.parents:
        raise InputError(f"{name!r} lies outside the data folder; only files under it can be opened.")
    if not path.exists():
        raise InputError(f"{name!r} does not exist in the data folder.")
    if path.is_file() and not is_ct_file(path.name):
        raise InputError(f"{name!r} is not a CT file ({', '.join(CT_SUFFIXES)} or a DICOM folder).")
    return path


# First bytes of each accepted format; gzip for .nii.gz. NIfTI-1 has no magic at offset 0 (its
# header size, 348, is), so .nii is checked by that.
_MAGIC = {".nrrd": (b"NRRD",), ".mha": (b"ObjectType", b"NDims"), ".nii.gz": (b"\x1f\x8b",),
          ".nii": (b"\x5c\x01\x00\x00", b"\x00\x00\x01\x5c"), ".zip": (b"PK\x03\x04", b"PK\x05\x06")}


def check_upload(name: str, content: bytes) -> str:
    """The upload's suffix, or a one-line InputError saying why the file is refused."""
    lower = name.lower()
    suffix = next((s for s in (".nii.gz", ".nrrd", ".nii", ".mha", ".zip") if lower.endswith(s)), None)
    if suffix is None:
        raise InputError(f"{name} is not a CT volume: upload a .nrrd, .nii, .nii.gz or .mha file, or a .zip of "
                         "one DICOM series.")
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name} is {len(content) / 2**20:.0f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB.")
    if not content.startswith(_MAGIC[suffix]):
        raise InputError(f"{name} is not a {suffix} file (its first bytes say otherwise).")
    return suffix


@contextmanager
def uploaded_file(name: str, content: bytes) -> Iterator[Path]:
    """The checked upload as a file in a temporary folder that is removed on exit."""
    suffix = check_upload(name, content)
    with tempfile.TemporaryDirectory(prefix="alk-web-") as folder:
        path = Path(folder) / ("upload" + suffix)
        path.write_bytes(content)
        try:
            yield path
        except ALKRadiomicsError as error:  # name the user's file, not the temporary copy
            raise type(error)(str(error).replace(str(path), name)) from None


def extract_dicom_zip(name: str, content: bytes) -> tempfile.TemporaryDirectory:
    """A zipped DICOM series unpacked, flat, into a new temporary folder (the caller removes it).

    Member names are never used as paths (no ``../`` escapes); the unpacked size is limited like an
    upload's, so a zip bomb is refused before it fills the disk.
    """
    import io
    import zipfile

    check_upload(name, content)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile:
        raise InputError(f"{name} is not a readable .zip file.") from None
    if not members or len(members) > MAX_ZIP_MEMBERS:
        raise InputError(f"{name} holds {len(members)} files; a DICOM series has 1 to {MAX_ZIP_MEMBERS}.")
    if sum(m.file_size for m in members) > 2 * MAX_UPLOAD_BYTES:
        raise InputError(f"{name} unpacks to more than {2 * MAX_UPLOAD_BYTES // 2**20} MB; that is not one CT.")
    folder = tempfile.TemporaryDirectory(prefix="alk-web-")
    try:
        for index, member in enumerate(members):
            with archive.open(member) as source:
                (Path(folder.name) / f"{index:05d}.dcm").write_bytes(source.read(2 * MAX_UPLOAD_BYTES + 1))
    except Exception:
        folder.cleanup()
        raise InputError(f"{name} could not be unpacked.") from None
    return folder
