"""Distribution: what one assignment becomes for the people who use it.

- ``student.py``: the student kit (``grader package student``): the handout's files as stubs,
  the engine, the provided code and loaders, and the public checks of the assignment's units,
  installable with ``pip install``; ``grader check`` runs the checks.
- ``gradescope.py``: the Gradescope autograder archive (``grader package gradescope``):
  ``setup.sh``, ``run_autograder`` and a project with every check and the reference solutions.
- ``content.py``: the rules that choose files for either (no hand-kept lists), ``hidden.py``
  the one that leaves hidden declarations out, ``project.py`` the ``pyproject.toml`` they
  install with, ``handout.py`` the handout's files, ``write.py`` a folder or zip on disk.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from grader.assignments import Assignment


class PackageError(ValueError):
    """Packaging cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Built:
    """What a packaging command made."""

    path: Path
    size: int  # bytes: the archive, or the files of a folder
    files: int
    warnings: tuple[str, ...] = ()  # said on the terminal, and by exit status 0 all the same
    left_out: tuple[str, ...] = ()  # hidden declarations a student kit does not carry


def pending_warning(assignment: Assignment) -> str | None:
    """The warning that names an assignment's pending units, which no package can check yet."""
    if not assignment.pending:
        return None
    return (f"{assignment.name}: {len(assignment.pending)} pending units ({sum(assignment.pending.values()):g} of "
            f"{assignment.total:g} points; topics not built yet) are not in the package: {', '.join(assignment.pending)}")
