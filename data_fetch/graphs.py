"""Graph datasets: Cora (Planetoid) and the TU graph-classification sets, as PyG objects.

The raw files come from the verified cache; PyG only processes them (into a ``processed/``
folder next to them, under the folder's lock) and is never allowed to download anything.
Needs the ``graphs`` extra (torch_geometric).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cache import locked
from .download import fetch_dataset
from .errors import DataFetchError
from .registry import cache_dir

if TYPE_CHECKING:
    from torch_geometric.data import Data
    from torch_geometric.datasets import TUDataset

__all__ = ["TU_NAMES", "fetch_cora", "fetch_tudataset"]

#: TU dataset name (as PyG spells it) by catalog name.
TU_NAMES = {
    "mutag": "MUTAG",
    "proteins": "PROTEINS",
    "imdb_binary": "IMDB-BINARY",
    "reddit_binary": "REDDIT-BINARY",
}


def _no_download(self) -> None:
    msg = (
        f"PyG tried to download {type(self).__name__} files that are not in {self.raw_dir}; "
        "data_fetch should have placed them there. Run `data-fetch verify` and report this."
    )
    raise DataFetchError(msg)


def fetch_cora() -> Data:
    """Cora citation graph with the standard Planetoid (public) split, via PyG's ``Planetoid``.

    Returns
    -------
    torch_geometric.data.Data
        ``x`` float32 binary bag-of-words (0/1, not normalised), ``edge_index`` int64 (each
        undirected edge in both directions), ``y`` int64 classes 0-6, and boolean ``train_mask`` (140 nodes, 20 per
        class), ``val_mask`` (500), ``test_mask`` (1000).

    Shapes
    ------
    x : (N, 1433) with N = 2708; edge_index : (2, E) with E = 10556; y, *_mask : (N,)
    """
    from torch_geometric.datasets import Planetoid

    paths = fetch_dataset("cora")
    raw = next(iter(paths.values())).parent

    class CachedPlanetoid(Planetoid):
        raw_dir = property(lambda self: str(raw))
        processed_dir = property(lambda self: str(raw / "processed"))
        download = _no_download

    with locked(raw):
        dataset = CachedPlanetoid(str(cache_dir() / "cora"), "Cora")
    return dataset[0]


def fetch_tudataset(name: str, **kwargs) -> TUDataset:
    """A TU graph-classification dataset as PyG's ``TUDataset``, built from the cache.

    Parameters
    ----------
    name : {"mutag", "proteins", "imdb_binary", "reddit_binary"}
        Catalog name (PyG's spelling, e.g. ``"IMDB-BINARY"``, is accepted too).
    **kwargs
        Passed to ``TUDataset`` (``transform``, ``use_node_attr``, ...). ``cleaned`` is not
        supported (the cleaned versions are not in the registry).

    Returns
    -------
    torch_geometric.datasets.TUDataset
        MUTAG 188 graphs (x one-hot (n, 7), edge_attr (e, 4)); PROTEINS 1113 graphs (x (n, 3));
        IMDB-BINARY 1000 graphs (no node features: ``x`` is None, add e.g. ``OneHotDegree``);
        REDDIT-BINARY 2000 graphs (no node features; only after ``data-fetch import --pin``).
        Graph labels ``y`` are int64 in {0, 1}.

    Shapes
    ------
    graph g : x (n_g, F), edge_index (2, e_g), y (1,)
    """
    from torch_geometric.datasets import TUDataset

    key = {v.lower(): k for k, v in TU_NAMES.items()}.get(name.lower(), name.lower())
    if key not in TU_NAMES:
        raise ValueError(f"name must be one of {', '.join(map(repr, TU_NAMES))}, got {name!r}")
    if kwargs.get("cleaned"):
        raise ValueError("cleaned=True is not supported: the cleaned files are not registered")
    fetch_dataset(key)
    root = cache_dir() / "tudataset"

    class CachedTUDataset(TUDataset):
        download = _no_download

    with locked(root / TU_NAMES[key]):
        return CachedTUDataset(str(root), TU_NAMES[key], **kwargs)
