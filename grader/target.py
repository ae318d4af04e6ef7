"""Where an implementation lives: ``solutions``, ``stubs`` or a submission folder."""
from __future__ import annotations

from pathlib import Path

from grader.layout import LAYOUT

ROOT = LAYOUT.root
NAMED = {"solutions": LAYOUT.solutions, "stubs": LAYOUT.stubs}


class TargetError(ValueError):
    """A TARGET that names no implementation folder."""


def resolve(target: str) -> Path:
    """The folder of ``target``: a named tree of this repository, an existing directory or a zip.

    Raises
    ------
    TargetError
        When ``target`` is neither a known name nor a directory.
    """
    if target in NAMED:
        return NAMED[target]
    path = Path(target).expanduser()
    if not path.exists():
        raise TargetError(
            f"{target!r} does not exist; give 'solutions', 'stubs' or a submission folder laid out like stubs/"
        )
    if not path.is_dir() and path.suffix != ".zip":
        raise TargetError(f"{target!r} is a file; give the folder (or a .zip of it) that holds the submission's files")
    return path.resolve()
