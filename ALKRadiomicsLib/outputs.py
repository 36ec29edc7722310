"""A case's outputs are one unit: all of them are written, or none, and no reader sees a mixed set
(DESIGN section 7, issues 16 and 21).

Writing. Each file is first written completely into a staging folder beside its destination
(``.alk-staging-<host>-<pid>-<random>``, so the final move is a rename on the same file system). When
every file of the case is staged, each staging folder receives a journal (``COMMIT``) naming its staged
files and their destinations, and is synced: that write is the moment the case is decided. Then, per
folder: the files being replaced are removed first, the new ones renamed in, and the set's *manifest*
last. The manifest is the JSON output that lists every other file of the set with its sha256
(:class:`Manifest`, ``output_set`` in the document). A reader that waits for the manifest and checks
the checksums (:func:`check_manifest`, ``alk-radiomics verify-outputs``) never sees old and new files
mixed: until the manifest appears, the set is incomplete, never a mix of two runs.

Recovery. A process killed (``kill -9``, power loss) before its journals exist leaves only staging
folders, which the next run removes: the previous outputs are untouched. Killed after, the next run
finishes the renames from the journal. :func:`recover` does this for one folder; every command that
writes calls it first for each output folder. Since that folder may be shared, a journal is a file
this run did not write and is treated as hostile: it is obeyed only when its staging folder and the
journal belong to this user, every source is a plain file of that staging folder and every target a
plain file name in the folder being recovered. Nothing named in a journal is ever removed as a folder;
only the staging folder found by listing is. Anything else is left alone and named in one warning.
Across folders (``--json a/r.json --report b/r.pdf``) each folder's files are one unit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .atomic import host_name, writer_tag
from .errors import InputError

logger = logging.getLogger(__name__)

STAGING_PREFIX = ".alk-staging-"
JOURNAL = "COMMIT"
JOURNAL_VERSION = 2
MAX_JOURNAL_BYTES = 1 << 20  # a real journal names a handful of files
# Leftovers of a process on another machine (a shared folder) cannot be checked for life:
# they are finished or removed once this old.
FOREIGN_LEFTOVER_AGE_S = 24 * 3600
MANIFEST_KEY = "output_set"

Content = bytes | str | Callable[[Path], object]  # data, or a writer given the staging path


@dataclass(frozen=True)
class Manifest:
    """A JSON document written last, listing every other file of its set with its size and sha256.

    ``document`` gets an ``output_set`` entry; ``dumps`` turns the completed document into the file's text.
    """

    document: Mapping[str, Any]
    dumps: Callable[[Any], str] = field(default=lambda d: json.dumps(d, indent=2, allow_nan=False) + "\n")


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
    except (PermissionError, OverflowError):
        return True
    return True


def _ours(info: os.stat_result) -> bool:
    """Whether a file belongs to the user running this (always true where there are no owners: Windows)."""
    uid = getattr(os, "geteuid", None)
    return uid is None or info.st_uid == uid()


_WARNED: set[tuple[str, str]] = set()
_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-")
_PARTIAL = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-[^.]*\.partial")
_STAGED_NAME = re.compile(r"^\d{1,4}(\.[A-Za-z0-9]{1,8}){0,2}$")  # what write_together names a staged file


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
    """Finish or undo what a killed run of this user left in ``folder``: committed cases are completed,
    uncommitted staging removed; anything else is left alone and named in one warning."""
    folder = Path(folder)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    ignored: list[str] = []
    for entry in entries:
        staging = _STAGING.match(entry.name)
        partial = _PARTIAL.match(entry.name)
        match = staging or partial
        if match is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not _ours(info):
            ignored.append(f"{entry.name} (another user's)")
            continue
        if _owner_alive(match["host"], int(match["pid"]), Path(entry.path)):
            continue
        if partial is not None:
            if stat.S_ISREG(info.st_mode):
                Path(entry.path).unlink(missing_ok=True)
            else:
                ignored.append(f"{entry.name} (not a file)")
        elif stat.S_ISDIR(info.st_mode):
            problem = _recover_staging(folder, Path(entry.path))
            if problem:
                ignored.append(f"{entry.name} ({problem})")
        else:
            ignored.append(f"{entry.name} (not a folder)")
    ignored = [name for name in ignored if (str(folder), name) not in _WARNED]  # a command recovers a folder twice
    _WARNED.update((str(folder), name) for name in ignored)
    if ignored:
        logger.warning("left alone in %s, not written by an interrupted run of this user that can be finished: %s",
                       folder, "; ".join(ignored))


def _recover_staging(folder: Path, staging: Path) -> str | None:
    """Finish a committed staging folder of this user, or remove an uncommitted one; the reason when neither."""
    journal = staging / JOURNAL
    try:
        info = journal.lstat()
    except FileNotFoundError:
        shutil.rmtree(staging, ignore_errors=True)  # never committed: the previous outputs stand
        return None
    except OSError as err:
        return f"journal unreadable: {err.strerror}"
    if not stat.S_ISREG(info.st_mode) or not _ours(info) or info.st_size > MAX_JOURNAL_BYTES:
        return "its journal is not a file of this user's"
    try:
        moves = _parse_journal(journal.read_bytes(), staging)
    except (OSError, ValueError, RecursionError) as err:
        return f"journal refused: {err}"
    logger.warning("completing the outputs of an interrupted run from %s", journal)
    _finish([(staging, moves)])
    return None


def _parse_journal(raw: bytes, staging: Path) -> list[tuple[Path, Path]]:
    """The (staged file, target) pairs of a journal, each checked to lie where write_together puts them."""
    document = json.loads(raw.decode("utf-8"))
    if not isinstance(document, dict) or document.get("version") != JOURNAL_VERSION:
        raise ValueError("not a journal of this version")
    moves = document.get("moves")
    if not isinstance(moves, list) or not moves:
        raise ValueError("no moves")
    pairs = []
    for move in moves:
        if not (isinstance(move, list) and len(move) == 2 and all(isinstance(n, str) for n in move)):
            raise ValueError("a move is not two names")
        staged, target = move
        if not _STAGED_NAME.match(staged):
            raise ValueError(f"source {staged!r} is not a staged file name")
        if not _plain_name(target):
            raise ValueError(f"target {target!r} is not a plain file name in this folder")
        source = staging / staged
        if source.exists() or source.is_symlink():
            source_info = source.lstat()
            if not stat.S_ISREG(source_info.st_mode) or not _ours(source_info):
                raise ValueError(f"source {staged!r} is not a file of this user's")
        existing = staging.parent / target
        if existing.is_symlink() or (existing.exists() and not existing.is_file()):
            raise ValueError(f"target {target!r} exists and is not a plain file")
        pairs.append((source, existing))
    if len({t for _, t in pairs}) != len(pairs):
        raise ValueError("two moves share a target")
    return pairs


def _plain_name(name: str) -> bool:
    return (0 < len(name) <= 255 and name not in (".", "..") and "/" not in name and "\\" not in name
            and "\0" not in name and not name.startswith(STAGING_PREFIX) and name != JOURNAL)


def _finish(stagings: list[tuple[Path, list[tuple[Path, Path]]]]) -> None:
    """Complete committed staging folders: in each, the files being replaced go first, then the new files
    arrive, the manifest (the journal's last move) last; then the staging folders are removed.

    Idempotent: a file still staged has not been moved, so recovery repeats exactly what is left.
    """
    for _, moves in stagings:
        for staged, target in reversed(moves):  # the old manifest first: no reader takes the old set meanwhile
            if staged.exists() and target.exists():
                target.unlink()  # the old version leaves before any new one is visible
    for _, moves in stagings:
        for staged, target in moves:
            if staged.exists():
                os.replace(staged, target)
    for staging, _ in stagings:
        _sync_folder(staging.parent)
        shutil.rmtree(staging, ignore_errors=True)  # while it exists, its journal decides


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest_text(manifest: Manifest, target: Path, staged: dict[Path, Path]) -> str:
    """The manifest's document with ``output_set``: every other file of the set, named relative to it."""
    files = [{"file": os.path.relpath(other, target.parent), "bytes": path.stat().st_size, "sha256": _sha256(path)}
             for other, path in staged.items()]
    output_set = {"files": files, "meaning": (
        "the other files written together with this one; a reader waits for this file and checks each sha256 "
        "(alk-radiomics verify-outputs) before using the set")}
    return manifest.dumps({**manifest.document, MANIFEST_KEY: output_set})


def write_together(files: Mapping[str | os.PathLike, Content | Manifest], *, overwrite: bool) -> list[Path]:
    """Write every file, or none: staged beside its destination, then committed as one unit.

    ``files`` maps each destination to its bytes, text, a function writing it to a given path (e.g. a
    DICOM dataset's ``save_as``), or at most one :class:`Manifest`, which is completed with the other files'
    checksums and moved into place last. Raises :class:`InputError` and leaves the destinations as they
    were when anything fails before the commit.
    """
    targets = [Path(os.path.abspath(p)) for p in files]
    contents = list(files.values())
    manifests = [i for i, content in enumerate(contents) if isinstance(content, Manifest)]
    if len(manifests) > 1:
        raise ValueError("a set of outputs has at most one manifest")
    order = [i for i in range(len(targets)) if i not in manifests] + manifests  # the manifest last
    folders = list(dict.fromkeys(t.parent for t in targets))
    for folder in folders:
        recover(folder)
    umask = os.umask(0)
    os.umask(umask)
    stagings: dict[Path, Path] = {}
    try:
        for folder in folders:
            stagings[folder] = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{writer_tag()}-", dir=folder))
        moves: dict[Path, list[tuple[Path, Path]]] = {folder: [] for folder in folders}
        staged: dict[Path, Path] = {}
        for number in order:
            target, content = targets[number], contents[number]
            path = stagings[target.parent] / f"{number}{''.join(target.suffixes[-2:])}"
            if not _STAGED_NAME.match(path.name):
                path = path.with_name(str(number))  # an odd suffix: the staged name needs none
            if isinstance(content, Manifest):
                content = _manifest_text(content, target, staged)
            _write(path, content)
            os.chmod(path, 0o666 & ~umask)  # ordinary permissions, as a plain open() would give
            staged[target] = path
            moves[target.parent].append((path, target))
        if not overwrite:
            refuse_existing({str(t): t for t in targets}, overwrite=False)  # appeared while we computed
        for folder in folders:
            _write_journal(stagings[folder], moves[folder])
    except BaseException as err:
        for staging in stagings.values():
            shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, (OSError, RuntimeError)):  # RuntimeError: SimpleITK's writers
            detail = err.strerror if isinstance(err, OSError) and err.strerror else str(err).strip().splitlines()[-1]
            raise InputError(f"Cannot write the outputs ({detail}); nothing was written.") from None
        raise
    _finish([(stagings[folder], moves[folder]) for folder in folders])
    return targets


