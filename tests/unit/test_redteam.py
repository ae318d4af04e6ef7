"""Red-team suite: hostile submissions graded by the real CLI, one declaration per attack.

Each folder in ``tests/redteam/submissions/`` is a submission with an honest
``vae.log_mean_exp`` and one attack (its module docstring says which). ``ATTACKS`` declares,
once per attack, what to grade and what must come out; one generic test grades each folder
with ``grader grade`` in a subprocess and asserts what the sandbox promises:

- the grader exits 0 within its time budget and its JSON report holds every selected check,
  each facet with a real outcome (none left unrun, no grader error);
- honest functions keep full marks, cheating ones get zero, and the report says under a
  function what it left behind (``noted``);
- no marker file exists (pickle payloads create it only if something unpickles them), the
  loopback listener saw no contact, the grader's environment did not leak into its output,
  and no planted or forged file became the grader's output;
- no process of the submission survives: none whose command line holds the run's token, and
  (as root) none of the worker's own uid started before the grader exited; nor does one outlive
  the call that started it (sampled while the grader runs).

An attack whose containment needs something this machine's sandbox lacks (bubblewrap, a
cgroup: the report's note says what it used) xfails if its cheat scores; the last rows run
at ``GRADEKIT_ISOLATION=no-bubblewrap`` and xfail, strictly, where that fallback cannot stop
them (each says why).

The leftover attacks (descriptors kept open, processes left spinning, torch's tensor methods
patched at import, torch's settings changed, the scratch folder filled) sit in ``cgan.py``,
whose checks run first, beside honest functions in the same file and in files of their own
(``tests/redteam/honest/``, staged beside each of them): one
function's misbehaviour must not cost another function its points. They run at every
isolation level, since the fork server that contains them needs none of the sandbox's
privileges. The one exception is the patch at import: an honest function in the patching
file runs with the patch (a ``bystander``, graded but not asserted), and the report says so.

Placeholders in the sources (``@MARKER@``, ``@PORT@``, ...) are filled into a copy of the
folder. Every attack is bounded (loops and sleeps end within 120 s, at most 64 processes,
6 GiB of memory, 512 MiB of files, 200 MB of output), so that it cannot harm the machine even
where no sandbox stops it.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator
from unittest import mock

import pytest

from grader.isolation import LEVELS, choose_isolation
from grader.sandbox.kill import doomed

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "tests" / "redteam" / "submissions"
HONEST_FILES = ROOT / "tests" / "redteam" / "honest"  # honest files of their own, staged beside some attacks
HONEST = ("vae.log_mean_exp",)
KL = "vae.kl_gaussian_gaussian_analytic"
NORMAL = "vae.log_likelihood_normal"
BERNOULLI = "vae.log_likelihood_bernoulli"
REPARAMETERIZE = "vae.reparameterize"
KERNEL_MMD = ("divergences.kernel", "divergences.mmd")
BUDGET = 120  # seconds for one whole `grader grade` run
PARALLEL = 3  # runs at a time: a run is mostly torch imports on one core, and waiting on timeouts
FORGED = "FORGED-BY-REDTEAM"  # what forged results say; never in the grader's output
NO_BWRAP = "no-bubblewrap"
SAMPLE = 0.2  # seconds between two looks for the submission's processes
LINGER = 3.0  # seconds past its call a killed process may still be seen (sampling, a loaded machine)


class CheatScored(AssertionError):
    """A cheating function earned points: the one failure a strict xfail below may expect."""


@dataclass(frozen=True)
class Attack:
    """One hostile submission (a folder of ``SUBMISSIONS``) and what grading it must give."""

    name: str
    cheats: tuple[str, ...] = (KL,)  # must get 0 points
    honest: tuple[str, ...] = HONEST  # must keep full marks
    public_only: bool = True  # False when a hidden facet runs after the attack, in the same worker
    call_timeout: float = 3.0  # more only where a timeout would hide whether the attack worked
    budget: float = BUDGET  # seconds for the whole grade; more only where each call is slow by design
    isolation: str = "full"  # GRADEKIT_ISOLATION
    planted: tuple[str, ...] = ()  # files shipped in the folder that pose as results
    says: str = ""  # what every cheating function's failure must say
    noted: tuple[tuple[str, str], ...] = ()  # (target, words its notes in the report must hold)
    beside: bool = False  # staged with the honest files of HONEST_FILES that the folder does not bring
    bystanders: tuple[str, ...] = ()  # graded, with no claim on their points
    needs: str = ""  # what the sandbox note must name for the cheat (or the network) to be stopped
    xfail: str = ""  # why a guarantee does not hold at this isolation level (strict: a fix must show)
    fails_with: type[AssertionError] = AssertionError  # what the xfail expects to fail

    @property
    def id(self) -> str:
        return self.name if self.isolation == "full" else f"{self.name}-{self.isolation}"

    @property
    def only(self) -> tuple[str, ...]:
        return self.honest + self.cheats + self.bystanders


def _fallback():
    """What the no-bubblewrap fallback gives here: namespaces from ``unshare`` (as root), and a
    user of its own where that user can run our Python (not where it lives in, say, /root)."""
    with mock.patch.dict(os.environ, {"GRADEKIT_ISOLATION": NO_BWRAP}):
        return choose_isolation()


FALLBACK = _fallback()
CONTAINED = FALLBACK.unshare is not None or FALLBACK.uid is not None  # the worker cannot reach our processes
FALLBACK_READS = ("without bubblewrap the worker sees the whole file system: it reads the world-readable "
                  "solutions/ of the checkout (file modes are the only guard, and they allow it)")
UNCONTAINED = ("here the fallback has neither namespaces (no root or no unshare) nor a user of its own for the "
               "worker: {}")
BWRAP, CGROUP = "bubblewrap (", "cgroup of"  # in the sandbox note when the machine gives them
DISCRIMINATOR, GENERATOR = "cgan.discriminator_loss", "cgan.generator_loss"
BESIDE = (GENERATOR, "divergences.kernel", "vae.log_mean_exp", NORMAL)  # honest, beside each leftover attack
LEFTOVERS = (  # name, honest functions, what the report says under which function
    ("descriptor_exhaustion", BESIDE, ((DISCRIMINATOR, "more descriptors open than after its import"),)),
    ("spinning_children", BESIDE, ((DISCRIMINATOR, "processes running after a call (killed)"),)),
    ("patch_tensor_methods", BESIDE[1:], ((GENERATOR, "importing cgan.py replaced torch.Tensor."),
                                          (DISCRIMINATOR, "importing cgan.py replaced torch.Tensor."))),
    ("torch_settings_left", BESIDE, ((DISCRIMINATOR, "default dtype float64 (was float32), grad mode False"),)),
    ("scratch_filler", BESIDE, ((DISCRIMINATOR, "in the scratch folder"),)),
)

ATTACKS = (
    # monkeypatching and lying values
    Attack("patch_comparisons", KERNEL_MMD, public_only=False),
    Attack("patch_builtins", KERNEL_MMD, public_only=False),
    Attack("lying_tensor", (NORMAL, KL)),
    Attack("lying_objects", KERNEL_MMD),
    Attack("nan_inf_returns", (BERNOULLI, NORMAL, KL)),
    Attack("huge_lazy_returns", (BERNOULLI, NORMAL, KL)),
    # exits, signals and the parent
    Attack("sys_exit", (BERNOULLI, NORMAL, KL)),
    Attack("os_exit", (BERNOULLI, NORMAL, KL)),
    Attack("os_exit_at_import", KERNEL_MMD, public_only=False),
    Attack("atexit_tricks", KERNEL_MMD),
    Attack("signal_handlers", (NORMAL, KL)),
    Attack("kill_parent", (NORMAL, KL)),
    # hangs
    Attack("loop_at_import", KERNEL_MMD, public_only=False),
    Attack("loop_in_function", (NORMAL, KL)),
    Attack("loop_in_del", (NORMAL, KL), public_only=False),
    Attack("loop_in_thread", KERNEL_MMD, public_only=False),
    # the trusted side
    Attack("parse_bomb", KERNEL_MMD, public_only=False, says="a source file may be at most"),
    # resources
    Attack("memory_bomb", call_timeout=40, needs=CGROUP),
    Attack("fork_bomb"),
    Attack("outliving_children"),
    Attack("huge_files", call_timeout=10, needs=BWRAP),
    Attack("output_flood", call_timeout=10),
    # reading what the grader hides
    Attack("read_solutions", (NORMAL, KL), needs=BWRAP),
    Attack("import_solutions", needs=BWRAP),
    Attack("read_hidden_checks", needs=BWRAP),
    Attack("read_environment_proc", needs=BWRAP),
    Attack("privilege_escalation"),
    # talking back to the grader
    Attack("forged_results", planted=("results.json",)),
    Attack("pickle_payload", (BERNOULLI, NORMAL, KL), planted=("results.pkl",)),
    Attack("forged_frames", (BERNOULLI, NORMAL, KL, REPARAMETERIZE)),
    Attack("network_connect", needs=BWRAP),
    # far from memory_bomb, so as not to run beside it; each worker's first call fills 6 GiB in two
    # processes (seconds), and a loaded 2-core CI machine once needed 240 s when every call did
    Attack("memory_bomb_tree", call_timeout=45, needs=CGROUP, budget=240),
    # the same guarantees one level down, where the fallback still gives them
    Attack("read_solutions", (NORMAL, KL), isolation=NO_BWRAP, xfail=FALLBACK_READS, fails_with=CheatScored),
    Attack("outliving_children", isolation=NO_BWRAP, xfail="" if CONTAINED else UNCONTAINED.format(
        "a daemon that left the worker's tree and session survives the grader")),
    Attack("kill_parent", isolation=NO_BWRAP, xfail="" if CONTAINED else UNCONTAINED.format(
        "it may SIGKILL the grading child and the CLI, which then exits with -9 and writes nothing")),
    Attack("forged_results", isolation=NO_BWRAP, planted=("results.json",),
           xfail="" if CONTAINED else UNCONTAINED.format(
               "its daemon survives and rewrites --output with forged full marks after the grader has exited")),
    Attack("network_connect", isolation=NO_BWRAP, xfail="" if FALLBACK.unshare else UNCONTAINED.format(
        "without a network namespace the worker reaches the listener")),
    # one function's leftovers, at every level: the bystander shares the file that patches torch
    *(Attack(name, (DISCRIMINATOR,), honest, isolation=level, noted=noted, beside=True,
             bystanders=(GENERATOR,) if GENERATOR not in honest else ())
      for level in LEVELS for name, honest, noted in LEFTOVERS),
)


# -- one run ------------------------------------------------------------------------------------


class Listener:
    """TCP and UDP on one loopback port and an abstract unix socket, recording every contact."""

    def __init__(self) -> None:
        for _ in range(20):  # a port free for TCP may be taken for UDP: try another
            self.tcp = socket.create_server(("127.0.0.1", 0))
            self.port = self.tcp.getsockname()[1]
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.udp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.tcp.close()
                self.udp.close()
        self.unix_name = f"gradekit-rt-{secrets.token_hex(6)}"
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind("\0" + self.unix_name)
        self.unix.listen()
        self.contacts: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.tcp, self.udp, self.unix], [], [], 0.2)
            for sock in ready:
                if sock is self.udp:
                    data, peer = sock.recvfrom(4096)
                    self.contacts.append(f"udp from {peer}: {data[:40]!r}")
                else:
                    conn, peer = sock.accept()
                    self.contacts.append(f"{'tcp' if sock is self.tcp else 'unix'} connection from {peer!r}")
                    conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


class Watch:
    """How long the oldest live process carrying the run's token has lived, sampled while the run lasts."""

    def __init__(self, token: str) -> None:
        self.token, self.oldest = token, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(SAMPLE):
            now = _uptime()
            for entry in Path("/proc").iterdir():
                try:
                    if not entry.name.isdigit() or self.token not in (entry / "cmdline").read_text(errors="replace"):
                        continue
                    started = int((entry / "stat").read_text().rpartition(")")[2].split()[19]) / tick
                except (OSError, ValueError, IndexError):
                    continue
                if not doomed(int(entry.name)):  # killed and dying counts as gone
                    self.oldest = max(self.oldest, now - started)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    """What one `grader grade` of an attack left behind."""

    attack: Attack
    returncode: int | None  # None: still running at the budget (then killed)
    seconds: float
    stdout: str
    report: dict | None
    notes: str  # the sandbox's own account of what it used and lacked
    output: str  # the --output file as written
    marker: Path
    contacts: list[str]
    secret: str
    survivors: list[str]
    planted: dict[str, str]  # the planted files, as shipped
    oldest: float  # seconds the longest-lived process carrying the token lived (sampled)


