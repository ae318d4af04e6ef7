"""Declarations of graded checks: one ``Check`` per graded function.

A check says what it grades, how to draw inputs, what independent math the result must agree
with, which further claims must hold, which inputs must raise, and which wrong
implementations it must catch. :mod:`grader.facets` turns a declaration into runnable facets;
``tests/test_graded.py`` turns those into pytest items.

Each facet carries a share of the function's points. *Core* facets hold the function's math and
purpose (the oracle on ordinary inputs, the gradient, the claims that are its reason to exist,
the hidden comparison with the reference); they share whatever the *clauses* leave. A clause is
one convention or edge case that we settled ourselves (a default, an error type, the type of the
result, numbers instead of tensors, image-shaped inputs, extreme values). It states its own small
weight, and it counts only when some core facet of the function passes: a function that does
nothing earns nothing for the things it does not do wrong.
"""
from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hypothesis.strategies import SearchStrategy

from grader.named import Named


class InvalidCheck(ValueError):
    """A declaration that cannot be graded with; the message names the field."""


@dataclass(frozen=True)
class Tol:
    """Absolute and relative tolerance: |actual - expected| <= atol + rtol * |expected|."""

    atol: float
    rtol: float


# Wide enough for every correct computation we know of (a float32 constant inside float64
# arithmetic, other summation orders, torch.distributions); the wrong code we know of is off by
# orders of magnitude more. tests/test_power.py proves both sides.
DEFAULT_TOL: Mapping[str, Tol] = {
    "float32": Tol(atol=1e-4, rtol=1e-4),
    "float64": Tol(atol=1e-6, rtol=1e-6),
}

CLAUSE = 0.05  # the usual weight of one convention or edge clause: 5 % of the function's points
CLAUSES_AT_MOST = 0.3  # all clauses of a function together; the math keeps the rest


@dataclass(frozen=True)
class Claim:
    """A named property checked by hand-written code against the implementation.

    ``run(f)`` receives a :class:`grader.handle.Bound` for the check's target and raises
    :class:`grader.facets.CheckFailure` (or lets a ``SubmissionError`` through) when the claim
    does not hold. A core claim (the default) shares the core's points unless it states a
    ``weight``; a clause (``core=False``) weighs :data:`CLAUSE` unless it states otherwise.
    """

    name: str
    run: Callable[[Any], None]
    core: bool = True
    weight: float | None = None


@dataclass(frozen=True)
class Example:
    """A clause: explicit inputs on which the result must match the oracle.

    For conventions and edge cases (numbers as the prior, image-shaped inputs, extreme values)
    that must not sit inside the core ``oracle`` facet.
    """

    name: str
    cases: tuple[Mapping[str, Any], ...]
    weight: float = CLAUSE


@dataclass(frozen=True)
class Raises:
    """A clause: inputs on which the target must raise ``exc`` (matched by class name)."""

    name: str
    exc: type[BaseException]
    cases: tuple[Mapping[str, Any], ...]
    weight: float = CLAUSE


@dataclass(frozen=True)
class Default:
    """A clause: called without ``param``, the result must match the oracle given ``value``.

    Names and order of parameters are the contract; a default value is a convention. Core
    facets always pass such a parameter explicitly, so a student's own default costs this
    clause only. ``value`` is what the oracle receives in its place.
    """

    param: str
    value: Any
    weight: float = CLAUSE

    @property
    def name(self) -> str:
        return self.param


@dataclass(frozen=True)
class Extra:
    """An optional part of the package that a check needs: its pip extra and the modules it brings.

    Where a module is missing, every facet of the check is skipped with :attr:`reason` (the grader
    reports it, the test suite skips), instead of failing on an import error in the worker.
    """

    name: str  # as in ``pip install 'gradekit[name]'``
    modules: tuple[str, ...]

    def missing(self) -> tuple[str, ...]:
        """The modules that cannot be imported here (none imported to find out)."""
        return tuple(m for m in self.modules if not _importable(m))

    @property
    def reason(self) -> str | None:
        """Why the check cannot run here, with the command that fixes it; ``None`` when it can."""
        missing = self.missing()
        if not missing:
            return None
        return (f"needs {', '.join(missing)}, which is not installed where the grader runs; "
                f"install the {self.name!r} extra: pip install 'gradekit[{self.name}]'")


@functools.cache
def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module set to None in sys.modules
        return False


