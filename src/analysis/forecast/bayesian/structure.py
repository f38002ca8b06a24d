"""The spatial graph a model needs: ICAR edges, connected components and BYM2 scaling.

The intrinsic CAR (ICAR) prior on a connected graph has density proportional to
``exp(-0.5 * sum over neighbour pairs (phi_i - phi_j)**2)``; it is improper along the
constant direction of each connected component, so each component's sum is softly
constrained to zero. Following Riebler et al. (2016) and Freni-Sterrantino et al. (2018):

* each connected component is scaled separately, so that the geometric mean of the
  marginal variances of its (constrained) ICAR field is 1; the BYM2 variance parameter then
  means the same thing whatever the graph;
* a unit with no neighbours (an island) has no structured part: it gets an independent
  standard normal effect instead.

The scaling needs the marginal variances of each component's generalised inverse. They are
computed once per set of units from a dense eigendecomposition of each component's graph
Laplacian (``O(n_c**3)`` time and ``O(n_c**2)`` memory for a component of ``n_c`` units,
about two seconds for 2,000 units). The sampled model itself only ever uses the edge list.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from analysis.space.adjacency import components, edge_list

__all__ = ["SpatialStructure", "block_sizes", "laplacian_spectrum", "spatial_structure"]

#: Largest component whose scaling is computed (dense eigendecomposition; memory bound).
MAX_COMPONENT = 12_000


@dataclass(frozen=True, eq=False)
class SpatialStructure:
    """Everything about the units' graph that the BYM2 and ICAR terms need.

    Attributes
    ----------
    n_units : int
        Number of units.
    node1, node2 : numpy.ndarray
        Each neighbour pair once (``node1 < node2``), int64 indices into the units.
    component : numpy.ndarray
        Component label of each unit.
    islands : numpy.ndarray
        Boolean mask of units with no neighbours.
    scale : numpy.ndarray
        Per-unit scaling factor of its component (1 for islands): the geometric mean of the
        component's ICAR marginal variances. The scaled field is ``phi / sqrt(scale)``.
    constraint_groups : list of numpy.ndarray
        Unit indices of each component with two or more units (sum-to-zero constraints).
    gamma : numpy.ndarray
        Eigenvalues of the scaled structured covariance along its non-null directions, one
        per unit minus one per constrained component (islands contribute 1). Used by the
        penalised-complexity prior of the BYM2 mixing parameter.
    key : str
        Hash of the edge list, to reuse a compiled model on the same graph.
    """

    n_units: int
    node1: np.ndarray
    node2: np.ndarray
    component: np.ndarray
    islands: np.ndarray
    scale: np.ndarray
    constraint_groups: list[np.ndarray]
    gamma: np.ndarray
    key: str

    @property
    def n_edges(self) -> int:
        """Number of neighbour pairs."""
        return int(self.node1.shape[0])


def laplacian_spectrum(adj: sp.csr_matrix, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the non-zero eigenvalues and their eigenvectors of one component's Laplacian.

    Dense: ``O(n**3)`` for a component of ``n`` units (see the module docstring).
    """
    sub = adj[idx][:, idx]
    lap = (sp.diags(np.asarray(sub.sum(axis=1)).ravel()) - sub).toarray()
    eigval, eigvec = np.linalg.eigh(lap)
    keep = eigval > 1e-9 * max(eigval[-1], 1.0)
    return eigval[keep], eigvec[:, keep]


def spatial_structure(neighbours: sp.spmatrix) -> SpatialStructure:
    """Build the ICAR/BYM2 structure of a binary adjacency matrix.

    Parameters
    ----------
    neighbours : scipy.sparse matrix
        Symmetric ``n x n`` adjacency (non-zero where two units neighbour); the diagonal is
        ignored.

    Returns
    -------
    SpatialStructure

    Raises
    ------
    ValueError
        If the matrix is not square or not symmetric, or a component is larger than
        :data:`MAX_COMPONENT`.
    """
    adj = sp.csr_matrix(neighbours, dtype=float)
    n = adj.shape[0]
    if adj.shape != (n, n):
        raise ValueError(f"adjacency must be square, got shape {adj.shape}")
    adj = (adj != 0).astype(float)
    adj.setdiag(0)
    adj.eliminate_zeros()
    if (adj != adj.T).nnz:
        raise ValueError("adjacency must be symmetric")
    node1, node2 = edge_list(adj)
    n_comp, label = components(adj)
    degree = np.asarray(adj.sum(axis=1)).ravel()
    islands = degree == 0
    scale = np.ones(n)
    groups: list[np.ndarray] = []
    gammas: list[np.ndarray] = [np.ones(int(islands.sum()))]
    for c in range(n_comp):
        idx = np.flatnonzero(label == c)
        if idx.size == 1:
            continue
        if idx.size > MAX_COMPONENT:
            raise ValueError(
                f"a connected component has {idx.size} units; BYM2 scaling supports up to "
                f"{MAX_COMPONENT} (use larger cells or split the area)"
            )
        eigval, eigvec = laplacian_spectrum(adj, idx)
        inv = 1.0 / eigval
        marginal = (eigvec**2) @ inv
        s = float(np.exp(np.mean(np.log(marginal))))
        scale[idx] = s
        groups.append(idx)
        gammas.append(inv / s)
    digest = hashlib.sha256(np.concatenate([[n], node1, node2]).astype(np.int64).tobytes())
    return SpatialStructure(
        n_units=n,
        node1=node1,
        node2=node2,
        component=label.astype(np.int64),
        islands=islands,
        scale=scale,
        constraint_groups=groups,
        gamma=np.concatenate(gammas),
        key=digest.hexdigest()[:16],
    )


def block_sizes(window: int, recent: tuple[int, ...], every: int) -> np.ndarray:
    """Return the lengths of the blocks a local level is constant over, oldest first.

    The newest blocks have the ``recent`` lengths (newest last); older periods are cut
    into blocks of ``every`` periods, the oldest taking what is left (merged into its
    neighbour when shorter than half of ``every``).

    Parameters
    ----------
    window : int
        Periods in the window.
    recent : tuple of int
        Lengths of the newest blocks, oldest of them first (e.g. ``(6, 4, 2, 1, 1)``).
    every : int
        Length of the older blocks.

    Returns
    -------
    numpy.ndarray
        Block lengths summing to ``window``.
    """
    if window < 1 or every < 1 or any(r < 1 for r in recent):
        raise ValueError("window, every and the recent block lengths must be at least 1")
    sizes: list[int] = []
    left = window
    for r in reversed(recent):
        if left <= 0:
            break
        sizes.append(min(r, left))
        left -= sizes[-1]
    while left > 0:
        take = min(every, left)
        if take < every / 2 and len(sizes) > len(recent):
            sizes[-1] += take
        else:
            sizes.append(take)
        left -= take
    return np.array(sizes[::-1], dtype=np.int64)
