"""Grading on this machine: ``--jobs N`` slots, each a process that imported the checks once."""
from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.batch.slot import Slot, grade_in_slot
from grader.batch.task import FAILED, record_of


def _failed(task: dict[str, Any], reason: str) -> dict[str, Any]:
    return record_of(task, FAILED, reason, 0.0)


def gpus() -> int:
    """NVIDIA GPUs the driver lists, found without initialising CUDA (a slot must never: its forked
    children could not use it)."""
    folder = Path("/proc/driver/nvidia/gpus")
    return len(list(folder.iterdir())) if folder.is_dir() else 0


def cpus() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def slot_env(n: int, jobs: int, gpus: int) -> dict[str, str]:
    """Slot ``n``'s environment: its GPU when there are ``gpus``, and an even share of the CPUs
    for the intra-op threads of its grading children's oracles, unless ``OMP_NUM_THREADS`` is
    set already. Each would otherwise use every CPU, and ``jobs`` of them spinning for each
    other's cores cost a third more CPU per student."""
    env = {"CUDA_VISIBLE_DEVICES": str(n)} if gpus else {}
    if "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(max(1, cpus() // jobs))
    return env


def job_slots(jobs: int, heavy: str, device: str, gpus: int) -> int:
    """How many students to grade at once: ``jobs``, but one per GPU while training may use them."""
    return min(jobs, gpus) if heavy != "none" and device != "cpu" and gpus else jobs


def run_local(tasks: list[dict[str, Any]], jobs: int, logs: Path, gpus: int = 0) -> Iterator[dict[str, Any]]:
    """Grade ``tasks`` on ``jobs`` slots; yield each record as it is done, in the order they finish.

    With ``gpus``, slot n sees only GPU n (``CUDA_VISIBLE_DEVICES``): one student per device at a
    time. A slot that dies is replaced and its student tried once more; closing the iterator early
    (an interrupted batch) stops every slot and its grading child.
    """
    todo: queue.Queue[dict[str, Any] | None] = queue.Queue()
    done: queue.Queue[dict[str, Any] | BaseException] = queue.Queue()
    for task in tasks:
        todo.put(task)
    count = min(jobs, len(tasks))
    slots = [Slot(logs / f"slot-{n}.log", slot_env(n, count, gpus)) for n in range(count)]
    stopping = threading.Event()

    def work(slot: Slot) -> None:
        try:
            while not stopping.is_set():
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                done.put(grade_in_slot(slot, task, _failed))
        except BaseException as err:  # noqa: BLE001 - a bug here must end the batch, not hang it
            done.put(err)
        finally:
            slot.close()

    threads = [threading.Thread(target=work, args=(slot,), daemon=True) for slot in slots]
    for thread in threads:
        thread.start()
    try:
        for _ in tasks:
            got = done.get()
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stopping.set()
        for slot in slots:
            slot.retire()
        for thread in threads:
            thread.join(timeout=10)
