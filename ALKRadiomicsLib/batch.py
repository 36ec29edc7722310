"""Feature extraction over a cohort: parallel, resumable, on one machine or a Dask cluster.

Every case's result goes to a cache file named by a key of its image, mask, label, settings
and feature set as soon as it is computed, so a run that crashes or is killed resumes with only
what is missing. A cache folder may be shared, so an entry is a file this run did not write: each is
sealed with an HMAC-SHA256 of its key and content under a secret of this user's
(``$ALK_RADIOMICS_CACHE/cache-secret``, mode 0600, from :mod:`secrets`); an entry that is damaged,
altered, non-finite, or filed under another key is computed again, and the summary says how many.

Cases run on a Dask cluster (a local one with ``workers`` processes by
default, or an existing scheduler's address); the output is the same as a serial run's: the
same code computes each case, and rows are written in the cohort's order.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io as text_io
import json
import logging
import math
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .atomic import write_text_atomic
from .cohort import CohortRow
from .csvsafe import spreadsheet_safe
from .errors import ALKRadiomicsError, InputError, MissingDependencyError
from .features import SIGNATURE_FEATURES, extract
from .io import load_case
from .outputs import recover
from .resources import load_parameters

logger = logging.getLogger(__name__)

SCHEDULER_TIMEOUT_S = 5


@dataclass(frozen=True)
class BatchSummary:
    cases: int
    computed: int
    from_cache: int
    errors: int
    rejected: int = 0  # cache entries that failed their check and were computed again


def _fingerprint(path: str) -> str:
    """Content hash of a file; for a DICOM folder, of its file names, sizes and modification times."""
    target = Path(path)
    digest = hashlib.sha256()
    if target.is_dir():
        for entry in sorted(target.iterdir()):
            if entry.is_file():
                stat = entry.stat()
                digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    elif target.is_file():
        with open(target, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        digest.update(f"missing:{target}".encode())
    return digest.hexdigest()


def cache_key(row: CohortRow, all_features: bool) -> str:
    """Key of a case's result: image and mask contents, label, settings, feature set, software version."""
    parts = {
        "image": _fingerprint(row.image), "mask": _fingerprint(row.mask), "label": row.label,
        "settings": load_parameters(), "all": all_features, "version": __version__,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def extract_case(row: CohortRow, all_features: bool) -> dict:
    """One case's features, or its error as text (a bad case never stops the run)."""
    try:
        case = load_case(row.image, row.mask, label=row.label)
        return {"id": row.id, "error": "", "features": extract(case, all_features=all_features)}
    except ALKRadiomicsError as err:
        return {"id": row.id, "error": str(err), "features": {}}


def run_batch(rows: list[CohortRow], out: str | os.PathLike, *, all_features: bool = False,
              workers: int | None = None, scheduler: str | None = None, serial: bool = False,
              cache_dir: str | os.PathLike | None = None,
              progress: Callable[[int, int, int], None] | None = None) -> BatchSummary:
    """Extract every row's features into the CSV ``out`` (columns: id, error, then the features)."""
    out = Path(out)
    cache = Path(cache_dir) if cache_dir else out.with_name(out.name + ".cache")
    created = _open_cache(cache)
    recover(cache)  # .partial files of cache entries a killed run was writing
    keys = {row.id: cache_key(row, all_features) for row in rows}
    secret = cache_secret()
    results, rejected = {}, []
    for row in rows:
        path = cache / f"{keys[row.id]}.json"
        cached = _read_cached(path, keys[row.id], row.id, secret)
        if cached is not None:
            results[row.id] = cached
        elif path.exists():
            rejected.append(row.id)
    if rejected:
        logger.warning("%d cache entries failed their check (damaged, altered, or not written by this user and "
                       "version): %s; computing those cases again", len(rejected),
                       ", ".join(rejected[:3]) + (" ..." if len(rejected) > 3 else ""))
    todo = [row for row in rows if row.id not in results]
    from_cache = len(results)
    report = progress or (lambda done, total, errors: None)
    report(len(results), len(rows), sum(bool(r["error"]) for r in results.values()))

    def keep(result: dict) -> None:
        if all(math.isfinite(v) for v in result["features"].values()):  # a NaN is never kept: computed again
            write_text_atomic(cache / f"{keys[result['id']]}.json", _sealed(keys[result["id"]], result, secret))
        results[result["id"]] = result
        report(len(results), len(rows), sum(bool(r["error"]) for r in results.values()))

    try:
        if todo and serial:
            for row in todo:
                keep(extract_case(row, all_features))
        elif todo:
            for result in _dask_map(todo, all_features, workers=workers, scheduler=scheduler):
                keep(result)
    except BaseException:
        if created and not any(cache.iterdir()):
            cache.rmdir()  # a run that failed before computing anything leaves nothing behind
        raise
    write_text_atomic(out, _features_csv(rows, results, all_features))
    return BatchSummary(cases=len(rows), computed=len(todo), from_cache=from_cache,
                        errors=sum(bool(r["error"]) for r in results.values()), rejected=len(rejected))


def _open_cache(cache: Path) -> bool:
    """Make sure the cache folder can hold results; True if this run created it."""
    if cache.exists() and not cache.is_dir():
        raise InputError(f"Cache {cache} is a file, not a folder; give --cache a folder (it is created if absent).")
    created = not cache.exists()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"Cannot create the cache folder {cache}: {err.strerror}; give --cache a writable folder.") \
            from None
    if not os.access(cache, os.W_OK | os.X_OK):
        raise InputError(f"Cache folder {cache} is not writable; give --cache a writable folder.")
    return created


