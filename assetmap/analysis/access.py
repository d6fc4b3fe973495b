"""Access: how far residents are from the nearest asset of each element and pillar.

Two methods, always labelled in the results:

network
    Walking distance along the street network. The graph is prepared once per
    area as a sparse matrix (:class:`~assetmap.analysis.walkgraph.WalkGraph`); each element then takes one
    multi-source shortest-path pass, ``scipy.sparse.csgraph.dijkstra`` with
    ``min_only=True`` and a ``limit``, from all its assets at once. Assets and
    residents are joined to the network at their nearest node, and the
    straight-line step from the point to that node is added to the walk, so a
    network distance is never shorter than the straight line.
straight-line
    Distance as the crow flies in EPSG:27700, with a k-d tree per element. It
    is used where an area has no street network and says so: real walks are
    longer, so it overstates access.

Residents are placed hyper-locally by
:func:`assetmap.analysis.residents.resident_points`: each LSOA's population is
spread evenly over the network nodes inside it (or, without a network, over a
regular grid of points inside it); an LSOA with no such point is placed at its
representative point. A pillar's distance is the least of its elements'
distances, which is exact because a pillar's assets are the union of its
elements' assets. A combination of groups (``scaling&strengthening``, see
:func:`~assetmap.analysis.groups.combine_groups`) is measured from its parts'
distances: the largest of them (an asset of every part within reach) or the
least (``scaling|strengthening``: of any part).

Every function is pure: inputs are not changed and nothing is read or written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from assetmap import settings
from assetmap._errors import CRSError, Problem, ValidationError
from assetmap.analysis.groups import (
    DEFAULT_THRESHOLDS,
    check_groups,
    check_thresholds,
    element_masks,
    group_keys,
    group_masks,
    group_parts,
)
from assetmap.analysis.walkgraph import WalkGraph, snap_points
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Assets further than this from the nearest street node are reported: they may be misplaced.
FAR_FROM_STREET_M: float = 250.0


# -- distances -------------------------------------------------------------------------------------


def with_sources(graph: WalkGraph, nodes: np.ndarray, snap: np.ndarray) -> sparse.csr_matrix:
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


def pairs_within(res_xy: np.ndarray, asset_xy: np.ndarray, limit: float) -> tuple[np.ndarray, ...] | None:
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
    pairs = pairs_within(res_xy, asset_xy, limit)
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
        From :func:`~assetmap.analysis.residents.resident_points` (with ``node`` and ``snap_m`` for a network).
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
    aug = with_sources(graph, nodes, snap)
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
        The resident points (:func:`~assetmap.analysis.residents.resident_points`).
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
    no_path : DataFrame
        Index-aligned with ``residents``, one column per group: True where no walk reaches an asset of
        the group at any distance (what ``population_no_path`` adds up); lets :func:`with_groups` measure
        combinations later.
    """

    residents: pd.DataFrame
    distance: pd.DataFrame
    method: str
    limit: float
    unreachable: pd.DataFrame
    n_assets: dict[str, int]
    notes: list[str] = field(default_factory=list)
    no_path: pd.DataFrame = field(default_factory=pd.DataFrame)


