"""A fork server that a batch slot keeps serves the next submission with nothing of the last one left."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.isolation import Limits
from grader.layout import LAYOUT
from grader.sandbox import SandboxImplementation
from grader.sandbox.kept import KeptServer, keep
from tests.unit.test_sandbox import _token_alive

KEY = 0x6B6B  # the System V key the first submission leaves a segment under

LEAVES_THINGS = """
    import ctypes, os, signal, subprocess, sys

    def log_mean_exp(y):
        libc = ctypes.CDLL(None, use_errno=True)
        with open("left-behind.txt", "w") as f:
            f.write("the first submission's file")
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "@TOKEN@"], start_new_session=True)
        if y == "kill the server":
            os.kill(os.getppid(), signal.SIGKILL)
        return {"segment": libc.shmget(@KEY@, 4096, 0o1600),
                "queue": libc.mq_open(b"/gradekit-left", os.O_CREAT | os.O_RDWR, 0o600, None)}
"""

LOOKS_AROUND = """
    import ctypes, os

    def log_mean_exp(y):
        libc = ctypes.CDLL(None, use_errno=True)
        return {"tmp": sorted(os.listdir("/tmp")), "segment": libc.shmget(@KEY@, 0, 0),
                "submission": sorted(os.listdir("/submission")), "server": os.getppid()}
"""


def _submission(folder: Path, source: str, token: str) -> Path:
    folder.mkdir()
    (folder / "vae.py").write_text(textwrap.dedent(source).replace("@TOKEN@", token).replace("@KEY@", str(KEY)))
    (folder / f"{folder.name}.txt").write_text("a file only this submission has")
    return folder


@pytest.fixture
def server() -> Iterator[KeptServer]:
    kept = KeptServer(Limits(), ["torch"])
    if not kept.usable:
        kept.close()
        pytest.skip("a fork server is kept only under bubblewrap, which is not usable here")
    keep(kept)
    try:
        yield kept
    finally:
        keep(None)
        kept.close()


def _grade(folder: Path, y: str) -> dict:
    impl = SandboxImplementation(folder, topics=("vae",))
    try:
        return impl.call("vae.log_mean_exp", y=y)
    finally:
        impl.close()


@pytest.mark.parametrize("how", ["leaves things", "kill the server"])
def test_the_next_submission_finds_nothing_of_the_last(how, server, tmp_path) -> None:
    token = f"gradekit-kept-{secrets.token_hex(4)}"
    first = _submission(tmp_path / "first", LEAVES_THINGS, token)
    second = _submission(tmp_path / "second", LOOKS_AROUND, token)
    server.prepare()
    pid = server.zygote.pid
    left = _grade(first, how)
    assert left["segment"] >= 0, "the first submission could not make its System V segment: the test shows nothing"
    assert left["queue"] == -1, "a POSIX message queue was made, which nothing could remove"
    server.prepare()
    seen = _grade(second, "look")
    assert not _token_alive(token), "a process of the first submission outlived it"
    assert seen["segment"] == -1, "the first submission's System V segment reached the second"
    bound = [LAYOUT.root.relative_to("/tmp").parts[0]] if LAYOUT.root.is_relative_to("/tmp") else []
    assert seen["tmp"] == bound, "the first submission's scratch files reached the second"
    assert seen["submission"] == ["second.txt", "vae.py"]
    if how == "kill the server":
        assert server.restarts == 1 and server.zygote.pid != pid
    else:
        assert server.restarts == 0 and server.zygote.pid == pid, "the fork server was not kept"


def test_sweep_removes_only_what_dead_processes_left(tmp_path) -> None:
    from grader.cgroups import Group
    from grader.sandbox.staging import PREFIX, sweep

    child = subprocess.Popen(["true"])
    child.wait()
    dead, alive = child.pid, os.getpid()
    folders = {pid: Path(tempfile.mkdtemp(prefix=f"{PREFIX}{pid}-")) for pid in (dead, alive)}
    (folders[dead] / "submission").mkdir()
    (folders[dead] / "submission" / "q1_solution.py").write_text("a student's code\n")
    groups = {pid: Group(f"{pid}-sweep", 1 << 30, 64) for pid in (dead, alive)} if Group.available() is None else {}
    for group in groups.values():
        group.create()
    try:
        assert sweep() >= 1 + 2 * bool(groups)
        assert not folders[dead].exists() and folders[alive].is_dir()
        for pid, group in groups.items():
            assert all(folder.is_dir() == (pid == alive) for folder in group.dirs.values())
    finally:
        for group in groups.values():
            group.remove()
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
