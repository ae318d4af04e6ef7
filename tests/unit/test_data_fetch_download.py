"""data_fetch downloads against a local mirror serving the real files from ../shared/data.

Every test here talks to a FaultServer on 127.0.0.1 (marked ``network``; no internet is used).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pooch
import pytest

from data_fetch import DatasetUnavailable, fetch_dataset, fetch_file
from data_fetch.catalog import DATASETS
from data_fetch.registry import REGISTRY

from .data_server import REPO, Fault, isolated_cache, mirror, require_shared  # noqa: F401

pytestmark = [pytest.mark.network, pytest.mark.usefixtures("isolated_cache")]

HELD = ["mnist", "binarized_mnist", "cora", "mutag", "proteins", "imdb_binary", "eb", "flows",
        "origin_of_species"]
SMALL = "mnist/t10k-labels-idx1-ubyte.gz"
MEDIUM = "mnist/t10k-images-idx3-ubyte.gz"


def _temporaries(folder):
    return sorted(p.name for p in folder.glob("tmp*")) if folder.is_dir() else []


@pytest.mark.parametrize("name", HELD)
def test_real_files_download_and_verify(name, mirror, isolated_cache):
    """Does every file we hold download from the mirror and match its registry hash?"""
    require_shared(*DATASETS[name].files)
    paths = fetch_dataset(name, mirror=mirror.url)
    assert sorted(paths) == sorted(DATASETS[name].files)
    for path, file in paths.items():
        assert file == isolated_cache / path
        assert pooch.hashes.hash_matches(str(file), REGISTRY.registry[path])
        assert file.stat().st_size == DATASETS[name].files[path]
        assert mirror.count(path) == 1


def test_fashion_mnist_labels_download_and_images_report_missing(mirror, isolated_cache):
    """Are the label files we hold fetched, and the absent image files reported, not faked?"""
    require_shared("fashion_mnist/train-labels-idx1-ubyte.gz")
    fetch_file("fashion_mnist/train-labels-idx1-ubyte.gz", mirror=mirror.url)
    with pytest.raises(DatasetUnavailable, match="train-images-idx3-ubyte.gz.*404"):
        fetch_dataset("fashion_mnist", mirror=mirror.url)
    assert not (isolated_cache / "fashion_mnist/train-images-idx3-ubyte.gz").exists()
    assert mirror.count("fashion_mnist/train-images-idx3-ubyte.gz") == 1  # a 404 is not retried


def test_cached_file_is_not_fetched_again(mirror):
    require_shared(SMALL)
    first = fetch_file(SMALL, mirror=mirror.url)
    second = fetch_file(SMALL, mirror=mirror.url)
    assert first == second and mirror.count(SMALL) == 1


def test_mirror_from_environment(mirror, monkeypatch, isolated_cache):
    require_shared(SMALL)
    monkeypatch.setenv("GRADEKIT_DATA_MIRROR", mirror.url + "/")
    assert fetch_file(SMALL) == isolated_cache / SMALL
    assert mirror.count(SMALL) == 1


def test_wrong_checksum_is_refused_and_nothing_kept(mirror, isolated_cache):
    """Are corrupted bytes refused, with pooch's hash message, leaving no file behind?"""
    require_shared(SMALL)
    mirror.faults[SMALL] = Fault("corrupt")
    with pytest.raises(DatasetUnavailable, match=r"SHA256 hash of downloaded file .* does not"):
        fetch_file(SMALL, mirror=mirror.url)
    folder = (isolated_cache / SMALL).parent
    assert not (isolated_cache / SMALL).exists()
    assert _temporaries(folder) == []
    assert mirror.count(SMALL) == 2  # the first try and one retry


def test_corrupt_cached_file_is_replaced(mirror, isolated_cache):
    require_shared(SMALL)
    target = isolated_cache / SMALL
    target.parent.mkdir(parents=True)
    target.write_bytes(b"not the MNIST labels")
    fetch_file(SMALL, mirror=mirror.url)
    assert pooch.hashes.hash_matches(str(target), REGISTRY.registry[SMALL])


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "no-length"])
def test_connection_dropped_mid_body_then_recovers(mirror, with_length, isolated_cache):
    require_shared(MEDIUM)
    mirror.faults[MEDIUM] = Fault("drop", times=1, with_length=with_length)
    path = fetch_file(MEDIUM, mirror=mirror.url)
    assert pooch.hashes.hash_matches(str(path), REGISTRY.registry[MEDIUM])
    assert mirror.count(MEDIUM) == 2
    assert _temporaries(path.parent) == []


