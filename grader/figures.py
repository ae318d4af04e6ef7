"""Figures of the training checks, saved as PNG (matplotlib, no display needed).

Small drawing helpers that topics compose; each returns the path it wrote.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: never a window, never a display server
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def image_grid(images: torch.Tensor, path: Path, title: str, side: int = 28) -> Path:
    """Square images ``(N, side*side)`` in values [0, 1], as a grid of about sqrt(N) columns."""
    plt = _pyplot()
    flat = images.detach().float().cpu().reshape(-1, side, side).clamp(0, 1).numpy()
    cols = math.ceil(math.sqrt(len(flat)))
    rows = math.ceil(len(flat) / cols)
    canvas = np.ones((rows * (side + 2), cols * (side + 2)))
    for i, image in enumerate(flat):
        r, c = divmod(i, cols)
        canvas[r * (side + 2) + 1: r * (side + 2) + 1 + side, c * (side + 2) + 1: c * (side + 2) + 1 + side] = image
    fig, ax = plt.subplots(figsize=(cols * 0.5 + 1, rows * 0.5 + 1))
    ax.imshow(canvas, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def line_plot(values: torch.Tensor | Sequence[float], path: Path, title: str, xlabel: str,
              series: dict[str, Sequence[float]] | None = None) -> Path:
    """One curve (or several named ones in ``series``) against its index."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    for label, curve in (series or {title: values}).items():
        ax.plot(np.asarray(torch.as_tensor(curve, dtype=torch.float64)), label=label, linewidth=0.8)
    if series:
        ax.legend(fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def density_panels(panels: dict[str, np.ndarray], extent: tuple[float, float, float, float], path: Path,
                   title: str) -> Path:
    """Densities on a grid (``{name: (ny, nx) array}``), side by side."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3), squeeze=False)
    for ax, (name, values) in zip(axes[0], panels.items()):
        ax.imshow(values, origin="lower", extent=extent, cmap="viridis", aspect="auto")
        ax.set_title(name, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def scatter_panels(panels: dict[str, np.ndarray], path: Path, title: str,
                   colours: dict[str, np.ndarray] | None = None) -> Path:
    """Point clouds side by side (``{name: (n, 2) array}``), on shared axes; ``colours`` per point."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(3 * len(panels), 3), squeeze=False, sharex=True, sharey=True)
    for ax, (name, points) in zip(axes[0], panels.items()):
        colour = (colours or {}).get(name)
        ax.scatter(points[:, 0], points[:, 1], s=2, c=colour, cmap="viridis" if colour is not None else None,
                   alpha=0.5, linewidths=0)
        ax.set_title(name, fontsize=8)
    fig.suptitle(title, fontsize=9, y=1.03)  # above the panels' own titles
    return _save(fig, path)


def bar_chart(values: dict[str, float], path: Path, title: str) -> Path:
    """One labelled bar per value, the value written above it."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1 + 0.9 * len(values), 3))
    bars = ax.bar(list(values), list(values.values()), color="tab:blue")
    ax.bar_label(bars, fmt="%.3f", fontsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def labelled_scatter(points: np.ndarray, labels: Sequence[str], path: Path, title: str) -> Path:
    """Points ``(n, 2)`` with their labels, each label placed beside its point where there is room.

    Labels go in order (most important first); each tries eight spots around its point and takes
    the first whose box overlaps no label already placed; one with no free spot is left out.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.scatter(points[:, 0], points[:, 1], s=6, color="tab:blue")
    fig.canvas.draw()  # the axes' final limits, so that text boxes can be measured
    renderer = fig.canvas.get_renderer()
    placed = []
    spots = [(4, 4, "left", "bottom"), (4, -4, "left", "top"), (-4, 4, "right", "bottom"), (-4, -4, "right", "top"),
             (0, 6, "center", "bottom"), (0, -6, "center", "top"), (6, 0, "left", "center"), (-6, 0, "right", "center")]
    for (x, y), label in zip(points, labels):
        for dx, dy, ha, va in spots:
            text = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=7)
            box = text.get_window_extent(renderer).expanded(1.05, 1.1)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            text.remove()
    ax.set_title(title, fontsize=9)
    return _save(fig, path)


def class_scatter(points: torch.Tensor, labels: torch.Tensor, path: Path, title: str) -> Path:
    """2-D points ``(N, 2)`` coloured by their integer labels ``(N,)``, with a legend."""
    plt = _pyplot()
    xy, classes = points.detach().double().cpu().numpy(), labels.detach().cpu().numpy()
    fig, ax = plt.subplots(figsize=(5, 4.5))
    cmap = plt.get_cmap("tab10")
    for c in np.unique(classes):
        ax.scatter(*xy[classes == c].T, s=3, color=cmap(int(c) % 10), label=str(c), alpha=0.7)
    ax.legend(fontsize=7, markerscale=3, loc="best")
    ax.set_title(title, fontsize=9)
    return _save(fig, path)
