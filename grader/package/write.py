"""Put a package's files on disk: a folder, or a zip when the path ends in ``.zip``.

Whatever is written appears at once or not at all: the files go to a temporary sibling that is
renamed into place. A path that exists is refused unless ``force``; even then, never a folder
that holds this installation of gradekit or the current folder.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from grader.layout import LAYOUT
from grader.package import PackageError
from grader.package.content import File

STAMP = (2020, 1, 1, 0, 0, 0)  # every member's date: the same content gives the same archive


def _refuse(output: Path, force: bool) -> None:
    if not (output.exists() or output.is_symlink()):
        return
    if not force:
        raise PackageError(f"{output} exists; choose another --output, or pass --force to replace it")
    target = output.resolve()
    if output.is_dir() and not output.is_symlink() and (
            LAYOUT.root.resolve().is_relative_to(target) or Path.cwd().resolve().is_relative_to(target)):
        raise PackageError(f"refusing to replace {output}: it holds gradekit itself or the current folder")


def _zip(files: list[File], path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in files:
            info = zipfile.ZipInfo(file.path, STAMP)
            info.external_attr = (0o100755 if file.executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.data)


def _folder(files: list[File], path: Path) -> None:
    for file in files:
        dest = path / file.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(file.data)
        dest.chmod(0o755 if file.executable else 0o644)


def write(files: list[File], output: Path, *, force: bool = False) -> int:
    """Write ``files`` to ``output`` (a folder, or a zip when it ends in ``.zip``); return its size in bytes.

    Raises
    ------
    PackageError
        When ``output`` exists and ``force`` is not given, or cannot be written.
    """
    output = output.absolute()
    _refuse(output, force)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-", dir=output.parent))
        try:
            built = staging / output.name
            (_zip if output.suffix == ".zip" else _folder)(files, built)
            if output.is_dir() and not output.is_symlink():
                shutil.rmtree(output)
            elif output.exists() or output.is_symlink():
                output.unlink()
            os.replace(built, output)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as err:
        raise PackageError(f"could not write {output}: {err.strerror or err}") from None
    return output.stat().st_size if output.is_file() else sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
