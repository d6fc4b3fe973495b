"""Access: how far residents are from the nearest asset of each element and pillar.

Two methods, always labelled in the results:

network
    Walking distance along the street network. The graph is prepared once per
    area as a sparse matrix (:class:`WalkGraph`); each element then takes one
    multi-source shortest-path pass, ``scipy.sparse.csgraph.dijkstra`` with
    ``min_only=True`` and a ``limit``, from all its assets at once. Assets and
    residents are joined to the network at their nearest node, and the
    straight-line step from the point to that node is added to the walk, so a
    network distance is never shorter than the straight line.
straight-line
    Distance as the crow flies in EPSG:27700, with a k-d tree per element. It
    is used where an area has no street network and says so: real walks are
    longer, so it overstates access.

Residents are placed hyper-locally: each LSOA's population is spread evenly
over the network nodes inside it (or, without a network, over a regular grid
of points inside it); an LSOA with no such point is placed at its
representative point. A pillar's distance is the least of its elements'
distances, which is exact because a pillar's assets are the union of its
elements' assets.

Every function is pure: inputs are not changed and nothing is read or written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from assetmap import settings
from assetmap._errors import CRSError, Problem, ValidationError
from assetmap.analysis.assign import area_index_of_points
from assetmap.analysis.gaps import (
    DEFAULT_THRESHOLDS,
    check_groups,
    check_thresholds,
    element_masks,
    group_keys,
    group_masks,
)
from assetmap.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

#: Spacing, in metres, of the grid of resident points used without a street network.
GRID_SPACING_M: float = 100.0

#: A network whose nodes are all further than this from every LSOA does not cover the area.
MAX_OFF_NETWORK_M: float = 1_000.0

#: Assets further than this from the nearest street node are reported: they may be misplaced.
FAR_FROM_STREET_M: float = 250.0


# -- the walk graph --------------------------------------------------------------------------------


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
    length = np.asarray(length, dtype="float64")
    n = len(x)
    if len(y) != n or not (len(u) == len(v) == len(length)):
        raise ValidationError(
            Problem("node and edge arrays differ in length.", fix="Give x, y and u, v, length alike.")
        )
    if n == 0:
        raise ValidationError(Problem("the street network has no nodes.", fix="Use a network of the area's streets."))
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValidationError(Problem("some street nodes have no coordinates.", fix="Drop or repair those nodes."))
    if len(u) and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= n):
        raise ValidationError(Problem("some streets join nodes that do not exist.", fix="Check the edge list."))
    bad = ~np.isfinite(length) | (length < 0)
    if bad.any():
        raise ValidationError(
            Problem(f"{int(bad.sum())} streets have a missing or negative length.", field="length", fix="Repair them.")
        )
    keep = u != v
    u, v, length = u[keep], v[keep], length[keep]
    # A street is never shorter than the straight line between its ends (rounding aside): lengths in another
    # unit, or a graph not projected to metres, would break that.
    straight = np.hypot(x[u] - x[v], y[u] - y[v])
    short = length < straight * 0.98 - 0.5
    if len(short) and short.mean() > 0.01:
        raise ValidationError(
            Problem(
                f"{int(short.sum())} of {len(short)} streets are shorter than the straight line between their ends.",
                field="length",
                fix="Give lengths in metres and coordinates in a projected CRS in metres (EPSG:27700).",
            )
        )
    length = np.maximum(length, straight)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first = np.r_[True, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])] if len(lo) else np.zeros(0, bool)
    lo, hi, length = lo[first], hi[first], length[first]
    rows = np.concatenate([lo, hi])
    cols = np.concatenate([hi, lo])
    csr = sparse.csr_matrix((np.concatenate([length, length]), (rows, cols)), shape=(n, n))
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
                f"the street network is in {crs}, in degrees. Project it to {settings.analysis_crs} first "
                "(assetmap.io.network.read_network does; or osmnx.project_graph(G, to_crs='EPSG:27700'))."
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


# -- residents -------------------------------------------------------------------------------------


def _population(deprivation: pd.DataFrame) -> pd.Series:
    if "population" not in deprivation or "lsoa_code" not in deprivation:
        raise ValidationError(
            Problem(
                "the deprivation table has no population column, so residents cannot be placed.",
                field="population",
                fix="Add the IoD population file (File 6) to the area, or use File 7, which includes it.",
            )
        )
    pop = pd.to_numeric(deprivation["population"], errors="coerce")
    bad = pop.isna() | (pop < 0)
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} LSOAs have no population (e.g. {deprivation.loc[bad, 'lsoa_code'].iloc[0]}).",
                field="population",
                fix="Give every LSOA its population (IoD File 6).",
            )
        )
    return pd.Series(pop.to_numpy("float64"), index=deprivation["lsoa_code"].astype(str))


def _grid_points(polygons: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (polygon position, point) for a square grid of ``spacing`` metres over each polygon, inside it."""
    owners, points = [], []
    bounds = shapely.bounds(polygons)
    for i, (minx, miny, maxx, maxy) in enumerate(bounds):
        # Grid anchored at multiples of the spacing, so that neighbouring LSOAs share one lattice.
        gx = np.arange(np.floor(minx / spacing) * spacing + spacing / 2, maxx, spacing)
        gy = np.arange(np.floor(miny / spacing) * spacing + spacing / 2, maxy, spacing)
        if len(gx) == 0 or len(gy) == 0:
            continue
        mx, my = np.meshgrid(gx, gy)
        pts = shapely.points(mx.ravel(), my.ravel())
        inside = shapely.contains_xy(polygons[i], mx.ravel(), my.ravel())
        owners.append(np.full(int(inside.sum()), i))
        points.append(pts[inside])
    if not owners:
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    return np.concatenate(owners), np.concatenate(points)


