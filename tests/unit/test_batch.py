"""``grader batch`` end to end: a small class with bad entries, kill and resume, Dask against --jobs.

Every batch here grades one function (``--only vae.log_mean_exp``) so that a student takes a few
seconds; the machinery (discovery, slots, forked grading children, atomic folders, gradebook) is
the same for the whole assignment.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch.slot import SlotDied, grade_in_slot
from grader.batch.task import FAILED, grade_student, record_of
from grader.cli import main
from grader.grade import grade
from grader.sandbox.staging import PREFIX
from tests.unit.test_sandbox import _token_alive

ROOT = Path(__file__).resolve().parents[2]
CAROL = ROOT / "examples" / "submissions" / "carol-ift6135-a3"
ONLY = "vae.log_mean_exp"
ASSIGNMENT = "ift6135-a3"
GRADER = [str(Path(sys.executable).with_name("grader"))]


def _symlink_entry(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16)
    zf.writestr(info, target)


def make_class(folder: Path) -> Path:
    """carol twice (a folder and a zip), the stubs, an empty folder, a zip bomb, a hostile zip, a duplicate."""
    folder.mkdir()
    shutil.copytree(CAROL, folder / "carol")
    with zipfile.ZipFile(folder / "carol-zipped.zip", "w") as zf:
        for path in CAROL.iterdir():
            zf.write(path, f"carol/{path.name}")
    shutil.copytree(ROOT / "stubs", folder / "stubby", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "empty").mkdir()
    (folder / "empty" / "report.pdf").write_bytes(b"%PDF-1.4")
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("vae.py", b"\0" * (65 << 20))  # 65 MiB of zeros, about 64 KiB zipped
    with zipfile.ZipFile(folder / "hostile.zip", "w") as zf:
        zf.writestr("q1_solution.py", (CAROL / "q1_solution.py").read_text())
        zf.writestr("../../escaped.py", "x = 1\n")
        zf.writestr("/tmp/absolute-gradekit.py", "x = 1\n")
        _symlink_entry(zf, "link.py", "/etc/passwd")
    shutil.copytree(CAROL, folder / "dup")
    with zipfile.ZipFile(folder / "DUP.zip", "w") as zf:
        zf.writestr("vae.py", "")
    (folder / "notes.txt").write_text("loose files are ignored")
    return folder


def rows(output: Path) -> dict[str, dict[str, str]]:
    with open(output / "gradebook.csv", newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def batch(submissions: Path, output: Path, *extra: str, env: dict | None = None, timeout: float = 600):
    return subprocess.run([*GRADER, "batch", str(submissions), "--assignment", ASSIGNMENT, "--output", str(output),
                           "--only", ONLY, *extra], capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    submissions = make_class(base / "submissions")
    run = batch(submissions, base / "out", "--jobs", "2")
    assert run.returncode == 0, run.stdout + run.stderr
    return base, run


def test_gradebook_has_a_row_per_entry_with_its_status_and_reason(graded_class) -> None:
    base, run = graded_class
    book = rows(base / "out")
    with open(base / "out" / "gradebook.csv") as handle:
        assert next(csv.reader(handle)) == ["student", "total", ONLY, "status", "seconds", "reason"]
    assert set(book) == {"carol", "carol-zipped", "stubby", "empty", "bomb", "hostile", "dup", "DUP.zip"}
    assert book["carol"]["total"] == book["carol-zipped"]["total"] == "2" and book["carol"]["status"] == "graded"
    assert book["stubby"]["total"] == "0" and book["stubby"]["status"] == "graded"
    assert book["empty"]["status"] == "graded" and book["empty"]["total"] == "0"
    assert "nothing gradable in empty/" in book["empty"]["reason"] and "report.pdf" in book["empty"]["reason"]
    assert book["bomb"]["status"] == "failed-to-grade" and book["bomb"]["total"] == ""
    assert "would unpack to 65 MiB, more than the 64 MiB allowed" in book["bomb"]["reason"]
    assert book["hostile"]["status"] == "graded" and book["hostile"]["total"] == "2"
    for left_out in ("../../escaped.py (a path that leaves the folder)", "/tmp/absolute-gradekit.py (an absolute path)",
                     "link.py (a symbolic link)"):
        assert left_out in book["hostile"]["reason"]
    for dup in ("dup", "DUP.zip"):
        assert book[dup]["status"] == "failed-to-grade" and "DUP.zip and dup have the same identifier" in book[dup]["reason"]
    assert "not a student's folder or zip, ignored: notes.txt" in run.stdout
    assert "8 students: 5 to grade on 2 job slots, 0 already done, 3 refused" in run.stdout
    assert "most often lost: vae.log_mean_exp (2 of 5)" in run.stdout


def test_nothing_is_extracted_outside_the_batch(graded_class) -> None:
    base, _ = graded_class
    assert not list(base.rglob("escaped.py")) and not Path("/tmp/absolute-gradekit.py").exists()
    assert not (base / "out" / "bomb").exists() and not (base / "out" / "dup").exists()
    assert not [p for p in (base / "out" / ".scratch").rglob("*") if p.is_file() and p.stat().st_size > 1 << 20]


def test_each_graded_student_gets_results_and_feedback(graded_class) -> None:
    base, _ = graded_class
    for student in ("carol", "stubby", "empty", "hostile"):
        folder = base / "out" / student
        assert sorted(p.name for p in folder.iterdir()) == ["feedback.html", "feedback.md", "record.json", "results.json"]
        results = json.loads((folder / "results.json").read_text())
        assert [t["name"] for t in results["tests"]] == [ONLY, f"{ONLY} (hidden)"]  # hidden facets apart
    stub = json.loads((base / "out" / "stubby" / "results.json").read_text())
    assert stub["score"] == 0 and "NotImplementedError" in stub["tests"][0]["output"]
    assert "failed (hidden check)" in (base / "out" / "stubby" / "feedback.md").read_text()


def test_a_batch_grades_as_grader_grade_does(graded_class) -> None:
    base, _ = graded_class
    alone = grade(str(CAROL), assignment=ASSIGNMENT, only=(ONLY,))
    record = json.loads((base / "out" / "carol" / "record.json").read_text())
    assert [(c["target"], [f["outcome"] for f in c["facets"]]) for c in record["report"]["checks"]] == [
        (c.target, [f.outcome for f in c.facets]) for c in alone.checks]


def test_running_again_grades_nothing_and_force_grades_all(graded_class, tmp_path) -> None:
    base, _ = graded_class
    out = tmp_path / "out"
    shutil.copytree(base / "out", out)
    before = (out / "carol" / "record.json").stat().st_mtime_ns
    again = batch(base / "submissions", out, "--jobs", "2")
    assert again.returncode == 0 and "0 to grade" in again.stdout, again.stdout + again.stderr
    assert (out / "carol" / "record.json").stat().st_mtime_ns == before
    assert rows(out) == {k: v for k, v in rows(base / "out").items()}
    shutil.rmtree(out / "stubby")
    forced = batch(base / "submissions", out, "--jobs", "2", "--force")
    assert "5 to grade" in forced.stdout, forced.stdout + forced.stderr
    assert (out / "carol" / "record.json").stat().st_mtime_ns != before and (out / "stubby").is_dir()


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_kill_and_resume_grades_only_what_is_missing_and_never_tears_a_result(tmp_path) -> None:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for name in ("a", "b", "c", "d"):
        shutil.copytree(CAROL, submissions / name)
    out = tmp_path / "out"
    marker = f"GRADEKIT_TEST_RUN=kill-{os.getpid()}-{time.monotonic_ns()}"
    command = [*GRADER, "batch", str(submissions), "--assignment", ASSIGNMENT, "--output", str(out), "--only", ONLY,
               "--jobs", "1"]
    first = subprocess.Popen(command, cwd=ROOT, env={**os.environ, marker.split("=")[0]: marker.split("=")[1]},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while not (out / "a").is_dir() and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # midway: "a" is done, "b" is being graded
    first.wait()
    deadline = time.monotonic() + 30
    while _processes_with(marker) and time.monotonic() < deadline:  # its slot and grading child follow it
        time.sleep(0.2)
    assert not _processes_with(marker), "a slot or grading child outlived the killed batch"

    done = [p.name for p in out.iterdir() if not p.name.startswith(".") and p.is_dir()]
    assert "a" in done and len(done) < 4
    for name in done:  # complete or absent
        assert json.loads((out / name / "record.json").read_text())["status"] == "graded"
        assert json.loads((out / name / "results.json").read_text())["tests"]
    assert not (out / "gradebook.csv").exists()
    a_before = (out / "a" / "record.json").stat().st_ino

    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{4 - len(done)} to grade" in second.stdout and f"{len(done)} already done" in second.stdout
    assert (out / "a" / "record.json").stat().st_ino == a_before
    book = rows(out)
    assert sorted(book) == ["a", "b", "c", "d"] and {r["total"] for r in book.values()} == {"2"}
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]


def _sandboxes_of(pids: set[int]) -> set[Path]:
    return {folder for folder in Path(tempfile.gettempdir()).glob(f"{PREFIX}*")
            if folder.name.removeprefix(PREFIX).partition("-")[0] in {str(pid) for pid in pids}}


def test_ctrl_c_stops_the_batch_and_leaves_no_sandbox_behind(tmp_path) -> None:
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for name in "abcdef":
        shutil.copytree(CAROL, submissions / name)
    out = tmp_path / "out"
    marker = f"kill-{os.getpid()}-{time.monotonic_ns()}"
    batch = subprocess.Popen([*GRADER, "batch", str(submissions), "--assignment", ASSIGNMENT, "--output", str(out),
                              "--only", ONLY, "--jobs", "1"], cwd=ROOT, env={**os.environ, "GRADEKIT_TEST_RUN": marker},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                             # a suite started in the background inherits SIGINT ignored; a terminal's batch does not
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    pids: set[int] = set()
    seen: set[Path] = set()
    deadline = time.monotonic() + 300
    while not seen and time.monotonic() < deadline and batch.poll() is None:  # a student is being graded
        pids.update(_processes_with(marker))
        seen |= _sandboxes_of(pids)
        time.sleep(0.02)
    assert seen and batch.poll() is None, "no sandbox folder was seen while the batch graded"
    batch.send_signal(signal.SIGINT)  # as Ctrl-C on its terminal: the batch stops its slots outright
    assert batch.wait(timeout=60) != 0
    deadline = time.monotonic() + 30
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _processes_with(marker), "a slot or grading child outlived the interrupted batch"
    assert not _sandboxes_of(pids), "the interrupted batch left sandbox folders, with a submission's copy, behind"
    assert not (out / "gradebook.csv").exists()


def test_dask_local_cluster_gives_the_same_gradebook(graded_class, tmp_path) -> None:
    pytest.importorskip("distributed")
    base, _ = graded_class
    run = batch(base / "submissions", tmp_path / "dask", "--scheduler", "local:2")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "on local:2" in run.stdout

    def without_time(book):
        return {student: {k: v for k, v in row.items() if k != "seconds"} for student, row in book.items()}

    assert without_time(rows(tmp_path / "dask")) == without_time(rows(base / "out"))


def test_a_grading_child_that_dies_is_tried_again_then_recorded_as_failed(tmp_path) -> None:
    launched = []

    def dying(arguments, scratch, heavy):
        launched.append(arguments)
        return subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    (tmp_path / "scratch").mkdir()
    task = {"student": "carol", "source": str(CAROL), "output": str(tmp_path), "scratch": str(tmp_path / "scratch"),
            "assignment": ASSIGNMENT, "only": [ONLY], "public_only": False, "heavy": "none", "device": "cpu",
            "call_timeout": 30.0, "import_timeout": 60.0}
    record = grade_student(task, dying)
    assert len(launched) == 2 and record["status"] == FAILED and record["tries"] == 2
    assert "the grading process failed twice" in record["reason"] and "exit -9" in record["reason"]
    stored = json.loads((tmp_path / "carol" / "record.json").read_text())
    assert stored["status"] == FAILED and stored["reason"] == record["reason"]
    feedback = (tmp_path / "carol" / "feedback.md").read_text()  # the child's output may quote hidden facets
    assert "could not be graded: the grading process failed twice." in feedback
    assert "ended before the last check" in record["reason"] and "ended before the last check" not in feedback


class _FlakySlot:
    def __init__(self, deaths: int):
        self.deaths, self.calls = deaths, 0

    def run(self, task):
        self.calls += 1
        if self.calls <= self.deaths:
            raise SlotDied("the grading slot exited (-9): killed")
        return {"student": task["student"], "status": "graded"}


@pytest.mark.parametrize(("deaths", "status"), [(1, "graded"), (2, FAILED)], ids=["once", "twice"])
def test_a_slot_that_dies_is_replaced_once(deaths, status) -> None:
    slot = _FlakySlot(deaths)
    record = grade_in_slot(slot, {"student": "x"}, lambda task, reason: record_of(task, FAILED, reason, 0.0))
    assert record["status"] == status and slot.calls == 2
    if status == FAILED:
        assert "the grading slot exited (-9)" in record["reason"]


@pytest.mark.parametrize(("args", "message"), [
    (["--assignment", "nope"], "no assignment 'nope'"),
    (["--assignment", ASSIGNMENT, "--scheduler", "local:0"], "needs a number of workers N >= 1"),
    (["--assignment", ASSIGNMENT, "--scheduler", "somehost"], "must be local:N or a Dask scheduler address"),
    (["--assignment", ASSIGNMENT, "--heavy", "huge"], "'huge' is not one of 'none', 'quick', 'full'"),
], ids=["unknown-assignment", "local-zero", "bad-address", "heavy"])
def test_cli_refuses_bad_options(tmp_path, args, message) -> None:
    (tmp_path / "class").mkdir()
    result = CliRunner().invoke(main, ["batch", str(tmp_path / "class"), "--output", str(tmp_path / "out"), *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_second_batch_on_the_same_output_is_refused(tmp_path) -> None:
    from grader.batch.store import BatchBusy, Store

    held = Store(tmp_path / "out")
    held.open()
    try:
        with pytest.raises(BatchBusy, match="another grader batch is writing into"):
            Store(tmp_path / "out").open()
    finally:
        held.close()


def test_a_changed_submission_or_other_options_are_graded_again(tmp_path) -> None:
    from grader.batch import Options, run_batch

    submissions = tmp_path / "class"
    (submissions / "eve").mkdir(parents=True)
    (submissions / "eve" / "notes.md").write_text("nothing to grade yet")  # graded as empty: no grading child
    options = Options(ASSIGNMENT, only=(ONLY,), jobs=1)
    said: list[str] = []
    run_batch(submissions, tmp_path / "out", options, echo=said.append)
    run_batch(submissions, tmp_path / "out", options, echo=said.append)
    (submissions / "eve" / "notes.md").write_text("still nothing")
    run_batch(submissions, tmp_path / "out", options, echo=said.append)
    run_batch(submissions, tmp_path / "out", Options(ASSIGNMENT, only=("vae",), jobs=1), echo=said.append)
    counts = [line.split(": ")[1].split(" to grade")[0] for line in said if " to grade on " in line]
    assert counts == ["1", "0", "1", "1"]


@pytest.mark.heavy
def test_training_checks_leave_their_figures_in_the_student_folder_and_its_feedback(tmp_path) -> None:
    (tmp_path / "class").mkdir()
    shutil.copytree(CAROL, tmp_path / "class" / "carol")
    run = subprocess.run([*GRADER, "batch", str(tmp_path / "class"), "--assignment", ASSIGNMENT, "--output",
                          str(tmp_path / "out"), "--only", "gan.dirac", "--heavy", "quick", "--jobs", "1"],
                         capture_output=True, text=True, timeout=900, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    folder = tmp_path / "out" / "carol"
    record = json.loads((folder / "record.json").read_text())
    (dirac,) = record["report"]["checks"]
    assert dirac["figures"] and all(not Path(f).is_absolute() and (folder / f).read_bytes()[:4] == b"\x89PNG"
                                    for f in dirac["figures"])
    page = (folder / "feedback.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(dirac["figures"])
    assert f"figure: {dirac['figures'][0]}" in (folder / "results.json").read_text()
    assert rows(tmp_path / "out")["carol"]["gan.dirac"] == "3"


def test_one_student_per_gpu_while_training_may_use_it() -> None:
    from grader.batch.local import job_slots

    assert job_slots(4, "quick", "auto", gpus=1) == 1 and job_slots(4, "full", "cuda", gpus=2) == 2
    assert job_slots(4, "none", "auto", gpus=1) == 4 and job_slots(4, "quick", "cpu", gpus=1) == 4
    assert job_slots(4, "quick", "auto", gpus=0) == 4


def test_slots_share_the_cpus_and_each_gets_its_gpu(monkeypatch) -> None:
    from grader.batch import local

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(local, "cpus", lambda: 8)
    assert local.slot_env(1, 2, gpus=2) == {"CUDA_VISIBLE_DEVICES": "1", "OMP_NUM_THREADS": "4"}
    assert local.slot_env(0, 16, gpus=0) == {"OMP_NUM_THREADS": "1"}
    monkeypatch.setenv("OMP_NUM_THREADS", "3")  # the instructor's choice stands
    assert local.slot_env(0, 2, gpus=0) == {}


def test_a_dask_workers_slot_grades_without_the_nannys_heap_setting(monkeypatch, tmp_path) -> None:
    from grader.batch.cluster import WORKER_ONLY
    from grader.batch.slot import Slot

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # what a Dask nanny sets for its worker
    slot = Slot(tmp_path / "slot.log", {**WORKER_ONLY, "GRADEKIT_PROBE": "1"})
    slot._start()
    try:
        environ = dict(line.split("=", 1) for line in
                       Path(f"/proc/{slot.proc.pid}/environ").read_text().split("\0") if "=" in line)
    finally:
        slot.stop()
    assert "MALLOC_TRIM_THRESHOLD_" not in environ and environ["GRADEKIT_PROBE"] == "1"


def test_figures_are_kept_relative_to_the_student_folder(tmp_path) -> None:
    from grader.batch.task import _relative
    from grader.report import CheckResult, FacetResult, Report

    check = CheckResult("gan.dirac", 3.0, True, (FacetResult("trajectories", True, "passed"),), heavy=True,
                        figures=(str(tmp_path / "figures" / "gan.dirac" / "a.png"), "/elsewhere/b.png"))
    report = _relative(Report("x", False, [check]), tmp_path)
    assert report.checks[0].figures == ("figures/gan.dirac/a.png",)


HOSTILE = '''
import ctypes, os, signal, subprocess, sys

def log_mean_exp(y):
    with open("/tmp/left-behind.txt", "w") as f:
        f.write("for whoever comes next")
    ctypes.CDLL(None).shmget(0x6B6C, 4096, 0o1600)
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "@TOKEN@"], start_new_session=True)
    os.kill(os.getppid(), signal.@SIGNAL@)  # the fork server: stopped, or killed
    return y.sum(dim=1)
'''


def test_what_a_student_leaves_in_the_slot_never_reaches_the_next(tmp_path) -> None:
    """One slot grades, in turn, students that leave processes, files and IPC behind and stop or kill
    the fork server it keeps, each followed by an honest one: the honest ones score as alone."""
    token = f"gradekit-batch-left-{os.getpid()}-{time.monotonic_ns()}"
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    for name, signal_name in (("a-stops", "SIGSTOP"), ("c-kills", "SIGKILL")):
        shutil.copytree(CAROL, submissions / name)
        (submissions / name / "q1_solution.py").write_text(
            HOSTILE.replace("@TOKEN@", token).replace("@SIGNAL@", signal_name))
    for name in ("b-honest", "d-honest"):
        shutil.copytree(CAROL, submissions / name)
    run = batch(submissions, tmp_path / "out", "--jobs", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    alone = grade(str(CAROL), assignment=ASSIGNMENT, only=(ONLY,))
    book = rows(tmp_path / "out")
    for name in ("b-honest", "d-honest"):
        record = json.loads((tmp_path / "out" / name / "record.json").read_text())
        assert book[name]["status"] == "graded" and float(book[name]["total"]) == alone.points, book[name]
        assert [[f["outcome"] for f in c["facets"]] for c in record["report"]["checks"]] == [
            [f.outcome for f in c.facets] for c in alone.checks]
    assert float(book["a-stops"]["total"]) < alone.points and float(book["c-kills"]["total"]) < alone.points
    assert not _token_alive(token), "a process a student started outlived the batch"