def asset_arrays(assets: pd.DataFrame, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
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
        From :func:`~assetmap.analysis.residents.resident_points` (built with the same ``graph``).
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
        :data:`~assetmap.analysis.groups.DEFAULT_THRESHOLDS`, 1,200 m).
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
    xy, masks = asset_arrays(assets, tax)
    elements = [e.id for e in tax.elements]
    # Single groups first; combinations are then measured from their parts.
    singles = list(dict.fromkeys(p for k in keys for p in group_parts(k)[0]))
    bits_of = group_masks(singles, tax)
    # Elements needed: those asked for, and those of the pillars asked for.
    wanted = sorted({i for bits in bits_of for i in elements if bits >> i & 1})
    if graph is not None:
        per_element, asset_comp, res_comp, notes = _network_by_element(graph, residents, xy, masks, wanted, limit)
    else:
        per_element = _straight_by_element(xy, masks, residents[["x", "y"]].to_numpy("float64"), wanted, limit)
        asset_comp, res_comp, notes = None, np.zeros(len(residents), np.int64), []
    pop = residents["population"].to_numpy("float64")
    distance, rows, no_path = _group_distances(singles, bits_of, per_element, masks, pop, asset_comp, res_comp)
    frame = pd.DataFrame(distance, index=residents.index)
    frame.attrs.update(method="network" if graph is not None else "straight-line", limit=limit)
    unreachable = pd.DataFrame(rows, columns=_UNREACHABLE_COLUMNS)
    off_main = res_comp != 0
    if graph is not None and off_main.any():
        notes.append(
            f"{pop[off_main].sum():,.0f} residents ({pop[off_main].sum() / pop.sum():.1%}) live by streets not "
            "joined to the main network; they reach only assets on their own piece of street and are "
            "counted as out of reach of the rest, not dropped."
        )
    n_assets: dict[str, int] = {str(row["group"]): int(row["n_assets"]) for row in rows}  # type: ignore[call-overload]
    n_assets["all"] = len(xy)
    result = AccessResult(
        residents=residents,
        distance=frame,
        method=frame.attrs["method"],
        limit=limit,
        unreachable=unreachable,
        n_assets=n_assets,
        notes=notes,
        no_path=pd.DataFrame(no_path, index=residents.index),
    )
    # Combinations counted by the assets serving any of their parts (one mask test, as for a pillar).
    combos = [k for k in keys if group_parts(k)[1] is not None]
    served = {k: int(((masks & bit) != 0).sum()) for k, bit in zip(combos, group_masks(combos, tax), strict=True)}
    out = with_groups(result, combos, served)
    # Only the groups asked for, though the parts of a combination were measured too.
    keys = list(dict.fromkeys(keys))
    distance = out.distance[keys]
    distance.attrs.update(out.distance.attrs)
    return dataclasses.replace(
        out,
        distance=distance,
        no_path=out.no_path[keys],
        unreachable=out.unreachable[out.unreachable["group"].isin(keys)].reset_index(drop=True),
        n_assets={k: v for k, v in out.n_assets.items() if k in keys or k == "all"},
    )


#: Columns of :attr:`AccessResult.unreachable`.
_UNREACHABLE_COLUMNS: list[str] = ["group", "n_assets", "population_no_path", "population_beyond_limit"]


def with_groups(access: AccessResult, keys: Iterable[str], n_assets: dict[str, int]) -> AccessResult:
    """Return the access result with combinations of its groups added (a new result; ``access`` is unchanged).

    A combination's distance is the largest of its parts' distances (``all``: an asset of every part is
    within it) or the least (``any``). Its residents with no path are those with none to some part
    (``all``) or to every part (``any``).

    Parameters
    ----------
    access : AccessResult
        With every part of every combination among its groups.
    keys : iterable of str
        Checked group keys; those already present, and single groups, are skipped.
    n_assets : dict
        Combination key to the number of distinct assets serving at least one of its parts.

    Raises
    ------
    ValidationError
        When a part of a combination was not measured.
    """
    new = [k for k in keys if group_parts(k)[1] is not None and k not in access.distance]
    if not new:
        return access
    distance, no_path = access.distance.copy(), access.no_path.copy()
    pop = access.residents["population"].to_numpy("float64")
    rows = []
    for key in new:
        parts, how = group_parts(key)
        missing = [p for p in parts if p not in distance or p not in no_path]
        if missing:
            raise ValidationError(
                Problem(
                    f"no access figures for {', '.join(missing)}, a part of {key!r}.",
                    field="group",
                    fix="Measure access to every part of the combination (compute_access with groups=None).",
                )
            )
        d, blocked = distance[parts].to_numpy("float64"), no_path[parts].to_numpy(bool)
        distance[key] = d.max(axis=1) if how == "all" else d.min(axis=1)
        no_path[key] = blocked.any(axis=1) if how == "all" else blocked.all(axis=1)
        rows.append(
            {
                "group": key,
                "n_assets": int(n_assets[key]),
                "population_no_path": float(pop[no_path[key].to_numpy()].sum()),
                "population_beyond_limit": float(pop[~no_path[key].to_numpy() & ~np.isfinite(distance[key])].sum()),
            }
        )
    distance.attrs.update(access.distance.attrs)
    unreachable = pd.concat([access.unreachable, pd.DataFrame(rows, columns=_UNREACHABLE_COLUMNS)], ignore_index=True)
    return dataclasses.replace(
        access,
        distance=distance,
        no_path=no_path,
        unreachable=unreachable,
        n_assets={**access.n_assets, **{k: int(n_assets[k]) for k in new}},
    )


