"""Staging a submission for the worker: a bounded copy of regular files, and what its sources import."""
from __future__ import annotations

import ast
import importlib.util
import os
import shutil
from pathlib import Path

from grader.handle import SubmissionError
from grader.signatures import UNPARSABLE


def copy_submission(source: Path, dest: Path, budget: int) -> int:
    """Copy regular files only (never following a link), up to ``budget`` bytes in all subfolders.

    Returns the bytes left of ``budget``.
    """
    dest.mkdir(mode=0o755)
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
