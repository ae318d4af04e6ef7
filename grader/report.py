"""The outcome of grading one implementation: checks, their facets, points."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FacetResult:
    name: str
    public: bool
    outcome: str  # passed | failed | error | skipped | missing
    message: str = ""


@dataclass(frozen=True)
class CheckResult:
    """One graded function: its points follow the fraction of facets that passed."""

    target: str
    max_points: float
    public: bool
    facets: tuple[FacetResult, ...]

    @property
    def topic(self) -> str:
        return self.target.partition(".")[0]

    @property
    def function(self) -> str:
        return self.target.partition(".")[2]

    @property
    def passed(self) -> bool:
        return all(f.outcome == "passed" for f in self.facets)

    @property
    def points(self) -> float:
        if not self.facets:
            return 0.0
        return self.max_points * sum(f.outcome == "passed" for f in self.facets) / len(self.facets)

    def failures(self, *, reveal_hidden: bool = True) -> list[str]:
        """One line per failed facet; hidden ones say only that they failed unless revealed."""
        lines = []
        for f in self.facets:
            if f.outcome == "passed":
                continue
            if f.public or reveal_hidden:
                lines.append(f"{f.name}: {f.message or f.outcome}")
            else:
                lines.append(f"{f.name}: failed (hidden check)")
        return lines


@dataclass
class Report:
    label: str
    public_only: bool
    checks: list[CheckResult]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # said once, for the whole run

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for check, plain in zip(self.checks, out["checks"]):
            plain["points"] = check.points
        out["points"], out["max_points"] = self.points, self.max_points
        return out
