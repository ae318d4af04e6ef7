"""``data-fetch``: list, get, verify, locate and import the course datasets.

Exit status: 0 success, 1 a download, verification or import failed (the message says what to do;
no traceback), 2 a usage error (unknown dataset name, bad option). ``--help`` imports no torch.
"""

from __future__ import annotations

import os
import sys

import click

from .catalog import DATASETS, get_dataset
from .errors import DataFetchError, UnknownDataset
from .registry import CACHE_ENV, MIRROR_ENV, cache_dir

__all__ = ["main"]

_BUNDLED_IN = {"pbmc68k_reduced": "scanpy", "digits": "scikit-learn"}


class _DatasetName(click.ParamType):
    name = "NAME"

    def convert(self, value, param, ctx):
        try:
            return get_dataset(value).name
        except UnknownDataset as err:
            self.fail(str(err), param, ctx)


NAME = _DatasetName()


def _human(size: int | None) -> str:
    if size is None:
        return "?"
    return f"{size / 1e6:.1f} MB" if size else "-"


def _status(name: str) -> tuple[str, bool]:
    """One-word status of a dataset in the cache and whether it is a problem."""
    from .cache import verify_dataset

    dataset = get_dataset(name)
    if dataset.kind == "bundled":
        return f"bundled ({_BUNDLED_IN[name]})", False
    if dataset.kind == "derived":
        from .sevens import SEVENS_FILE

        built = (cache_dir() / SEVENS_FILE).is_file()
        return ("built" if built else "not built"), False
    states = [report.state for report in verify_dataset(name)]
    if "corrupt" in states:
        return f"CORRUPT ({states.count('corrupt')})", True
    if "unverifiable" in states:
        return "unverifiable", True
    ok = states.count("verified")
    if ok == len(states):
        return "verified", False
    from .registry import known_hash

    if all(known_hash(path) is None for path in dataset.files):
        return "no checksum (import --pin)", False
    return ("missing" if ok == 0 else f"partial {ok}/{len(states)}"), False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Download, verify and cache the datasets of the gradekit handouts.

    The cache is $GRADEKIT_DATA_DIR (default: your user cache). A mirror ($GRADEKIT_DATA_MIRROR
    or `get --mirror`) serves each file at <mirror>/<path>. To work offline, run `data-fetch get`
    on a machine with internet, copy the cache folder over and point $GRADEKIT_DATA_DIR at it.
    """


@main.command("list")
def list_command() -> None:
    """Show every dataset, its size and whether it is cached and verified."""
    click.echo(f"cache: {cache_dir()}  (${CACHE_ENV})")
    for name, dataset in DATASETS.items():
        status, _ = _status(name)
        click.echo(f"{name:<18} {status:<27} {_human(dataset.size):>9}  {dataset.title}")


@main.command()
@click.argument("names", nargs=-1, type=NAME)
@click.option("--all", "all_", is_flag=True,
              help="Every dataset whose files all have a known checksum (about 330 MB).")
@click.option("--mirror", metavar="URL", help=f"Mirror base URL (default ${MIRROR_ENV}).")
def get(names: tuple[str, ...], all_: bool, mirror: str | None) -> None:
    """Download and verify datasets NAMES (see `data-fetch list`) into the cache."""
    from .download import fetch_dataset

    if mirror and os.path.isdir(mirror):
        raise click.BadParameter(
            f"{mirror!r} is a local folder, not a URL: serve it (python -m http.server) or use "
            "`data-fetch import NAME DIR`.", param_hint="--mirror",
        )
    if all_:
        from .registry import known_hash

        names = tuple(
            n for n, d in DATASETS.items() if all(known_hash(path) for path in d.files)
        )
    if not names:
        raise click.UsageError("Name at least one dataset (or --all); see `data-fetch list`.")
    failed = 0
    for name in names:
        if get_dataset(name).kind == "bundled":
            click.echo(f"{name}: bundled with {_BUNDLED_IN[name]}, nothing to download")
            continue
        try:
            paths = fetch_dataset(name, mirror=mirror)
        except DataFetchError as err:
            failed += 1
            click.echo(f"error: {err}", err=True)
            continue
        folder = cache_dir() / get_dataset(name).folder
        click.echo(f"{name}: {len(paths)} file(s) verified in {folder}")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("names", nargs=-1, type=NAME)
def verify(names: tuple[str, ...]) -> None:
    """Re-hash cached files of NAMES (default: every cached file) against the registry.

    Fails (status 1) on a corrupt or unverifiable file, or on a missing file of a named dataset.
    """
    from .cache import verify_dataset

    targets = names or tuple(n for n, d in DATASETS.items() if d.kind == "download")
    bad = checked = 0
    for name in targets:
        if get_dataset(name).kind != "download":
            click.echo(f"{name}: {_status(name)[0]}, no files to verify")
            continue
        for report in verify_dataset(name):
            if report.state == "missing" and not names:
                continue
            checked += 1
            problem = report.state != "verified"
            bad += problem
            detail = f"  ({report.detail})" if report.detail else ""
            click.echo(f"{report.state:<12} {report.path}{detail}", err=problem)
    click.echo(f"{checked - bad} verified, {bad} with problems, in {cache_dir()}")
    if bad:
        click.echo("Fix: `data-fetch get NAME` replaces a corrupt file.", err=True)
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("name", type=NAME)
def path(name: str) -> None:
    """Print the cache folder of dataset NAME (whether or not it is filled yet)."""
    dataset = get_dataset(name)
    if dataset.kind == "bundled":
        click.echo(f"error: {name} is bundled with {_BUNDLED_IN[name]}; it has no cache folder.",
                   err=True)
        sys.exit(1)
    click.echo(str(cache_dir() / (dataset.folder if dataset.files else name)))


@main.command("import")
@click.argument("name", type=NAME)
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--pin", is_flag=True,
              help="For files with no published checksum: accept them and record their SHA-256.")
def import_command(name: str, directory: str, pin: bool) -> None:
    """Copy hand-downloaded files of NAME from DIRECTORY into the cache, verifying each."""
    from .cache import import_dataset

    if get_dataset(name).kind != "download":
        click.echo(f"error: {name} has no files to import ({_status(name)[0]}).", err=True)
        sys.exit(1)
    try:
        reports = import_dataset(name, directory, pin=pin)
    except DataFetchError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    for report in reports:
        problem = report.state in ("refused", "missing")
        click.echo(f"{report.state:<9} {report.path}  {report.detail}".rstrip(), err=problem)
    incomplete = [r for r in reports if r.state not in ("imported", "pinned", "verified")]
    if incomplete:
        click.echo(f"{name}: {len(incomplete)} file(s) still missing or refused; nothing "
                   "unverified was copied.", err=True)
    sys.exit(1 if incomplete else 0)
