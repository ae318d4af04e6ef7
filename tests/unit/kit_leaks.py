"""Search a built package for what no student may see: solution regions, corpora, hidden facets.

Text is compared without whitespace or comments (Python is tokenized; a notebook's code cells
too; other files lose their whitespace), so a body reformatted or re-indented is still found.
"""
from __future__ import annotations

import ast
import io
import json
import re
import textwrap
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.stubgen import BEGIN, END
from grader.target import NAMED, ROOT

SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
CORPORA = (ROOT / "tests" / "mutants", ROOT / "tests" / "alternates")
CORPUS_DECORATORS = ("mutant", "alternate")
DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


@dataclass(frozen=True)
class Secret:
    """One thing a kit must not hold: where it comes from, and its normalised text."""

    origin: str
    text: str


def squeeze(source: str) -> str:
    """``source`` without whitespace, and without comments where it tokenizes as Python."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(textwrap.dedent(source)).readline)
        return "".join(t.string for t in tokens if t.type not in SKIPPED)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return "".join(source.split())


def solution_regions() -> list[Secret]:
    """The body of every ``# BEGIN SOLUTION`` region of the reference solutions, named
    ``file:function`` after the function that holds it."""
    found = []
    for path in sorted(NAMED["solutions"].glob("*.py")):
        lines, start, function = path.read_text().splitlines(), None, "?"
        for number, line in enumerate(lines, 1):
            if (match := DEF.match(line)) and start is None:
                function = match.group(1)
            if line.strip() == BEGIN:
                start = number
            elif line.strip() == END and start is not None:
                found.append(Secret(f"{path.name}:{function}", squeeze("\n".join(lines[start:number - 1]))))
                start = None
    return found


def _planted(node: ast.AST) -> bool:
    """Whether ``node`` is a corpus entry: a function under ``@mutant(...)`` or ``@alternate(...)``."""
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        isinstance(d, ast.Call) and getattr(d.func, "id", "") in CORPUS_DECORATORS for d in node.decorator_list)


def corpus_bodies() -> list[Secret]:
    """The body of every wrong implementation and correct variant of the corpora (not their helpers,
    which may well share a line with provided code)."""
    found = []
    for path in sorted(p for folder in CORPORA for p in folder.glob("[!_]*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if _planted(node):
                body = ast.get_source_segment(source, node, padded=True)
                first = node.body[0].lineno - node.lineno
                found.append(Secret(f"{path.relative_to(ROOT)}:{node.lineno}",
                                    squeeze("\n".join(body.splitlines()[first:]))))
    return found


def _texts(path: Path) -> dict[str, str]:
    """``{name: text}`` of every file of a kit folder or zip (a notebook: its cells' sources)."""
    if path.is_file():
        with zipfile.ZipFile(path) as archive:
            raw = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    else:
        raw = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    texts = {}
    for name, data in raw.items():
        text = data.decode("utf-8", errors="replace")
        if name.endswith(".ipynb"):
            cells = json.loads(text)["cells"]
            texts.update({f"{name}#cell{i}": "".join(c["source"]) for i, c in enumerate(cells)})
        else:
            texts[name] = text
    return texts


def leaks(kit: Path, secrets: list[Secret]) -> list[str]:
    """``origin -> file`` for each secret found in a file of ``kit``."""
    squeezed = {name: squeeze(text) for name, text in _texts(kit).items()}
    return [f"{s.origin} -> {name}" for s in secrets for name, text in squeezed.items() if s.text and s.text in text]


def paths(kit: Path) -> list[str]:
    """The file names of a kit folder or zip, relative to its root."""
    return sorted(_texts(kit).keys())
