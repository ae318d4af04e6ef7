"""Exporters: one ``Report`` in, one text out, kept in a dict by format name."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from itertools import groupby
from typing import Callable, Protocol

from grader.report import Report


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
    lines = [f"gradekit: {report.label}" + (" (public checks only)" if report.public_only else "")]
    for topic, group in groupby(report.checks, key=lambda c: c.topic):
        group = list(group)
        got, total = sum(c.points for c in group if c.ran), sum(c.max_points for c in group if c.ran)
        lines.append(f"\n{topic + '.py':<{width}}{got:6.2f} / {total:g}")
        absent = f"the submission has no {topic}.py"
        if all(f.outcome != "passed" and absent in f.message for c in group for f in c.facets):
            lines.append(f"  {absent}: its {len(group)} functions were not graded")
            continue
        for c in group:
            if not c.ran:
                lines.append(f"{'  ' + c.function:<{width}}  ---- / {c.max_points:<5g} {_not_run(c)}")
                continue
            mark = "ok" if c.passed else "FAIL"
            lines.append(f"{'  ' + c.function:<{width}}{c.points:6.2f} / {c.max_points:<5g} {mark}")
            lines += [f"      {_first_line(line, 160)}" for line in [*c.verdicts(), *c.failures()]]
            lines += [f"      figure: {path}" for path in c.figures]
            lines += [f"      note: {_first_line(note)}" for note in c.notes]
    lines.append(f"\nTotal: {report.points:.2f} / {report.max_points:g} points   ({report.seconds:.1f} s)")
    if report.not_run:
        lines.append(f"Not run: {', '.join(c.target for c in report.not_run)} "
                     f"({sum(c.max_points for c in report.not_run):g} points; --heavy quick or full trains them)")
    lines += [f"Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


def gradescope(report: Report) -> str:
    """Gradescope's ``results.json``: one test per graded function, tagged with its API name."""
    tests = []
    for c in report.checks:
        test: dict = {"name": c.target}
        if c.ran:  # a training check left out is said to be, never scored zero
            test.update(score=round(c.points, 4), max_score=c.max_points, status="passed" if c.passed else "failed")
        lines = [*c.verdicts(), *c.failures(reveal_hidden=False), *(f"figure: {p}" for p in c.figures), *c.notes]
        test["output"] = "\n".join(lines) if c.ran else _not_run(c)
        test["output"] = test["output"] or "All checks passed."
        test.update(visibility="visible", tags=[c.target, c.topic, *(["heavy"] if c.heavy else [])])
        tests.append(test)
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