def resident_points(
    small_areas: gpd.GeoDataFrame,
    deprivation: pd.DataFrame,
    graph: WalkGraph | None = None,
    *,
    spacing: float | None = GRID_SPACING_M,
) -> pd.DataFrame:
    """Spread each LSOA's population over points inside it: the residents of an access run.

    Parameters
    ----------
    small_areas : GeoDataFrame
        LSOAs with ``code`` and polygon ``geometry`` in a projected CRS in metres.
    deprivation : DataFrame
        ``lsoa_code`` and ``population``; LSOAs of ``small_areas`` without a row have no residents.
    graph : WalkGraph, optional
        With a network: the population of an LSOA is shared evenly among the network nodes inside it.
    spacing : float or None
        Without a network: the spacing in metres of a square grid of points inside each LSOA
        (default 100 m); None places each LSOA at one representative point.

    Returns
    -------
    DataFrame
        One row per resident point, index ``0..n-1``: ``lsoa_code``, ``population``, ``x``, ``y``,
        ``node`` (nearest network node by position, -1 without a network), ``snap_m`` (straight-line
        metres from the point to that node, 0 for points on a node) and ``placement`` (``node``,
        ``grid`` or ``representative point``). Populations add up to the LSOAs'.

    Raises
    ------
    ValidationError
        No population column, or a network that does not reach any of the LSOAs.
    """
    pop = _population(deprivation)
    areas = small_areas[small_areas["code"].astype(str).isin(pop.index)]
    codes = areas["code"].astype(str).to_numpy()
    polygons = np.asarray(areas.geometry.array)
    if len(codes) == 0:
        raise ValidationError(
            Problem(
                "none of the LSOAs has a population row in the deprivation table.",
                field="lsoa_code",
                fix="Use a deprivation file of the same LSOA vintage as the LSOA boundaries.",
            )
        )
    if graph is not None:
        # A node on a shared edge belongs to one LSOA only: the first by code, as assets do.
        node_area = area_index_of_points(shapely.points(graph.x, graph.y), areas)
        nodes = np.flatnonzero(node_area >= 0)
        owner, point_xy = node_area[nodes], np.column_stack([graph.x[nodes], graph.y[nodes]])
        placement = np.full(len(owner), "node", dtype=object)
    elif spacing is not None:
        if not np.isfinite(spacing) or spacing <= 0:
            raise ValueError(f"spacing must be a positive number of metres, not {spacing!r}.")
        owner, pts = _grid_points(polygons, float(spacing))
        point_xy = shapely.get_coordinates(pts) if len(pts) else np.zeros((0, 2))
        nodes = np.full(len(owner), -1, np.int64)
        placement = np.full(len(owner), "grid", dtype=object)
    else:
        owner, point_xy = np.zeros(0, np.int64), np.zeros((0, 2))
        nodes = np.zeros(0, np.int64)
        placement = np.zeros(0, dtype=object)

    empty = np.setdiff1d(np.arange(len(codes)), owner)
    if len(empty):
        rep = shapely.get_coordinates(shapely.point_on_surface(polygons[empty]))
        owner = np.concatenate([owner, empty])
        point_xy = np.vstack([point_xy, rep])
        nodes = np.concatenate([nodes, np.full(len(empty), -1, np.int64)])
        placement = np.concatenate([placement, np.full(len(empty), "representative point", dtype=object)])

    snap = np.zeros(len(owner))
    if graph is not None:
        off = nodes < 0
        nodes[off], snap[off] = snap_points(graph, point_xy[off, 0], point_xy[off, 1])
        if off.all() and snap.min() > MAX_OFF_NETWORK_M:
            minx, miny, maxx, maxy = graph.bounds
            raise ValidationError(
                Problem(
                    f"the street network does not overlap the area: its nearest node is {snap.min():,.0f} m "
                    f"from the closest LSOA (network bounds {minx:,.0f}, {miny:,.0f} to {maxx:,.0f}, {maxy:,.0f}).",
                    field="network",
                    fix="Use a network extract of the same place, in EPSG:27700 (or projected by read_network).",
                )
            )

    # Share each LSOA's population evenly among its points; order points by LSOA code, then position.
    order = np.lexsort((point_xy[:, 1], point_xy[:, 0], codes[owner]))
    owner, point_xy, nodes, snap, placement = owner[order], point_xy[order], nodes[order], snap[order], placement[order]
    per_area = np.bincount(owner, minlength=len(codes))
    share = pop.reindex(codes).to_numpy("float64")[owner] / per_area[owner]
    out = pd.DataFrame(
        {
            "lsoa_code": codes[owner],
            "population": share,
            "x": point_xy[:, 0],
            "y": point_xy[:, 1],
            "node": nodes,
            "snap_m": snap,
            "placement": placement,
        }
    )
    out.attrs["spacing"] = None if graph is not None else spacing  # for the method note
    return out


