"""Writing files so that a failure never leaves a partial file behind (DESIGN section 7)."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


def host_name() -> str:
    """This machine's name in the characters a leftover's name may hold."""
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40] or "host"


def writer_tag() -> str:
    """``<host>-<pid>``: who is writing a temporary file or staging folder."""
    return f"{host_name()}-{os.getpid()}"


def check_writable(path: str | os.PathLike) -> Path:
    """Raise :class:`InputError` unless ``path`` can be created in an existing, writable folder."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"Cannot write {path}: folder {folder} does not exist; create it or choose another path.")
    if path.is_dir():
        raise InputError(f"Cannot write {path}: it is a folder; give a file name.")
    if not os.access(folder, os.W_OK):
        raise InputError(f"Cannot write {path}: folder {folder} is not writable; choose another output path.")
    return path


@contextlib.contextmanager
def replacing(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto it when the block succeeds, removed if not."""
    path = check_writable(path)
    # Host and process id in the name let a later run tell a dead writer's leftover from a live
    # one (outputs.recover removes the former).
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.{writer_tag()}-", suffix=f".partial{suffix}",
                                         dir=path.parent)
    os.close(handle)
    try:
        yield Path(temporary)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(temporary, path)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, (OSError, RuntimeError)):  # RuntimeError: SimpleITK's writers
            detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err).strip().splitlines()[-1]
            raise InputError(f"Cannot write {path}: {detail}; nothing was written.") from None
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    with replacing(path) as temporary, open(temporary, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_image_atomic(image, path: str | os.PathLike) -> Path:
    """Write a SimpleITK image, its format chosen by the suffix, atomically and compressed."""
    import SimpleITK as sitk

    name = Path(path).name.lower()
    suffix = ".nii.gz" if name.endswith(".nii.gz") else Path(path).suffix
    with replacing(path, suffix) as temporary:
        sitk.WriteImage(image, str(temporary), True)
    return Path(path)
