"""The registry: one pooch object over ``registry.txt``, plus the cache and mirror settings.

``registry.txt`` lists ``<path> <hash> <original URL>`` per file (pooch's format). The path is
the file's place both in the cache and under a mirror (``<mirror>/<path>``), so a copy of
``../shared/data`` served over HTTP is a valid mirror. Nothing here touches the disk or the
network at import: the cache folder and the mirror are read from the environment on each use.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import pooch

__all__ = [
    "CACHE_ENV",
    "MIRROR_ENV",
    "REGISTRY",
    "UNKNOWN_HASH",
    "cache_dir",
    "known_hash",
    "make_registry",
    "mirror_url",
]

CACHE_ENV = "GRADEKIT_DATA_DIR"
MIRROR_ENV = "GRADEKIT_DATA_MIRROR"
#: Hash field of a file with no published checksum; such a file is never downloaded.
UNKNOWN_HASH = "unknown:unpublished"
#: Retries after a failed or corrupt transfer; pooch waits 1 s, 2 s, ... (at most 10 s) between.
RETRIES = 3

REGISTRY = pooch.create(
    path=pooch.os_cache("gradekit"),
    base_url="",
    env=CACHE_ENV,
    retry_if_failed=RETRIES,
)
with importlib.resources.files("data_fetch").joinpath("registry.txt").open(
    "r", encoding="utf-8"
) as _registry_file:
    REGISTRY.load_registry(_registry_file)


def cache_dir() -> Path:
    """Return the cache folder: ``$GRADEKIT_DATA_DIR``, else pooch's per-user cache.

    Returns
    -------
    pathlib.Path
        Absolute path; it may not exist yet.
    """
    env = os.environ.get(CACHE_ENV)
    base = Path(env) if env else Path(pooch.os_cache("gradekit"))
    return base.expanduser().absolute()


def mirror_url(mirror: str | None = None) -> str | None:
    """Return the mirror base URL: *mirror* if given, else ``$GRADEKIT_DATA_MIRROR``, else None.

    Files are looked up at ``<mirror>/<registry path>``; a trailing slash is ignored.
    """
    value = mirror if mirror else os.environ.get(MIRROR_ENV)
    return value.rstrip("/") if value else None


def known_hash(path: str) -> str | None:
    """Return the registry hash of *path*, or None if no checksum is published for it.

    Raises
    ------
    KeyError
        If *path* is not in the registry.
    """
    value = REGISTRY.registry[path]
    return None if value == UNKNOWN_HASH else value


def make_registry(directory: str | os.PathLike, output: str | os.PathLike | None = None) -> int:
    """Rewrite the hash column of the registry from a folder of verified files.

    Every registry entry whose path exists under *directory* gets that file's SHA-256; other
    lines (comments, URLs, entries for files the folder lacks) are kept as they are. Like
    pooch's ``make_registry``, but it keeps the URL column and the comments.

    Parameters
    ----------
    directory : path
        A folder laid out like the cache, e.g. ``../shared/data``.
    output : path, optional
        Where to write the new registry (default: overwrite ``registry.txt`` in the package).

    Returns
    -------
    int
        The number of hashes that changed.
    """
    source = importlib.resources.files("data_fetch").joinpath("registry.txt")
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    changed = 0
    out = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and not line.startswith("#"):
            candidate = Path(directory) / fields[0]
            if candidate.is_file():
                digest = pooch.file_hash(str(candidate))
                if digest != fields[1]:
                    changed += 1
                fields[1] = digest
                line = " ".join(fields) + "\n"
        out.append(line)
    target = Path(output) if output is not None else Path(str(source))
    target.write_text("".join(out), encoding="utf-8")
    return changed
