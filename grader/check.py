"""Declarations of graded checks: one ``Check`` per graded function.

A check says what it grades, how to draw inputs, what independent math the result must agree
with, which further claims must hold, which inputs must raise, and which wrong
implementations it must catch. :mod:`grader.facets` turns a declaration into runnable facets;
``tests/test_graded.py`` turns those into pytest items.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from hypothesis.strategies import SearchStrategy


class InvalidCheck(ValueError):
    """A declaration that cannot be graded with; the message names the field."""


@dataclass(frozen=True)
class Tol:
    """Absolute and relative tolerance: |actual - expected| <= atol + rtol * |expected|."""

    atol: float
    rtol: float


DEFAULT_TOL: Mapping[str, Tol] = {
    "float32": Tol(atol=1e-4, rtol=1e-4),
    "float64": Tol(atol=1e-8, rtol=1e-7),
}


@dataclass(frozen=True)
class Claim:
    """A named property checked by hand-written code against the implementation.

    ``run(f)`` receives a :class:`grader.handle.Bound` for the check's target and raises
    :class:`grader.facets.CheckFailure` (or lets a ``SubmissionError`` through) when the claim
    does not hold.
    """

    name: str
    run: Callable[[Any], None]


@dataclass(frozen=True)
class Raises:
    """An input on which the target must raise ``exc`` (matched by class name)."""

    name: str
    kwargs: Mapping[str, Any]
    exc: type[BaseException]


@dataclass(frozen=True)
class Check:
    """One graded function, declared once."""

    # what
    target: str  # "topic.function", as in API.md
    points: float
    public: bool = True  # hidden checks never reach a student's own run
    # inputs
    inputs: SearchStrategy | None = None  # draws keyword-argument dicts
    examples: tuple[Mapping[str, Any], ...] = ()  # explicit edge cases, always run first
    max_examples: int = 25
    # oracle: independent math on float64 NumPy copies of the inputs, never solutions/
    oracle: Callable[..., Any] | None = None
    tol: Mapping[str, Tol] = field(default_factory=lambda: dict(DEFAULT_TOL))
    # properties that need more than one call or more than a value comparison
    claims: tuple[Claim, ...] = ()
    # inputs that must raise
    errors: tuple[Raises, ...] = ()
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
        if self.oracle is None and not self.claims:
            raise InvalidCheck(f"{self.target}: give an oracle= or at least one claim")
        if self.oracle is not None and self.inputs is None and not self.examples:
            raise InvalidCheck(f"{self.target}: an oracle needs inputs= or examples=")
        if self.reference and self.inputs is None:
            raise InvalidCheck(f"{self.target}: reference=True needs inputs= to draw from")
        if len({c.name for c in self.claims} | {e.name for e in self.errors}) != len(self.claims) + len(self.errors):
            raise InvalidCheck(f"{self.target}: claim and error names must be unique")
        if not self.kills:
            raise InvalidCheck(f"{self.target}: kills= must name the wrong implementations it catches")

    @property
    def topic(self) -> str:
        return self.target.partition(".")[0]

    @property
    def function(self) -> str:
        return self.target.partition(".")[2]

    def selected_by(self, only: tuple[str, ...] | list[str]) -> bool:
        """Whether a ``--only`` list (topics or ``topic.function`` names; empty: all) takes this check."""
        return not only or self.target in only or self.topic in only

    def __str__(self) -> str:
        return self.target
