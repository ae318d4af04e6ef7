"""The workers' scratch folder, seen from the trusted side: how full it is, and emptying it.

Under bubblewrap the scratch is a private tmpfs, measured whole by ``statvfs``; elsewhere it is a
folder of the staging area, counted entry by entry up to a bound. It is emptied only once every
process of the submission's worker is dead, so nothing can swap a folder for a link meanwhile,
and by ``rm --one-file-system``, which never follows a link, copes with any depth, and leaves alone
what bubblewrap binds below a private ``/tmp`` (a checkout that lives under ``/tmp``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

_BATCH = 1000


def usage(folder: Path, enough: int, *, whole_filesystem: bool) -> tuple[int, int]:
    """(entries, bytes) in ``folder``: of its whole file system (its root counts as one entry), or
    counted entry by entry, stopping at ``enough`` entries."""
    if whole_filesystem:
        try:
            fs = os.statvfs(folder)
        except OSError:
            return 0, 0
        return fs.f_files - fs.f_ffree, (fs.f_blocks - fs.f_bfree) * fs.f_frsize
    entries = size = 0
    pending = [str(folder)]
    while pending and entries < enough:
        try:
            with os.scandir(pending.pop()) as found:
                for entry in found:
                    entries += 1
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        size += info.st_size
                    elif stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
                    if entries >= enough:
                        break
        except OSError:
            continue
    return entries, size


def _entries(folder: Path) -> list[str]:
    """The entries of ``folder`` on its own file system (not what is mounted there)."""
    try:
        device = os.lstat(folder).st_dev
        return [str(folder / name) for name in os.listdir(folder) if os.lstat(folder / name).st_dev == device]
    except OSError:
        return []


def _run(command: Callable[[list[str]], list[str]], paths: list[str]) -> None:
    for start in range(0, len(paths), _BATCH):  # a command line has a length limit
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(command(paths[start:start + _BATCH]), capture_output=True, timeout=600, check=False)


def empty(folder: Path) -> None:
    """Remove everything in ``folder`` that can be removed; only once no process can write there."""
    rm = shutil.which("rm") or "/bin/rm"
    _run(lambda paths: [rm, "-rf", "--one-file-system", "--", *paths], _entries(folder))
    left = _entries(folder)
    if left and os.geteuid() != 0:  # a folder its owner made unreadable: ours to open again
        find = shutil.which("find") or "/usr/bin/find"
        _run(lambda paths: [find, *paths, "-xdev", "-type", "d", "-exec", "chmod", "u+rwx", "{}", "+"], left)
        _run(lambda paths: [rm, "-rf", "--one-file-system", "--", *paths], left)
