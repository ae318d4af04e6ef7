"""Generate student stubs from the reference solutions.

Every region between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` becomes one
``raise NotImplementedError(...)`` at the marker's indentation; every other line is copied
verbatim. A nested or unclosed region is an error that names ``file:line``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
STUB = 'raise NotImplementedError("{name}: replace this line with your implementation")'
HEADER = "# Generated from course/solutions/{file} by `grader stubs`; do not edit by hand.\n"

_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


class StubError(ValueError):
    """A solution file whose markers cannot be turned into a stub."""


@dataclass(frozen=True)
class Stubbed:
    """One generated stub file: its text and the functions whose bodies were replaced."""

    text: str
    functions: tuple[str, ...]


def stub_source(source: str, filename: str) -> Stubbed:
    """Replace every solution region of ``source`` with a ``NotImplementedError`` line.

    Parameters
    ----------
    source : str
        Text of a solution module.
    filename : str
        Used in the generated header and in error messages.

    Returns
    -------
    Stubbed
        The stub text and the names of the functions that were stubbed, in order.

    Raises
    ------
    StubError
        On a nested, unclosed or unopened region, or one outside any function.
    """
    out = [HEADER.format(file=filename)]
    stubbed: list[str] = []
    current_def = None
    begin_line = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if begin_line is None and (match := _DEF.match(line)):
            current_def = match.group(1)
        if stripped == BEGIN:
            if begin_line is not None:
                raise StubError(f"{filename}:{number}: nested {BEGIN!r} (the open one is at line {begin_line})")
            if current_def is None:
                raise StubError(f"{filename}:{number}: {BEGIN!r} outside any function")
            begin_line = number
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + STUB.format(name=current_def) + "\n")
            stubbed.append(current_def)
        elif stripped == END:
            if begin_line is None:
                raise StubError(f"{filename}:{number}: {END!r} without a {BEGIN!r} before it")
            begin_line = None
        elif begin_line is None:
            out.append(line)
    if begin_line is not None:
        raise StubError(f"{filename}:{begin_line}: {BEGIN!r} is never closed by {END!r}")
    return Stubbed("".join(out), tuple(stubbed))


def generate(solutions: Path) -> dict[str, Stubbed]:
    """Stub every module of the ``solutions`` folder; keys are file names."""
    return {path.name: stub_source(path.read_text(), path.name) for path in sorted(solutions.glob("*.py"))}


def write(solutions: Path, stubs: Path) -> list[str]:
    """Regenerate ``stubs`` from ``solutions``; returns the files that changed."""
    stubs.mkdir(exist_ok=True)
    changed = []
    generated = generate(solutions)
    for name, stub in generated.items():
        target = stubs / name
        if not target.exists() or target.read_text() != stub.text:
            target.write_text(stub.text)
            changed.append(name)
    for stale in sorted({p.name for p in stubs.glob("*.py")} - set(generated)):
        (stubs / stale).unlink()
        changed.append(stale)
    return changed


def differences(solutions: Path, stubs: Path) -> list[str]:
    """What ``grader stubs --check`` reports: stale files and API differences, one per line."""
    from grader.signatures import public_api, shown

    problems = []
    generated = generate(solutions)
    committed = {p.name for p in stubs.glob("*.py")}
    for name, stub in generated.items():
        target = stubs / name
        if name not in committed:
            problems.append(f"stubs/{name} is missing; run `grader stubs`")
        elif target.read_text() != stub.text:
            problems.append(f"stubs/{name} differs from what course/solutions/{name} generates; run `grader stubs`")
    for name in sorted(committed - set(generated)):
        problems.append(f"stubs/{name} has no course/solutions/{name}; run `grader stubs` to remove it")
    for name in sorted(committed & set(generated)):
        want, have = public_api(solutions / name), public_api(stubs / name)
        for symbol in sorted(set(want) | set(have)):
            if want.get(symbol) != have.get(symbol):
                problems.append(
                    f"{name}: {symbol} is {shown(have.get(symbol))} in stubs/ "
                    f"but {shown(want.get(symbol))} in course/solutions/"
                )
    return problems
