"""The sandbox degrades, never fails to grade, and says what it lacks; one function's leftovers
never reach another."""
from __future__ import annotations

import os
import secrets
import shutil
import textwrap
from pathlib import Path

import pytest
import torch

from grader.isolation import LEVELS
from grader.layout import LAYOUT
from grader.sandbox import SandboxImplementation
from grader.sandbox.kill import doomed
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


# -- a fresh worker per function, and nothing of a call outlives it ------------------------------

# ``vae.log_mean_exp`` reports what the worker serving it sees; ``vae.kl_gaussian_gaussian_analytic``
# leaves behind what its first argument names and says how much it holds; ``flows.py`` replaces
# torch.Tensor.sum when imported, and ``divergences.kernel`` sums with it.
MISBEHAVING = {
    "vae.py": """
        import os, signal, subprocess, sys, threading, time
        import torch

        HELD, FILES = [], []

        def log_mean_exp(y):
            return {"dtype": str(torch.get_default_dtype()), "grad": torch.is_grad_enabled(),
                    "scratch": sorted(os.listdir(".")), "held": len(HELD)}

        def kl_gaussian_gaussian_analytic(mu_q, logvar_q, mu_p, logvar_p):
            if mu_q == "descriptors":
                FILES.extend(open(os.devnull) for _ in range(100))
            elif mu_q == "processes":
                subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "@TOKEN@"],
                                 start_new_session=True)
            elif mu_q == "threads":
                threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
            elif mu_q == "settings":
                torch.set_default_dtype(torch.float64)
                torch.set_grad_enabled(False)
            elif mu_q == "scratch":
                for name in ("filler-1", "filler-2"):  # 80 MiB: over the budget, each under the file size limit
                    with open(name, "wb") as f:
                        f.write(b"x" * (40 << 20))
            elif mu_q == "server":
                os.kill(os.getppid(), signal.SIGSTOP)
            HELD.append(mu_q)
            return len(HELD)
    """,
    "flows.py": """
        import torch

        torch.Tensor.sum = lambda self, *args, **kwargs: torch.zeros(())

        def loss1(z0, logdet):
            return float(torch.ones(3).sum())
    """,
    "divergences.py": """
        import torch

        def kernel(A, B, sigma=1.0):
            return float(torch.ones(3).sum())
    """,
}


def _token_alive(token: str) -> bool:
    """Whether a process carrying ``token`` can still run (one killed may not have finished dying)."""
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return not doomed(int(entry.name))
        except OSError:
            continue
    return False


@pytest.mark.parametrize("level", LEVELS)
def test_what_a_function_leaves_behind_never_reaches_the_next_call(level, tmp_path, monkeypatch) -> None:
    """Is each leftover killed or undone before the next call, and named under the function that left it?"""
    monkeypatch.setenv("GRADEKIT_ISOLATION", level)
    token = f"gradekit-leftover-{secrets.token_hex(4)}"
    (tmp_path / "sub").mkdir()
    for name, source in MISBEHAVING.items():
        (tmp_path / "sub" / name).write_text(textwrap.dedent(source).replace("@TOKEN@", token))
    impl = SandboxImplementation(tmp_path / "sub", topics=("vae",))
    # a checkout under /tmp is bound below the worker's private /tmp by bubblewrap: there from the start
    bound = [LAYOUT.root.relative_to("/tmp").parts[0]] if impl.isolation.bubblewrap and LAYOUT.root.is_relative_to("/tmp") else []
    fresh = {"dtype": "torch.float32", "grad": True, "scratch": bound, "held": 0}
    misbehave = impl.bind("vae.kl_gaussian_gaussian_analytic")
    try:
        assert impl.call("vae.log_mean_exp", y=0) == fresh
        for kind in ("descriptors", "processes", "threads", "settings", "scratch", "server"):
            assert misbehave(kind, 0, 0, 0) == 1, kind  # a fresh worker each time: it held nothing before
            assert not _token_alive(token), "a process a call started outlived the call"
            assert impl.call("vae.log_mean_exp", y=0) == fresh, kind
        assert misbehave("nothing", 0, 0, 0) == 1  # the stopped fork server was restarted
        assert misbehave("nothing", 0, 0, 0) == 2  # a worker within its budget is kept
        assert impl.call("divergences.kernel", A=0, B=0) == 3.0  # flows.py's patch is not imported here
        assert impl.call("flows.loss1", z0=0, logdet=0) == 0.0  # but its own functions run with it
        notes = impl.function_notes()
        expected = ["more descriptors open", "left 1 process running", "more thread(s) running",
                    "default dtype float64 (was float32), grad mode False (was True)", "in the scratch folder"]
        if not impl.isolation.unshare:  # under unshare the fork server is its pid namespace's init: deaf to SIGSTOP
            expected.append("stopped, killed or signalled the sandbox's fork server")
    finally:
        impl.close()
    said = " | ".join(notes["vae.kl_gaussian_gaussian_analytic"])
    for words in expected:
        assert words in said, f"{words!r} not in the notes: {said}"
    assert "replaced before the next call" in said
    assert "importing flows.py replaced torch.Tensor.sum" in notes["flows.loss1"][0]
    assert set(notes) == {"vae.kl_gaussian_gaussian_analytic", "flows.loss1"}, notes


def test_emptying_the_scratch_removes_links_never_what_they_point_to(tmp_path) -> None:
    """Does emptying the scratch remove a deep tree, a locked folder and links, and nothing outside?"""
    from grader.sandbox import scratch

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    folder = tmp_path / "scratch"
    deep = folder.joinpath(*["d"] * 200)
    deep.mkdir(parents=True)
    (deep / "leaf").write_bytes(b"x" * 1000)
    (folder / "to-outside").symlink_to(outside)
    (folder / "locked").mkdir()
    (folder / "locked" / "inside").write_text("x")
    (folder / "locked").chmod(0)
    readable = os.geteuid() == 0  # only root lists the locked folder
    assert scratch.usage(folder, 10_000, whole_filesystem=False) == (203 + readable, 1000 + readable)
    assert scratch.usage(folder, 50, whole_filesystem=False)[0] == 50  # stops counting once over
    scratch.empty(folder)
    assert not list(folder.iterdir())
    assert (outside / "keep.txt").read_text() == "mine"


def test_a_batch_slots_gpu_reaches_the_worker(tmp_path, monkeypatch) -> None:
    """``grader batch`` pins slot n to GPU n through ``CUDA_VISIBLE_DEVICES``; the sandbox's own
    environment must pass it on, or every slot's students would train on the first GPU."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "vae.py").write_text(
        "import os\n\ndef log_mean_exp(y):\n    return os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')\n")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    impl = SandboxImplementation(tmp_path / "sub", topics=("vae",))
    try:
        assert impl.call("vae.log_mean_exp", y=0) == "1"
    finally:
        impl.close()
