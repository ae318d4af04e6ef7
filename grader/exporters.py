"""Exporters: one ``Report`` in, one text out, kept in a dict by format name."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Callable, Protocol

from grader.report import Report


class Exporter(Protocol):
    def __call__(self, report: Report) -> str: ...


def _first_line(text: str, limit: int = 110) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def table(report: Report) -> str:
    """Terminal table grouped by module, one line per function and a reason per failure."""
    width = max([len(c.function) + 4 for c in report.checks] + [len(c.topic) + 5 for c in report.checks] + [12])
    lines = [f"gradekit: {report.label}" + (" (public checks only)" if report.public_only else "")]
    for topic, group in groupby(report.checks, key=lambda c: c.topic):
        group = list(group)
        got, total = sum(c.points for c in group), sum(c.max_points for c in group)
        lines.append(f"\n{topic + '.py':<{width}}{got:6.2f} / {total:g}")
        absent = f"the submission has no {topic}.py"
        if all(f.outcome != "passed" and absent in f.message for c in group for f in c.facets):
            lines.append(f"  {absent}: its {len(group)} functions were not graded")
            continue
        for c in group:
            mark = "ok" if c.passed else "FAIL"
            lines.append(f"{'  ' + c.function:<{width}}{c.points:6.2f} / {c.max_points:<5g} {mark}")
            lines += [f"      {_first_line(line)}" for line in c.failures()]
            lines += [f"      note: {_first_line(note)}" for note in c.notes]
    lines.append(f"\nTotal: {report.points:.2f} / {report.max_points:g} points   ({report.seconds:.1f} s)")
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def gradescope(report: Report) -> str:
    """Gradescope's ``results.json``: one test per graded function, tagged with its API name."""
    tests = [
        {
            "name": c.target,
            "score": round(c.points, 4),
            "max_score": c.max_points,
            "status": "passed" if c.passed else "failed",
            "output": "\n".join([*c.failures(reveal_hidden=False), *c.notes]) or "All checks passed.",
            "visibility": "visible",
            "tags": [c.target, c.topic],
        }
        for c in report.checks
    ]
    results = {
        "score": round(report.points, 4),
        "execution_time": round(report.seconds, 2),
        "output": f"{report.points:.2f} / {report.max_points:g} points" + "".join(f"\n{n}" for n in report.notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, indent=2) + "\n"


def junit(report: Report) -> str:
    """JUnit XML, one testcase per graded function, points as properties."""
    failed = sum(not c.passed for c in report.checks)
    suites = ET.Element("testsuites", name="gradekit", tests=str(len(report.checks)), failures=str(failed))
    suite = ET.SubElement(suites, "testsuite", name=report.label, tests=str(len(report.checks)),
                          failures=str(failed), time=f"{report.seconds:.3f}")
    for c in report.checks:
        case = ET.SubElement(suite, "testcase", classname=c.topic, name=c.function)
        props = ET.SubElement(case, "properties")
        ET.SubElement(props, "property", name="points", value=f"{c.points:g}")
        ET.SubElement(props, "property", name="max_points", value=f"{c.max_points:g}")
        if not c.passed:
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
