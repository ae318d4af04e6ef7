"""Single-cell datasets as AnnData: the embryoid-body time course and scanpy's pbmc68k_reduced.

Needs the ``cells`` extra (scanpy). ``fetch_eb_arrays`` gives the same EB data as tensors
without scanpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .download import fetch_dataset

if TYPE_CHECKING:
    import anndata
    import torch

__all__ = ["EB_DAYS", "fetch_eb", "fetch_eb_arrays", "fetch_eb_full", "fetch_pbmc68k_reduced"]

#: Day range of each EB time bin (the sample label).
EB_DAYS = ("0-3", "6-9", "12-15", "18-21", "24-27")


def _eb_numpy() -> tuple[np.ndarray, np.ndarray]:
    paths = fetch_dataset("eb")
    pcs = np.load(paths["eb/eb_pca5_standardized.npy"], allow_pickle=False)
    labels = np.load(paths["eb/eb_sample_labels.npy"], allow_pickle=False)
    return pcs, labels


def fetch_eb_arrays() -> tuple[torch.Tensor, torch.Tensor]:
    """Embryoid-body cells: first 5 principal components (standardised) and time-bin labels.

    Returns
    -------
    pcs : torch.Tensor
        float32; each of the 5 PCs of TrajectoryNet's ``eb_velocity_v5.npz`` standardised to
        mean 0, std 1 (values roughly in [-5, 5]).
    labels : torch.Tensor
        int64 time bin 0-4 = days 0-3, 6-9, 12-15, 18-21, 24-27 (2381/4163/3278/3665/3332 cells).

    Shapes
    ------
    pcs : (N, 5); labels : (N,); N = 16819 cells
    """
    import torch

    pcs, labels = _eb_numpy()
    return torch.from_numpy(pcs.astype(np.float32)), torch.from_numpy(labels.astype(np.int64))


def fetch_eb() -> anndata.AnnData:
    """Embryoid-body time course as AnnData with its first principal components.

    Returns
    -------
    anndata.AnnData
        ``X`` and ``obsm["X_pca"]`` float32 (the 5 standardised PCs, see
        :func:`fetch_eb_arrays`); ``obs["sample_labels"]`` int64 time bin 0-4 and
        ``obs["day"]`` categorical ("0-3" ... "24-27"). Genes are not included.

    Shapes
    ------
    X, obsm["X_pca"] : (N, 5); obs : N rows; N = 16819
    """
    import anndata
    import pandas as pd

    pcs, labels = _eb_numpy()
    pcs = pcs.astype(np.float32)
    obs = pd.DataFrame(
        {
            "sample_labels": labels.astype(np.int64),
            "day": pd.Categorical.from_codes(labels, categories=list(EB_DAYS)),
        },
        index=[f"cell{i}" for i in range(len(labels))],
    )
    var = pd.DataFrame(index=[f"PC{i + 1}" for i in range(pcs.shape[1])])
    adata = anndata.AnnData(X=pcs, obs=obs, var=var)
    adata.obsm["X_pca"] = pcs.copy()
    return adata


def fetch_eb_full(n_pcs: int = 100) -> anndata.AnnData:
    """The authors' processed EB file (TrajectoryNet ``eb_velocity_v5.npz``) as AnnData.

    No checksum is published for this file, so it is never downloaded: import a copy you
    checked with ``data-fetch import eb_full DIR --pin`` first.

    Returns
    -------
    anndata.AnnData
        ``X`` and ``obsm["X_pca"]`` float32, the first *n_pcs* columns of the file's ``pcs``
        (not standardised); ``obs["sample_labels"]`` from the file's ``sample_labels``.

    Shapes
    ------
    X : (N, n_pcs); obs : N rows
    """
    import anndata
    import pandas as pd

    (path,) = fetch_dataset("eb_full").values()
    with np.load(path, allow_pickle=False) as data:
        pcs = np.asarray(data["pcs"][:, :n_pcs], dtype=np.float32)
        labels = np.asarray(data["sample_labels"])
    obs = pd.DataFrame({"sample_labels": labels}, index=[f"cell{i}" for i in range(len(labels))])
    adata = anndata.AnnData(X=pcs, obs=obs)
    adata.obsm["X_pca"] = pcs.copy()
    return adata


def fetch_pbmc68k_reduced() -> anndata.AnnData:
    """scanpy's bundled ``pbmc68k_reduced`` (no download): 700 PBMCs, already preprocessed.

    Returns
    -------
    anndata.AnnData
        As ``scanpy.datasets.pbmc68k_reduced()``: ``X`` scaled log-expression, ``obsm["X_pca"]``
        (50 PCs) and ``obsm["X_umap"]``, ``obs["bulk_labels"]`` cell types, ``obs["louvain"]``.

    Shapes
    ------
    X : (700, 765); obsm["X_pca"] : (700, 50)
    """
    import scanpy

    return scanpy.datasets.pbmc68k_reduced()
