"""The ``pyproject.toml`` a package installs with, written from gradekit's own installed metadata.

Dependencies, extras, scripts and the Python version come from the metadata of the gradekit
that builds the package (a checkout's editable install or a wheel alike), so a kit asks for
exactly what the grader that made it needed. Every package under ``src/`` is found by
setuptools; every file that is not a module is listed as package data, by its package.
"""
from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import PurePosixPath

from grader.package.content import File

DISTRIBUTION = "gradekit"
_EXTRA = re.compile(r"""^\s*extra\s*==\s*["']([^"']+)["']\s*$""")


def _requirements() -> tuple[list[str], dict[str, list[str]]]:
    """(base dependencies, {extra: dependencies}) of the installed gradekit."""
    base: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in metadata.requires(DISTRIBUTION) or []:
        requirement, _, marker = line.partition(";")
        match = _EXTRA.match(marker) if marker else None
        if match:
            extras.setdefault(match.group(1), []).append(requirement.strip())
        else:
            base.append(line.strip())
    return base, extras


def _package_data(files: list[File]) -> dict[str, list[str]]:
    """Each file that is not a module, as package data of the nearest package above it."""
    packages = {PurePosixPath(f.path).parent for f in files if PurePosixPath(f.path).name == "__init__.py"}
    data: dict[str, list[str]] = {}
    for file in files:
        path = PurePosixPath(file.path)
        if path.suffix == ".py" or path.parts[0] != "src":
            continue
        owner = next((p for p in path.parents if p in packages), None)
        if owner is not None:
            name = ".".join(owner.relative_to("src").parts)
            data.setdefault(name, []).append(path.relative_to(owner).as_posix())
    return data


def pyproject(files: list[File], label: str, command: str) -> File:
    """``pyproject.toml`` for the packages among ``files`` (laid out under ``src/``).

    Parameters
    ----------
    label : str
        What the package is for, made part of its version (``0.1.0+ift6135.a3``).
    command : str
        The command that wrote it, said in its first line.
    """
    dist = metadata.distribution(DISTRIBUTION)
    base, extras = _requirements()
    version = f"{dist.version.split('+')[0]}+{re.sub(r'[^A-Za-z0-9]+', '.', label).strip('.').lower()}"
    scripts = {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}

    def array(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    lines = [
        f"# Written by `{command}`. Install with `pip install .` (or pip install of the zip).",
        "[build-system]", 'requires = ["setuptools>=64"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", f"name = {json.dumps(DISTRIBUTION)}", f"version = {json.dumps(version)}",
        f"description = {json.dumps(dist.metadata['Summary'] or '')}",
        f"requires-python = {json.dumps(dist.metadata['Requires-Python'] or '>=3.11')}",
        f"dependencies = {array(base)}", "",
        "[project.optional-dependencies]", *(f"{k} = {array(v)}" for k, v in extras.items()), "",
        "[project.scripts]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in scripts.items()), "",
        "[tool.setuptools.packages.find]", 'where = ["src"]', "",
        "[tool.setuptools.package-data]", *(f"{json.dumps(k)} = {array(v)}" for k, v in _package_data(files).items()),
    ]
    return File("pyproject.toml", ("\n".join(lines) + "\n").encode("utf-8"))