@dataclass(frozen=True)
class Check(Named):
    """One graded function, declared once."""

    # what
    target: str  # "topic.function", as in API.md
    points: float
    public: bool = True  # hidden checks never reach a student's own run
    needs: Extra | None = None  # an optional extra the topic imports (torch_geometric, torchdyn, ...)
    # inputs
    inputs: SearchStrategy | None = None  # draws keyword-argument dicts
    examples: tuple[Mapping[str, Any], ...] = ()  # ordinary explicit inputs, always run first
    max_examples: int = 25
    # oracle: independent math on float64 NumPy copies of the inputs, never solutions/
    oracle: Callable[..., Any] | None = None
    tol: Mapping[str, Tol] = field(default_factory=lambda: dict(DEFAULT_TOL))
    oracle_weight: float | None = None  # None: an equal part of what the core facets share
    # the result's type, dtype and device: a clause of its own (oracle checks only)
    returns_dtype: Any = None  # None: the dtype of the first tensor input
    returns_weight: float = CLAUSE
    # gradients of the result w.r.t. these inputs must match finite differences of the oracle
    grad_wrt: tuple[str, ...] = ()
    grad_weight: float = 0.15
    # properties that need more than one call or more than a value comparison
    claims: tuple[Claim, ...] = ()
    # clauses: edge and convention inputs, errors, defaults
    edges: tuple[Example, ...] = ()
    errors: tuple[Raises, ...] = ()
    defaults: tuple[Default, ...] = ()
    # hidden: agree with the reference solution on the same input distribution
    reference: bool = True
    # mutants it must catch, by name (tests/mutants/<topic>.py)
    kills: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        topic, _, name = self.target.partition(".")
        if not topic or not name or "." in name:
            raise InvalidCheck(f"target={self.target!r} must read 'topic.function'")
        if not self.points > 0:
            raise InvalidCheck(f"{self.target}: points={self.points!r} must be > 0")
        if self.oracle is None and not any(c.core for c in self.claims):
            raise InvalidCheck(f"{self.target}: give an oracle= or at least one core claim")
        if self.oracle is not None and self.inputs is None and not self.examples:
            raise InvalidCheck(f"{self.target}: an oracle needs inputs= or examples=")
        if (self.edges or self.defaults or self.grad_wrt) and self.oracle is None:
            raise InvalidCheck(f"{self.target}: edges=, defaults= and grad_wrt= compare with the oracle; give one")
        if self.grad_wrt and self.inputs is None:
            raise InvalidCheck(f"{self.target}: grad_wrt= draws its inputs from inputs=; give one")
        if self.reference and self.inputs is None:
            raise InvalidCheck(f"{self.target}: reference=True needs inputs= to draw from")
        names = [c.name for c in (*self.claims, *self.edges, *self.errors, *self.defaults)]
        if len(set(names)) != len(names):
            raise InvalidCheck(f"{self.target}: claim, edge, error and default names must be unique")
        if not self.kills:
            raise InvalidCheck(f"{self.target}: kills= must name the wrong implementations it catches")
        self.weights()  # validates the shares

    def weights(self) -> dict[str, tuple[float, bool]]:
        """``{facet name: (share of the points, core?)}`` in report order; the shares sum to 1."""
        parts: list[tuple[str, float | None, bool]] = []
        if self.oracle is not None:
            parts.append(("oracle", self.oracle_weight, True))
            if self.grad_wrt:
                parts.append(("gradient", self.grad_weight, True))
        parts += [(f"claim:{c.name}", c.weight if c.weight is not None or c.core else CLAUSE, c.core)
                  for c in self.claims]
        if self.reference:
            parts.append(("reference", None, True))
        if self.oracle is not None:
            parts.append(("returns", self.returns_weight, False))
        parts += [(f"example:{e.name}", e.weight, False) for e in self.edges]
        parts += [(f"default:{d.name}", d.weight, False) for d in self.defaults]
        parts += [(f"error:{e.name}", e.weight, False) for e in self.errors]
        clauses = sum(w for _, w, core in parts if not core)
        if clauses > CLAUSES_AT_MOST + 1e-9:
            raise InvalidCheck(f"{self.target}: clauses weigh {clauses:.2f} together, more than "
                               f"{CLAUSES_AT_MOST}; the math must carry most of the points")
        if any(w is not None and not 0 < w < 1 for _, w, _ in parts):
            raise InvalidCheck(f"{self.target}: every weight must lie in (0, 1)")
        left = 1 - sum(w for _, w, _ in parts if w is not None)
        unset = [name for name, w, _ in parts if w is None]
        if (left <= 1e-9) if unset else (abs(left) > 1e-9):
            raise InvalidCheck(f"{self.target}: the declared weights leave {left:.3f} for {unset or 'no facet'}; "
                               "they must add up to 1, the core facets without a weight sharing the rest")
        return {name: (left / len(unset) if w is None else w, core) for name, w, core in parts}
