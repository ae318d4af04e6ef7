"""Submissions as students hand them in, laid out as the grader reads them: one module per topic.

A submission is a folder or a ``.zip`` of one. It may name its files after the topics
(``vae.py``), after the handout (``q1_solution.py``, resolved through the assignment's manifest),
or hand in Jupyter notebooks of any name. From a notebook only the definitions are pulled out
(functions, classes, imports, and assignments that call nothing), by parsing its code cells:
the notebook never runs, so one whose top level trains for an hour grades in seconds.

Nothing here imports or runs submitted code.
"""
from __future__ import annotations

import ast
import json
import shutil
import zipfile
from pathlib import Path

from grader.assignments import Assignment
from grader.signatures import UNPARSABLE, public_api

ZIP_LIMIT = 64 << 20  # bytes unpacked, as the sandbox's copy budget
NOTHING_GRADED = "not graded: the submission holds no graded file (see the note above the tests)"
SHOWN = 12  # names of a submission's files said in a note
ZIP_MEMBERS = 10_000  # entries: each one is a file to create, whatever its size


class SubmissionFormatError(ValueError):
    """A submission that cannot be read at all (a broken zip); the message says why."""


def zip_plan(archive: Path, *, limit: int = ZIP_LIMIT, max_members: int = ZIP_MEMBERS,
             ) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """What extracting ``archive`` would write, read from its directory without unpacking anything.

    Returns the members to extract and one line per member left out: an absolute path, a ``..``
    part or a symbolic link (never extracted: they would land outside the folder or point there),
    and macOS's ``__MACOSX`` resource forks (silently: every Mac zip has them).

    Raises
    ------
    SubmissionFormatError
        For a file that is not a readable zip, more than ``max_members`` entries, or more than
        ``limit`` bytes unpacked (a zip bomb: the sizes are those the zip declares, and reading a
        member never yields more than its declared size).
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise SubmissionFormatError(f"{archive.name} is not a readable zip file ({err})") from None
    if len(infos) > max_members:
        raise SubmissionFormatError(f"{archive.name} holds {len(infos)} entries, more than the {max_members} allowed; "
                                    "it was not unpacked")
    members, left_out = [], []
    for member in infos:
        parts = Path(member.filename).parts
        if member.is_dir() or (parts and parts[0] == "__MACOSX"):
            continue
        if member.filename.startswith("/"):
            left_out.append(f"{member.filename} (an absolute path)")
        elif ".." in parts:
            left_out.append(f"{member.filename} (a path that leaves the folder)")
        elif (member.external_attr >> 28) == 0o12:
            left_out.append(f"{member.filename} (a symbolic link)")
        else:
            members.append(member)
    unpacked = sum(m.file_size for m in members)
    if unpacked > limit:
        raise SubmissionFormatError(f"{archive.name} would unpack to {unpacked / 2**20:.0f} MiB, more than the "
                                    f"{limit >> 20} MiB allowed (a zip bomb?); it was not unpacked")
    return members, left_out


def unzip(archive: Path, into: Path, *, limit: int = ZIP_LIMIT, max_members: int = ZIP_MEMBERS,
          ) -> tuple[Path, list[str]]:
    """Extract ``archive`` into ``into`` as :func:`zip_plan` allows; return the folder and what was left out.

    The folder is ``into``, or the one folder the zip holds (a zip of one folder).

    Raises
    ------
    SubmissionFormatError
        As :func:`zip_plan`, or for a member that cannot be read.
    """
    members, left_out = zip_plan(archive, limit=limit, max_members=max_members)
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in members:
                dest = into.joinpath(*Path(member.filename).parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise SubmissionFormatError(f"{archive.name} could not be unpacked ({err})") from None
    entries = [p for p in into.iterdir() if not p.name.startswith(".")]
    return (entries[0] if len(entries) == 1 and entries[0].is_dir() else into), left_out


def _strip_magics(source: str) -> str:
    """IPython's ``%magic`` and ``!shell`` lines become blank lines: the cell still parses, lines keep their numbers."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _calls(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Call) for n in ast.walk(node))


