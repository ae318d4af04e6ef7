"""The rubric: every graded function's points, split over its facets, from the declarations."""
from __future__ import annotations

from itertools import groupby

from grader.check import Check


def _split(check: Check, core: bool) -> str:
    parts = [f"{name} {share * check.points:.2f}" for name, (share, is_core) in check.weights().items()
             if is_core == core]
    return ", ".join(parts) or "—"


def markdown(checks: list[Check]) -> str:
    """One Markdown table per topic: function, points, core facets and clauses with their points."""
    lines = []
    for topic, group in groupby(checks, key=lambda c: c.topic):
        group = list(group)
        lines += [f"**`{topic}.py`** ({sum(c.points for c in group):g} points)", "",
                  "| function | points | core: the math | clauses: conventions and edges |", "|---|---|---|---|"]
        lines += [f"| `{c.function}` | {c.points:g} | {_split(c, True)} | {_split(c, False)} |" for c in group]
        lines.append("")
    return "\n".join(lines)
