"""Leave hidden declarations out of a course module, so that a student kit never carries them.

A declaration is hidden when it says so itself: a top-level statement whose value is a call
with ``public=False`` (a hidden ``Check``, and whatever else declares visibility the same way).
Such a statement is cut out of the source, and so is every top-level helper that only hidden
declarations used, until nothing more goes. All other lines are kept verbatim, comments
included. No list names what is hidden: the declarations do.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass


class HiddenDeclarationError(ValueError):
    """A visibility the kit cannot decide from the source; the message names ``file:line``."""


@dataclass(frozen=True)
class Stripped:
    """A module without its hidden declarations."""

    text: str
    removed: tuple[str, ...]  # names (or ``line N``) of what was cut out, in source order


def _visibility(call: ast.Call, filename: str) -> bool | None:
    """The literal ``public=`` of ``call``: True, False, or None when it has none."""
    for keyword in call.keywords:
        if keyword.arg == "public":
            if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, bool):
                return keyword.value.value
            raise HiddenDeclarationError(f"{filename}:{keyword.value.lineno}: public= must be written True or False, "
                                         "so that packaging can tell a hidden declaration without running it")
    return None


def _is_hidden(node: ast.stmt, filename: str) -> bool:
    value = getattr(node, "value", None)
    hidden = isinstance(value, ast.Call) and _visibility(value, filename) is False
    for inner in ast.walk(node):
        if inner is not value and isinstance(inner, ast.Call) and _visibility(inner, filename) is False:
            raise HiddenDeclarationError(
                f"{filename}:{inner.lineno}: a hidden declaration inside another statement cannot be left out of the "
                "student kit; declare it at the top level of its module")
    return hidden


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _label(node: ast.stmt) -> str:
    return ", ".join(sorted(_defined(node))) or f"line {node.lineno}"


def strip_hidden(source: str, filename: str) -> Stripped:
    """``source`` without its hidden declarations and the helpers only they used.

    Raises
    ------
    HiddenDeclarationError
        When ``public=`` is not a literal, or a hidden declaration is nested in another statement.
    """
    tree = ast.parse(source, filename=filename)
    removed = [node for node in tree.body if _is_hidden(node, filename)]
    if not removed:
        return Stripped(source, ())
    kept = [node for node in tree.body if node not in removed]
    while True:
        used_by_kept = set().union(*(_used(n) for n in kept))
        used_by_removed = set().union(*(_used(n) for n in removed))
        orphans = [n for n in kept if _defined(n) and _defined(n) <= used_by_removed - used_by_kept]
        if not orphans:
            break
        removed += orphans
        kept = [n for n in kept if n not in orphans]
    lines = source.splitlines(keepends=True)
    cut = set()
    for node in removed:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        cut.update(range(first - 1, node.end_lineno))
    text = "".join(line for i, line in enumerate(lines) if i not in cut)
    return Stripped(text, tuple(_label(n) for n in sorted(removed, key=lambda n: n.lineno)))
