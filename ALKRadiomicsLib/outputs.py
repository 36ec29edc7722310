"""A case's outputs are one unit: all of them are written, or none (DESIGN section 7, issue 16).

Each file is first written completely into a staging folder beside its destination
(``.alk-staging-<host>-<pid>-<random>``, so the final move is a rename on the same file
system). Only when every file of the case is staged does the commit begin: a journal naming
every staged file and its destination is written into the first staging folder (the primary)
and synced; that write is the moment the case is decided. The files are then renamed into
place and the staging folders removed.

A process killed (``kill -9``, power loss) before the journal exists leaves only staging
folders, which the next run removes: the previous outputs are untouched. Killed after it, the
next run finishes the renames from the journal: all new outputs. :func:`recover` does this for
a folder; every command that writes case outputs calls it first for each output folder, and
also removes ``.partial`` files left by a killed single-file write (:mod:`.atomic`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .atomic import host_name, writer_tag
from .errors import InputError

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".alk-staging-"
JOURNAL = "COMMIT"
PRIMARY = "PRIMARY"
# Leftovers of a process on another machine (a shared folder) cannot be checked for life:
# they are removed once this old.
FOREIGN_LEFTOVER_AGE_S = 24 * 3600

Content = bytes | str | Callable[[Path], object]  # data, or a writer given the staging path


def _owner_alive(host: str, pid: int, path: Path) -> bool:
    """Whether the process that made a leftover may still be writing it."""
    if host != host_name():
        try:
            return time.time() - path.lstat().st_mtime < FOREIGN_LEFTOVER_AGE_S
        except OSError:
            return False
    if pid == os.getpid():
        return False  # this process starts no commit while recovering
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-")
_PARTIAL = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[^.]*\.partial")


def existing_outputs(paths: Iterable[str | os.PathLike | None]) -> list[Path]:
    """The given output paths that already exist (to ask before replacing them)."""
    return [Path(p) for p in paths if p is not None and str(p) != "" and os.path.lexists(p)]


def refuse_existing(outputs: Mapping[str, str | os.PathLike | None], overwrite: bool) -> None:
    """Refuse, before any work, to replace existing outputs unless the user said so."""
    if overwrite:
        return
    present = [f"{option} {path}" for option, path in outputs.items()
               if path is not None and str(path) != "" and os.path.lexists(path)]
    if present:
        verb = "exists" if len(present) == 1 else "exist"
        raise InputError(f"{', '.join(present)} already {verb}; add --overwrite to replace, or choose other paths. "
                         "Nothing was written.")


def recover(folder: str | os.PathLike) -> None:
    """Finish or undo what a killed run left in ``folder``: committed cases are completed, the rest removed."""
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        staging = _STAGING.match(entry.name)
        partial = _PARTIAL.match(entry.name)
        match = staging or partial
        if match is None or _owner_alive(match["host"], int(match["pid"]), Path(entry.path)):
            continue
        if partial is not None:
            Path(entry.path).unlink(missing_ok=True)
        elif entry.is_dir(follow_symlinks=False):
            _recover_staging(Path(entry.path))


def _recover_staging(staging: Path) -> None:
    pointer = staging / PRIMARY
    primary = Path(pointer.read_text(encoding="utf-8")) if pointer.is_file() else staging
    journal = primary / JOURNAL
    if journal.is_file():
        try:
            moves = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            moves = None
        if moves is not None:
            logger.warning("completing the outputs of an interrupted run from %s", journal)
            _finish(primary, [(Path(a), Path(b)) for a, b in moves])
            return
    shutil.rmtree(staging, ignore_errors=True)


def _finish(primary: Path, moves: list[tuple[Path, Path]]) -> None:
    """Rename every staged file that is still staged into place, then remove the staging folders."""
    for staged, target in moves:
        if staged.exists():
            os.replace(staged, target)
    for folder in {target.parent for _, target in moves}:
        _sync_folder(folder)
    for staging in {staged.parent for staged, _ in moves} - {primary}:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(primary, ignore_errors=True)  # last: while it exists, the journal decides


def _sync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(handle)


def _write(path: Path, content: Content) -> None:
    if callable(content):
        content(path)
        return
    data = content.encode("utf-8") if isinstance(content, str) else content
    with open(path, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def write_together(files: Mapping[str | os.PathLike, Content], *, overwrite: bool) -> list[Path]:
    """Write every file, or none: staged beside its destination, then committed as one unit.

    ``files`` maps each destination to its bytes, text, or a function writing it to a given path
    (e.g. a DICOM dataset's ``save_as``). Raises :class:`InputError` and leaves the destinations
    as they were when anything fails before the commit.
    """
    targets = [Path(os.path.abspath(p)) for p in files]
    folders = list(dict.fromkeys(t.parent for t in targets))
    for folder in folders:
        recover(folder)
    umask = os.umask(0)
    os.umask(umask)
    stagings: dict[Path, Path] = {}
    try:
        for folder in folders:
            stagings[folder] = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{writer_tag()}-",
                                                     dir=folder))
        primary = stagings[folders[0]]
        for staging in stagings.values():
            if staging != primary:
                (staging / PRIMARY).write_text(str(primary), encoding="utf-8")
        moves = []
        for number, (target, content) in enumerate(zip(targets, files.values(), strict=True)):
            staged = stagings[target.parent] / f"{number}{''.join(target.suffixes[-2:])}"
            _write(staged, content)
            os.chmod(staged, 0o666 & ~umask)  # ordinary permissions, as a plain open() would give
            moves.append((staged, target))
        if not overwrite:
            refuse_existing({str(t): t for t in targets}, overwrite=False)  # appeared while we computed
        _write_journal(primary, moves)
    except BaseException as err:
        for staging in stagings.values():
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, (OSError, RuntimeError)):  # RuntimeError: SimpleITK's writers
            detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err).strip().splitlines()[-1]
            raise InputError(f"Cannot write the outputs ({detail}); nothing was written.") from None
        raise
    _finish(primary, moves)
    return targets


def _write_journal(primary: Path, moves: list[tuple[Path, Path]]) -> None:
    temporary = primary / (JOURNAL + ".tmp")
    _write(temporary, json.dumps([[str(a), str(b)] for a, b in moves]))
    os.replace(temporary, primary / JOURNAL)  # the commit point
    _sync_folder(primary)
