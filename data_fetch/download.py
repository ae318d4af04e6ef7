"""Downloads: decide from the cache, then fetch each file with pooch, verified, under a lock.

``fetch_file`` is the single engine. A file whose cached copy matches its hash is returned
without a lock or a request. Otherwise the folder's lock is taken (so concurrent processes end
with one verified file), leftovers of killed downloads are swept, and pooch downloads into a
temporary file in the same folder, checks the hash strictly and only then moves the file into
place, retrying a failed or corrupt transfer with a growing pause. The URLs tried are the
mirror's (``<mirror>/<path>``) when a mirror is set, else the original URL then its mirrors.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pooch

from .cache import expected_hash, file_state, locked
from .catalog import Dataset, get_dataset
from .errors import DataFetchError, DatasetUnavailable
from .registry import CACHE_ENV, REGISTRY, cache_dir, known_hash, mirror_url

__all__ = ["TIMEOUT", "candidate_urls", "fetch_dataset", "fetch_file"]

#: (connect, read) timeouts in seconds for each HTTP request.
TIMEOUT = (15.0, 60.0)


def candidate_urls(path: str, mirror: str | None = None) -> list[str]:
    """The URLs to try for registry *path*, in order.

    With a mirror (argument or ``$GRADEKIT_DATA_MIRROR``) only ``<mirror>/<path>`` is tried, so
    a machine told to use a local mirror never waits on the internet. Otherwise the registry's
    original URL, then the catalog's alternates.
    """
    base = mirror_url(mirror)
    if base is not None:
        return [f"{base}/{path}"]
    urls = [REGISTRY.get_url(path)]
    for dataset_alternates in (d.alternates for d in _datasets_with(path)):
        urls.extend(u for u in dataset_alternates.get(path, ()) if u not in urls)
    return urls


def _datasets_with(path: str) -> list[Dataset]:
    from .catalog import DATASETS

    return [d for d in DATASETS.values() if path in d.files]


class _NotRetried(DataFetchError):
    """A definitive answer (404, 403, no connection): pooch retries only other errors."""


class _Downloader:
    """pooch's downloader for the URL, with timeouts, and client errors made final."""

    def __init__(self, url: str, progressbar: bool) -> None:
        if url.startswith(("http://", "https://")):
            self._inner = pooch.HTTPDownloader(progressbar=progressbar, timeout=TIMEOUT)
        else:
            self._inner = pooch.downloaders.choose_downloader(url, progressbar=progressbar)

    def __call__(self, url: str, output_file, pooch_obj) -> None:
        import requests

        try:
            self._inner(url, output_file, pooch_obj)
        except requests.HTTPError as err:
            status = err.response.status_code if err.response is not None else 0
            if 400 <= status < 500 and status not in (408, 429):
                raise _NotRetried(_describe(err)) from err
            raise
        except requests.ConnectionError as err:
            # No connection at all (offline, DNS, refused, proxy down): retrying each file with
            # pauses only delays the offline message. Drops and read timeouts are retried.
            if isinstance(err, (requests.ConnectTimeout, requests.exceptions.ProxyError)) or any(
                kind in repr(err) for kind in ("NewConnectionError", "NameResolutionError")
            ):
                raise _NotRetried(_describe(err)) from err
            raise


def _describe(err: BaseException) -> str:
    text = " ".join(str(err).split()) or "no message"
    return f"{type(err).__name__}: {text[:300]}"


def fetch_file(path: str, *, mirror: str | None = None, progressbar: bool | None = None) -> Path:
    """Return the cached, verified copy of registry file *path*, downloading it if needed.

    Parameters
    ----------
    path : str
        Registry path, e.g. ``"mnist/train-images-idx3-ubyte.gz"``.
    mirror : str, optional
        Mirror base URL; default ``$GRADEKIT_DATA_MIRROR``, else the original URLs.
    progressbar : bool, optional
        Show a tqdm bar on stderr; default only when stderr is a terminal.

    Returns
    -------
    pathlib.Path
        ``<cache>/<path>``, whose hash matched the registry (or a pinned hash).

    Raises
    ------
    DatasetUnavailable
        If no checksum is known, or every URL failed or gave wrong bytes. Nothing unverified is
        left under the final name. The message lists each URL and its error.
    """
    digest = expected_hash(path)
    if digest is None:
        raise DatasetUnavailable(f"No checksum is known for {path}; it is never downloaded.")
    target = cache_dir() / path
    if target.is_file() and pooch.hashes.hash_matches(str(target), digest):
        return target
    if progressbar is None:
        progressbar = sys.stderr.isatty()
    import requests

    failures = []
    with locked(target.parent):
        for url in candidate_urls(path, mirror):
            engine = copy.copy(REGISTRY)
            engine.path = cache_dir()
            engine.registry = {path: digest}
            engine.urls = {path: url}
            try:
                fetched = Path(engine.fetch(path, downloader=_Downloader(url, progressbar)))
                fetched.chmod(0o644)  # pooch's temporary files are private (0600)
                return fetched
            except _NotRetried as err:
                failures.append(f"{url}: {err}")
            except (requests.RequestException, ValueError) as err:
                failures.append(f"{url}: {_describe(err)}")
            except OSError as err:
                msg = (
                    f"Could not write {target}: {_describe(err)}. Nothing unverified was kept. "
                    f"Free some space or set {CACHE_ENV} to another folder."
                )
                raise DataFetchError(msg) from err
    error = DatasetUnavailable(
        f"Could not download and verify {path}; nothing was kept under {target}. Tried:\n"
        + "\n".join(f"  {failure}" for failure in failures)
    )
    error.reasons = failures
    raise error


