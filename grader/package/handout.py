"""The handout's own files, made from a tree of topic modules (the stubs, or any implementation).

Each file the manifest names holds the modules of the topics it lists that are built; a file
that holds several joins them, with their ``from __future__`` imports moved to the top. A
built topic that no file names keeps its module name (``cgan.py``). An assignment whose
manifest names no file is handed in as one notebook: it becomes ``<assignment>.ipynb``, a
Markdown cell and one code cell per topic, which the grader reads back by parsing (never by
running it).
"""
from __future__ import annotations

import json
from pathlib import Path

from grader.assignments import Assignment
from grader.stubgen import HEADER

FUTURE = "from __future__ import"


def _module(source: Path) -> str:
    """A topic module's text without the stub generator's header, which says not to edit it."""
    text = source.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    return rest if first + "\n" == HEADER.format(file=source.name) else text


def _joined(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    future = sorted({line for part in parts for line in part.splitlines() if line.startswith(FUTURE)})
    bodies = ["\n".join(line for line in part.splitlines() if not line.startswith(FUTURE)) for part in parts]
    return "\n".join(future) + "\n\n" + "\n\n\n".join(bodies) + "\n"


def _notebook(title: str, intro: str, cells: list[str]) -> str:
    def cell(kind: str, text: str) -> dict:
        found = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
        return {**found, "execution_count": None, "outputs": []} if kind == "code" else found

    return json.dumps({
        "cells": [cell("markdown", f"# {title}\n\n{intro}"), *(cell("code", c) for c in cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 4,
    }, indent=1, ensure_ascii=False) + "\n"


def handout_files(assignment: Assignment, source: Path, note: str) -> dict[str, str]:
    """``{file name: text}``: the handout's files made from the topic modules in ``source``.

    Parameters
    ----------
    note : str
        Said at the top of each file (as comment lines in a module, in a notebook's first cell),
        with ``{file}`` and ``{title}`` replaced by the file's name and the assignment's title.
    """
    topics = assignment.topics()

    def said(name: str) -> str:
        return note.format(file=name, title=assignment.title)

    if not assignment.files:
        name = f"{assignment.name}.ipynb"
        return {name: _notebook(assignment.title, said(name), [_module(source / f"{t}.py") for t in topics])}
    parts = {name: [t for t in held if t in topics] for name, held in assignment.files.items()}
    named = {t for held in assignment.files.values() for t in held}
    parts.update({f"{t}.py": [t] for t in topics if t not in named})
    return {name: "".join(f"# {line}\n" for line in said(name).splitlines())
            + _joined([_module(source / f"{t}.py") for t in held]) for name, held in parts.items() if held}