def _write_journal(staging: Path, moves: list[tuple[Path, Path]]) -> None:
    """The commit point of one folder: its moves by name only, so a journal can never name another place."""
    temporary = staging / (JOURNAL + ".tmp")
    _write(temporary, json.dumps({"version": JOURNAL_VERSION, "moves": [[a.name, b.name] for a, b in moves]}))
    os.replace(temporary, staging / JOURNAL)
    _sync_folder(staging)


def check_manifest(path: str | os.PathLike) -> list[str]:
    """Check a manifest's set: each listed file present with its recorded size and sha256. Returns the files
    checked; raises :class:`InputError` naming the first file that is missing or differs."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InputError(f"Cannot read {path} as a JSON manifest ({type(err).__name__}).") from None
    output_set = document.get(MANIFEST_KEY) if isinstance(document, dict) else None
    listed = output_set.get("files") if isinstance(output_set, dict) else None
    if not isinstance(listed, list):
        raise InputError(f"{path} lists no output set ({MANIFEST_KEY}); it was written alone or by an older version.")
    checked = []
    for item in listed:
        if not (isinstance(item, dict) and isinstance(item.get("file"), str) and isinstance(item.get("sha256"), str)):
            raise InputError(f"{path}: an entry of {MANIFEST_KEY} is not a file with its sha256.")
        other = path.parent / item["file"]
        if not other.is_file():
            raise InputError(f"{item['file']} of the set {path} is missing: the set is incomplete.")
        if other.stat().st_size != item.get("bytes") or _sha256(other) != item["sha256"]:
            raise InputError(f"{item['file']} differs from the one written with {path}: not the same set "
                             "(another run replaced it, or it was changed).")
        checked.append(item["file"])
    return checked
