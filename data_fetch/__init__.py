"""data_fetch: every dataset the gradekit handouts use, verified, cached and loaded to tensors.

One ``fetch_<dataset>()`` per dataset returns tensors (or PyG / AnnData objects) in the layouts
the handouts use; each downloads its files on first use, checks every file's hash before it
enters the cache, and works offline once the cache is filled. The cache is
``$GRADEKIT_DATA_DIR`` (default: the per-user cache of pooch, ``~/.cache/gradekit`` on Linux);
``$GRADEKIT_DATA_MIRROR`` (or ``data-fetch get --mirror``) names a mirror that serves each file
at ``<mirror>/<registry path>``. See the README's Data section and ``data-fetch --help``.

Importing this package does not import torch, torch_geometric or scanpy.
"""

from .cache import import_dataset, verify_dataset
from .catalog import DATASETS, get_dataset
from .cells import fetch_eb, fetch_eb_arrays, fetch_eb_full, fetch_pbmc68k_reduced
from .download import fetch_dataset, fetch_file
from .errors import DataFetchError, DatasetUnavailable, UnknownDataset
from .graphs import fetch_cora, fetch_tudataset
from .registry import REGISTRY, cache_dir, make_registry
from .samples import fetch_flow_samples, fetch_origin_of_species
from .sevens import fetch_sevens
from .vision import (
    fetch_binarized_mnist,
    fetch_cifar10,
    fetch_digits,
    fetch_fashion_mnist,
    fetch_mnist,
)

__all__ = [
    "DATASETS",
    "REGISTRY",
    "DataFetchError",
    "DatasetUnavailable",
    "UnknownDataset",
    "cache_dir",
    "fetch_binarized_mnist",
    "fetch_cifar10",
    "fetch_cora",
    "fetch_dataset",
    "fetch_digits",
    "fetch_eb",
    "fetch_eb_arrays",
    "fetch_eb_full",
    "fetch_fashion_mnist",
    "fetch_file",
    "fetch_flow_samples",
    "fetch_mnist",
    "fetch_origin_of_species",
    "fetch_pbmc68k_reduced",
    "fetch_sevens",
    "fetch_tudataset",
    "get_dataset",
    "import_dataset",
    "make_registry",
    "verify_dataset",
]
