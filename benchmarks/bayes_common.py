"""Shared helpers of the Bayesian benchmarks: grids and fits on simulated data."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def queen_grid(rows: int, cols: int) -> sp.csr_matrix:
    """Return the queen adjacency of a ``rows x cols`` grid of cells."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    pairs = []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = idx[max(0, -dr) : rows - max(0, dr), max(0, -dc) : cols - max(0, dc)]
        b = idx[max(0, dr) : rows + min(0, dr) or None, max(0, dc) : cols + min(0, dc) or None]
        pairs.append(np.c_[a.ravel(), b.ravel()])
    p = np.vstack(pairs)
    n = rows * cols
    m = sp.coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n, n))
    return (m + m.T).tocsr()
