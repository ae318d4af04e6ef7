"""The catalog: every dataset the handouts use, with its files, sizes, licence and loader.

Hashes and original URLs live in ``registry.txt`` (see :mod:`data_fetch.registry`); this module
groups the registry's files into datasets and adds what a person needs to decide whether and
how to get them. ``kind`` is ``"download"`` (files in the registry), ``"bundled"`` (shipped
inside an installed library, nothing to download) or ``"derived"`` (built from other datasets
and cached).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from .errors import UnknownDataset

__all__ = ["DATASETS", "Dataset", "get_dataset"]


@dataclass(frozen=True)
class Dataset:
    """One dataset: registry paths with sizes in bytes (None where unknown) and provenance."""

    name: str
    title: str
    kind: str
    loader: str
    licence: str
    checksums: str
    files: dict[str, int | None] = field(default_factory=dict)
    alternates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    manual: str = ""
    requires: tuple[str, ...] = ()

    @property
    def folder(self) -> str:
        """The dataset's folder in the cache and on a mirror (common parent of its files)."""
        parents = {path.rsplit("/", 1)[0] for path in self.files}
        return parents.pop() if len(parents) == 1 else self.name

    @property
    def size(self) -> int | None:
        """Total bytes of the files, or None if any size is unknown."""
        sizes = list(self.files.values())
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[arg-type]


def _each(files: dict[str, int | None], base: str) -> dict[str, tuple[str, ...]]:
    return {path: (base + path.rsplit("/", 1)[-1],) for path in files}


_MNIST = {
    "mnist/train-images-idx3-ubyte.gz": 9_912_422,
    "mnist/train-labels-idx1-ubyte.gz": 28_881,
    "mnist/t10k-images-idx3-ubyte.gz": 1_648_877,
    "mnist/t10k-labels-idx1-ubyte.gz": 4_542,
}
_FASHION = {
    "fashion_mnist/train-images-idx3-ubyte.gz": 26_421_880,
    "fashion_mnist/train-labels-idx1-ubyte.gz": 29_515,
    "fashion_mnist/t10k-images-idx3-ubyte.gz": 4_422_102,
    "fashion_mnist/t10k-labels-idx1-ubyte.gz": 5_148,
}
_BINARIZED = {
    "binarized_mnist/binarized_mnist_train.amat": 78_400_000,
    "binarized_mnist/binarized_mnist_valid.amat": 15_680_000,
    "binarized_mnist/binarized_mnist_test.amat": 15_680_000,
}
_CORA = {
    "cora/ind.cora.x": 22_119,
    "cora/ind.cora.tx": 148_025,
    "cora/ind.cora.allx": 257_305,
    "cora/ind.cora.y": 4_054,
    "cora/ind.cora.ty": 28_135,
    "cora/ind.cora.ally": 47_959,
    "cora/ind.cora.graph": 59_847,
    "cora/ind.cora.test.index": 5_000,
}


def _tu(name: str, sizes: dict[str, int | None]) -> dict[str, int | None]:
    return {f"tudataset/{name}/raw/{suffix}": size for suffix, size in sizes.items()}


_TU_MANUAL = (
    "The original distribution is the zip https://www.chrsmrrs.com/graphkerneldatasets/{zip}.zip "
    "(no published checksum); unzip it and import the unzipped folder: every file is then checked "
    "against the registry's SHA-256."
)
_TU_LICENCE = "no licence stated; cite Morris et al. (2020) TUDataset and the original authors"
_TU_CHECKSUMS = "SHA-256 of the ../shared/data copies, git blob ids agreeing across >= 2 repos"