def _network_by_element(
    graph: WalkGraph, residents: pd.DataFrame, xy: np.ndarray, masks: np.ndarray, wanted: list[int], limit: float
) -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray, list[str]]:
    """Return the walking distance from each resident to the nearest asset of each element, along the network.

    With the distances by element come the piece of network each asset and each resident is on, and a
    note of assets far from any street.
    """
    res_nodes = residents["node"].to_numpy(np.int64)
    res_snap = residents["snap_m"].to_numpy("float64")
    nodes, snap = snap_points(graph, xy[:, 0], xy[:, 1])
    aug = with_sources(graph, nodes, snap)
    per_element = {}
    for e in wanted:
        sources = np.flatnonzero(masks & (1 << e))
        per_element[e] = _network_distance(aug, graph.n_nodes, sources, res_nodes, res_snap, limit)
    notes = []
    far = snap > FAR_FROM_STREET_M
    if far.any():
        notes.append(
            f"{int(far.sum())} assets are more than {FAR_FROM_STREET_M:,.0f} m from the nearest street of the "
            "network (outside its extent, or misplaced); walks from them start with that straight-line step."
        )
    comp = graph.components
    return per_element, comp[nodes], comp[res_nodes], notes


def _group_distances(
    keys: list[str],
    bits_of: np.ndarray,
    per_element: dict[int, np.ndarray],
    masks: np.ndarray,
    pop: np.ndarray,
    asset_comp: np.ndarray | None,
    res_comp: np.ndarray,
) -> tuple[dict[str, np.ndarray], list[dict[str, object]], dict[str, np.ndarray]]:
    """Return each group's distances (the least of its elements'), its counts of assets and unreached residents.

    With them, per group, which residents no walk reaches an asset of it from.

    ``asset_comp`` is the piece of network each asset is on, None for straight-line distances, where every
    resident can reach any asset.
    """
    n = len(pop)
    mask_values, mask_counts = np.unique(masks, return_counts=True)
    distance: dict[str, np.ndarray] = {}
    no_paths: dict[str, np.ndarray] = {}
    rows = []
    for key, bits in zip(keys, bits_of, strict=True):
        members = [e for e in per_element if bits >> e & 1]
        d = np.minimum.reduce([per_element[e] for e in members]) if members else np.full(n, np.inf)
        distance[key] = d
        # A register repeats a few combinations of elements: count by combination, not by record.
        n_serving = int(mask_counts[(mask_values & bits) != 0].sum())
        if asset_comp is not None and n_serving:
            reachable = np.isin(res_comp, np.unique(asset_comp[(masks & bits) != 0]))
        else:
            reachable = np.full(n, n_serving > 0)
        no_path = ~reachable
        no_paths[key] = no_path
        rows.append(
            {
                "group": key,
                "n_assets": n_serving,
                "population_no_path": float(pop[no_path].sum()),
                "population_beyond_limit": float(pop[reachable & ~np.isfinite(d)].sum()),
            }
        )
    return distance, rows, no_paths
