"""Staging a submission for the worker: its confinement and folder, a bounded copy of regular files, and what its sources import."""
from __future__ import annotations

import ast
import importlib.util
import itertools
import os
import shutil
import tempfile
from pathlib import Path

from grader.cgroups import Group
from grader.handle import SubmissionError
from grader.isolation import Isolation, Limits, choose_isolation, claim_uid
from grader.signatures import UNPARSABLE

_groups = itertools.count()
PREFIX = "gradekit-sandbox-"  # then the pid of the process that made the folder


def confine(limits: Limits) -> tuple[Isolation, int | None, Group | None]:
    """The strongest isolation here, with a user claimed for it and its cgroup made: (isolation,
    the user's lock to close when done, the cgroup to remove when done)."""
    isolation = choose_isolation()
    lock = None
    if isolation.uid is not None:
        claimed = claim_uid()
        if claimed is None:
            isolation.uid = None
            isolation.missing.append("no free user id for the worker: it runs as root, without capabilities")
        else:
            isolation.uid, lock = claimed
    group = None
    if isolation.cgroup:
        group = Group(f"{os.getpid()}-{next(_groups)}", limits.tree_memory, limits.processes)
        group.create()
    return isolation, lock, group


def staging_folder(isolation: Isolation) -> Path:
    """A fresh folder holding ``submission/`` (what the worker sees) and ``scratch/`` (its working
    folder where bubblewrap gives it no private ``/tmp``)."""
    folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    folder.chmod(0o711)  # the worker's user may pass through, not list
    (folder / "submission").mkdir(mode=0o755)
    (folder / "scratch").mkdir(mode=0o700)
    if isolation.uid is not None:
        os.chown(folder / "scratch", isolation.uid, isolation.uid)
    return folder


def release(folder: Path, lock: int | None, group: Group | None) -> None:
    """Give back what :func:`confine` and :func:`staging_folder` made, once nothing runs there."""
    shutil.rmtree(folder, ignore_errors=True)
    if group is not None:
        group.remove()
    if lock is not None:
        os.close(lock)


def _dead(owner: str) -> bool:
    """Whether ``owner`` (a pid, then ``-`` and more) names a process that no longer runs."""
    pid = owner.partition("-")[0]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def sweep() -> int:
    """Remove the staging folders and cgroups that processes killed outright (SIGKILL, as when a
    batch is interrupted) could not :func:`release`; return how many went.

    Only what a dead process made goes: another grading run's sandboxes are left alone, and a
    cgroup that still holds a process cannot be removed.
    """
    folders = [folder for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*")
               if _dead(folder.name.removeprefix(PREFIX))]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return len(folders) + Group.sweep(_dead)


def copy_submission(source: Path, dest: Path, budget: int) -> int:
    """Copy regular files only (never following a link), up to ``budget`` bytes in all subfolders.

    Returns the bytes left of ``budget``.
    """
    dest.mkdir(mode=0o755, exist_ok=True)
    for entry in sorted(source.iterdir()):
        if entry.is_symlink() or entry.name == "__pycache__":
            continue
        if entry.is_dir():
            budget = copy_submission(entry, dest / entry.name, budget)
        elif entry.is_file():
            budget -= entry.stat().st_size
            if budget < 0:
                raise SubmissionError(f"the submission folder is larger than the limit; {entry.name} and later files left out")
            shutil.copyfile(entry, dest / entry.name)
            os.chmod(dest / entry.name, 0o644)
    return budget


def oversized_sources(folder: Path, limit: int) -> dict[str, str]:
    """``{topic: why}`` for each ``topic.py`` in ``folder`` larger than ``limit`` bytes.

    This side parses sources with ``ast`` (signatures, imports to prefetch), outside every
    limit of the worker, and a pathological file costs ~600 bytes of memory and ~3 us per
    byte (a million ``_=0`` lines: 4 MiB of source, 2.5 GB to parse); the 64 MiB a submission
    may hold would take tens of GiB. Such a topic fails unparsed and is never imported.
    """
    return {path.stem: f"{path.name} is {path.stat().st_size >> 10} KiB; a source file may be at most {limit >> 10} KiB"
            for path in sorted(folder.glob("*.py")) if path.is_file() and path.stat().st_size > limit}


def library_imports(files: list[Path]) -> list[str]:
    """Installed modules that ``files`` import at top level, read with ``ast`` (nothing runs)."""
    names: list[str] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except UNPARSABLE:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.append(node.module)
    found = []
    for name in dict.fromkeys(names):
        top = name.partition(".")[0]
        spec = importlib.util.find_spec(top) if top.isidentifier() else None
        if spec is not None and spec.origin not in (None, "built-in", "frozen") and top not in ("grader", "course", "solutions"):
            found.append(name)
    return found
