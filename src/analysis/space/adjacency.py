"""Contiguity between spatial units: who neighbours whom, islands and components."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from libpysal.weights import Queen, Rook, W
from scipy.sparse.csgraph import connected_components

_METHODS = {"queen": Queen, "rook": Rook}

#: Most island ids listed in :meth:`Adjacency.summary`.
_MAX_LISTED_ISLANDS = 20


@dataclass
class Adjacency:
    """Binary contiguity between units, with its islands and connected components.

    Islands (units with no neighbours) are kept as ordinary units: downstream
    models treat them as independent effects rather than dropping them.

    Attributes
    ----------
    unit_ids : list of str
        Unit ids; this order defines every index below.
    weights : libpysal.weights.W
        Binary contiguity weights keyed by unit id.
    method : str
        ``"queen"`` (shared edge or corner) or ``"rook"`` (shared edge).
    islands : list of str
        Ids of units with no neighbours, in unit order.
    component : numpy.ndarray
        Connected-component label of each unit, ``0 .. n_components - 1``,
        numbered in order of each component's first unit.
    n_components : int
        Number of connected components (each island is one).
    """

    unit_ids: list[str]
    weights: W
    method: str
    islands: list[str]
    component: np.ndarray
    n_components: int

    def to_sparse(self) -> sp.csr_matrix:
        """Return the binary, symmetric adjacency matrix in ``unit_ids`` order.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``n x n`` matrix with 1 where two units are neighbours, int8 dtype.
        """
        return _sparse_from_w(self.weights, self.unit_ids)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Return each neighbour pair once as index arrays with ``i < j``.

        Returns
        -------
        tuple of numpy.ndarray
            ``(i, j)`` int64 arrays indexing ``unit_ids``, sorted by ``i`` then
            ``j`` (the node pairs of an ICAR model).
        """
        return edge_list(self.to_sparse())

    def summary(self) -> dict[str, Any]:
        """Summarise the neighbour structure.

        Returns
        -------
        dict
            ``n_units``, ``n_links`` (undirected neighbour pairs),
            ``mean_neighbours``, ``n_islands``, ``islands`` (at most 20 ids),
            ``n_components`` and ``component_sizes`` (largest first).
        """
        n = len(self.unit_ids)
        n_links = len(self.edges()[0])
        sizes = np.bincount(self.component, minlength=self.n_components)
        return {
            "method": self.method,
            "n_units": n,
            "n_links": n_links,
            "mean_neighbours": 2.0 * n_links / n if n else 0.0,
            "n_islands": len(self.islands),
            "islands": self.islands[:_MAX_LISTED_ISLANDS],
            "n_components": int(self.n_components),
            "component_sizes": sorted((int(s) for s in sizes), reverse=True),
        }


def _sparse_from_w(w: W, unit_ids: list[str]) -> sp.csr_matrix:
    """Build the binary symmetric matrix of ``w`` with rows/columns in ``unit_ids`` order."""
    index = pd.Index(unit_ids)
    links = w.to_adjlist(remove_symmetric=False, drop_islands=True)
    rows = index.get_indexer(links["focal"].astype(str))
    cols = index.get_indexer(links["neighbor"].astype(str))
    n = len(unit_ids)
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    matrix = matrix.maximum(matrix.T).tocsr()
    matrix.data[:] = 1
    matrix.setdiag(0)
    matrix.eliminate_zeros()
    return matrix


def edge_list(matrix: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """Return each pair of a symmetric adjacency matrix once, as ``(i, j)`` with ``i < j``.

    Returns
    -------
    tuple of numpy.ndarray
        int64 index arrays sorted by ``i`` then ``j`` (the node pairs of an ICAR model).
    """
    upper = sp.triu(matrix, k=1).tocoo()
    order = np.lexsort((upper.col, upper.row))
    return upper.row[order].astype(np.int64), upper.col[order].astype(np.int64)


def components(matrix: sp.spmatrix) -> tuple[int, np.ndarray]:
    """Label connected components in order of their first unit.

    Returns
    -------
    tuple
        The number of components and each unit's label ``0 .. n - 1``.
    """
    n_comp, labels = connected_components(matrix, directed=False)
    _, first = np.unique(labels, return_index=True)
    relabel = np.empty(n_comp, dtype=np.int64)
    relabel[np.argsort(first)] = np.arange(n_comp, dtype=np.int64)
    return int(n_comp), relabel[labels]


def build_adjacency(
    units: gpd.GeoDataFrame, method: str = "queen", id_col: str = "unit_id"
) -> Adjacency:
    """Build binary contiguity between polygon units with libpysal.

    Parameters
    ----------
    units : geopandas.GeoDataFrame
        Polygon units (e.g. from :func:`~analysis.space.grid.make_grid`).
    method : {"queen", "rook"}, default "queen"
        ``"queen"``: units sharing at least one boundary vertex (an edge or just
        a corner) are neighbours. ``"rook"``: units must share an edge. For
        square grid cells queen gives up to 8 neighbours and rook up to 4.
        libpysal compares vertices exactly, so clipped cells that touch only at a
        point are queen neighbours but not rook neighbours.
    id_col : str, default "unit_id"
        Column with unique unit ids (converted to strings).

    Returns
    -------
    Adjacency
        Weights, islands (kept, not dropped) and components.

    Raises
    ------
    ValueError
        If ``method`` is unknown, ``id_col`` is absent, ids are missing or
        duplicated, or there are no units.
    """
    key = str(method).lower()
    if key not in _METHODS:
        raise ValueError(f"unknown adjacency method {method!r}: use 'queen' or 'rook'")
    if id_col not in units.columns:
        raise ValueError(f"id column {id_col!r} not found; columns are {list(units.columns)}")
    if len(units) == 0:
        raise ValueError("no units to build adjacency for")
    if units[id_col].isna().any():
        raise ValueError(f"{int(units[id_col].isna().sum())} unit(s) have no {id_col}")
    unit_ids = units[id_col].astype(str).tolist()
    dup = pd.Index(unit_ids)[pd.Index(unit_ids).duplicated()].unique()
    if len(dup):
        raise ValueError(f"duplicated unit ids in {id_col!r}: {', '.join(dup[:10])}")

    frame = gpd.GeoDataFrame(geometry=np.asarray(units.geometry.values), crs=units.crs)
    weights = _METHODS[key].from_dataframe(frame, ids=unit_ids, silence_warnings=True)
    matrix = _sparse_from_w(weights, unit_ids)
    n_comp, labels = components(matrix)
    degree = np.diff(matrix.indptr)
    islands = [unit_ids[i] for i in np.flatnonzero(degree == 0)]
    return Adjacency(
        unit_ids=unit_ids,
        weights=weights,
        method=key,
        islands=islands,
        component=labels,
        n_components=n_comp,
    )
