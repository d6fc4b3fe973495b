"""The demo borough's full gap analysis, warm, against the bare shortest-path passes it cannot avoid.

Measured on the demo area: ``area.gaps()`` with the street network already read and prepared
(``area.walk_graph()``) and everything else redone each repeat: resident points, walking access for the
11 elements and 4 pillars, shares within 400, 800 and 1,200 m, the ward deprivation summary, the gap table
and the method note; and the same with ``by="lsoa"``.
Baseline: 11 calls of ``scipy.sparse.csgraph.dijkstra(graph.csr, directed=True, indices=<nodes nearest
the element's approved assets>, min_only=True, limit=1200)``, one per element, on the same prepared graph.
The cold figure (``load_area``, read and prepare the network, then the analysis) is measured once, with
osmnx already imported (its import time is printed beside it).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from assetmap import Area, load_area, settings
from assetmap.analysis.groups import element_masks
from assetmap.analysis.walkgraph import WalkGraph, snap_points
from assetmap.area.coverage import counted_assets
from assetmap.taxonomy import load_taxonomy

LIMIT = 1200.0


def _import_osmnx() -> float:
    """Seconds to import osmnx, which reading a network needs (0 where it is already imported)."""
    if "osmnx" in sys.modules:
        return 0.0
    start = time.perf_counter()
    import osmnx  # noqa: F401

    return time.perf_counter() - start


def _cold(root) -> float:
    start = time.perf_counter()
    area = load_area(root)
    area.walk_graph()
    area.gaps()
    return time.perf_counter() - start


def _warm_gaps(area: Area, **kwargs: object) -> Callable[[], object]:
    """Return a job that drops the cached residents, access and summary, then runs ``area.gaps``."""

    def job() -> object:
        for key in [k for k in area._cache if isinstance(k, tuple) and k[0] in ("access", "residents")]:
            del area._cache[key]
        area._cache.pop("area_summary", None)
        return area.gaps(**kwargs)

    return job


def element_sources(area: Area, graph: WalkGraph) -> list[np.ndarray]:
    """Per element, the distinct nodes nearest its approved assets: the baseline's start nodes."""
    assets = counted_assets(area)
    xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(assets.geometry.array)))
    masks = element_masks(assets["elements"])
    nodes, _ = snap_points(graph, xy[:, 0], xy[:, 1])
    return [np.unique(nodes[(masks & (1 << e.id)) != 0]) for e in load_taxonomy().elements]


def _bare(graph: WalkGraph, sources: list[np.ndarray]) -> list[np.ndarray]:
    return [dijkstra(graph.csr, directed=True, indices=s, min_only=True, limit=LIMIT) for s in sources]


def check(area: Area, graph: WalkGraph, sources: list[np.ndarray]) -> None:
    """The analysis's walks are the bare ones plus the steps on and off the network (not timed)."""
    access = area.access()
    res = access.residents
    assets = counted_assets(area)
    xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(assets.geometry.array)))
    masks = element_masks(assets["elements"])
    _, snap = snap_points(graph, xy[:, 0], xy[:, 1])
    nodes, res_snap = res["node"].to_numpy(), res["snap_m"].to_numpy()
    for element, bare in zip(load_taxonomy().elements, _bare(graph, sources), strict=True):
        got = access.distance[f"e{element.id}"].to_numpy()
        low = bare[nodes] + res_snap
        step = snap[(masks & (1 << element.id)) != 0].max(initial=0.0)
        both = np.isfinite(got) & np.isfinite(low)
        if (
            (np.isfinite(got) & ~np.isfinite(low)).any()
            or (got[both] < low[both] - 1e-6).any()
            or (got[both] > low[both] + step + 1e-6).any()
        ):
            raise AssertionError(f"walking distances for element {element.id} disagree with the bare Dijkstra.")


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, interleaved

    root = settings.demo_area_path
    imported = _import_osmnx()
    cold = _cold(root)

    area = load_area(root)
    graph = area.walk_graph()
    sources = element_sources(area, graph)
    seconds = interleaved(
        {
            "bare": lambda: _bare(graph, sources),
            "gaps": _warm_gaps(area),
            "gaps_lsoa": _warm_gaps(area, by="lsoa"),
        },
        repeat,
    )
    check(area, graph, sources)
    analysis = area.gaps()
    print(
        f"borough: {graph.n_nodes:,} street nodes, {graph.n_edges:,} streets, "
        f"{len(analysis.access.residents):,} resident points, {analysis.access.n_assets['all']} approved assets, "
        f"gap table {len(analysis.table)} rows; osmnx import {imported * 1000:.0f} ms (not in the cold figure)",
        flush=True,
    )
    base = seconds["bare"]
    label = "11 bare dijkstra passes, 1200 m"
    return [
        Result("area.gaps(), warm", seconds["gaps"], label, base, "< 1 s; ratio reference"),
        Result('area.gaps(by="lsoa"), warm', seconds["gaps_lsoa"], label, base, "< 1 s; ratio reference"),
        Result("cold: load, network, gaps (once)", cold, label, base, "reference"),
    ]
