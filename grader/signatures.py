"""Read public names and call signatures from Python source without importing it.

The trusted side never imports a submission, not even to look at a signature: it parses the
file with :mod:`ast`.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

# what reading a submitted source may raise: missing, not UTF-8, not Python, or pathological
UNPARSABLE = (OSError, SyntaxError, ValueError, RecursionError, MemoryError)


def _parameters(args: ast.arguments) -> tuple[tuple[str, str | None], ...]:
    """``(("a", None), ("b", "1"), ("*", None), ("c", "None"))``: names in order with the source
    of their defaults; ``/``, ``*``, ``*args`` and ``**kwargs`` appear as the names they print as."""
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts: list[tuple[str, str | None]] = []
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        parts.append((arg.arg, None if default is None else ast.unparse(default)))
        if args.posonlyargs and i == len(args.posonlyargs) - 1:
            parts.append(("/", None))
    if args.vararg:
        parts.append((f"*{args.vararg.arg}", None))
    elif args.kwonlyargs:
        parts.append(("*", None))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        parts.append((arg.arg, None if default is None else ast.unparse(default)))
    if args.kwarg:
        parts.append((f"**{args.kwarg.arg}", None))
    return tuple(parts)


def render(parameters: tuple[tuple[str, str | None], ...]) -> str:
    """``(a, b=1, *, c=None)``."""
    return "(" + ", ".join(name if default is None else f"{name}={default}" for name, default in parameters) + ")"


def shown(api_entry: tuple[tuple[str, str | None], ...] | str | None) -> str:
    """An entry of :func:`read_public_api` as source text (``missing`` for ``None``)."""
    return "missing" if api_entry is None else api_entry if isinstance(api_entry, str) else render(api_entry)


def names(parameters: tuple[tuple[str, str | None], ...]) -> tuple[str, ...]:
    """The parameter names, kinds and order: the part of a signature that is the contract."""
    return tuple(name for name, _ in parameters)


def public_api(path: Path) -> dict[str, tuple[tuple[str, str | None], ...] | str]:
    """Cached :func:`read_public_api`: parsed again only when the file changes."""
    stat = Path(path).stat()
    return dict(_cached_api(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _cached_api(path: str, _mtime_ns: int, _size: int) -> dict[str, tuple[tuple[str, str | None], ...] | str]:
    return read_public_api(Path(path))


def read_public_api(path: Path) -> dict[str, tuple[tuple[str, str | None], ...] | str]:
    """Map each public top-level function and class of a module file to its parameters.

    Parameters are as :func:`_parameters` gives them. Classes map to their ``__init__``
    parameters (without ``self``), or ``"class"`` when they define none. Names starting with
    ``_`` are private and left out.

    Raises
    ------
    SyntaxError
        When the file does not parse.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    api: dict[str, tuple[tuple[str, str | None], ...] | str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            api[node.name] = _parameters(node.args)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            init = next(
                (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
            )
            if init is None:
                api[node.name] = "class"
            else:
                api[node.name] = _parameters(init.args)[1:]  # without self
    return api
