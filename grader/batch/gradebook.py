"""The class's gradebook (CSV, one row per student) and the summary printed after a batch.

Columns: ``student``, ``total``, one per graded unit (the assignment's, in its order, then any
other check the results list, such as heavy training checks), ``status`` (``graded`` or
``failed-to-grade``), ``seconds``, ``reason``. A student who failed to grade has empty points:
a partial score is not a grade.
"""
from __future__ import annotations

import csv
import io
import statistics
from typing import Any

FIXED_HEAD, FIXED_TAIL = ("student", "total"), ("status", "seconds", "reason")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell that starts so


def units(records: list[dict[str, Any]], declared: tuple[str, ...]) -> list[str]:
    """The unit columns: ``declared`` first, then what else the records hold, in order of appearance."""
    found = dict.fromkeys(declared)
    for record in records:
        found.update(dict.fromkeys(record.get("points", {})))
    return list(found)


def _cell(value: Any) -> str:
    text = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
    return "'" + text if text.startswith(_FORMULA) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_text(records: list[dict[str, Any]], columns: list[str]) -> str:
    """The gradebook as CSV text, rows sorted by student."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*FIXED_HEAD, *columns, *FIXED_TAIL])
    for r in sorted(records, key=lambda r: r["student"]):
        graded = r["status"] == "graded"
        points = [r["points"].get(unit) if graded else None for unit in columns]
        writer.writerow([_cell(v) for v in (r["student"], r["total"] if graded else None, *points,
                                            r["status"], r["seconds"], r["reason"])])
    return out.getvalue()


def summary(records: list[dict[str, Any]], columns: list[str]) -> str:
    """Per unit the mean and median points of the graded students, and the units most of them lost points on."""
    graded = [r for r in records if r["status"] == "graded"]
    failed = [r["student"] for r in records if r["status"] != "graded"]
    lines = [f"{len(graded)} graded, {len(failed)} failed to grade" + (f": {', '.join(failed)}" if failed else "")]
    if not graded:
        return "\n".join(lines) + "\n"
    width = max(len(u) for u in [*columns, "total"]) + 2
    lines.append(f"{'unit':<{width}}{'max':>6}{'mean':>8}{'median':>8}{'lost by':>9}")
    losers: dict[str, int] = {}
    for unit in ["total", *columns]:
        got = [r["total"] if unit == "total" else r["points"].get(unit) for r in graded]
        got = [g for g in got if g is not None]
        if not got:
            continue
        top = max((r["max_total"] if unit == "total" else r["max_points"].get(unit, 0.0)) for r in graded)
        lost = sum(g < top - 1e-9 for g in got)
        if unit != "total":
            losers[unit] = lost
        lines.append(f"{unit:<{width}}{top:>6g}{statistics.mean(got):>8.2f}{statistics.median(got):>8.2f}"
                     f"{f'{lost}/{len(got)}':>9}")
    worst = sorted((u for u in losers if losers[u]), key=lambda u: -losers[u])[:5]
    if worst:
        lines.append("most often lost: " + ", ".join(f"{u} ({losers[u]} of {len(graded)})" for u in worst))
    return "\n".join(lines) + "\n"
