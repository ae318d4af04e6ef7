"""The outcome of grading one implementation: checks, their facets, points."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from grader.named import Named


@dataclass(frozen=True)
class FacetResult:
    name: str
    public: bool
    outcome: str  # passed | failed | error | skipped | missing | not-run (a training check at --heavy none)
    message: str = ""
    weight: float = 1.0  # share of the check's points, as declared
    core: bool = True  # a clause (core=False) counts only when some core facet passed


@dataclass(frozen=True)
class CheckResult(Named):
    """One graded function: its points follow the declared weights of the facets that passed.

    Clauses count only when some core facet passed. When hidden facets are left out (a
    student's own run), the weights of those that ran are scaled up to the full points.
    """

    target: str
    max_points: float
    public: bool
    facets: tuple[FacetResult, ...]
    notes: tuple[str, ...] = ()  # about the function as a whole, e.g. its default values
    heavy: bool = False  # a training check: its facets are criteria, their messages verdicts
    figures: tuple[str, ...] = ()  # PNG paths a training check drew

    @property
    def ran(self) -> bool:
        """False for a training check left out at this ``--heavy`` level: it counts in no total."""
        return any(f.outcome != "not-run" for f in self.facets)


    @property
    def passed(self) -> bool:
        return all(f.outcome == "passed" for f in self.facets)

    @property
    def core_passed(self) -> bool:
        return any(f.core and f.outcome == "passed" for f in self.facets)

    def counts(self, facet: FacetResult) -> bool:
        """Whether ``facet`` earns its weight."""
        return facet.outcome == "passed" and (facet.core or self.core_passed)

    def facet_points(self, facet: FacetResult) -> float:
        """The points ``facet`` is worth in this report."""
        total = sum(f.weight for f in self.facets)
        return self.max_points * facet.weight / total if total else 0.0

    @property
    def points(self) -> float:
        # rounded: shares such as 0.35 + 0.05 + 0.25 + 0.35 must give the full points exactly
        return round(sum(self.facet_points(f) for f in self.facets if self.counts(f)), 9)

    def verdicts(self) -> list[str]:
        """A training check's criteria that passed, each with its metric and threshold (a report's table
        follows on the next lines)."""
        return [f"{f.name}: passed: {f.message}" for f in self.facets if self.heavy and self.counts(f) and f.message]

    def shown(self, facet: FacetResult) -> bool:
        """Whether students see ``facet`` as it runs (a public facet of a public check)."""
        return facet.public and self.public

    def lost(self, *, reveal_hidden: bool = True,
             among: tuple[FacetResult, ...] | None = None) -> list[tuple[FacetResult, float, str]]:
        """(facet, points it was worth, why) for each facet (of ``among``, default all) that earned
        nothing; a hidden one says only that it failed unless revealed. A training check that did
        not run has none."""
        if not self.ran:
            return []
        found = []
        for f in self.facets if among is None else among:
            if self.counts(f):
                continue
            if f.outcome == "passed":
                why = "passed, but a clause counts only once the function's core math passes"
            elif f.public or reveal_hidden:
                why = f.message or f.outcome
            else:
                why = "failed (hidden check)"
            found.append((f, self.facet_points(f), why))
        return found

    def failures(self, *, reveal_hidden: bool = True, among: tuple[FacetResult, ...] | None = None) -> list[str]:
        """One line per facet that earned nothing, with the points it was worth (see :meth:`lost`)."""
        return [f"{f.name} ({'core' if f.core else 'clause'}, {worth:.2f} pts): {why}"
                for f, worth, why in self.lost(reveal_hidden=reveal_hidden, among=among)]


@dataclass
class Report:
    label: str
    public_only: bool
    checks: list[CheckResult]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # said once, for the whole run
    hidden_visibility: str = "after_published"  # when students see hidden facets' points on Gradescope
    incomplete: str = ""  # why the grading child stopped before its end, if it did

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks if c.ran)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.checks if c.ran)

    @property
    def not_run(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ran]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for check, plain in zip(self.checks, out["checks"]):
            plain["points"] = check.points
        out["points"], out["max_points"] = self.points, self.max_points
        return out