@pytest.mark.parametrize("with_length", [True, False], ids=["content-length", "no-length"])
def test_connection_always_dropped_fails_cleanly(mirror, with_length, isolated_cache):
    require_shared(MEDIUM)
    mirror.faults[MEDIUM] = Fault("drop", with_length=with_length)
    with pytest.raises(DatasetUnavailable, match=MEDIUM.split("/")[1]):
        fetch_file(MEDIUM, mirror=mirror.url)
    assert not (isolated_cache / MEDIUM).exists()
    assert _temporaries((isolated_cache / MEDIUM).parent) == []


def test_503_then_success(mirror):
    require_shared(SMALL)
    mirror.faults[SMALL] = Fault("status", times=1, status=503)
    fetch_file(SMALL, mirror=mirror.url)
    assert mirror.count(SMALL) == 2


_FETCH_ONE = "from data_fetch import fetch_file; import sys; fetch_file(sys.argv[1], mirror=sys.argv[2])"


def _fetch_process(path, url):
    return subprocess.Popen(
        [sys.executable, "-c", _FETCH_ONE, path, url], cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_client_killed_mid_download_leaves_no_file_and_next_run_recovers(mirror, isolated_cache):
    """Does a SIGKILLed download leave only a temporary file, swept by the next run?"""
    require_shared(MEDIUM)
    mirror.faults[MEDIUM] = Fault("slow", times=1, chunk=16_384, delay=0.05)
    folder = (isolated_cache / MEDIUM).parent
    proc = _fetch_process(MEDIUM, mirror.url)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        partial = [p for p in folder.glob("tmp*") if p.stat().st_size > 50_000] if folder.is_dir() else []
        if partial:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail(f"no partial download appeared: {proc.communicate()}")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not (isolated_cache / MEDIUM).exists()
    stale = _temporaries(folder)
    assert stale, "the killed download's temporary file should still be there"
    path = fetch_file(MEDIUM, mirror=mirror.url)
    assert pooch.hashes.hash_matches(str(path), REGISTRY.registry[MEDIUM])
    assert _temporaries(folder) == []


def test_concurrent_processes_end_with_one_verified_file(mirror, isolated_cache):
    """Do three processes fetching the same file download it once and all succeed?"""
    require_shared(MEDIUM)
    mirror.faults[MEDIUM] = Fault("slow", chunk=262_144, delay=0.05)
    procs = [_fetch_process(MEDIUM, mirror.url) for _ in range(3)]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], results
    assert mirror.count(MEDIUM) == 1
    folder = (isolated_cache / MEDIUM).parent
    assert sorted(p.name for p in folder.iterdir()) == [".lock", MEDIUM.split("/")[1]]


def test_cli_get_list_verify_with_mirror(mirror, isolated_cache):
    from click.testing import CliRunner

    from data_fetch.cli import main

    require_shared(*DATASETS["mnist"].files, *DATASETS["cora"].files)
    runner = CliRunner()
    result = runner.invoke(main, ["get", "mnist", "cora", "--mirror", mirror.url])
    assert result.exit_code == 0, result.output
    assert f"mnist: 4 file(s) verified in {isolated_cache / 'mnist'}" in result.output
    listing = runner.invoke(main, ["list"])
    assert listing.exit_code == 0
    lines = {line.split()[0]: line for line in listing.output.splitlines()[1:]}
    assert lines["mnist"].split()[1] == "verified" and lines["cora"].split()[1] == "verified"
    assert lines["cifar10"].split()[1] == "missing"
    verified = runner.invoke(main, ["verify"])
    assert verified.exit_code == 0 and "12 verified, 0 with problems" in verified.output


def test_stalled_server_times_out(mirror, monkeypatch, isolated_cache):
    """Does a server that stops sending hit the read timeout instead of hanging?"""
    import data_fetch.download

    require_shared(SMALL)
    monkeypatch.setattr(data_fetch.download, "TIMEOUT", (2.0, 0.3))
    mirror.faults[SMALL] = Fault("slow", chunk=1_000, delay=3.0)
    start = time.monotonic()
    with pytest.raises(DatasetUnavailable, match=r"(?s)Could not download and verify.*[Tt]imed out"):
        fetch_file(SMALL, mirror=mirror.url)
    assert time.monotonic() - start < 5
    assert not (isolated_cache / SMALL).exists()