# -- distances -------------------------------------------------------------------------------------


def _with_sources(graph: WalkGraph, nodes: np.ndarray, snap: np.ndarray) -> sparse.csr_matrix:
    """Return the graph with one extra node per source, joined to its nearest node by its snap distance.

    Starting the search from these extra nodes adds each source's step onto the street network to every
    path from it, which a plain multi-source run (all sources at 0) cannot do.
    """
    n, k = graph.n_nodes, len(nodes)
    csr = graph.csr
    indptr = np.concatenate([csr.indptr, csr.indptr[-1] + np.arange(1, k + 1)])
    indices = np.concatenate([csr.indices, nodes.astype(csr.indices.dtype)])
    data = np.concatenate([csr.data, snap.astype(csr.data.dtype)])
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _network_distance(
    aug: sparse.csr_matrix, n_nodes: int, sources: np.ndarray, res_nodes: np.ndarray, res_snap: np.ndarray, limit: float
) -> np.ndarray:
    """Distance from each resident to the nearest of ``sources`` (rows of ``aug`` past ``n_nodes``)."""
    if len(sources) == 0:
        return np.full(len(res_nodes), np.inf)
    dist = dijkstra(aug, directed=True, indices=n_nodes + sources, min_only=True, limit=limit)
    out = dist[res_nodes] + res_snap
    out[out > limit] = np.inf
    return out


def _straight_distance(asset_xy: np.ndarray, res_xy: np.ndarray, limit: float) -> np.ndarray:
    if len(asset_xy) == 0:
        return np.full(len(res_xy), np.inf)
    dist, _ = cKDTree(asset_xy).query(res_xy, distance_upper_bound=limit)
    return dist


#: Above this many expected (resident, asset) pairs within the limit, straight-line distances are found one
#: element at a time instead, so that memory stays bounded.
_MAX_PAIRS = 20_000_000