_DATASETS = [
    Dataset(
        "mnist", "MNIST handwritten digits (IDX, gzipped)", "download", "fetch_mnist",
        "CC BY-SA 3.0 (Keras/TF docs); (c) Y. LeCun and C. Cortes",
        "torchvision MNIST.resources MD5 + SHA-256 of the byte-identical ../shared/data copies",
        _MNIST, _each(_MNIST, "http://yann.lecun.com/exdb/mnist/"),
    ),
    Dataset(
        "fashion_mnist", "Fashion-MNIST (IDX, gzipped)", "download", "fetch_fashion_mnist",
        "MIT, (c) 2017 Zalando SE",
        "TFDS url_checksums/fashion_mnist.txt SHA-256 (labels also match torchvision MD5s)",
        _FASHION,
        _each(_FASHION, "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"),
    ),
    Dataset(
        "binarized_mnist", "Binarized MNIST, Larochelle & Murray 2011 (.amat text)", "download",
        "fetch_binarized_mnist", "no licence stated; derived from MNIST",
        "TFDS binarized_mnist checksums.tsv SHA-256 and sizes", _BINARIZED,
        _each(_BINARIZED, "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
    ),
    Dataset(
        "cifar10", "CIFAR-10, python version (tar.gz)", "download", "fetch_cifar10",
        "no licence stated; cite Krizhevsky (2009)",
        "torchvision prototype Cifar10._SHA256 (MD5 from torchvision CIFAR10.tgz_md5)",
        {"cifar10/cifar-10-python.tar.gz": 170_498_071},
    ),
    Dataset(
        "cora", "Cora citation graph, Planetoid split (ind.cora.*)", "download", "fetch_cora",
        "planetoid repo MIT; Cora data from McCallum et al. (2000), no licence stated",
        "none published; SHA-256 of the byte-for-byte ../shared/data copies", _CORA,
    ),
    Dataset(
        "mutag", "MUTAG (TU graph classification, 188 graphs)", "download", "fetch_tudataset",
        _TU_LICENCE, _TU_CHECKSUMS,
        _tu("MUTAG", {"MUTAG_A.txt": 76_940, "MUTAG_edge_labels.txt": 14_884,
                      "MUTAG_graph_indicator.txt": 11_532, "MUTAG_graph_labels.txt": 439,
                      "MUTAG_node_labels.txt": 6_742, "README.txt": 2_611}),
        manual=_TU_MANUAL.format(zip="MUTAG"),
    ),
    Dataset(
        "proteins", "PROTEINS (TU graph classification, 1113 graphs)", "download",
        "fetch_tudataset", _TU_LICENCE, _TU_CHECKSUMS,
        _tu("PROTEINS", {"PROTEINS_A.txt": 2_022_990, "PROTEINS_graph_indicator.txt": 169_673,
                         "PROTEINS_graph_labels.txt": 2_226,
                         "PROTEINS_node_attributes.txt": 478_190,
                         "PROTEINS_node_labels.txt": 86_942, "README.txt": 2_221}),
        manual=_TU_MANUAL.format(zip="PROTEINS"),
    ),
    Dataset(
        "imdb_binary", "IMDB-BINARY (TU graph classification, 1000 graphs)", "download",
        "fetch_tudataset", _TU_LICENCE, _TU_CHECKSUMS,
        _tu("IMDB-BINARY", {"IMDB-BINARY_A.txt": 4_596_012,
                            "IMDB-BINARY_graph_indicator.txt": 76_924,
                            "IMDB-BINARY_graph_labels.txt": 2_000}),
        manual=_TU_MANUAL.format(zip="IMDB-BINARY"),
    ),
    Dataset(
        "reddit_binary", "REDDIT-BINARY (TU graph classification, 2000 graphs)", "download",
        "fetch_tudataset", _TU_LICENCE, "none published, none established: import with --pin",
        _tu("REDDIT-BINARY", {"REDDIT-BINARY_A.txt": None,
                              "REDDIT-BINARY_graph_indicator.txt": None,
                              "REDDIT-BINARY_graph_labels.txt": None}),
        manual="The original distribution is the zip "
        "https://www.chrsmrrs.com/graphkerneldatasets/REDDIT-BINARY.zip; unzip it and import "
        "the folder that holds REDDIT-BINARY_A.txt.",
    ),
    Dataset(
        "eb", "Embryoid-body scRNA-seq time course, first 5 PCs + day bins (16819 cells)",
        "download", "fetch_eb",
        "Apache-2.0 repo, data redistributed with attribution; cite Moon et al. (2019)",
        "none published; SHA-256 of the byte-for-byte ../shared/data copies",
        {"eb/eb_pca5_standardized.npy": 672_888, "eb/eb_sample_labels.npy": 134_680},
    ),
    Dataset(
        "eb_full", "Embryoid-body time course as published by its authors (TrajectoryNet npz)",
        "download", "fetch_eb_full",
        "TrajectoryNet code MIT; no data licence stated; cite Moon et al. (2019), Tong et al. (2020)",
        "none published, none established: import with --pin",
        {"eb_full/eb_velocity_v5.npz": None},
        manual="The raw counts are Mendeley Data v6n743h5ng (scRNAseq.zip).",
    ),
    Dataset(
        "flows", "2-D flow targets 'arcs' and 'sine' (IFT6135 H21 A3), 5000 x 2 each",
        "download", "fetch_flow_samples", "none stated (course materials)",
        "none published; SHA-256 of the byte-for-byte ../shared/data copies",
        {"flows/data_arcs.npy": 40_128, "flows/data_sine.npy": 40_128},
    ),
    Dataset(
        "origin_of_species", "Darwin, On the Origin of Species, 1st (1859) and 6th (1872) ed.",
        "download", "fetch_origin_of_species",
        "public domain in the USA; Project Gutenberg License (header kept)",
        "none published; SHA-256 of the byte-for-byte ../shared/data copies",
        {"text/pg1228.txt": 954_822, "text/pg2009.txt": 1_280_749},
        {"text/pg1228.txt": ("https://www.gutenberg.org/cache/epub/1228/pg1228.txt",),
         "text/pg2009.txt": ("https://www.gutenberg.org/cache/epub/2009/pg2009.txt",)},
    ),
    Dataset(
        "sevens", "MNIST training sevens with a graded stroke-thickening effect", "derived",
        "fetch_sevens", "as MNIST", "built from verified MNIST; cached with its SHA-256",
        requires=("mnist",),
    ),
    Dataset(
        "pbmc68k_reduced", "scanpy's pbmc68k_reduced (700 cells x 765 genes)", "bundled",
        "fetch_pbmc68k_reduced", "BSD-3-Clause (scanpy); 10x Genomics data", "ships with scanpy",
    ),
    Dataset(
        "digits", "scikit-learn's 8x8 digits (1797 images)", "bundled", "fetch_digits",
        "BSD-3-Clause (scikit-learn); UCI Optical Recognition of Handwritten Digits",
        "ships with scikit-learn",
    ),
]

#: Every dataset, by CLI name.
DATASETS: dict[str, Dataset] = {d.name: d for d in _DATASETS}


def get_dataset(name: str) -> Dataset:
    """Return the catalog entry for *name*.

    Raises
    ------
    UnknownDataset
        If *name* is not a dataset; the message suggests close names and lists all of them.
    """
    try:
        return DATASETS[name]
    except KeyError:
        close = difflib.get_close_matches(name.lower().replace("-", "_"), list(DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        msg = (
            f"Unknown dataset {name!r}.{hint} Known datasets: {', '.join(DATASETS)} "
            "(see `data-fetch list`)."
        )
        raise UnknownDataset(msg) from None
