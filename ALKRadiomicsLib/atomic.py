"""Writing files so that a failure never leaves a partial file behind (DESIGN section 7)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError


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


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path = check_writable(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent or ".")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp creates 0600; give the file ordinary permissions
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise InputError(f"Cannot write {path}: {err.strerror or err}; nothing was written.") from None
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))
