"""Course content: one folder per topic, found by discovery.

A topic is a subpackage ``course/<topic>/`` with ``checks.py`` (its graded checks, trusted side
only) and, when its checks need grader-owned code next to the implementation, ``scenarios.py``.
Its training checks, if any, are declared in ``heavy.py`` (trusted side) and train with the
loops of ``training.py`` (next to the implementation). Every ``Check`` defined at the top level
of a ``checks.py``, and every ``Heavy`` of a ``heavy.py``, is graded in the order written; no
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


def _declared(filename: str, kind: type) -> list:
    """Every ``kind`` object at the top level of ``course/<topic>/<filename>.py``, topics
    alphabetically, in the order written; one declared in another topic's folder is refused."""
    from grader.check import InvalidCheck

    found = []
    for topic in sorted(p.parent.name for p in HERE.glob(f"*/{filename}.py")):
        module = importlib.import_module(f"course.{topic}.{filename}")
        for declared in vars(module).values():
            if type(declared) is not kind:
                continue
            if declared.topic != topic:
                raise InvalidCheck(f"{declared.target} is declared in course/{topic}/{filename}.py; move it to "
                                   f"course/{declared.topic}/{filename}.py")
            found.append(declared)
    return found


@functools.cache
def checks() -> tuple:
    """Every declared check of every topic: topics alphabetically, checks in the order written.

    Raises
    ------
    grader.check.InvalidCheck
        When a check is declared in another topic's folder, or two checks share a target.
    """
    from grader.check import Check, InvalidCheck

    found = _declared("checks", Check)
    targets = [c.target for c in found]
    if len(set(targets)) != len(targets):
        raise InvalidCheck(f"two checks share a target: {sorted({t for t in targets if targets.count(t) > 1})}")
    return tuple(found)


@functools.cache
def heavy_checks() -> tuple:
    """Every declared training check (``course/<topic>/heavy.py``): topics alphabetically.

    Raises
    ------
    grader.check.InvalidCheck
        When a check is declared in another topic's folder or its name is taken.
    """
    from grader.check import InvalidCheck
    from grader.heavy import Heavy

    found = _declared("heavy", Heavy)
    taken = {c.target for c in checks()}
    for heavy in found:
        if heavy.target in taken:
            raise InvalidCheck(f"{heavy.target}: a graded function or another training check has that name")
        taken.add(heavy.target)
    return tuple(found)


def by_target(target: str):
    """The check for ``topic.function``."""
    for check in checks():
        if check.target == target:
            return check
    raise KeyError(f"no check for {target!r}; known: {', '.join(c.target for c in checks())}")