def _pairs_within(res_xy: np.ndarray, asset_xy: np.ndarray, limit: float) -> tuple[np.ndarray, ...] | None:
    """Return (resident, asset, metres) for every pair within ``limit``; None if there would be too many.

    Assets are counted into square cells of side ``limit`` (a counting sort, no tree to build over a
    million points): every asset within ``limit`` of a resident lies in the resident's cell or one of
    its eight neighbours, so each resident's candidates are nine contiguous runs of the sorted assets.
    Working from the residents keeps the per-step arrays as short as the residents, who are far fewer.
    """
    origin = res_xy.min(axis=0) - 2 * limit  # a spare ring of cells, so that no look-up leaves the grid
    cell = ((res_xy - origin) / limit).astype(np.int64)
    nx_, ny_ = (cell.max(axis=0) + 3).tolist()
    if nx_ * ny_ > 50_000_000:  # a sparse spread over a huge box: the cell table would be too big
        return None
    rkey = cell[:, 0] * ny_ + cell[:, 1]
    acell = np.floor((asset_xy - origin) / limit).astype(np.int64)
    # Assets off the grid have no resident within the limit.
    near = np.flatnonzero((acell[:, 0] >= 0) & (acell[:, 0] < nx_) & (acell[:, 1] >= 0) & (acell[:, 1] < ny_))
    akey = acell[near, 0] * ny_ + acell[near, 1]
    by_cell = near[np.argsort(akey)]  # order within a cell does not matter, so no stable sort
    count = np.bincount(akey, minlength=nx_ * ny_)
    first = np.cumsum(count) - count
    steps = (-ny_ - 1, -ny_, -ny_ + 1, -1, 0, 1, ny_ - 1, ny_, ny_ + 1)
    cells = [rkey + step for step in steps]
    counts = [count[k] for k in cells]
    if sum(int(c.sum()) for c in counts) > _MAX_PAIRS:
        return None
    who, which = [], []
    for k, c in zip(cells, counts, strict=True):
        hit = np.flatnonzero(c)
        n = c[hit]
        rep = np.repeat(hit, n)
        offset = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
        who.append(rep)
        which.append(by_cell[np.repeat(first[k[hit]], n) + offset])
    w, a = np.concatenate(who), np.concatenate(which)
    metres = np.hypot(asset_xy[a, 0] - res_xy[w, 0], asset_xy[a, 1] - res_xy[w, 1])
    keep = metres <= limit
    return w[keep], a[keep], metres[keep]


def _straight_by_element(
    asset_xy: np.ndarray, masks: np.ndarray, res_xy: np.ndarray, elements: list[int], limit: float
) -> dict[int, np.ndarray]:
    """Straight-line distance from each resident to the nearest asset of each element (inf beyond ``limit``).

    One pass over the (resident, asset) pairs within the limit serves every element at once; where there
    would be too many pairs to hold, a k-d tree per element is used instead.
    """
    n = len(res_xy)
    if len(asset_xy) == 0 or n == 0:
        return {e: np.full(n, np.inf) for e in elements}
    pairs = _pairs_within(res_xy, asset_xy, limit)
    if pairs is None:
        return {e: _straight_distance(asset_xy[(masks & (1 << e)) != 0], res_xy, limit) for e in elements}
    who, which, metres = pairs
    served = masks[which]
    out = {}
    for e in elements:
        hit = ((served >> e) & 1).astype(bool)
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, who[hit], metres[hit])
        out[e] = nearest
    return out


def _check_residents_frame(residents: pd.DataFrame, network: bool) -> None:
    need = ["x", "y", "population", "lsoa_code"] + (["node", "snap_m"] if network else [])
    missing = [c for c in need if c not in residents]
    if missing:
        raise ValidationError(
            Problem(
                f"the residents table has no {', '.join(missing)} column.",
                fix="Build it with resident_points(small_areas, deprivation, graph).",
            )
        )


def distance_to_nearest(
    graph: WalkGraph | None, residents: pd.DataFrame, xs: np.ndarray, ys: np.ndarray, *, limit: float
) -> np.ndarray:
    """Return each resident's distance to the nearest of the given points (inf beyond ``limit``).

    Parameters
    ----------
    graph : WalkGraph or None
        Walk along this network; None for straight-line distance.
    residents : DataFrame
        From :func:`resident_points` (with ``node`` and ``snap_m`` for a network).
    xs, ys : array-like of float
        The points (assets, or candidate sites) in EPSG:27700.
    limit : float
        Search no further than this, in metres.
    """
    limit = check_thresholds([limit])[0]
    xs = np.atleast_1d(np.asarray(xs, "float64"))
    ys = np.atleast_1d(np.asarray(ys, "float64"))
    _check_residents_frame(residents, graph is not None)
    if graph is None:
        return _straight_distance(np.column_stack([xs, ys]), residents[["x", "y"]].to_numpy("float64"), limit)
    nodes, snap = snap_points(graph, xs, ys)
    aug = _with_sources(graph, nodes, snap)
    return _network_distance(
        aug,
        graph.n_nodes,
        np.arange(len(nodes)),
        residents["node"].to_numpy(np.int64),
        residents["snap_m"].to_numpy("float64"),
        limit,
    )


