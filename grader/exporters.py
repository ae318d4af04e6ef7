"""Exporters: one ``Report`` in, one text out, kept in a dict by format name."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from itertools import groupby
from typing import Protocol

from grader.report import CheckResult, FacetResult, Report
from grader.submission import NOTHING_GRADED

PUBLIC_ONLY = "public checks only: the hidden ones count in the final grade"


class Exporter(Protocol):
    def __call__(self, report: Report) -> str: ...


def _not_run(check) -> str:
    return check.facets[0].message.partition(":")[0] if check.facets else "not run"


def _first_line(text: str, limit: int = 110) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def table(report: Report) -> str:
    """Terminal table grouped by module, one line per function and a reason per failure."""
    width = max([len(c.function) + 4 for c in report.checks] + [len(c.topic) + 5 for c in report.checks] + [12])
    lines = [f"gradekit: {report.label}" + (f" ({PUBLIC_ONLY})" if report.public_only else "")]
    for topic, group in groupby(report.checks, key=lambda c: c.topic):
        group = list(group)
        got, total = sum(c.points for c in group if c.ran), sum(c.max_points for c in group if c.ran)
        lines.append(f"\n{topic + '.py':<{width}}{got:6.2f} / {total:g}")
        absent = f"the submission has no {topic}.py"
        graded = [c for c in group if c.ran]
        if graded and all(f.outcome != "passed" and (absent in f.message or f.message == NOTHING_GRADED)
                          for c in graded for f in c.facets):
            lines.append(f"  {absent}: its {len(graded)} functions were not graded")
            group = [c for c in group if not c.ran]  # the training checks left out are still named
        for c in group:
            if not c.ran:
                lines.append(f"{'  ' + c.function:<{width}}  ---- / {c.max_points:<5g} {_not_run(c)}")
                continue
            mark = "ok" if c.passed else "FAIL"
            lines.append(f"{'  ' + c.function:<{width}}{c.points:6.2f} / {c.max_points:<5g} {mark}")
            for verdict in c.verdicts():
                head, *rows = verdict.split("\n")  # a report's table, under its verdict
                lines += [f"      {_first_line(head, 160)}", *(f"        {row}" for row in rows)]
            lines += [f"      {_first_line(line, 160)}" for line in c.failures()]
            lines += [f"      figure: {path}" for path in c.figures]
            lines += [f"      note: {_first_line(note)}" for note in c.notes]
    lines.append(f"\nTotal: {report.points:.2f} / {report.max_points:g} points   ({report.seconds:.1f} s)")
    if report.not_run:
        lines.append(f"Not run: {', '.join(c.target for c in report.not_run)} "
                     f"({sum(c.max_points for c in report.not_run):g} points; --heavy quick or full trains them)")
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def _gradescope_test(c: CheckResult, facets: tuple[FacetResult, ...], hidden: bool, visibility: str) -> dict:
    tags = [c.target, c.topic, *(["heavy"] if c.heavy else []), *(["hidden"] if hidden else [])]
    name = c.target + (" (hidden)" if hidden else "")
    if not c.ran:  # a training check left out is said to be, never scored zero
        return {"name": name, "output": _not_run(c), "visibility": visibility, "tags": tags}
    reasons = {f.message for f in facets if f.outcome != "passed"}
    if len(reasons) == 1 and all(f.outcome != "passed" for f in facets) and (not hidden or reasons == {NOTHING_GRADED}):
        lines = [reasons.pop()]  # one cause (no such file, nothing handed in): said once, not per facet
    else:
        lines = c.failures(reveal_hidden=False, among=facets)
    shown = [] if hidden else [*c.verdicts(), *lines, *(f"figure: {p}" for p in c.figures), *c.notes]
    return {
        "name": name,
        "score": round(sum(c.facet_points(f) for f in facets if c.counts(f)), 4),
        "max_score": round(sum(c.facet_points(f) for f in facets), 4),
        "status": "passed" if all(c.counts(f) for f in facets) else "failed",
        "output": "\n".join(lines if hidden else shown)
        or ("All hidden checks passed." if hidden else "All checks passed."),
        "visibility": visibility,
        "tags": tags,
    }


def gradescope(report: Report) -> str:
    """Gradescope's ``results.json``: per graded function, one test of the facets students see
    (``visible``) and one of its hidden facets, shown as ``report.hidden_visibility`` says; both
    tagged with the function's API name. The top-level output gives the visible points only."""
    tests = []
    for c in report.checks:
        shown = tuple(f for f in c.facets if c.shown(f))
        hidden = tuple(f for f in c.facets if not c.shown(f))
        tests += [_gradescope_test(c, shown, False, "visible")] if shown else []
        tests += [_gradescope_test(c, hidden, True, report.hidden_visibility)] if hidden else []
    visible = [t for t in tests if t["visibility"] == "visible"]
    got, out_of = sum(t.get("score", 0) for t in visible), sum(t.get("max_score", 0) for t in visible)
    summary = f"{got:.2f} / {out_of:.2f} points" + ("" if len(visible) == len(tests) else
                                                      " on the tests shown now; the hidden tests' points show once "
                                                      "the course publishes the grades")
    results = {
        "score": round(report.points, 4),
        "execution_time": round(report.seconds, 2),
        "output": summary + "".join(f"\n{n}" for n in report.notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2) + "\n"


def junit(report: Report) -> str:
    """JUnit XML, one testcase per graded function, points as properties."""
    failed = sum(c.ran and not c.passed for c in report.checks)
    suites = ET.Element("testsuites", name="gradekit", tests=str(len(report.checks)), failures=str(failed))
    suite = ET.SubElement(suites, "testsuite", name=report.label, tests=str(len(report.checks)),
                          failures=str(failed), time=f"{report.seconds:.3f}")
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", classname=c.topic, name=c.function)
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="points", value=f"{c.points:g}")
        ET.SubElement(props, "property", name="max_points", value=f"{c.max_points:g}")
        for path in c.figures:
            ET.SubElement(props, "property", name="figure", value=path)
        if not c.ran:
            ET.SubElement(case, "skipped", message=_not_run(c))
        elif not c.passed:
            reasons = c.failures()
            failure = ET.SubElement(case, "failure", message=_first_line(reasons[0], 200))
            failure.text = "\n".join(reasons)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def as_json(report: Report) -> str:
    """Everything the grader knows, for other tools."""
    return json.dumps(report.as_dict(), indent=2) + "\n"


EXPORTERS: dict[str, Callable[[Report], str]] = {
    "table": table,
    "gradescope": gradescope,
    "junit": junit,
    "json": as_json,
}
