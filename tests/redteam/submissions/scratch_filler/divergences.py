"""An honest function that needs a little scratch space, beside the scratch_filler attack (in cgan.py):
must keep full marks. It replaces the shared honest ``divergences.py`` (``tests/redteam/honest/``)."""
import tempfile

import numpy as np


def kernel(A, B, sigma=1.0):
    """Gaussian Gram matrix; 1-D sets are sets of numbers."""
    A, B = (np.asarray(v, dtype=np.float64) for v in (A, B))
    A, B = (v.reshape(-1, 1) if v.ndim == 1 else v.reshape(v.shape[0], -1) for v in (A, B))
    squared = ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=-1)
    with tempfile.TemporaryFile() as cache:  # needs a little scratch space
        np.save(cache, squared)
        cache.seek(0)
        squared = np.load(cache)
    return np.exp(-squared / (2 * sigma**2))