@dataclass
class AccessResult:
    """Distances from every resident point to the nearest approved asset of each group.

    Attributes
    ----------
    residents : DataFrame
        The resident points (:func:`resident_points`).
    distance : DataFrame
        Index-aligned with ``residents``; one column per group key (``e1``..``e11``, pillar keys): metres
        to the nearest asset, ``inf`` beyond ``limit`` or where none can be reached. ``attrs['method']``.
    method : str
        ``network`` or ``straight-line``.
    limit : float
        Furthest distance searched, in metres; thresholds up to it can be reported.
    unreachable : DataFrame
        Per group: ``population_no_path`` (residents on a piece of street network with no asset of the
        group: no walk reaches one at any distance) and ``population_beyond_limit`` (the others not
        within ``limit``). Residents are never dropped: both are counted as out of reach.
    n_assets : dict
        Group key to the number of assets that served it (plus ``all``).
    notes : list of str
        Plain-English remarks for the method note: disconnected streets, assets far from any street.
    """

    residents: pd.DataFrame
    distance: pd.DataFrame
    method: str
    limit: float
    unreachable: pd.DataFrame
    n_assets: dict[str, int]
    notes: list[str] = field(default_factory=list)


def _asset_arrays(assets: pd.DataFrame, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Return point coordinates and element masks of the approved assets."""
    if "geometry" not in assets:
        raise ValidationError(Problem("the assets have no geometry.", fix="Give point geometry in EPSG:27700."))
    if isinstance(assets, gpd.GeoDataFrame) and assets.crs is not None:
        from pyproj import CRS

        if not CRS.from_user_input(assets.crs).equals(CRS.from_user_input(settings.analysis_crs)):
            raise CRSError(
                f"the assets are in {assets.crs}, not {settings.analysis_crs}. Reproject them with "
                f".to_crs('{settings.analysis_crs}') first."
            )
    approved = (
        np.asarray(assets["status"].to_numpy(object) == "approved", dtype=bool)
        if "status" in assets
        else np.ones(len(assets), bool)
    )
    # Work on the two arrays needed rather than copying a large register's every column.
    geoms = np.asarray(gpd.GeoSeries(assets["geometry"]).array)[approved]
    kind = shapely.get_type_id(geoms)  # -1 where missing, 0 for points (nearly all)
    other = kind > 0
    if other.any():
        # Polygons stand at their representative point.
        geoms = geoms.copy()
        geoms[other] = shapely.point_on_surface(geoms[other])
    has = (kind >= 0) & ~shapely.is_empty(geoms)
    pts = geoms[has]
    xy = np.column_stack([shapely.get_x(pts), shapely.get_y(pts)]) if len(pts) else np.zeros((0, 2))
    if "element_mask" in assets:
        masks = pd.to_numeric(assets["element_mask"]).to_numpy(np.int64)[approved][has]
    elif "elements" in assets:
        masks = element_masks(assets["elements"][approved], tax)[has]
    else:
        raise ValidationError(
            Problem("the assets have no elements column.", field="elements", fix="Read them with read_assets.")
        )
    return xy, masks


def compute_access(
    residents: pd.DataFrame,
    assets: pd.DataFrame,
    *,
    graph: WalkGraph | None = None,
    groups: Iterable[str] | None = None,
    limit: float | None = None,
    taxonomy: Taxonomy | None = None,
) -> AccessResult:
    """Distance from every resident point to the nearest approved asset of each element and pillar.

    Parameters
    ----------
    residents : DataFrame
        From :func:`resident_points` (built with the same ``graph``).
    assets : GeoDataFrame
        Point (or polygon: its representative point) geometry in EPSG:27700, with ``elements`` (tuples of
        element numbers) or ``element_mask``. Where a ``status`` column is present only ``approved`` rows
        count. Assets outside the area count too: they serve residents near its edge.
    graph : WalkGraph, optional
        Walk along this network; without one, straight-line distance.
    groups : iterable of str, optional
        Group keys (default: every element and pillar).
    limit : float, optional
        Furthest distance to search, in metres (default the largest of
        :data:`~assetmap.analysis.gaps.DEFAULT_THRESHOLDS`, 1,200 m).
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.

    Returns
    -------
    AccessResult

    Raises
    ------
    ValidationError
        Unknown groups, a limit outside 1 m to 5 km, a residents table without its columns, or assets with
        unknown elements.
    """
    tax = taxonomy or load_taxonomy()
    limit = check_thresholds([max(DEFAULT_THRESHOLDS) if limit is None else limit])[0]
    keys = check_groups(group_keys(tax) if groups is None else list(groups), tax)
    _check_residents_frame(residents, graph is not None)
    xy, masks = _asset_arrays(assets, tax)
    elements = [e.id for e in tax.elements]
    bits_of = group_masks(keys, tax)
    # Elements needed: those asked for, and those of the pillars asked for.
    wanted = sorted({i for bits in bits_of for i in elements if bits >> i & 1})
    res_xy = residents[["x", "y"]].to_numpy("float64")
    notes: list[str] = []

    per_element: dict[int, np.ndarray] = {}
    if graph is not None:
        res_nodes = residents["node"].to_numpy(np.int64)
        res_snap = residents["snap_m"].to_numpy("float64")
        nodes, snap = snap_points(graph, xy[:, 0], xy[:, 1])
        aug = _with_sources(graph, nodes, snap)
        for e in wanted:
            sources = np.flatnonzero(masks & (1 << e))
            per_element[e] = _network_distance(aug, graph.n_nodes, sources, res_nodes, res_snap, limit)
        far = snap > FAR_FROM_STREET_M
        if far.any():
            notes.append(
                f"{int(far.sum())} assets are more than {FAR_FROM_STREET_M:,.0f} m from the nearest street of the "
                "network (outside its extent, or misplaced); walks from them start with that straight-line step."
            )
        comp = graph.components
        res_comp = comp[res_nodes]
    else:
        per_element = _straight_by_element(xy, masks, res_xy, wanted, limit)
        res_comp = np.zeros(len(residents), np.int64)
        comp = None

    pop = residents["population"].to_numpy("float64")
    mask_values, mask_counts = np.unique(masks, return_counts=True)
    distance: dict[str, np.ndarray] = {}
    rows = []
    for key, bits in zip(keys, bits_of, strict=True):
        members = [e for e in wanted if bits >> e & 1]
        d = np.minimum.reduce([per_element[e] for e in members]) if members else np.full(len(residents), np.inf)
        distance[key] = d
        # A register repeats a few combinations of elements: count by combination, not by record.
        n_serving = int(mask_counts[(mask_values & bits) != 0].sum())
        if comp is not None and n_serving:
            reachable = np.isin(res_comp, np.unique(comp[nodes[(masks & bits) != 0]]))
        else:
            reachable = np.full(len(residents), n_serving > 0)
        no_path = ~reachable
        rows.append(
            {
                "group": key,
                "n_assets": n_serving,
                "population_no_path": float(pop[no_path].sum()),
                "population_beyond_limit": float(pop[reachable & ~np.isfinite(d)].sum()),
            }
        )
    frame = pd.DataFrame(distance, index=residents.index)
    frame.attrs.update(method="network" if graph is not None else "straight-line", limit=limit)
    unreachable = pd.DataFrame(rows, columns=["group", "n_assets", "population_no_path", "population_beyond_limit"])
    if graph is not None:
        off_main = res_comp != 0
        if off_main.any():
            notes.append(
                f"{pop[off_main].sum():,.0f} residents ({pop[off_main].sum() / pop.sum():.1%}) live by streets not "
                "joined to the main network; they reach only assets on their own piece of street and are "
                "counted as out of reach of the rest, not dropped."
            )
    n_assets = {row["group"]: row["n_assets"] for row in rows}
    n_assets["all"] = len(xy)
    return AccessResult(
        residents=residents,
        distance=frame,
        method=frame.attrs["method"],
        limit=limit,
        unreachable=unreachable,
        n_assets=n_assets,
        notes=notes,
    )
