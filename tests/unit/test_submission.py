"""Submissions as handed in: handout file names, notebooks (parsed, never run), zips; bad input costs only itself."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from grader import assignments
from grader.handle import STUBS
from grader.submission import SubmissionFormatError, prepare, unzip, zip_plan

TOPICS = ["cgan", "divergences", "flows", "gan", "vae"]


def _notebook(path: Path, *cells: str) -> Path:
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c} for c in cells]}))
    return path


def test_handout_file_names_map_to_topics(tmp_path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "q1_solution.py").write_text("def log_mean_exp(y):\n    return y\n")
    (sub / "helpers.py").write_text("X = 1\n")
    folder, notes = prepare(sub, tmp_path / "work", TOPICS, STUBS, assignments.load("ift6135-a3"))
    assert (folder / "vae.py").read_text().startswith("def log_mean_exp")
    assert (folder / "helpers.py").exists()  # kept beside the graded modules
    assert any("helpers.py" in n for n in notes)


def test_a_notebook_gives_its_definitions_and_nothing_it_would_run(tmp_path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    _notebook(sub / "hw.ipynb",
              "import torch\n%matplotlib inline\nSIZE = 10\ndevice = torch.device('cpu')",
              "open('/tmp/should-not-exist', 'w')\nfor epoch in range(10**9):\n    pass",
              "def center_patch(images, size=SIZE):\n    return images\n",
              "def one_hot(labels, num_classes=10):\n    return 1\n",
              "def one_hot(labels, num_classes=10):\n    return device\n",
              "def broken(:\n")
    folder, notes = prepare(sub, tmp_path / "work", TOPICS, STUBS)
    source = (folder / "cgan.py").read_text()
    assert "SIZE = 10" in source and "import torch" in source and "range(10**9)" not in source
    assert "return device" in source and "return 1" not in source  # the last definition wins
    assert not (folder / "vae.py").exists()
    text = "\n".join(notes)
    assert "one_hot is defined again" in text and "cell 6: a syntax error" in text
    assert "device are made by running code" in text and "pulled out of hw.ipynb" in text


def test_a_notebook_that_is_not_json_is_said_and_skipped(tmp_path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "hw.ipynb").write_text("{not json")
    (sub / "vae.py").write_text("def log_mean_exp(y):\n    return y\n")
    folder, notes = prepare(sub, tmp_path / "work", TOPICS, STUBS)
    assert (folder / "vae.py").exists() and any("hw.ipynb is not a Jupyter notebook" in n for n in notes)


def test_a_zip_of_a_folder_and_its_traps(tmp_path) -> None:
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("alice/vae.py", "def log_mean_exp(y):\n    return y\n")
        zf.writestr("alice/../../escaped.py", "x = 1\n")
        zf.writestr("__MACOSX/alice/._vae.py", "junk")
    folder, _ = prepare(archive, tmp_path / "work", TOPICS, STUBS)
    assert (folder / "vae.py").exists()
    assert not (tmp_path / "escaped.py").exists() and not list(tmp_path.rglob("escaped.py"))


def test_a_broken_zip_is_an_error(tmp_path) -> None:
    (tmp_path / "sub.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SubmissionFormatError, match="not a readable zip"):
        prepare(tmp_path / "sub.zip", tmp_path / "work", TOPICS, STUBS)


def test_zip_plan_names_each_entry_it_leaves_out(tmp_path) -> None:
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("vae.py", "x = 1\n")
        zf.writestr("/etc/cron.d/evil", "x")
        zf.writestr("a/../../up.py", "x")
        link = zipfile.ZipInfo("link.py")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    members, left_out = zip_plan(archive)
    assert [m.filename for m in members] == ["vae.py"]
    assert left_out == ["/etc/cron.d/evil (an absolute path)", "a/../../up.py (a path that leaves the folder)",
                        "link.py (a symbolic link)"]


def test_a_zip_of_too_many_entries_is_refused(tmp_path) -> None:
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in range(11):
            zf.writestr(f"f{n}.py", "")
    with pytest.raises(SubmissionFormatError, match="holds 11 entries, more than the 10 allowed"):
        zip_plan(archive, max_members=10)


def test_a_zip_that_understates_its_sizes_writes_no_more_than_it_declared(tmp_path) -> None:
    archive = tmp_path / "liar.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("vae.py", b"#" * 100_000)
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        at = data.index(signature) + offset
        data[at:at + 4] = (10).to_bytes(4, "little")  # claims 10 bytes unpacked
    archive.write_bytes(bytes(data))
    (tmp_path / "out").mkdir()
    with pytest.raises(SubmissionFormatError, match="liar.zip could not be unpacked"):
        unzip(archive, tmp_path / "out")
    assert sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file()) <= 10
