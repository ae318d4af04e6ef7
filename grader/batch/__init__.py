"""Grading a whole class: ``grader batch``, resumable, one student isolated from the next.

- :mod:`~grader.batch.students`: finding the students in a folder or a bulk-export zip;
- :mod:`~grader.batch.store`: the output folder, its lock, resuming from complete folders;
- :mod:`~grader.batch.task`: grading one student (plain JSON in, a committed folder out);
- :mod:`~grader.batch.slot`: job slots, processes that import the checks once and fork a grading child per student;
- :mod:`~grader.batch.local` and :mod:`~grader.batch.cluster`: running the tasks on ``--jobs`` slots or on Dask;
- :mod:`~grader.batch.gradebook` and :mod:`~grader.batch.progress`: what the batch writes and says.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.batch.gradebook import csv_text, summary, units
from grader.batch.local import cpus, gpus, job_slots
from grader.batch.progress import Progress
from grader.batch.store import Store
from grader.batch.students import Student, discover, fingerprint
from grader.batch.task import FAILED, record_of
from grader.files import write_atomically
from grader.sandbox.staging import sweep

__all__ = ["Options", "run_batch"]


@dataclass(frozen=True)
class Options:
    """How to grade every student of a batch."""

    assignment: str
    only: tuple[str, ...] = ()
    public_only: bool = False
    call_timeout: float = 30.0
    import_timeout: float = 60.0
    jobs: int = 1  # slots on this machine, without a scheduler
    scheduler: str | None = None  # 'local:N' or a Dask scheduler's address
    force: bool = False  # grade again students who have a complete result
    heavy: str | None = None  # size of the training checks: none, quick or full (default: the assignment's)
    device: str = "auto"  # where training runs: auto, cpu or cuda


def _task(student: Student, store: Store, options: Options, graded_as: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"student": student.id, "source": str(student.source.absolute()), "output": str(store.root),
            "scratch": str(store.scratch), "assignment": options.assignment, "only": list(options.only),
            "public_only": options.public_only, "call_timeout": options.call_timeout,
            "import_timeout": options.import_timeout, "heavy": options.heavy, "device": options.device,
            "empty": student.empty, "notes": list(student.notes), "graded_as": graded_as}


def _graded_as(student: Student, options: Options) -> dict[str, Any]:
    """What a stored result must have been graded from and with to count as this run's."""
    source = student.source if student.source.exists() and not student.source.is_symlink() else None
    return {"submission": fingerprint(source) if source is not None else None, "assignment": options.assignment,
            "only": sorted(options.only), "public_only": options.public_only, "heavy": options.heavy}


def _stored(store: Store, student: Student, options: Options, graded_as: dict[str, Any]) -> dict[str, Any] | None:
    """The complete result of ``student`` for this very submission and these options, if there is one."""
    record = None if options.force else store.record(student.id)
    return record if record is not None and record.get("graded_as") == graded_as else None


def run_batch(submissions: Path, output: Path, options: Options,
              echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Grade every student of ``submissions`` into ``output``; return the gradebook's records.

    Students with a complete folder in ``output``, graded from the same submission (its SHA-256)
    with the same assignment and selection, are not graded again unless ``options.force``.
    Refused students (duplicate identifiers, unreadable zips or zip bombs) get a
    ``failed-to-grade`` row and no folder; their reason is found again on every run.

    Raises
    ------
    grader.assignments.AssignmentError
        For an unknown assignment.
    grader.batch.store.BatchBusy
        When another batch writes into ``output``.
    grader.submission.SubmissionFormatError
        For a bulk export that cannot be unpacked.
    FileNotFoundError
        When ``submissions`` does not exist.
    """
    from grader import assignments
    from grader.grade import selected

    manifest = assignments.load(options.assignment)
    options = dataclasses.replace(options, heavy=options.heavy or manifest.heavy_level)
    store = Store(output)
    swept = store.open()
    try:
        if swept:
            echo(f"removed {len(swept)} unfinished write(s) of an interrupted run")
        if left := sweep():
            echo(f"removed {left} sandbox folder(s) and cgroup(s) left by killed grading processes")
        students, notes = discover(submissions, store.scratch)
        for note in notes:
            echo(note)
        refused = [record_of(_task(s, store, options), FAILED, s.refused, 0.0) for s in students if s.refused]
        todo, done = [], []
        for student in (s for s in students if not s.refused):
            graded_as = _graded_as(student, options)
            stored = _stored(store, student, options, graded_as)
            if stored is None:
                todo.append(_task(student, store, options, graded_as))
            else:
                done.append(stored)
        records = refused + done
        jobs = job_slots(options.jobs, options.heavy, options.device, gpus())
        where = options.scheduler or f"{jobs} job slot{'s' * (jobs != 1)}"
        echo(f"{len(students)} students: {len(todo)} to grade on {where}, {len(done)} already done, "
             f"{len(refused)} refused")
        progress = Progress(len(todo))
        try:
            for record in _run(todo, dataclasses.replace(options, jobs=jobs), store):
                records.append(record)
                progress.done(record)
        finally:
            progress.close()
            sweep()  # the slots of an interrupted batch are killed outright
        columns = units(records, selected(manifest, options.only))
        write_atomically(store.root / "gradebook.csv", csv_text(records, columns))
        echo(summary(records, columns).rstrip("\n"))
        echo(f"wrote {store.root / 'gradebook.csv'} and a folder per graded student")
        return records
    finally:
        store.close()


def _run(tasks: list[dict[str, Any]], options: Options, store: Store) -> Iterator[dict[str, Any]]:
    """Each task's record as it is done; a student with nothing to grade is written here, with no child to run."""
    from grader.batch.task import grade_student

    for task in tasks:
        if task["empty"]:
            yield grade_student(task)
    tasks = [task for task in tasks if not task["empty"]]
    if not tasks:
        return
    if options.scheduler:
        from grader.batch.cluster import run_cluster

        yield from run_cluster(tasks, options.scheduler)
    else:
        from grader.batch.local import run_local

        training = options.heavy != "none" and options.device != "cpu"
        yield from run_local(tasks, options.jobs, store.scratch, gpus=gpus() if training else 0)


def default_jobs() -> int:
    """The CPUs this process may use: one slot each."""
    return cpus()
