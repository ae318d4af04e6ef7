"""The sandbox degrades, never fails to grade, and says what it lacks."""
from __future__ import annotations

import os
import shutil

import pytest
import torch

from grader.isolation import LEVELS
from grader.sandbox import SandboxImplementation
from grader.target import NAMED


def _honest_call(impl: SandboxImplementation) -> None:
    y = torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64)
    expected = torch.logsumexp(y, dim=1) - torch.log(torch.tensor(2.0, dtype=torch.float64))
    assert torch.allclose(impl.call("vae.log_mean_exp", y=y), expected)


@pytest.mark.parametrize("level", LEVELS)
def test_every_isolation_level_grades_and_names_what_it_lacks(level, monkeypatch) -> None:
    monkeypatch.setenv("GRADEKIT_ISOLATION", level)
    impl = SandboxImplementation(NAMED["solutions"], topics=("vae",))
    try:
        _honest_call(impl)
        text = impl.describe()
        assert text.startswith("sandbox: ")
        if level != "full":
            assert f"GRADEKIT_ISOLATION={level}" in text and "degraded" in text
        elif shutil.which("bwrap"):  # and it must have worked, wherever the checkout lives
            assert text.startswith("sandbox: bubblewrap (") and "did not start" not in text, text
    finally:
        impl.close()


def test_a_bubblewrap_that_cannot_start_the_worker_falls_back(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "bwrap"  # passes the probe, fails the real command
    fake.write_text('#!/bin/sh\ncase "$*" in *"-- true"*) exit 0;; esac\necho "simulated" >&2; exit 1\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("GRADEKIT_ISOLATION", raising=False)
    impl = SandboxImplementation(NAMED["solutions"], topics=("vae",))
    try:
        _honest_call(impl)
        assert "bubblewrap did not start the worker" in impl.describe()
    finally:
        impl.close()


def test_unknown_isolation_level_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("GRADEKIT_ISOLATION", "paranoid")
    with pytest.raises(ValueError, match="choose one of full, no-bubblewrap, none"):
        SandboxImplementation(NAMED["solutions"])


def test_the_copy_budget_spans_subfolders_and_skips_links(tmp_path) -> None:
    from grader.handle import SubmissionError
    from grader.sandbox.staging import copy_submission

    source = tmp_path / "source"
    for name in ("a", "b"):
        (source / name).mkdir(parents=True)
        (source / name / "data.bin").write_bytes(b"x" * 600)
    (source / "vae.py").symlink_to(NAMED["solutions"] / "vae.py")
    assert copy_submission(source, tmp_path / "fits", 1200) == 0
    assert not (tmp_path / "fits" / "vae.py").exists()
    with pytest.raises(SubmissionError, match="larger than the limit"):
        copy_submission(source, tmp_path / "over", 1199)


def test_an_installed_wheel_masks_what_the_worker_must_not_read() -> None:
    """Installed, the course lies inside a bound site-packages: the secrets are masked there."""
    from grader import isolation

    hidden = {p.relative_to(isolation.ROOT).as_posix() for p in isolation.masked([isolation.ROOT])}
    assert {"course/solutions", "tests", "course/vae/checks.py", "course/assignments/ift6135-a3.toml"} <= hidden
    assert not any(h.startswith("course/solutions/") for h in hidden)  # the folder is masked as a whole
    assert not {"course/__init__.py", "course/vae/__init__.py", "course/vae/scenarios.py"} & hidden
    assert not isolation.masked(isolation._python_paths())  # a checkout binds none of its own folders
