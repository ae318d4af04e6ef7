"""Writing results so that a reader finds each file, or folder, complete or absent, never torn.

A file goes into a temporary file in its own folder, is synced, and is renamed over its final
name; a folder is filled under a temporary name and renamed into place the same way. A rename
within one file system is atomic, and it replaces a symlink planted at the final name instead of
following it. The parent folder is synced after each rename, so a power loss keeps it too.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TEMPORARY_PREFIX = ".partial-"  # what an interrupted write leaves behind; swept by the next run


def _umask() -> int:
    mask = os.umask(0o022)  # read at import, before any thread: os.umask can only be read by setting it
    os.umask(mask)
    return mask


_MODE_MASK = ~_umask()  # mkstemp and mkdtemp make private files; results get the usual modes


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a synced temporary file in the same folder."""
    path = Path(path).absolute()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY_PREFIX}{path.name}-")
    try:
        os.fchmod(fd, 0o666 & _MODE_MASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def partial_folder(final: Path) -> Path:
    """A new, empty folder beside ``final`` to fill before :func:`commit_folder` moves it there."""
    final = Path(final).absolute()
    partial = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{TEMPORARY_PREFIX}{final.name}-"))
    partial.chmod(0o777 & _MODE_MASK)
    return partial


def commit_folder(partial: Path, final: Path) -> None:
    """Move the filled ``partial`` folder to ``final``, replacing what was there.

    Each file in it is synced first. An old ``final`` is first renamed aside, then removed: a
    reader sees the old folder or the new one, and a crash in between leaves only a
    ``.partial-`` folder, which :func:`sweep` removes.
    """
    final = Path(final).absolute()
    for path in partial.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _sync_folder(partial)
    old = None
    if final.is_symlink() or final.is_file():
        final.unlink()
    elif final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=f"{TEMPORARY_PREFIX}{final.name}-old-"))
        os.replace(final, old)  # onto the empty folder just made: a rename, never a copy
    os.replace(partial, final)
    _sync_folder(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sweep(folder: Path) -> list[Path]:
    """Remove what interrupted writes left in ``folder``; return what was removed."""
    removed = []
    for path in Path(folder).glob(f"{TEMPORARY_PREFIX}*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
