"""The cache folder: locks, stale-file sweeping, verification, pinned hashes and imports.

Layout: ``<cache>/<registry path>``, the same as a mirror. Anything that writes into a folder
of the cache holds that folder's lock (``<folder>/.lock``, an OS file lock that dies with its
process), so two processes never write the same file and, while the lock is held, any
``tmpXXXXXXXX`` file in the folder is a leftover of a killed download and is deleted.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pooch

from .catalog import Dataset, get_dataset
from .errors import DataFetchError
from .registry import CACHE_ENV, cache_dir, known_hash

__all__ = [
    "FileReport",
    "expected_hash",
    "file_state",
    "import_dataset",
    "locked",
    "pinned_hashes",
    "sweep",
    "verify_dataset",
]

PINS_FILE = "pinned-hashes.txt"
# pooch (and this module) write downloads to tempfile.NamedTemporaryFile(dir=folder) files.
_TMP_NAME = re.compile(r"^tmp[a-z0-9_]{8}$")


@dataclass(frozen=True)
class FileReport:
    """The state of one registry file: ``verified``, ``missing``, ``corrupt``, ``unverifiable``
    (present but no checksum is known), ``imported``, ``pinned`` or ``refused``."""

    path: str
    state: str
    detail: str = ""


def sweep(folder: Path) -> list[Path]:
    """Delete leftover temporary files of killed downloads in *folder*; return what was deleted.

    Call it only while holding ``locked(folder)``: then no live download can own such a file.
    """
    removed = []
    if folder.is_dir():
        for entry in folder.iterdir():
            if _TMP_NAME.match(entry.name) and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed.append(entry)
    return removed


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[Path]:
    """Hold the cross-process lock of a cache folder (created if needed), after a sweep."""
    from filelock import FileLock

    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".lock"))
        lock.acquire()
    except OSError as err:
        msg = (
            f"Cannot write to the data cache folder {folder}: {err}. Nothing was downloaded. "
            f"Set {CACHE_ENV} to a writable folder (the cache is {cache_dir()})."
        )
        raise DataFetchError(msg) from err
    try:
        sweep(folder)
        yield folder
    finally:
        lock.release()


def pinned_hashes() -> dict[str, str]:
    """Return the SHA-256s recorded by ``data-fetch import --pin`` in this cache, by path."""
    pins = cache_dir() / PINS_FILE
    if not pins.is_file():
        return {}
    entries = (line.split() for line in pins.read_text(encoding="utf-8").splitlines())
    return {fields[0]: fields[1] for fields in entries if len(fields) == 2}


def _write_pin(path: str, digest: str) -> None:
    root = cache_dir()
    with locked(root):
        pins = pinned_hashes()
        pins[path] = digest
        text = "".join(f"{key} {value}\n" for key, value in sorted(pins.items()))
        tmp = tempfile.NamedTemporaryFile("w", dir=root, delete=False, encoding="utf-8")
        with tmp:
            tmp.write(
                "# Hashes recorded by `data-fetch import --pin` for files with no published "
                "checksum.\n" + text
            )
        os.replace(tmp.name, root / PINS_FILE)


def expected_hash(path: str) -> str | None:
    """The hash a cached file must have: the registry's, else a pinned one, else None."""
    return known_hash(path) or pinned_hashes().get(path)


def _matches(file: Path, digest: str, size: int | None) -> bool:
    if size is not None and file.stat().st_size != size:
        return False
    return pooch.hashes.hash_matches(str(file), digest)


def file_state(path: str, dataset: Dataset | None = None) -> FileReport:
    """Check one cached file against its expected hash (size first, then the hash)."""
    file = cache_dir() / path
    if not file.is_file():
        return FileReport(path, "missing")
    digest = expected_hash(path)
    if digest is None:
        return FileReport(path, "unverifiable", "no published checksum and no pin")
    size = dataset.files.get(path) if dataset is not None else None
    if _matches(file, digest, size):
        pinned = known_hash(path) is None
        return FileReport(path, "verified", "pinned hash" if pinned else "")
    actual = pooch.file_hash(str(file))
    return FileReport(path, "corrupt", f"expected {digest}, got sha256:{actual}")


