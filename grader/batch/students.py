"""Finding the students of a class hand-in: one folder or zip each, in a folder or a bulk-export zip.

Accepted layouts of SUBMISSIONS:

- a folder holding one folder or ``.zip`` per student (the student is the folder's name, or the
  zip's without ``.zip``);
- a ``.zip`` of such a folder: a bulk export. Gradescope's "Export Submissions" (an
  ``assignment_<id>_export/`` folder of ``submission_<id>/`` folders) and Moodle's "Download all
  submissions" (``<name>_<id>_assignsubmission_file_/`` folders) are of this kind; their metadata
  files are ignored, so a student is known by the folder's name. Canvas's flat export (one file
  per upload, the student in the file's name) is not accepted.

A folder that holds nothing but one folder or one zip stands for what it holds (a wrapping
folder, a student's uploaded zip). Hidden entries, ``__MACOSX`` and loose files are ignored and
said. Nothing here runs or imports submitted code; zips are read through
:func:`grader.submission.zip_plan`, and a bulk export is unpacked only into the batch's scratch.
"""
from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from grader.submission import SubmissionFormatError, unzip, zip_plan

CODE = (".py", ".ipynb")
EXPORT_LIMIT = 4 << 30  # bytes a bulk export may unpack to: a class of a few hundred, each under the per-zip limit
EXPORT_MEMBERS = 200_000
RESERVED = ("gradebook.csv",)  # names of the batch's own files in its output folder


@dataclass(frozen=True)
class Student:
    """One entry of the class: what to grade, or why it cannot be."""

    id: str  # the folder's name, or the zip's without .zip
    source: Path  # the folder or zip that holds the submission
    refused: str = ""  # not graded at all (a duplicate identifier, a zip bomb): failed-to-grade, with this reason
    empty: str = ""  # nothing gradable in it: graded as empty, with this reason
    notes: tuple[str, ...] = ()  # said in its gradebook row, e.g. zip entries left out


def fingerprint(source: Path) -> str:
    """SHA-256 of a submission as handed in: a zip's bytes, or a folder's file names and contents
    (links not followed); a result of another version of it is not a result of this one."""
    digest = hashlib.sha256()
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    for path in files:
        digest.update(str(path.relative_to(source) if path != source else path.name).encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _entries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX")


def _stands_for(path: Path) -> Path:
    """The folder or zip that ``path`` stands for: itself, or what a folder of one entry and no code holds."""
    while path.is_dir() and not path.is_symlink():
        inside = _entries(path)
        if any(p.is_file() and p.suffix in CODE for p in inside) or len(inside) != 1:
            break
        only = inside[0]
        if only.is_symlink() or not (only.is_dir() or only.suffix == ".zip"):
            break
        path = only
    return path


def _code_in_zip(archive: Path) -> tuple[bool, list[str]]:
    """Whether the zip holds code where the grader looks (its top, or its one folder), and what it leaves out."""
    members, left_out = zip_plan(archive)
    paths = [PurePosixPath(m.filename) for m in members]
    tops = {p.parts[0] for p in paths}
    depth = 2 if len(tops) == 1 and all(len(p.parts) > 1 for p in paths) else 1
    return any(len(p.parts) == depth and p.suffix in CODE for p in paths), left_out


def _inspect(student_id: str, entry: Path) -> Student:
    source = _stands_for(entry)
    if source.is_symlink():
        return Student(student_id, entry, refused=f"{entry.name} is a symbolic link; hand in the folder or zip itself")
    if source.is_file():
        try:
            has_code, left_out = _code_in_zip(source)
        except SubmissionFormatError as err:
            return Student(student_id, source, refused=str(err))
        notes = (f"left out of {source.name}: {', '.join(left_out)}",) if left_out else ()
        if not has_code:
            return Student(student_id, source, empty=f"nothing gradable in {source.name}: no .py or .ipynb file",
                           notes=notes)
        return Student(student_id, source, notes=notes)
    found = _entries(source)
    if not any(p.is_file() and not p.is_symlink() and p.suffix in CODE for p in found):
        listed = ", ".join(p.name + ("/" if p.is_dir() else "") for p in found[:5]) or "it is empty"
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return Student(student_id, source, empty=f"nothing gradable in {entry.name}/: no .py or .ipynb file "
                                                 f"({listed}{more})")
    return Student(student_id, source)


def _class_folder(root: Path) -> Path:
    """``root``, or the one folder inside it that holds the class (an export's wrapping folder).

    The folder is a wrapper when it holds no code and either a folder of its own or several
    folders and zips; a lone zip inside a lone folder is one student's upload, not a class.
    """
    inside = _entries(root)
    if len(inside) != 1 or not inside[0].is_dir() or inside[0].is_symlink():
        return root
    held = _entries(inside[0])
    folders = [p for p in held if p.is_dir() and not p.is_symlink()]
    zips = [p for p in held if p.is_file() and p.suffix == ".zip"]
    code = [p for p in held if p.is_file() and p.suffix in CODE]
    return inside[0] if not code and (folders or len(zips) > 1) else root


def discover(submissions: Path, scratch: Path) -> tuple[list[Student], list[str]]:
    """The students of ``submissions`` (a folder or a bulk-export zip), and notes for the log.

    A bulk export is unpacked afresh into ``scratch / "export"``. Two entries with the same
    identifier (``alice/`` and ``alice.zip``, or names that differ only in case) are both
    refused: neither can be told from the other.

    Raises
    ------
    grader.submission.SubmissionFormatError
        For a bulk export that cannot be unpacked (not a zip, too large, too many entries).
    FileNotFoundError
        When ``submissions`` does not exist.
    """
    submissions = Path(submissions)
    notes: list[str] = []
    if not submissions.exists():
        raise FileNotFoundError(f"{submissions} does not exist; give a folder of student folders or zips, "
                                "or a bulk-export zip")
    if submissions.is_file():
        export = scratch / "export"
        shutil.rmtree(export, ignore_errors=True)
        export.mkdir(parents=True)
        submissions, left_out = unzip(submissions, export, limit=EXPORT_LIMIT, max_members=EXPORT_MEMBERS)
        if left_out:
            notes.append(f"left out of the export: {', '.join(left_out)}")
    root = _class_folder(submissions)
    entries, ignored = [], []
    for entry in _entries(root):
        if entry.is_dir() or entry.suffix == ".zip":
            entries.append((entry.name[:-4] if entry.suffix == ".zip" and entry.is_file() else entry.name, entry))
        else:
            ignored.append(entry.name)
    if ignored:
        notes.append(f"not a student's folder or zip, ignored: {', '.join(ignored)}")
    by_key: dict[str, list[tuple[str, Path]]] = {}
    for student_id, entry in entries:
        by_key.setdefault(student_id.casefold(), []).append((student_id, entry))
    students = []
    for same in by_key.values():
        if len(same) > 1:
            names = " and ".join(entry.name for _, entry in same)
            students += [Student(entry.name, entry, refused=f"{names} have the same identifier; rename one and run "
                                                            "again") for _, entry in same]
        elif same[0][0].casefold() in RESERVED:
            students.append(Student(same[0][0], same[0][1], refused=f"{same[0][0]!r} is the name of the batch's own "
                                                                    "gradebook; rename it"))
        else:
            students.append(_inspect(*same[0]))
    return sorted(students, key=lambda s: s.id), notes
