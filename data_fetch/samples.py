"""Small downloads: the 2-D flow targets and Darwin's *Origin of Species* text."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .download import fetch_dataset

if TYPE_CHECKING:
    import torch

__all__ = ["fetch_flow_samples", "fetch_origin_of_species"]

_EDITIONS = {1: "text/pg1228.txt", 6: "text/pg2009.txt"}


def fetch_flow_samples(name: str = "arcs") -> torch.Tensor:
    """Samples from a 2-D target density for the normalizing-flow exercise (IFT6135 H21 A3).

    Parameters
    ----------
    name : {"arcs", "sine"}
        ``arcs``: x in [-3.2, 3.3], y in [-3.0, 3.1]. ``sine``: x in [-6.2, 6.2], y in [-2.5, 2.5].

    Returns
    -------
    torch.Tensor
        float32 points, no labels, no split.

    Shapes
    ------
    returns : (5000, 2)
    """
    import torch

    if name not in ("arcs", "sine"):
        raise ValueError(f"name must be 'arcs' or 'sine', got {name!r}")
    paths = fetch_dataset("flows")
    points = np.load(paths[f"flows/data_{name}.npy"], allow_pickle=False)
    return torch.from_numpy(np.asarray(points, dtype=np.float32))


def fetch_origin_of_species(edition: int = 1, strip_boilerplate: bool = True) -> str:
    """Darwin's *On the Origin of Species* as one string (Project Gutenberg plain text).

    Parameters
    ----------
    edition : {1, 6}
        1st edition (1859, eBook #1228, about 156k words) or 6th (1872, #2009, about 209k).
    strip_boilerplate : bool
        Keep only the text between the ``*** START OF`` and ``*** END OF`` marker lines (the
        Project Gutenberg licence header and footer are dropped). The byte-order mark is always
        removed; line endings are ``\\n``.

    Returns
    -------
    str
        The book; it contains the author's INTRODUCTION chapter.
    """
    if edition not in _EDITIONS:
        raise ValueError(f"edition must be 1 or 6, got {edition!r}")
    path = fetch_dataset("origin_of_species")[_EDITIONS[edition]]
    text = path.read_text(encoding="utf-8-sig")
    if not strip_boilerplate:
        return text
    start = text.find("*** START OF")
    end = text.find("*** END OF")
    if start < 0 or end < start:
        raise ValueError(f"{path}: Project Gutenberg START/END markers not found")
    return text[text.index("\n", start) + 1 : end].strip("\n") + "\n"
