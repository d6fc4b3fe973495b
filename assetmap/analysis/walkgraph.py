"""The walk graph: a street network prepared once per area for shortest paths, and points snapped to it.

Direction is ignored, since people walk both ways along one-way streets, and every street is at least as
long as the straight line between its ends. Every function is pure except :func:`save_walk_graph` and
:func:`load_walk_graph`, which write and read one ``.npz`` file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from assetmap import settings
from assetmap._errors import CRSError, Problem, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

#: Below this least ratio of street length to straight line, a search is not confined to a walk's circle.
_LOCAL_STRETCH = 0.25


@dataclass(eq=False)
class WalkGraph:
    """A street network prepared for shortest paths: a symmetric sparse matrix of edge lengths in metres.

    Build one with :func:`walk_graph_from_networkx` or :func:`walk_graph_from_edges`; it is read-only.

    Attributes
    ----------
    csr : scipy.sparse.csr_matrix
        ``n x n``; entry ``(i, j)`` is the length of the shortest street between nodes ``i`` and
        ``j``, stored both ways, so the graph is walkable in either direction.
    x, y : ndarray of float
        Node coordinates in ``crs``.
    node_ids : ndarray
        The nodes' ids in the source (OSM node ids), by position.
    crs : str
        A projected CRS in metres (EPSG:27700).
    """

    csr: sparse.csr_matrix
    x: np.ndarray
    y: np.ndarray
    node_ids: np.ndarray
    crs: str = settings.analysis_crs

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.csr.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of streets between two nodes (each counted once)."""
        return int(self.csr.nnz // 2)

    @cached_property
    def components(self) -> np.ndarray:
        """Label of the connected piece of network each node is on (0 is the largest piece)."""
        _, labels = connected_components(self.csr, directed=False)
        # Relabel by size, largest first, so that 0 means "the main network".
        sizes = np.bincount(labels)
        order = np.argsort(-sizes, kind="stable")
        relabel = np.empty_like(order)
        relabel[order] = np.arange(len(order))
        return relabel[labels]

    @cached_property
    def tree(self) -> cKDTree:
        """k-d tree of the nodes, for snapping points."""
        return cKDTree(np.column_stack([self.x, self.y]))

    @cached_property
    def least_stretch(self) -> float:
        """The least ratio of a street's length to the straight line between its ends (1 when none is shorter)."""
        coo = self.csr.tocoo()
        straight = np.hypot(self.x[coo.row] - self.x[coo.col], self.y[coo.row] - self.y[coo.col])
        ok = straight > 0
        return float(np.min(coo.data[ok] / straight[ok], initial=1.0))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(minx, miny, maxx, maxy)`` of the nodes."""
        return float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max())


def walk_graph_from_edges(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    u: Sequence[int] | np.ndarray,
    v: Sequence[int] | np.ndarray,
    length: Sequence[float] | np.ndarray,
    *,
    node_ids: Sequence[object] | np.ndarray | None = None,
    crs: str = settings.analysis_crs,
) -> WalkGraph:
    """Return a :class:`WalkGraph` from node coordinates and edges given by node position.

    Parameters
    ----------
    x, y : array-like of float
        Node coordinates in metres.
    u, v : array-like of int
        Each edge's end nodes, as positions in ``x``/``y``. Direction is ignored: people walk both ways
        along one-way streets.
    length : array-like of float
        Each edge's length in metres. Of parallel edges the shortest is kept; loops are dropped.
    node_ids : array-like, optional
        The nodes' ids (default: their positions).
    crs : str
        CRS of the coordinates.

    Raises
    ------
    ValidationError
        Edges naming nodes that do not exist, or lengths that are missing, negative or shorter than the
        straight line between their ends.
    """
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    metres = np.asarray(length, dtype="float64")
    n = len(x)
    if len(y) != n or not (len(u) == len(v) == len(metres)):
        raise ValidationError(
            Problem("node and edge arrays differ in length.", fix="Give x, y and u, v, length alike.")
        )
    if n == 0:
        raise ValidationError(Problem("the street network has no nodes.", fix="Use a network of the area's streets."))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValidationError(Problem("some street nodes have no coordinates.", fix="Drop or repair those nodes."))
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValidationError(Problem("some streets join nodes that do not exist.", fix="Check the edge list."))
    bad = ~np.isfinite(metres) | (metres < 0)
    if bad.any():
        raise ValidationError(
            Problem(f"{int(bad.sum())} streets have a missing or negative length.", field="length", fix="Repair them.")
        )
    keep = u != v
    u, v, metres = u[keep], v[keep], metres[keep]
    # A street is never shorter than the straight line between its ends (rounding aside): lengths in another
    # unit, or a graph not projected to metres, would break that.
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    short = metres < straight * 0.98 - 0.5
    if len(short) and short.mean() > 0.01:
        raise ValidationError(
            Problem(
                f"{int(short.sum())} of {len(short)} streets are shorter than the straight line between their ends.",
                field="length",
                fix="Give lengths in metres and coordinates in a projected CRS in metres (EPSG:27700).",
            )
        )
    metres = np.maximum(metres, straight)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((metres, hi, lo))
    lo, hi, metres = lo[order], hi[order], metres[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])] if len(lo) else np.zeros(0, bool)
    lo, hi, metres = lo[first], hi[first], metres[first]
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    csr = sparse.csr_matrix((np.concatenate([metres, metres]), (rows, cols)), shape=(n, n))
    csr.sort_indices()
    ids = np.arange(n) if node_ids is None else np.asarray(node_ids)
    return WalkGraph(csr=csr, x=x, y=y, node_ids=ids, crs=crs)


def walk_graph_from_networkx(graph: nx.Graph) -> WalkGraph:
    """Return a :class:`WalkGraph` from a networkx or osmnx graph projected to metres.

    Parameters
    ----------
    graph : networkx.Graph or MultiDiGraph
        Nodes with ``x`` and ``y``; edges with ``length`` in metres (the straight line where absent),
        as :func:`assetmap.io.network.read_network` returns.

    Raises
    ------
    CRSError
        When ``graph.graph['crs']`` is geographic (degrees): project it first.
    """
    crs = graph.graph.get("crs", settings.analysis_crs)
    if crs is not None:
        from pyproj import CRS

        if CRS.from_user_input(crs).is_geographic:
            raise CRSError(
                f"the street network is in {crs}, in degrees, not {settings.analysis_crs}. Give it to the area "
                "with init-area --network or build-network, which project it."
            )
    nodes = list(graph.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    data = graph.nodes
    x = np.fromiter((data[nd]["x"] for nd in nodes), dtype="float64", count=len(nodes))
    y = np.fromiter((data[nd]["y"] for nd in nodes), dtype="float64", count=len(nodes))
    edges = list(graph.edges(data="length"))
    u = np.fromiter((position[e[0]] for e in edges), dtype=np.int64, count=len(edges))
    v = np.fromiter((position[e[1]] for e in edges), dtype=np.int64, count=len(edges))
    length = np.fromiter((np.nan if e[2] is None else e[2] for e in edges), dtype="float64", count=len(edges))
    missing = np.isnan(length)
    length[missing] = np.hypot(x[u[missing]] - x[v[missing]], y[u[missing]] - y[v[missing]])
    return walk_graph_from_edges(x, y, u, v, length, node_ids=np.asarray(nodes, dtype=object), crs=str(crs))


def save_walk_graph(graph: WalkGraph, path: str | Path) -> None:
    """Write a :class:`WalkGraph` to an ``.npz`` file, whole or not at all.

    Parameters
    ----------
    graph : WalkGraph
        The prepared network.
    path : str or Path
        Destination; written to a temporary name first and then renamed, so a
        reader never sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    csr = graph.csr.tocsr()
    ids = np.asarray(graph.node_ids)
    try:
        ids = ids.astype(np.int64)
    except (TypeError, ValueError, OverflowError):
        ids = ids.astype(str)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez(
            fh,
            data=csr.data,
            indices=csr.indices,
            indptr=csr.indptr,
            shape=np.asarray(csr.shape),
            x=graph.x,
            y=graph.y,
            node_ids=ids,
            crs=np.asarray(graph.crs),
        )
    os.replace(tmp, path)


def load_walk_graph(path: str | Path) -> WalkGraph:
    """Read a :class:`WalkGraph` written by :func:`save_walk_graph`.

    Raises
    ------
    OSError, ValueError, KeyError
        When the file is missing, truncated or not such a file.
    """
    with np.load(path, allow_pickle=False) as f:
        csr = sparse.csr_matrix((f["data"], f["indices"], f["indptr"]), shape=tuple(f["shape"]))
        return WalkGraph(csr=csr, x=f["x"], y=f["y"], node_ids=f["node_ids"], crs=str(f["crs"]))


def snap_points(graph: WalkGraph, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return each point's nearest node (by position) and the straight-line distance to it, in metres.

    Parameters
    ----------
    graph : WalkGraph
        The network to snap to.
    xs, ys : array-like of float
        Points in the graph's CRS.
    """
    pts = np.column_stack([np.atleast_1d(np.asarray(xs, "float64")), np.atleast_1d(np.asarray(ys, "float64"))])
    if len(pts) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    dist, node = graph.tree.query(pts)
    return node.astype(np.int64), dist


def _by_node(nodes: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the rows sorted by node, and each node's count of rows and first position in that order."""
    order = np.argsort(nodes, kind="stable")
    counts = np.bincount(nodes, minlength=n_nodes)
    return order, counts, np.cumsum(counts) - counts


def _rows_on(idx: np.ndarray, by_node: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Return the rows whose node is one of ``idx``, and the position in ``idx`` of each row's node."""
    order, counts, starts = by_node
    c = counts[idx]
    where = np.flatnonzero(c)
    c = c[where]
    first = np.cumsum(c) - c
    offsets = np.repeat(starts[idx[where]] - first, c) + np.arange(int(c.sum()))
    return order[offsets], np.repeat(where, c)


def _search_square(
    graph: WalkGraph,
    sources: tuple[np.ndarray, np.ndarray],
    targets: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    limit: float,
    chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the pairs within ``limit`` from sources close together, searching only the nodes in their reach."""
    nodes, snap = sources
    by_node, dst_snap = targets
    xs, ys = graph.x[nodes], graph.y[nodes]
    if graph.least_stretch >= _LOCAL_STRETCH:
        centre = ((xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2)
        radius = np.hypot(xs.max() - xs.min(), ys.max() - ys.min()) / 2 + limit / graph.least_stretch + 1.0
        idx = np.sort(np.asarray(graph.tree.query_ball_point(centre, radius), dtype=np.int64))
        sub = graph.csr[idx][:, idx]
    else:
        idx, sub = np.arange(graph.n_nodes), graph.csr
    rows, row_node = _rows_on(idx, by_node)
    start = np.searchsorted(idx, nodes)
    found: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for lo in range(0, len(nodes) if len(rows) else 0, chunk):
        dist = dijkstra(sub, directed=True, indices=start[lo : lo + chunk], limit=limit)
        metres = dist[:, row_node] + snap[lo : lo + chunk, None] + dst_snap[rows][None, :]
        a, r = np.nonzero(metres <= limit)
        found[0].append(lo + a)
        found[1].append(rows[r])
        found[2].append(metres[a, r])
    if not found[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return tuple(np.concatenate(f) for f in found)  # type: ignore[return-value]


def walks_within(
    graph: WalkGraph,
    sources: tuple[np.ndarray, np.ndarray],
    targets: tuple[np.ndarray, np.ndarray],
    limit: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return every (source, target, metres) pair no further apart than ``limit`` along the network.

    Each point is given by its nearest node and its straight-line step to it (:func:`snap_points`); the
    steps at both ends count towards the distance.

    A walk of ``limit`` metres never leaves the circle of that radius around its start, since no street is
    shorter than the straight line between its ends. So the sources are taken a square of the network at a
    time (squares ``limit`` wide), each searched over the nodes within its reach only: the cost follows the
    sources and what they reach, not the size of the whole network, which a search from every one of a
    county's 20,000 assets would otherwise cover 20,000 times.

    Parameters
    ----------
    graph : WalkGraph
        The network.
    sources, targets : (ndarray of int, ndarray of float)
        Each point's node and step onto the network, in metres.
    limit : float
        The furthest walk, in metres.

    Returns
    -------
    source, target, metres : ndarray
        Positions in ``sources`` and ``targets``, and the walk between them, for each pair within
        ``limit``, ordered by source.
    """
    src_nodes = np.asarray(sources[0], np.int64)
    src_snap = np.asarray(sources[1], "float64")
    dst_nodes = np.asarray(targets[0], np.int64)
    found: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    if len(src_nodes) and len(dst_nodes):
        dst = (_by_node(dst_nodes, graph.n_nodes), np.asarray(targets[1], "float64"))
        # Without the length rule every search covers the whole network: then one pass over all sources.
        side = max(float(limit), 1.0) if graph.least_stretch >= _LOCAL_STRETCH else np.inf
        _, square = np.unique(
            np.floor(np.column_stack([graph.x[src_nodes], graph.y[src_nodes]]) / side), axis=0, return_inverse=True
        )
        order = np.argsort(square.ravel(), kind="stable")
        bounds = np.flatnonzero(np.diff(square.ravel()[order])) + 1
        for members in np.split(order, bounds):
            a, r, m = _search_square(graph, (src_nodes[members], src_snap[members]), dst, limit)
            found[0].append(members[a])
            found[1].append(r)
            found[2].append(m)
    if not found[0]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    src, dst_rows, metres = (np.concatenate(f) for f in found)
    first = np.argsort(src, kind="stable")
    return src[first], dst_rows[first], metres[first]
