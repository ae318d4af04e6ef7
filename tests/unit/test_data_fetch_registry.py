"""data_fetch without a server: registry and catalog, offline errors, imports, pins, the CLI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pooch
import pytest
from click.testing import CliRunner

from data_fetch import (
    DataFetchError,
    DatasetUnavailable,
    fetch_dataset,
    fetch_file,
    import_dataset,
    make_registry,
)
from data_fetch.cache import FileReport, file_state, sweep
from data_fetch.catalog import DATASETS, get_dataset
from data_fetch.cli import main
from data_fetch.download import candidate_urls
from data_fetch.errors import UnknownDataset
from data_fetch.registry import REGISTRY, UNKNOWN_HASH

from .data_server import REPO, SHARED_DATA, isolated_cache, require_shared  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated_cache")


@pytest.fixture
def no_network(monkeypatch):
    """Send every request to a closed local port through a proxy, as on an offline machine."""
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    for var in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(REGISTRY, "retry_if_failed", 0)


# ----------------------------------------------------------------- registry and catalog


def test_catalog_and_registry_list_the_same_files():
    catalog = {path for d in DATASETS.values() for path in d.files}
    assert catalog == set(REGISTRY.registry)


def test_every_hash_is_sha256_or_marked_unknown():
    for path, digest in REGISTRY.registry.items():
        assert re.fullmatch(r"[0-9a-f]{64}", digest) or digest == UNKNOWN_HASH, path
        assert REGISTRY.urls[path].startswith(("http://", "https://")), path


def test_unknown_hashes_only_where_no_checksum_exists():
    unknown = {p for p, h in REGISTRY.registry.items() if h == UNKNOWN_HASH}
    assert unknown == set(DATASETS["reddit_binary"].files) | set(DATASETS["eb_full"].files)


def test_shared_data_is_a_valid_mirror_with_matching_sizes():
    """Does every file of ../shared/data sit at its registry path, with the catalog's size?"""
    root = require_shared()
    held = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"MANIFEST.md"}
    assert held <= set(REGISTRY.registry)
    sizes = {path: size for d in DATASETS.values() for path, size in d.files.items()}
    for path in held:
        assert (root / path).stat().st_size == sizes[path], path


def test_make_registry_reproduces_the_registry(tmp_path):
    """Regenerating the hashes from ../shared/data changes nothing (they are real)."""
    root = require_shared()
    out = tmp_path / "registry.txt"
    assert make_registry(root, out) == 0
    packaged = (REPO / "data_fetch" / "registry.txt").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == packaged


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(UnknownDataset, match="Did you mean 'mnist'"):
        get_dataset("MNIST")


def test_mirror_urls_replace_originals():
    path = "mnist/train-images-idx3-ubyte.gz"
    assert candidate_urls(path, "http://h:1/m/") == [f"http://h:1/m/{path}"]
    assert candidate_urls(path) == [
        "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
    ]


# ----------------------------------------------------------------- offline behaviour


def test_offline_error_names_dataset_files_urls_and_import_command(no_network):
    with pytest.raises(DatasetUnavailable) as info:
        fetch_dataset("mnist")
    msg = str(info.value)
    assert "Dataset 'mnist' is not available: 4 of its 4 files" in msg
    for path in DATASETS["mnist"].files:
        assert path in msg
        for url in candidate_urls(path):
            assert url in msg
    assert "    data-fetch import mnist DIR" in msg
    assert "GRADEKIT_DATA_DIR" in msg


def test_offline_failure_is_quick_despite_retries(no_network, monkeypatch):
    """Is 'no connection' reported at once rather than after pooch's retry pauses?"""
    import time

    monkeypatch.setattr(REGISTRY, "retry_if_failed", 3)
    start = time.monotonic()
    with pytest.raises(DatasetUnavailable, match="ProxyError"):
        fetch_dataset("cora")
    assert time.monotonic() - start < 5


def test_cli_offline_exits_1_without_traceback(no_network):
    result = CliRunner().invoke(main, ["get", "cora"])
    assert result.exit_code == 1
    assert "data-fetch import cora DIR" in result.output
    assert "Traceback" not in result.output and result.exception is not None
    assert isinstance(result.exception, SystemExit)


def test_no_checksum_dataset_is_never_downloaded(no_network):
    with pytest.raises(DatasetUnavailable, match=r"no checksum is published(.|\n)*--pin"):
        fetch_dataset("reddit_binary")
    result = CliRunner().invoke(main, ["get", "eb_full"])
    assert result.exit_code == 1 and "data-fetch import eb_full DIR --pin" in result.output