def _definitions(notebook: Path, notes: list[str]) -> str:
    """The notebook's definitions as one module's source; what was left out is said in ``notes``."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as err:
        notes.append(f"{notebook.name} is not a Jupyter notebook ({type(err).__name__}); it was ignored")
        return ""
    kept: dict[str, str] = {}  # name -> source, the last definition wins, as running the notebook in order would
    imports: list[str] = []
    left_out: set[str] = set()
    for number, cell in enumerate(cells, 1):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", [])) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        source = _strip_magics(source)
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            notes.append(f"{notebook.name}, cell {number}: a syntax error at line {err.lineno} ({err.msg}); "
                         "its definitions were not pulled out")
            continue
        for node in tree.body:
            text = ast.get_source_segment(source, node) or ""
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(text)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name in kept:
                    notes.append(f"{notebook.name}, cell {number}: {node.name} is defined again; the last definition is graded")
                kept[node.name] = text
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not _calls(node):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for name in (n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)):
                    kept[name] = text
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                left_out.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    module = "\n".join(dict.fromkeys(imports)) + "\n\n" + "\n\n".join(dict.fromkeys(kept.values())) + "\n"
    used = {n.id for n in ast.walk(ast.parse(module)) if isinstance(n, ast.Name)}
    missing = sorted((left_out & used) - set(kept))
    if missing:
        notes.append(f"{notebook.name}: {', '.join(missing)} are made by running code (not pulled out of the notebook); "
                     "a graded definition that uses them fails with a NameError")
    return module


def _defines(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except UNPARSABLE:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def expected_files(topics: list[str], assignment: Assignment | None = None) -> list[str]:
    """The file names that would be graded for ``topics``: the handout's where it has them, else the topics'."""
    handout = assignment.files if assignment else {}
    named = [name for name, held in handout.items() if set(held) & set(topics)]
    held = {t for name in named for t in handout[name]}
    return named + [f"{t}.py" for t in topics if t not in held]


def nothing_graded(source: Path, topics: list[str], assignment: Assignment | None = None) -> str:
    """The one message for a submission in which no file is graded: what was expected, what was found."""
    if source.is_file():
        try:
            with zipfile.ZipFile(source) as zf:
                found = [Path(n).name for n in zf.namelist() if not n.endswith("/")]
        except zipfile.BadZipFile:
            found = []
    else:
        found = sorted(p.name for p in source.rglob("*") if p.is_file() and not p.is_symlink())
    shown = ", ".join(found[:SHOWN]) + (f" and {len(found) - SHOWN} more" if len(found) > SHOWN else "")
    return (f"No graded file in the submission, so every test scores 0. Expected {', '.join(expected_files(topics, assignment))}, "
            f"or a Jupyter notebook (.ipynb) defining them, or a .zip of those; found {shown or 'no file at all'}. "
            "Hand in the files under exactly these names and submit again.")


def prepare(source: Path, into: Path, topics: list[str], stubs: Path,
            assignment: Assignment | None = None) -> tuple[Path, list[str]]:
    """Lay ``source`` out in ``into`` as one module per topic; return the folder and notes for the report.

    Parameters
    ----------
    source : Path
        The submission: a folder or a ``.zip``.
    into : Path
        A scratch folder, empty or not yet made.
    topics : list of str
        The topics being graded.
    stubs : Path
        The grader's stubs, to tell which topic a notebook's definitions belong to.
    assignment : Assignment, optional
        Its manifest maps the handout's file names to topics.

    Raises
    ------
    SubmissionFormatError
        For a zip that cannot be read.
    """
    notes: list[str] = []
    into.mkdir(parents=True, exist_ok=True)
    if source.is_file() and source.suffix == ".zip":
        unpacked = into / "unpacked"
        unpacked.mkdir()
        name = source.name
        source, left_out = unzip(source, unpacked)
        if left_out:
            notes.append(f"left out of {name}: {', '.join(left_out)}")
    folder = into / "submission"
    folder.mkdir()
    files = {p.name: p for p in sorted(source.iterdir()) if p.is_file() and not p.is_symlink()}
    handout = assignment.files if assignment else {}
    notebooks = [p for name, p in files.items() if name.endswith(".ipynb")]
    extracted = [(nb.name, _definitions(nb, notes)) for nb in notebooks]
    for topic in topics:
        own = files.get(f"{topic}.py")
        named = [files[name] for name, held in handout.items() if topic in held and name in files]
        if own is None and named:
            own = named[0]
        if own is not None:
            shutil.copyfile(own, folder / f"{topic}.py")
            continue
        graded = set(public_api(stubs / f"{topic}.py"))
        found = [(name, text) for name, text in extracted if _defines(text) & graded]
        if found:
            (folder / f"{topic}.py").write_text("\n\n".join(text for _, text in found), encoding="utf-8")
            notes.append(f"{topic}.py was pulled out of {', '.join(name for name, _ in found)} (definitions only, "
                         "nothing run)")
    used = {f"{t}.py" for t in topics} | {name for name, held in handout.items() if set(held) & set(topics)}
    ignored = sorted(name for name in files if name not in used and not name.endswith(".ipynb")
                     and name.endswith(".py"))
    if ignored:
        notes.append(f"not graded: {', '.join(ignored)} (no topic or handout file of that name)")
    for path in source.iterdir():  # data files next to the code stay available to it
        if path.is_file() and not path.is_symlink() and not (folder / path.name).exists() and path.suffix != ".ipynb":
            shutil.copyfile(path, folder / path.name)
    return folder, notes
