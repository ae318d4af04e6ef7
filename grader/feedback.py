"""Feedback for one student: Markdown, and one self-contained HTML page with the figures inlined.

Per graded function: its points, and for each facet that earned nothing the points it was worth
and why (expected against actual, the call, the falsifying input), shortened to a screenful.
A hidden facet says only that it failed: its inputs are the hidden test. Heavy checks show their
figures (PNG files the results list, relative to the student's folder) below their message, which
gives the threshold beside the student's value. The run's notes (the sandbox used, what was
pulled out of a notebook) close the page.

The HTML page loads nothing: no script, no stylesheet or font from elsewhere, figures as
``data:`` URIs, and a Content-Security-Policy that forbids any other request.
"""
from __future__ import annotations

import base64
import html as _html
import re
from itertools import groupby
from pathlib import Path, PurePosixPath

from grader.report import CheckResult, Report

MAX_LINES = 14  # of one facet's message
MAX_WIDTH = 240  # characters of one line of it
FIGURE_LIMIT = 8 << 20  # bytes of one inlined figure
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def shorten(text: str, *, lines: int = MAX_LINES, width: int = MAX_WIDTH) -> str:
    """``text`` cut to ``lines`` lines of at most ``width`` characters, saying what was cut."""
    kept = [line if len(line) <= width else line[: width - 1] + "…" for line in text.strip().splitlines()[:lines]]
    more = len(text.strip().splitlines()) - lines
    return "\n".join(kept + ([f"… ({more} more lines)"] if more > 0 else []))


def _heading(report: Report, status: str, reason: str) -> tuple[str, list[str]]:
    title = f"Feedback: {report.label}"
    lines = [f"{report.points:.2f} / {report.max_points:g} points"]
    if status != "graded":
        lines.append(f"This submission could not be graded: {reason}. The course staff will look at it.")
    elif reason:
        lines.append(f"Note: {reason}")
    return title, lines


def _sections(report: Report) -> list[tuple[str, float, float, list[CheckResult]]]:
    """(topic, points, of how many, its checks); a training check that did not run counts in no total."""
    out = []
    for topic, group in groupby(report.checks, key=lambda c: c.topic):
        group = list(group)
        out.append((topic, sum(c.points for c in group if c.ran), sum(c.max_points for c in group if c.ran), group))
    return out


def _row(check: CheckResult) -> tuple[str, str]:
    """(points, mark) of one function in its topic's table."""
    if not check.ran:
        return f"— / {check.max_points:g}", "not run (a training check: --heavy quick or full trains it)"
    return f"{check.points:.2f} / {check.max_points:g}", "ok" if check.passed else "lost points"


def _explained(check: CheckResult) -> bool:
    """Whether ``check`` gets a section of its own: points lost, notes, figures or a training verdict."""
    return check.ran and bool(not check.passed or check.notes or check.figures or check.verdicts())


def _fence(text: str) -> str:
    ticks = "`" * max(3, 1 + max((len(run) for run in re.findall("`+", text)), default=0))
    return f"{ticks}text\n{text}\n{ticks}"


def markdown(report: Report, *, status: str = "graded", reason: str = "") -> str:
    """The feedback as Markdown; figures are linked, relative to the folder it is written to."""
    title, lead = _heading(report, status, reason)
    out = [f"# {title}", "", *[f"**{line}**" if i == 0 else line for i, line in enumerate(lead)]]
    for topic, got, total, group in _sections(report):
        out += ["", f"## {topic}.py: {got:.2f} / {total:g}", "", "| function | points | |", "|---|---|---|"]
        out += [f"| `{c.function}` | {' | '.join(_row(c))} |" for c in group]
        for check in filter(_explained, group):
            out += ["", f"### `{check.function}`: {check.points:.2f} / {check.max_points:g}"]
            for verdict in check.verdicts():
                head, _, table = verdict.partition("\n")
                out += ["", f"- {head}"] + (["", _indent(_fence(table))] if table else [])
            for facet, worth, why in check.lost(reveal_hidden=False):
                kind = "core" if facet.core else "clause"
                out += ["", f"- **{facet.name}** ({kind}, {worth:.2f} pts)", "", _indent(_fence(shorten(why)))]
            out += [f"- note: {note}" for note in check.notes]
            out += [f"![{check.function}: {PurePosixPath(f).name}]({f})" for f in check.figures]
    if report.notes:
        out += ["", "## Notes", "", *[f"- {shorten(note, lines=4)}" for note in report.notes]]
    return "\n".join(out) + "\n"


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


