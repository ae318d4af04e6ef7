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


def _signature(args: ast.arguments) -> str:
    """``(a, b=1, *, c=None)``: names, kinds and defaults, annotations left out."""
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = []
    for i, (arg, default) in enumerate(zip(positional, defaults)):
        parts.append(arg.arg if default is None else f"{arg.arg}={ast.unparse(default)}")
        if args.posonlyargs and i == len(args.posonlyargs) - 1:
            parts.append("/")
    if args.vararg:
        parts.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        parts.append("*")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        parts.append(arg.arg if default is None else f"{arg.arg}={ast.unparse(default)}")
    if args.kwarg:
        parts.append(f"**{args.kwarg.arg}")
    return f"({', '.join(parts)})"


def public_api(path: Path) -> dict[str, str]:
    """Cached :func:`read_public_api`: parsed again only when the file changes."""
    stat = Path(path).stat()
    return dict(_cached_api(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _cached_api(path: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    return read_public_api(Path(path))


def read_public_api(path: Path) -> dict[str, str]:
    """Map each public top-level function and class of a module file to its signature.

    Classes map to their ``__init__`` signature (without ``self``), or ``class`` when they
    define none. Names starting with ``_`` are private and left out.

    Raises
    ------
    SyntaxError
        When the file does not parse.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    api: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            api[node.name] = _signature(node.args)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            init = next(
                (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None
            )
            if init is None:
                api[node.name] = "class"
            else:
                sig = _signature(init.args)
                api[node.name] = "(" + sig[1:].removeprefix("self, ").removeprefix("self")
    return api