def test_cli_usage_errors_exit_2():
    runner = CliRunner()
    assert runner.invoke(main, ["get", "mnsit"]).exit_code == 2
    assert runner.invoke(main, ["get"]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2


def test_cli_path_prints_the_cache_folder(isolated_cache):
    result = CliRunner().invoke(main, ["path", "imdb_binary"])
    assert result.exit_code == 0
    assert result.output.strip() == str(isolated_cache / "tudataset/IMDB-BINARY/raw")


def test_help_does_not_import_torch():
    code = (
        "import sys; from data_fetch.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'torch_geometric', 'scanpy') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)


# ----------------------------------------------------------------- cache: sweep, import, pin


def test_unwritable_cache_names_the_environment_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("GRADEKIT_DATA_DIR", str(blocker))
    with pytest.raises(DataFetchError, match="Cannot write to the data cache folder .*GRADEKIT_DATA_DIR"):
        fetch_file("mnist/t10k-labels-idx1-ubyte.gz", mirror="http://127.0.0.1:9")


def test_sweep_removes_only_temporary_download_files(tmp_path):
    (tmp_path / "tmpab12_xyz").write_bytes(b"partial")
    (tmp_path / "ind.cora.x").write_bytes(b"kept")
    (tmp_path / "tmp_notes.txt").write_bytes(b"kept")
    assert [p.name for p in sweep(tmp_path)] == ["tmpab12_xyz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ind.cora.x", "tmp_notes.txt"]


def test_import_refuses_the_corrupt_file_and_keeps_the_rest(tmp_path, isolated_cache):
    """Is one corrupt file refused while the intact ones enter the cache?"""
    root = require_shared(*DATASETS["cora"].files)
    download = tmp_path / "download"
    shutil.copytree(root / "cora", download)
    broken = download / "ind.cora.graph"
    data = bytearray(broken.read_bytes())
    data[100] ^= 0x01
    broken.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["import", "cora", str(download)])
    assert result.exit_code == 1
    assert re.search(r"refused\s+cora/ind.cora.graph .*does not match", result.output)
    assert not (isolated_cache / "cora/ind.cora.graph").exists()
    assert file_state("cora/ind.cora.x").state == "verified"
    assert [p.name for p in (isolated_cache / "cora").glob("tmp*")] == []


def test_import_of_a_shared_copy_then_verify(isolated_cache):
    root = require_shared(*DATASETS["mutag"].files)
    reports = import_dataset("mutag", root / "tudataset")  # found by relative path
    assert {r.state for r in reports} == {"imported"}
    again = import_dataset("mutag", root / "tudataset/MUTAG/raw")  # found by file name
    assert {r.state for r in again} == {"imported"}
    result = CliRunner().invoke(main, ["verify", "mutag"])
    assert result.exit_code == 0 and "6 verified, 0 with problems" in result.output


def test_verify_reports_corruption_and_missing_named_files(isolated_cache):
    root = require_shared(*DATASETS["flows"].files)
    import_dataset("flows", root / "flows")
    (isolated_cache / "flows/data_sine.npy").write_bytes(b"garbage")
    result = CliRunner().invoke(main, ["verify", "flows", "eb"])
    assert result.exit_code == 1
    assert "corrupt      flows/data_sine.npy" in result.output
    assert "missing      eb/eb_sample_labels.npy" in result.output


def test_pin_records_a_hash_for_a_file_without_checksum(monkeypatch, isolated_cache):
    """With no published checksum, is import refused, and with --pin recorded and enforced?"""
    root = require_shared("flows/data_arcs.npy")
    monkeypatch.setitem(REGISTRY.registry, "flows/data_arcs.npy", UNKNOWN_HASH)
    refused = import_dataset("flows", root / "flows")
    assert refused[0] == FileReport(
        "flows/data_arcs.npy", "refused", refused[0].detail
    ) and "--pin" in refused[0].detail
    pinned = import_dataset("flows", root / "flows", pin=True)
    assert pinned[0].state == "pinned"
    assert file_state("flows/data_arcs.npy") == FileReport(
        "flows/data_arcs.npy", "verified", "pinned hash"
    )
    pins = (isolated_cache / "pinned-hashes.txt").read_text()
    assert f"flows/data_arcs.npy {pooch.file_hash(str(root / 'flows/data_arcs.npy'))}" in pins
    assert fetch_dataset("flows")["flows/data_arcs.npy"].is_file()
