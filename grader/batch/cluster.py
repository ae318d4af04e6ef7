"""Grading past one machine: the same per-student task on a Dask distributed cluster.

``--scheduler tcp://HOST:PORT`` connects to a running scheduler; ``--scheduler local:N`` starts a
``LocalCluster`` of N single-threaded worker processes. Each Dask worker keeps one job slot
(:mod:`grader.batch.slot`), started with its first task, so a worker grades exactly as
``--jobs`` does: the same sandbox, the same forked grading child. What crosses the wire is the
task (paths, options) and the record (points, status): plain JSON-able data, never an object of
the submission's. The submissions, the output folder and gradekit itself must therefore be
reachable at the same paths on every worker (a shared file system).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.batch.slot import Slot, grade_in_slot
from grader.batch.task import FAILED, record_of

_slot: Slot | None = None
_slot_lock = threading.Lock()
# The nanny's setting for the worker's own heap: passed on, it made every grading child hand
# freed memory back to the kernel at once and fault it in again, 0.4 s of CPU a student.
WORKER_ONLY = {"MALLOC_TRIM_THRESHOLD_": None}
# A LocalCluster shares the CPUs with the slots it feeds. Idle, its processes used 13 % of a core
# here, 1.7 % with these: sampling the task thread's stack every 10 ms (a thread that only waits
# for its slot), checking every 20 ms that the event loop is not blocked, and reading the
# processes' counters twice a second.
LOCAL_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "5s"}


def _failed(task: dict[str, Any], reason: str) -> dict[str, Any]:
    return record_of(task, FAILED, reason, 0.0)


def grade_on_worker(task: dict[str, Any]) -> dict[str, Any]:
    """The Dask task: grade one student in this worker's slot and return its record."""
    global _slot
    with _slot_lock:  # one student at a time per worker, whatever its thread count
        if _slot is None:
            _slot = Slot(Path(task["scratch"]) / f"dask-slot-{os.getpid()}.log", WORKER_ONLY)
        return grade_in_slot(_slot, task, _failed)


def _client(address: str):
    import dask
    from dask.distributed import Client, LocalCluster

    if address.startswith("local:"):
        workers = int(address.partition(":")[2])
        with dask.config.set(LOCAL_CONFIG):  # the nannies hand their config to the workers they start
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                                   dashboard_address=None)
        return Client(cluster), cluster
    return Client(address, timeout=30), None


def parse_scheduler(address: str) -> str:
    """``address`` if it is ``local:N`` (N ≥ 1) or a scheduler URL and Dask is installed; else ``ValueError`` saying why."""
    import importlib.util

    if importlib.util.find_spec("distributed") is None:
        raise ValueError("--scheduler needs Dask distributed, which is not installed: pip install 'gradekit[cluster]'")
    kind, _, count = address.partition(":")
    if kind == "local" and not (count.isdigit() and int(count) >= 1):
        raise ValueError(f"--scheduler local:N needs a number of workers N >= 1, got {address!r}")
    if kind != "local" and "://" not in address:
        raise ValueError(f"--scheduler must be local:N or a Dask scheduler address such as tcp://host:8786, got {address!r}")
    return address


def run_cluster(tasks: list[dict[str, Any]], address: str) -> Iterator[dict[str, Any]]:
    """Grade ``tasks`` on the Dask cluster at ``address``; yield each record as it is done."""
    from dask.distributed import as_completed

    client, cluster = _client(address)
    futures = {client.submit(grade_on_worker, task, key=f"grade-{n}-{task['student']}", pure=False): task
               for n, task in enumerate(tasks)}
    try:
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as err:  # noqa: BLE001 - a worker died under it too often, or contact was lost
                yield _failed(futures[future], f"the Dask task failed: {type(err).__name__}: {err}")
    finally:
        client.cancel(list(futures))
        client.close()
        if cluster is not None:
            cluster.close()
