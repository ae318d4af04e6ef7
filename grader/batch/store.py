"""The batch's output folder: one complete folder per graded student, the gradebook, a lock, scratch.

::

    DIR/
      gradebook.csv
      <student>/results.json     Gradescope's format, as ``grader grade --format gradescope``
      <student>/feedback.md      for the student (hidden facets: only that they failed)
      <student>/feedback.html    the same, one self-contained page
      <student>/record.json      for the course staff: status, reason, seconds, the full report
      .scratch/                  unpacked exports and submissions, the slots' logs
      .lock                      held while a batch runs here

A student's folder is filled under a temporary name and renamed into place
(:func:`grader.files.commit_folder`): it is complete or absent. Its ``record.json`` is what
resuming reads; a folder without one is not ours and is graded again.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from grader.files import sweep

RECORD = "record.json"
SCRATCH = ".scratch"
LOCK = ".lock"


class BatchBusy(RuntimeError):
    """Another batch is writing into the same output folder."""


class Store:
    """The output folder of one batch."""

    def __init__(self, root: Path):
        self.root = Path(root).absolute()
        self.scratch = self.root / SCRATCH
        self._lock: Any = None

    def open(self) -> list[Path]:
        """Make the folders, take the lock and sweep what an interrupted run left; return what was swept.

        Raises
        ------
        BatchBusy
            When another batch holds the lock.
        """
        from filelock import FileLock, Timeout

        self.scratch.mkdir(parents=True, exist_ok=True)
        self._lock = FileLock(self.root / LOCK)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise BatchBusy(f"another grader batch is writing into {self.root} (it holds {self.root / LOCK}); "
                            "wait for it, or give another --output") from None
        return sweep(self.root)

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def folder(self, student: str) -> Path:
        return self.root / student

    def record(self, student: str) -> dict[str, Any] | None:
        """The stored record of ``student``, or None when there is no complete one."""
        path = self.folder(student) / RECORD
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("student") == student else None

    def slot_log(self, name: str) -> Path:
        return self.scratch / f"{name}-{os.getpid()}.log"