def cache_secret() -> bytes:
    """This user's secret for sealing cache entries, made once with :mod:`secrets` (mode 0600). Where it cannot
    be kept, entries are still checksummed (corruption is caught, tampering by someone who can write the cache
    folder is not), and a warning says so."""
    from .sample_data import cache_dir

    try:
        path = cache_dir() / "cache-secret"
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            info = os.lstat(path)
            owner = getattr(os, "geteuid", None)
            if not stat.S_ISREG(info.st_mode) or (owner is not None and info.st_uid != owner()) \
                    or info.st_mode & 0o077 or info.st_size < 32:
                raise OSError("not a private file of this user's") from None
            return path.read_bytes()
        with os.fdopen(handle, "wb") as stream:
            stream.write(secrets.token_bytes(32))
        return path.read_bytes()
    except OSError as err:
        logger.warning("cache entries are checksummed but not sealed against other users (cannot keep a secret "
                       "in %s: %s)", os.environ.get("ALK_RADIOMICS_CACHE", "~/.cache/alk-radiomics"), err)
        return b""


def _seal(key: str, error: str, features: dict, secret: bytes) -> str:
    body = json.dumps({"key": key, "error": error, "features": features}, sort_keys=True, allow_nan=False,
                      separators=(",", ":"))
    return hmac.new(secret, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _sealed(key: str, result: dict, secret: bytes) -> str:
    """A cache entry: the case's key, error and features, and their seal."""
    return json.dumps({"key": key, "error": result["error"], "features": result["features"],
                       "seal": _seal(key, result["error"], result["features"], secret)})


def _read_cached(path: Path, key: str, case_id: str, secret: bytes) -> dict | None:
    """A cached result, or None when absent or failing its check (then the case is computed again)."""
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        entry = None
    # The key is the content, not the id: two rows with the same image and mask share an entry.
    valid = (isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("error"), str)
             and isinstance(entry.get("features"), dict) and isinstance(entry.get("seal"), str)
             and all(isinstance(v, float) and math.isfinite(v) for v in entry["features"].values()))
    if valid:
        valid = hmac.compare_digest(entry["seal"], _seal(key, entry["error"], entry["features"], secret))
    if not valid:
        return None
    return {"id": case_id, "error": entry["error"], "features": entry["features"]}


def _dask_map(rows: list[CohortRow], all_features: bool, *, workers: int | None,
              scheduler: str | None) -> Iterable[dict]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed

        logging.getLogger("distributed").setLevel(logging.WARNING)
    except ImportError:
        raise MissingDependencyError("Parallel batch extraction needs Dask: pip install 'alk-radiomics[batch]' "
                                     "(or use --serial).") from None
    if scheduler:
        try:
            # A scheduler that does not answer within seconds is not there: fail fast, not after 30 s.
            client, cluster = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S), None
        except (OSError, TimeoutError, ValueError, TypeError) as err:
            raise InputError(f"Cannot reach the Dask scheduler {scheduler} within {SCHEDULER_TIMEOUT_S} s "
                             f"({type(err).__name__}); check --scheduler, or run with --workers N or --serial.") \
                from None
    else:
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        futures = client.map(extract_case, rows, all_features=all_features, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _features_csv(rows: list[CohortRow], results: dict[str, dict], all_features: bool) -> str:
    names: list[str] = list(SIGNATURE_FEATURES) if not all_features else []
    for result in results.values():
        if result["features"]:
            names = list(result["features"])
            break
    buffer = text_io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "error", *names])
    for row in rows:
        result = results[row.id]
        writer.writerow([spreadsheet_safe(row.id), spreadsheet_safe(result["error"]),
                         *(repr(result["features"][n]) if result["features"] else "" for n in names)])
    return buffer.getvalue()


def progress_bar(done: int, total: int, errors: int) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / total) if total else width
    print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} cases, {errors} errors", end="",
          file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)
