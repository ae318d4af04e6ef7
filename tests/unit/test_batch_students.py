"""Finding the students of a class: layouts accepted, bad entries refused or graded as empty, nothing run."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch.students import discover
from grader.submission import SubmissionFormatError


def _folder(path: Path, **files: str) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _by_id(students):
    return {s.id: s for s in students}


def test_a_gradescope_export_zip_is_unpacked_into_scratch_only(tmp_path) -> None:
    export = tmp_path / "submissions.zip"
    with zipfile.ZipFile(export, "w") as zf:
        zf.writestr("assignment_7_export/submission_11/vae.py", "x = 1\n")
        zf.writestr("assignment_7_export/submission_12/hw.ipynb", "{}")
        zf.writestr("assignment_7_export/submission_metadata.yml", "submission_11: {}\n")
    students, notes = discover(export, tmp_path / "scratch")
    assert [s.id for s in students] == ["submission_11", "submission_12"]
    assert all(s.source.is_relative_to(tmp_path / "scratch" / "export") and not s.refused for s in students)
    assert notes == ["not a student's folder or zip, ignored: submission_metadata.yml"]


def test_a_folder_that_holds_only_an_uploaded_zip_stands_for_it(tmp_path) -> None:
    moodle = _folder(tmp_path / "class" / "Ada Lovelace_123_assignsubmission_file_")
    with zipfile.ZipFile(moodle / "hw3.zip", "w") as zf:
        zf.writestr("hw3/q1_solution.py", "x = 1\n")
    (student,), _ = discover(tmp_path / "class", tmp_path / "scratch")
    assert student.id == "Ada Lovelace_123_assignsubmission_file_" and student.source == moodle / "hw3.zip"
    assert not student.empty and not student.refused


@pytest.mark.parametrize(("make", "field", "reason"), [
    (lambda d: _folder(d / "s", **{"notes.txt": "hi"}), "empty", "nothing gradable in s/: no .py or .ipynb file (notes.txt)"),
    (lambda d: _folder(d / "s"), "empty", "nothing gradable in s/: no .py or .ipynb file (it is empty)"),
    (lambda d: zipfile.ZipFile(d / "s.zip", "w").writestr("s/readme.md", "hi"), "empty",
     "nothing gradable in s.zip: no .py or .ipynb file"),
    (lambda d: (d / "s.zip").write_bytes(b"PK\x03\x04 broken"), "refused", "s.zip is not a readable zip file"),
    (lambda d: (d / "s").symlink_to("/etc"), "refused", "s is a symbolic link"),
    (lambda d: _folder(d / "gradebook.csv", **{"vae.py": ""}), "refused", "is the name of the batch's own gradebook"),
], ids=["no-code", "empty-folder", "zip-without-code", "broken-zip", "symlink", "reserved-name"])
def test_bad_entries_are_refused_or_empty_with_a_reason(tmp_path, make, field, reason) -> None:
    (tmp_path / "class").mkdir()
    make(tmp_path / "class")
    _folder(tmp_path / "class" / "ok", **{"vae.py": ""})
    students = _by_id(discover(tmp_path / "class", tmp_path / "scratch")[0])
    bad = next(s for s in students.values() if s.id != "ok")
    assert reason in getattr(bad, field)
    assert not students["ok"].refused and not students["ok"].empty


def test_same_identifiers_are_both_refused(tmp_path) -> None:
    _folder(tmp_path / "class" / "Bob", **{"vae.py": ""})
    with zipfile.ZipFile(tmp_path / "class" / "bob.zip", "w") as zf:
        zf.writestr("vae.py", "")
    students = _by_id(discover(tmp_path / "class", tmp_path / "scratch")[0])
    assert set(students) == {"Bob", "bob.zip"}
    assert all("Bob and bob.zip have the same identifier" in s.refused for s in students.values())


def test_a_zip_bomb_is_refused_without_unpacking(tmp_path) -> None:
    (tmp_path / "class").mkdir()
    with zipfile.ZipFile(tmp_path / "class" / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for n in range(3):
            zf.writestr(f"part{n}.py", b"\0" * (30 << 20))
    (student,), _ = discover(tmp_path / "class", tmp_path / "scratch")
    assert "bomb.zip would unpack to 90 MiB, more than the 64 MiB allowed (a zip bomb?)" in student.refused
    assert not list((tmp_path / "scratch").rglob("part*"))


def test_a_bulk_export_that_is_not_a_zip_is_an_error(tmp_path) -> None:
    (tmp_path / "export.zip").write_text("not a zip")
    with pytest.raises(SubmissionFormatError, match="export.zip is not a readable zip file"):
        discover(tmp_path / "export.zip", tmp_path / "scratch")
