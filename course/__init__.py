"""Course content: one folder per topic, found by discovery.

A topic is a subpackage ``course/<topic>/`` with ``checks.py`` (its graded checks, trusted side
only) and, when its checks need grader-owned code next to the implementation, ``scenarios.py``.
Every ``Check`` defined at the top level of a ``checks.py`` is graded, in the order written; no
list names them. Importing this package imports nothing else: the sandboxed worker imports it
for the scenarios alone.
"""
from __future__ import annotations

import functools
import importlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def topics(only: tuple[str, ...] | list[str] = ()) -> list[str]:
    """The topic folders, in alphabetical order; with ``only`` (topics or ``topic.function``
    names, as ``--only`` takes them), those it names."""
    return sorted(p.parent.name for p in HERE.glob("*/checks.py")
                  if not only or any(name.partition(".")[0] == p.parent.name for name in only))


@functools.cache
def checks() -> tuple:
    """Every declared check of every topic: topics alphabetically, checks in the order written.

    Raises
    ------
    grader.check.InvalidCheck
        When a check is declared in another topic's folder, or two checks share a target.
    """
    from grader.check import Check, InvalidCheck

    found = []
    for topic in topics():
        module = importlib.import_module(f"course.{topic}.checks")
        for check in vars(module).values():
            if type(check) is not Check:
                continue
            if check.topic != topic:
                raise InvalidCheck(f"{check.target} is declared in course/{topic}/checks.py; move it to "
                                   f"course/{check.topic}/checks.py")
            found.append(check)
    targets = [c.target for c in found]
    if len(set(targets)) != len(targets):
        raise InvalidCheck(f"two checks share a target: {sorted({t for t in targets if targets.count(t) > 1})}")
    return tuple(found)


def by_target(target: str):
    """The check for ``topic.function``."""
    for check in checks():
        if check.target == target:
            return check
    raise KeyError(f"no check for {target!r}; known: {', '.join(c.target for c in checks())}")
