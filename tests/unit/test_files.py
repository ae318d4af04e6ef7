"""Atomic writes: a file or a folder is complete or absent, and a planted link is replaced, never followed."""
from __future__ import annotations

from grader.files import (
    TEMPORARY_PREFIX,
    commit_folder,
    partial_folder,
    sweep,
    write_atomically,
)


def test_write_atomically_replaces_a_planted_link_instead_of_following_it(tmp_path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "gradebook.csv").symlink_to(victim)
    write_atomically(tmp_path / "gradebook.csv", "student,total\n")
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "gradebook.csv").is_symlink() and (tmp_path / "gradebook.csv").read_text() == "student,total\n"
    assert not list(tmp_path.glob(f"{TEMPORARY_PREFIX}*"))


def test_commit_folder_replaces_the_old_folder_whole(tmp_path) -> None:
    final = tmp_path / "alice"
    final.mkdir()
    (final / "old.json").write_text("{}")
    partial = partial_folder(final)
    (partial / "results.json").write_text("{}")
    commit_folder(partial, final)
    assert sorted(p.name for p in final.iterdir()) == ["results.json"]
    assert not partial.exists() and not list(tmp_path.glob(f"{TEMPORARY_PREFIX}*"))


def test_sweep_removes_only_what_interrupted_writes_left(tmp_path) -> None:
    (tmp_path / "bob").mkdir()
    left = partial_folder(tmp_path / "carol")
    (left / "results.json").write_text("{")  # torn, and never renamed into place
    (tmp_path / f"{TEMPORARY_PREFIX}gradebook.csv-x").write_text("student")
    assert sorted(p.name for p in sweep(tmp_path)) == sorted([left.name, f"{TEMPORARY_PREFIX}gradebook.csv-x"])
    assert [p.name for p in tmp_path.iterdir()] == ["bob"]