def _stage(attack: Attack, folder: Path, values: dict[str, str]) -> Path:
    """Copy the attack's folder and fill in its placeholders."""
    submission = folder / "submission"
    shutil.copytree(SUBMISSIONS / attack.name, submission, ignore=shutil.ignore_patterns("__pycache__"))
    for honest in sorted(HONEST_FILES.glob("*.py")) if attack.beside else ():
        if not (submission / honest.name).exists():
            shutil.copyfile(honest, submission / honest.name)
    for path in submission.iterdir():  # sources, and text pickles (protocol 0) posing as results
        text = path.read_bytes().decode("latin-1")
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        path.write_bytes(text.encode("latin-1"))
    return submission


def _command() -> list[str]:
    script = Path(sys.executable).with_name("grader")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from grader.cli import main; main()"]


def _uptime() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def _survivors(token: str, uid: int | None, until: float) -> dict[int, str]:
    """Live processes carrying ``token``, or of ``uid`` and started by ``until`` (uptime seconds).

    The start time tells our worker's processes from those of a later grader that claimed the
    same uid after ours released it; so does ancestry, for a grader that claimed it in the moment
    between our grading child's exit and our command's return: its worker descends from a live
    grading child, and ours has exited. Zombies are dead already and do not count.
    """
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, str, str, int, float]] = {}  # pid -> (ppid, state, cmdline, uid, start)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            stat = (entry / "stat").read_text().rpartition(")")[2].split()
            owner = int(re.search(r"^Uid:\s+(\d+)", (entry / "status").read_text(), re.M).group(1))
        except (OSError, AttributeError):
            continue
        table[int(entry.name)] = (int(stat[1]), stat[0], cmdline, owner, int(stat[19]) / tick)

    def another_graders(pid: int) -> bool:
        seen = set()
        while pid in table and pid not in seen:
            seen.add(pid)
            ppid, _, cmdline, _, _ = table[pid]
            if "--gradekit-target=" in cmdline:  # ours has exited by now: a live one is another grader's
                return True
            pid = ppid
        return False

    found = {}
    for pid, (_, state, cmdline, owner, started) in table.items():
        if state in "ZX":
            continue
        ours = uid is not None and owner == uid and started <= until and not another_graders(pid)
        if token in cmdline or ours:
            found[pid] = f"pid {pid} uid {owner}: {cmdline[:160]}"
    return found


