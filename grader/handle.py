"""The implementation handle: the one door through which checks reach code under test.

Checks never import an implementation. They ask a handle to call ``topic.function`` with plain
inputs, or to run a named scenario (:mod:`grader.scenarios`) with the implementation's
functions plugged in, and get plain data back (:mod:`grader.plain`). ``LocalImplementation``
does this in the current process; a sandboxed backend can replace it without touching a check.
"""
from __future__ import annotations

import importlib.util
import itertools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from grader.layout import LAYOUT
from grader.signatures import UNPARSABLE, names, public_api, shown

STUBS = LAYOUT.stubs  # the grader's own copy of the API and of the provided code

_counter = itertools.count()


class SubmissionError(Exception):
    """The implementation failed in a way its author can act on.

    Attributes
    ----------
    mro : tuple of str
        Class names of the exception the implementation raised (most derived first), or empty
        when it raised nothing (a missing module, a wrong signature, a return value that is not
        plain data).
    """

    def __init__(self, message: str, mro: tuple[str, ...] = ()):
        super().__init__(message)
        self.mro = mro


class Implementation(Protocol):
    """What the engine and the checks may ask of the code under test; nothing else is called."""

    label: str

    def bind(self, target: str) -> Bound:
        """A handle tied to ``target``, for claims."""

    def call(self, target: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``topic.function`` with plain arguments; return a plain copy of its result."""

    def scenario(self, name: str, /, target: str, *, time_limit: float | None = None, **inputs: Any) -> Any:
        """Run a named grader scenario (:func:`grader.scenarios.find`) against ``target``; return its plain result.

        ``time_limit`` (seconds) replaces the per-call limit, for training runs."""

    def describe(self) -> str | None:
        """How the code runs, said once in the report's notes (``None``: nothing to say)."""

    def function_notes(self) -> dict[str, list[str]]:
        """What the report should say under each function about how its code ran, by target."""

    def close(self) -> None:
        """Release what the implementation holds (a worker, a staged copy)."""


class Bound:
    """A handle tied to one target, so that a check reads ``f(y=...)``."""

    def __init__(self, impl: Implementation, target: str):
        self.impl, self.target = impl, target

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.impl.call(self.target, *args, **kwargs)

    def scenario(self, name: str, **inputs: Any) -> Any:
        return self.impl.scenario(name, self.target, **inputs)


def _declared(root: Path, target: str) -> tuple[Any, Any]:
    """(the stubs' parameters, the implementation's) for ``target``; ``None`` where unknown."""
    topic, name = target.split(".", 1)
    want = public_api(STUBS / f"{topic}.py").get(name)
    try:
        have = public_api(Path(root) / f"{topic}.py").get(name)
    except UNPARSABLE:
        have = None  # missing or unparsable: importing it reports that, with the line
    return want, have


def check_signature(root: Path, target: str) -> None:
    """Raise ``SubmissionError`` when ``target`` in ``root`` has other parameters than the stubs.

    Names, kinds and order are the contract; default values are not (see
    :func:`signature_note`). Read from the source with ``ast``, so that no submitted code runs.
    """
    want, have = _declared(root, target)
    if want is None or have is None or want == have:
        return
    if isinstance(want, str) or isinstance(have, str) or names(want) != names(have):
        name = target.split(".", 1)[1]
        raise SubmissionError(
            f"{name}{shown(have)} does not match the required signature {name}{shown(want)}; "
            "keep the parameters' names and order exactly as in the handout"
        )


def signature_note(root: Path, target: str) -> str | None:
    """A note when ``target``'s default values differ from the handout's, else ``None``.

    A different default never stops grading: only the ``default:`` clause that calls without
    the argument can notice it.
    """
    want, have = _declared(root, target)
    if isinstance(want, str) or isinstance(have, str) or want is None or have is None or names(want) != names(have):
        return None
    differ = [f"{n}={h if h is not None else '(none)'} (handout: {n}={w if w is not None else '(none)'})"
              for (n, w), (_, h) in zip(want, have) if w != h]
    return f"default values differ from the handout's: {', '.join(differ)}" if differ else None


def _short_traceback(err: BaseException, origin: Path) -> str:
    """The exception and the innermost frame inside the implementation's folder."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if str(origin) in f.filename]
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    text = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
    return f"{type(err).__name__}{': ' + text if text else ''}{where}"


class LocalImplementation:
    """Runs an implementation folder laid out like ``stubs/`` in this process.

    Parameters
    ----------
    root : Path
        Folder holding ``vae.py``, ``divergences.py``, ...
    label : str, optional
        Name shown in reports (default: the folder's name).
    overrides : dict, optional
        ``{"topic.function": callable}`` replacing single functions (used to plant mutants).
    """

    def __init__(
        self,
        root: Path,
        label: str | None = None,
        overrides: dict[str, Callable] | None = None,
        *,
        check_signatures: bool = True,
    ):
        self.root = Path(root).resolve()
        self.label = label or self.root.name
        self.overrides = dict(overrides or {})
        self.check_signatures = check_signatures
        self._package = f"_gradekit_impl_{next(_counter)}"
        self._modules: dict[str, ModuleType | SubmissionError] = {}

    # -- loading --------------------------------------------------------------------------

    def load(self, topic: str) -> None:
        """Import ``topic`` now, raising ``SubmissionError`` if it fails to."""
        self._module(topic)

    def _module(self, topic: str) -> ModuleType:
        if topic not in self._modules:
            self._modules[topic] = self._load(topic)
        found = self._modules[topic]
        if isinstance(found, SubmissionError):
            raise found
        return found

    def _load(self, topic: str) -> ModuleType | SubmissionError:
        path = self.root / f"{topic}.py"
        if not path.is_file():
            return SubmissionError(f"the submission has no {topic}.py (looked in {self.root})")
        if self._package not in sys.modules:
            package = ModuleType(self._package)
            package.__path__ = [str(self.root)]
            sys.modules[self._package] = package
        spec = importlib.util.spec_from_file_location(f"{self._package}.{topic}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as err:
            return SubmissionError(f"{topic}.py does not compile: {err.msg} at line {err.lineno}")
        except BaseException as err:  # noqa: BLE001 - an import may raise anything, SystemExit included
            return SubmissionError(f"{topic}.py failed to import: {_short_traceback(err, self.root)}")
        return module

    def _resolve(self, target: str) -> Callable[..., Any]:
        if target in self.overrides:
            return self.overrides[target]
        topic, name = target.split(".", 1)
        module = self._module(topic)
        fn = getattr(module, name, None)
        if fn is None:
            raise SubmissionError(f"{topic}.py defines no {name}")
        if self.check_signatures:
            check_signature(self.root, target)
        return fn

    # -- the handle -----------------------------------------------------------------------

    def describe(self) -> None:
        return None  # in this process: nothing to add to the report

    def function_notes(self) -> dict[str, list[str]]:
        return {}

    def close(self) -> None:
        pass

    def bind(self, target: str) -> Bound:
        return Bound(self, target)

    def call(self, target: str, /, *args: Any, **kwargs: Any) -> Any:
        fn = self._resolve(target)
        # here, not at the top: the sandbox imports this module light
        from grader.plain import clone

        args, kwargs = clone(args), clone(kwargs)  # the implementation never touches our copies
        return self._returned(target, self._invoke(target, fn, *args, **kwargs))

    def scenario(self, name: str, /, target: str, *, time_limit: float | None = None, **inputs: Any) -> Any:
        # in-process runs trusted code only (the suite, benchmarks): no limit to enforce
        self._resolve(target)  # report a missing module or bad signature before the scenario runs
        from grader.plain import clone
        from grader.scenarios import find

        inputs = clone(inputs)
        return self._returned(target, self._invoke(target, find(name, target), self._resolve, target, **inputs))

    def _invoke(self, where: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SubmissionError:
            raise
        except BaseException as err:  # noqa: BLE001 - SystemExit and KeyboardInterrupt too
            mro = tuple(c.__name__ for c in type(err).__mro__)
            raise SubmissionError(f"{where} raised {_short_traceback(err, self.root)}", mro) from None

    @staticmethod
    def _returned(target: str, value: Any) -> Any:
        from grader.plain import NotPlain, clone

        try:
            return clone(value)
        except NotPlain as err:
            raise SubmissionError(f"{target} returned {err}; expected tensors, arrays or numbers") from None