def verify_dataset(name: str) -> list[FileReport]:
    """Return the state of every file of dataset *name* in the cache."""
    dataset = get_dataset(name)
    return [file_state(path, dataset) for path in dataset.files]


def _find(directory: Path, path: str, dataset: Dataset) -> Path | None:
    """Find the file for registry *path* in a user's folder: by relative path, then by name."""
    base = path.rsplit("/", 1)[-1]
    inner = path[len(dataset.folder) + 1 :] if path.startswith(dataset.folder + "/") else base
    for candidate in (directory / path, directory / inner, directory / base):
        if candidate.is_file():
            return candidate
    found = sorted(p for p in directory.rglob(base) if p.is_file())
    return found[0] if found else None


def import_dataset(name: str, directory: str | os.PathLike, pin: bool = False) -> list[FileReport]:
    """Copy a dataset's files from a folder into the cache, each verified before it enters.

    Files are found in *directory* by their registry path, their path inside the dataset folder,
    or their file name (searched recursively). Each is copied to a temporary file in the cache
    folder, and the copy is hashed; only a copy whose hash matches is moved to its final name.

    Parameters
    ----------
    name : str
        Dataset name (``data-fetch list``).
    directory : path
        Folder holding the hand-downloaded files.
    pin : bool
        For files with no published checksum only: accept the copy and record its SHA-256 in
        ``<cache>/pinned-hashes.txt``, so later loads are checked against it. Use it only for a
        copy you checked yourself.

    Returns
    -------
    list of FileReport
        One per file: ``imported``, ``pinned``, ``verified`` (already cached), ``missing``
        (not in *directory* nor cached) or ``refused`` (hash mismatch, or no checksum without
        *pin*) with the reason.
    """
    dataset = get_dataset(name)
    source_dir = Path(directory).expanduser()
    if not source_dir.is_dir():
        raise DataFetchError(f"Cannot import {name!r}: {str(directory)!r} is not a folder.")
    reports = []
    for path in dataset.files:
        source = _find(source_dir, path, dataset)
        if source is None:
            state = "verified" if file_state(path, dataset).state == "verified" else "missing"
            reports.append(FileReport(path, state, f"not found in {source_dir}"))
            continue
        reports.append(_import_one(path, source, dataset, pin))
    return reports


def _import_one(path: str, source: Path, dataset: Dataset, pin: bool) -> FileReport:
    digest = expected_hash(path)
    if digest is None and not pin:
        return FileReport(
            path, "refused",
            f"{source}: no checksum is published for this file, so it cannot be verified; "
            "if you checked this copy yourself, import it again with --pin",
        )
    target = cache_dir() / path
    with locked(target.parent):
        tmp = tempfile.NamedTemporaryFile(dir=target.parent, delete=False)
        tmp.close()
        try:
            shutil.copyfile(source, tmp.name)
            alg = pooch.hashes.hash_algorithm(digest) if digest else "sha256"
            actual = pooch.file_hash(tmp.name, alg=alg)
            if digest is not None and actual != digest.split(":")[-1]:
                return FileReport(
                    path, "refused",
                    f"{source}: {alg.upper()} {actual} does not match the expected "
                    f"{digest.split(':')[-1]}; the file is corrupt or a different version. "
                    "It was not copied into the cache.",
                )
            os.chmod(tmp.name, 0o644)  # NamedTemporaryFile files are private (0600)
            os.replace(tmp.name, target)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp.name)
    if digest is None:
        _write_pin(path, actual)
        return FileReport(path, "pinned", f"from {source}; sha256 {actual} recorded")
    return FileReport(path, "imported", f"from {source}")