def fetch_dataset(
    name: str, *, mirror: str | None = None, progressbar: bool | None = None
) -> dict[str, Path]:
    """Fetch every file of dataset *name* (building it, for a derived dataset); return the paths.

    Parameters
    ----------
    name : str
        Dataset name (``data-fetch list``).
    mirror, progressbar
        As for :func:`fetch_file`.

    Returns
    -------
    dict of str to pathlib.Path
        Registry path to cached file. Empty for a bundled dataset (nothing to download).

    Raises
    ------
    DatasetUnavailable
        If any file is missing and cannot be downloaded and verified, or has no checksum. The
        message names the dataset, the files, the URLs and the ``data-fetch import`` command.
    """
    dataset = get_dataset(name)
    for required in dataset.requires:
        fetch_dataset(required, mirror=mirror, progressbar=progressbar)
    if dataset.kind == "derived":
        from . import sevens

        return {"sevens": sevens.build_sevens()}
    paths, failures, unverifiable = {}, {}, []
    for path in dataset.files:
        if known_hash(path) is None:  # only an imported, pinned, intact copy will do
            if file_state(path, dataset).state == "verified":
                paths[path] = cache_dir() / path
            else:
                unverifiable.append(path)
            continue
        try:
            paths[path] = fetch_file(path, mirror=mirror, progressbar=progressbar)
        except DatasetUnavailable as err:
            failures[path] = "\n".join(getattr(err, "reasons", [str(err)]))
    if unverifiable:
        raise DatasetUnavailable(_no_checksum_message(dataset, unverifiable))
    if failures:
        raise DatasetUnavailable(_unavailable_message(dataset, failures))
    return paths


def _file_line(dataset: Dataset, path: str) -> str:
    size = dataset.files.get(path)
    size_text = f"{size:,} bytes" if size is not None else "size unknown"
    digest = expected_hash(path) or "no checksum"
    return f"  {path} ({size_text}, {digest if ':' in digest else 'sha256:' + digest})"


def _unavailable_message(dataset: Dataset, failures: dict[str, str]) -> str:
    lines = [
        f"Dataset {dataset.name!r} is not available: {len(failures)} of its "
        f"{len(dataset.files)} files are not in the cache and could not be downloaded and "
        "verified. Tried:",
    ]
    for path, reasons in failures.items():
        lines.append(_file_line(dataset, path))
        lines.extend(f"    {reason}" for reason in reasons.splitlines())
    lines += [
        f"Nothing unverified was kept in the cache ({cache_dir()}; set {CACHE_ENV} to move it).",
        "Likely cause: no network access, a server that is down or blocks you, or a mirror that "
        "lacks the files.",
        "Next step: download the files above by hand into one folder DIR (any of the URLs; "
        "names as listed) and run",
        f"    data-fetch import {dataset.name} DIR",
        f"or run `data-fetch get {dataset.name}` on a machine with internet and copy its cache "
        f"folder here (point {CACHE_ENV} at it).",
    ]
    if dataset.manual:
        lines.append(dataset.manual)
    return "\n".join(lines)


def _no_checksum_message(dataset: Dataset, paths: list[str]) -> str:
    lines = [
        f"Dataset {dataset.name!r} is not downloaded automatically: no checksum is published "
        "for these files and none could be established, and data_fetch never keeps an "
        "unverified download:",
        *(f"  {path} (from {REGISTRY.get_url(path)})" for path in paths),
    ]
    if dataset.manual:
        lines.append(dataset.manual)
    lines += [
        "Next step: download the files by hand, check them yourself (e.g. against a second "
        "independent copy or the publisher's listing), put them in one folder DIR and run",
        f"    data-fetch import {dataset.name} DIR --pin",
        "which records their SHA-256 in this cache so every later load is checked against it.",
    ]
    return "\n".join(lines)
