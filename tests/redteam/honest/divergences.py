"""An honest function in a file of its own, staged beside the attacks that leave something behind
(``Attack.beside``), unless the attack brings its own: must keep full marks."""
import numpy as np


def kernel(A, B, sigma=1.0):
    """Gaussian Gram matrix; 1-D sets are sets of numbers."""
    A, B = (np.asarray(v, dtype=np.float64) for v in (A, B))
    A, B = (v.reshape(-1, 1) if v.ndim == 1 else v.reshape(v.shape[0], -1) for v in (A, B))
    squared = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=-1)
    return np.exp(-squared / (2 * sigma**2))
