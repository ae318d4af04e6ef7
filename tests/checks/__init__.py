"""Every graded check, one declaration per graded function, one module per topic.

``CHECKS`` is the database the generic tests (``tests/test_graded.py``) and the grader loop
over. A new graded function needs its solution and one declaration in its topic's module here.
"""
from __future__ import annotations

from grader.check import Check, InvalidCheck
from tests.checks import cgan, divergences, flows, gan, vae

TOPICS = {"vae": vae, "divergences": divergences, "gan": gan, "cgan": cgan, "flows": flows}

CHECKS: list[Check] = [check for module in TOPICS.values() for check in module.CHECKS]

_ids = [c.target for c in CHECKS]
if len(set(_ids)) != len(_ids):
    raise InvalidCheck(f"two checks share a target: {sorted(t for t in _ids if _ids.count(t) > 1)}")
for _check in CHECKS:
    if _check.topic not in TOPICS or TOPICS[_check.topic].CHECKS.count(_check) != 1:
        raise InvalidCheck(f"{_check.target} is declared outside tests/checks/{_check.topic}.py")


def by_target(target: str) -> Check:
    """The check for ``topic.function``."""
    for check in CHECKS:
        if check.target == target:
            return check
    raise KeyError(f"no check for {target!r}; known: {', '.join(_ids)}")