def figure_uri(folder: Path, relative: str) -> str:
    """A ``data:`` URI of the PNG ``relative`` to ``folder``.

    Raises
    ------
    ValueError
        For a path that leaves ``folder`` or is a link, a file that is not a PNG, or one over the size limit.
    """
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise ValueError(f"{relative} is not a path inside the results folder")
    path = folder.joinpath(*parts)
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"{relative} is not a file in the results folder")
    if path.stat().st_size > FIGURE_LIMIT:
        raise ValueError(f"{relative} is larger than {FIGURE_LIMIT >> 20} MiB")
    data = path.read_bytes()
    if not data.startswith(PNG_MAGIC):
        raise ValueError(f"{relative} is not a PNG image")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; } td, th { padding: .2rem .8rem; border-bottom: 1px solid #eee; text-align: left; }
td.points { font-variant-numeric: tabular-nums; text-align: right; }
.ok { color: #176f2c; } .lost { color: #a4262c; } .idle { color: #777; } .total { font-size: 1.2rem; font-weight: 600; }
.warning { background: #fff4ce; padding: .5rem .8rem; border-left: 4px solid #d8a100; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; white-space: pre-wrap; font-size: 13px; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
"""
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _check_html(check: CheckResult, folder: Path) -> list[str]:
    e = _html.escape
    out = [f'<h3 id="{e(check.target)}"><code>{e(check.function)}</code>: {check.points:.2f} / {check.max_points:g}</h3>']
    for verdict in check.verdicts():
        head, _, table = verdict.partition("\n")
        out.append(f'<p class="ok">{e(head)}</p>' + (f"<pre>{e(table)}</pre>" if table else ""))
    for facet, worth, why in check.lost(reveal_hidden=False):
        kind = "core" if facet.core else "clause"
        out.append(f"<p><strong>{e(facet.name)}</strong> ({kind}, {worth:.2f} pts)</p><pre>{e(shorten(why))}</pre>")
    out += [f"<p>Note: {e(note)}</p>" for note in check.notes]
    for relative in check.figures:
        try:
            uri = figure_uri(folder, relative)
        except ValueError as err:
            out.append(f"<p>Figure not shown: {e(str(err))}</p>")
            continue
        caption = e(PurePosixPath(relative).name)
        out.append(f'<figure><img src="{uri}" alt="{caption}"><figcaption>{caption}</figcaption></figure>')
    return out


def html(report: Report, folder: Path, *, status: str = "graded", reason: str = "") -> str:
    """The feedback as one HTML page that needs nothing else; figures are read from ``folder``."""
    e = _html.escape
    title, lead = _heading(report, status, reason)
    body = [f"<h1>{e(title)}</h1>", f'<p class="total">{e(lead[0])}</p>']
    body += [f'<p class="warning">{e(line)}</p>' for line in lead[1:]]
    for topic, got, total, group in _sections(report):
        body += [f"<h2>{e(topic)}.py: {got:.2f} / {total:g}</h2>", "<table>"]
        for c in group:
            points, mark = _row(c)
            css = "ok" if mark == "ok" else "lost" if mark == "lost points" else "idle"
            body.append(f'<tr><td><code>{e(c.function)}</code></td><td class="points">{e(points)}</td>'
                        f'<td><span class="{css}">{e(mark)}</span></td></tr>')
        body.append("</table>")
        for check in filter(_explained, group):
            body += _check_html(check, folder)
    if report.notes:
        body += ["<h2>Notes</h2>", "<ul>", *[f"<li>{e(shorten(n, lines=4))}</li>" for n in report.notes], "</ul>"]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">'
            f"<title>{e(title)}</title><style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")