def _report(output: Path) -> dict | None:
    try:
        return json.loads(output.read_text())
    except (OSError, ValueError):
        return None


def _notes(report: dict | None) -> str:
    """The sandbox's account of itself, as the grader wrote it (never the submission's text)."""
    return " ".join(n for n in report.get("notes", []) if type(n) is str) if type(report) is dict else ""


def _grade(attack: Attack, folder: Path) -> Run:
    """Grade the attack's folder with the CLI, under the budget, and collect the evidence."""
    listener = Listener()
    marker, output = folder / "marker", folder / "out" / "results.json"
    output.parent.mkdir()
    token, secret = f"gradekit-redteam-{secrets.token_hex(4)}", secrets.token_hex(16)
    submission = _stage(attack, folder, {
        "MARKER": str(marker), "PORT": str(listener.port), "UNIX": listener.unix_name, "TOKEN": token,
        "OUTPUT": str(output), "ROOT": str(ROOT), "FILLER": "_=0\n" * (512 << 10),
    })
    command = [*_command(), "grade", str(submission), "--only", ",".join(attack.only),
               "--call-timeout", f"{attack.call_timeout:g}", "--import-timeout", "10",
               "--format", "json", "--output", str(output)]
    if attack.public_only:
        command.append("--public-only")
    env = {**os.environ, "GRADEKIT_ISOLATION": attack.isolation, "GRADEKIT_REDTEAM_SECRET": secret}
    start, watch = time.monotonic(), Watch(token)
    proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=attack.budget)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its grading child; the worker dies with them
        stdout, _ = proc.communicate()
        returncode = None
    seconds, until = time.monotonic() - start, _uptime()
    listener.close()
    watch.close()
    uid = int(m.group(1)) if (m := re.search(r"\buser (\d+)", _notes(_report(output)))) else None
    survivors: dict[int, str] = {}
    for _ in range(30):  # SIGKILLed processes may take a moment to leave /proc
        survivors = _survivors(token, uid, until)
        if not survivors:
            break
        time.sleep(0.1)
    for pid in survivors:  # found and recorded: end them rather than leave them to their timers
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    report = _report(output)  # again, now: a survivor may have had the last word
    planted = {name: (submission / name).read_bytes().decode("latin-1") for name in attack.planted}
    return Run(attack, returncode, seconds, stdout.decode(errors="replace"), report, _notes(report),
               output.read_text() if output.exists() else "", marker, listener.contacts, secret,
               list(survivors.values()), planted, watch.oldest)


