"""data_fetch loaders on the real files of ../shared/data (imported, verified, into a temp cache).

A dataset that is not in ../shared/data is skipped with the reason; nothing is substituted.
"""

from __future__ import annotations

import numpy as np
import pytest

import data_fetch as df
from data_fetch.catalog import DATASETS
from data_fetch.registry import REGISTRY

from .data_server import require_shared


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory):
    """A cache folder for this module, in $GRADEKIT_DATA_DIR, with no mirror and no retries."""
    folder = tmp_path_factory.mktemp("loader-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADEKIT_DATA_DIR", str(folder))
        patch.delenv("GRADEKIT_DATA_MIRROR", raising=False)
        patch.setattr(REGISTRY, "retry_if_failed", 0)
        yield folder


def _filled(name: str) -> None:
    """Import dataset *name* from ../shared/data into the cache, or skip naming what is absent."""
    root = require_shared(*DATASETS[name].files)
    reports = df.import_dataset(name, root)
    assert {r.state for r in reports} <= {"imported", "verified"}, reports


def test_mnist_train_and_test():
    _filled("mnist")
    x, y = df.fetch_mnist("train")
    assert x.shape == (60000, 1, 28, 28) and str(x.dtype) == "torch.float32"
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    x, y = df.fetch_mnist("test")
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    with pytest.raises(ValueError, match="split must be one of 'train', 'test', got 'valid'"):
        df.fetch_mnist("valid")


def test_fashion_mnist():
    _filled("fashion_mnist")
    x, y = df.fetch_fashion_mnist("test")
    assert x.shape == (10000, 1, 28, 28) and y.bincount().tolist() == [1000] * 10


@pytest.mark.parametrize(("split", "rows", "ones"), [
    ("train", 50000, None), ("valid", 10000, 0.1311), ("test", 10000, 0.1325),
])
def test_binarized_mnist(split, rows, ones):
    _filled("binarized_mnist")
    x = df.fetch_binarized_mnist(split)
    assert x.shape == (rows, 1, 28, 28) and str(x.dtype) == "torch.float32"
    assert set(x.unique().tolist()) == {0.0, 1.0}
    if ones is not None:
        assert float(x.mean()) == pytest.approx(ones, abs=5e-5)


def test_cifar10():
    _filled("cifar10")
    x, y = df.fetch_cifar10("test")
    assert x.shape == (10000, 3, 32, 32) and y.bincount().tolist() == [1000] * 10


def test_cora_planetoid_masks():
    pytest.importorskip("torch_geometric")
    _filled("cora")
    data = df.fetch_cora()
    assert data.num_nodes == 2708 and data.x.shape == (2708, 1433)
    assert int(data.y.max()) + 1 == 7 and data.edge_index.shape == (2, 10556)
    assert [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)] == [140, 500, 1000]


@pytest.mark.parametrize(("name", "graphs", "first"), [
    ("mutag", 188, {"num_nodes": 17, "num_edges": 38}),
    ("proteins", 1113, {"num_nodes": 42, "num_edges": 162}),
    ("imdb_binary", 1000, {"num_nodes": 20, "num_edges": 146}),
])
def test_tudatasets_load_from_the_cache(name, graphs, first):
    pytest.importorskip("torch_geometric")
    _filled(name)
    dataset = df.fetch_tudataset(name)
    assert len(dataset) == graphs and dataset.num_classes == 2
    assert {key: getattr(dataset[0], key) for key in first} == first


def test_reddit_binary_is_absent_and_not_faked():
    with pytest.raises(df.DatasetUnavailable, match="no checksum is published"):
        df.fetch_tudataset("reddit_binary")


@pytest.mark.parametrize(("name", "x_range"), [("arcs", (-3.2, 3.31)), ("sine", (-6.21, 6.17))])
def test_flow_samples(name, x_range):
    _filled("flows")
    points = df.fetch_flow_samples(name)
    assert points.shape == (5000, 2) and str(points.dtype) == "torch.float32"
    assert x_range[0] <= float(points[:, 0].min()) and float(points[:, 0].max()) <= x_range[1]


@pytest.mark.parametrize(("edition", "words"), [(1, 155_000), (6, 208_000)])
def test_origin_of_species(edition, words):
    _filled("origin_of_species")
    text = df.fetch_origin_of_species(edition)
    assert "INTRODUCTION" in text and "PROJECT GUTENBERG EBOOK" not in text
    assert words < len(text.split()) < words + 2_000
    assert df.fetch_origin_of_species(edition, strip_boilerplate=False).startswith("The Project")


def test_eb_arrays_and_anndata():
    _filled("eb")
    pcs, labels = df.fetch_eb_arrays()
    assert pcs.shape == (16819, 5) and labels.bincount().tolist() == [2381, 4163, 3278, 3665, 3332]
    assert np.allclose(pcs.mean(0).numpy(), 0, atol=1e-4) and np.allclose(pcs.std(0).numpy(), 1, atol=1e-3)
    pytest.importorskip("anndata")
    adata = df.fetch_eb()
    assert adata.shape == (16819, 5) and adata.obsm["X_pca"].shape == (16819, 5)
    assert list(adata.obs["day"].cat.categories) == ["0-3", "6-9", "12-15", "18-21", "24-27"]


def test_sevens_thickening_follows_the_strength():
    """Are the sevens the MNIST training sevens, thickened monotonically by their strength?"""
    _filled("mnist")
    images, strengths = df.fetch_sevens()
    assert images.shape == (6265, 1, 28, 28) and strengths.shape == (6265,)
    assert 0.0 <= float(strengths.min()) and float(strengths.max()) < 1.0
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0
    x, y = df.fetch_mnist("train")
    originals = x[y == 7]
    gain = (images.sum((1, 2, 3)) / originals.sum((1, 2, 3))).numpy()
    assert np.all(gain >= 1.0 - 1e-6)
    order = np.argsort(strengths.numpy())
    low, high = gain[order[:600]].mean(), gain[order[-600:]].mean()
    assert 1.0 < low < 1.3 < 2.0 < high
    assert np.corrcoef(strengths.numpy(), gain)[0, 1] > 0.8
    again, _ = df.fetch_sevens()  # from the cache, identical
    assert bool((again == images).all())


def test_sevens_strength_zero_is_the_original_image():
    from data_fetch.sevens import sevens_strengths, thicken

    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, 10:18, 14] = 1.0
    assert np.array_equal(thicken(image, np.zeros(1)), image)
    assert thicken(image, np.full(1, 0.5)).sum() == pytest.approx(8 * 3 + 2 * 3)
    assert sevens_strengths(3) == pytest.approx([0.618034, 0.236068, 0.854102], abs=1e-6)


def test_bundled_datasets_need_no_download():
    x, y = df.fetch_digits()
    assert x.shape == (1797, 1, 8, 8) and float(x.max()) == 1.0 and int(y.max()) == 9
    pytest.importorskip("scanpy")
    adata = df.fetch_pbmc68k_reduced()
    assert adata.shape == (700, 765) and adata.obsm["X_pca"].shape == (700, 50)