# -- the generic test ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Attack], Run]]:
    """Grades every selected attack, ``PARALLEL`` at a time, in table order, from the first test on.

    Why ahead of the tests: a run spends most of its ~10 s importing torch on one core or
    waiting out a timeout; overlapping three keeps the file under three minutes on two cores.
    Runs cannot see each other: each has its own token, marker, listener, secret and worker uid.
    """
    selected = [item.callspec.params["attack"] for item in request.session.items
                if item.module is request.module and hasattr(item, "callspec")]
    pool = ThreadPoolExecutor(max_workers=PARALLEL)
    runs: dict[Attack, Future[Run]] = {a: pool.submit(_grade, a, tmp_path_factory.mktemp(a.id)) for a in selected}
    yield lambda attack: runs[attack].result()
    pool.shutdown(cancel_futures=True)


def _params() -> list:
    return [pytest.param(a, id=a.id, marks=pytest.mark.xfail(strict=True, raises=a.fails_with, reason=a.xfail)
                         if a.xfail else ()) for a in ATTACKS]


@pytest.mark.parametrize("attack", _params())
def test_attack_is_contained(attack: Attack, graded: Callable[[Attack], Run]) -> None:
    run = graded(attack)
    tail = run.stdout[-2000:]
    assert run.returncode == 0, f"grader exit {run.returncode} after {run.seconds:.0f} s:\n{tail}"
    assert run.report is not None, f"no JSON report:\n{tail}"
    checks = {c["target"]: c for c in run.report["checks"]}
    assert sorted(checks) == sorted(attack.only), f"incomplete results: {sorted(checks)}"
    unrun = [(t, f["name"], f["outcome"], f["message"][:200]) for t, c in checks.items() for f in c["facets"]
             if f["outcome"] not in ("passed", "failed")]
    assert not unrun, f"facets without a real outcome: {unrun}"
    for target in attack.honest:
        check = checks[target]
        assert check["points"] == check["max_points"], f"honest {target} lost marks: {check['facets']}"
    for target, words in attack.noted:
        notes = " | ".join(checks[target]["notes"])
        assert words in notes, f"the report does not say under {target} {words!r}: {notes!r}"
    assert not run.marker.exists(), "a pickle payload ran: the marker file exists"
    assert not run.survivors, "processes of the submission survived the grader:\n" + "\n".join(run.survivors)
    assert run.oldest <= attack.call_timeout + LINGER, (
        f"a process of the submission lived {run.oldest:.1f} s: longer than the call that started it")
    assert run.secret not in run.output + run.stdout, "the grader's environment leaked into its output"
    assert FORGED not in run.output, "a forged result reached the grader's output"
    for name, content in run.planted.items():
        assert content != run.output, f"the planted {name} is what the grader wrote"
    assert len(run.stdout) < 1 << 20, f"{len(run.stdout)} bytes of grader output: the submission's flood got through"
    if attack.needs and attack.needs not in run.notes:
        pytest.xfail(f"this machine's sandbox lacks {attack.needs!r}, which stops this attack: {run.notes}")
    assert not run.contacts, f"the submission reached the test's listener: {run.contacts}"
    for target in attack.cheats:
        messages = [f["message"] for f in checks[target]["facets"]]
        assert all(attack.says in m for m in messages), f"{target} failed, but not saying {attack.says!r}: {messages}"
    scored = {t: checks[t]["points"] for t in attack.cheats if checks[t]["points"] != 0}
    if scored:
        raise CheatScored(f"cheating functions scored {scored}")
