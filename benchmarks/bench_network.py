"""Walking distance on a city-sized street network: every node to the nearest of 1,000 points, within 800 m.

Synthetic network, generated from a fixed seed: a 316 x 316 grid of nodes 80 m apart (99,856 nodes, about
25 km x 25 km), each moved up to 20 m each way at random; 10% of the grid's streets removed at random and
a diagonal added across 8% of its cells; each street's length is the straight line between its ends times
a random factor from 1.0 to 1.15. 1,000 source points at random positions (not on nodes); the residents are
every node (``node`` = position, ``snap_m`` = 0).

Measured: ``walk_graph_from_edges`` (once: it runs once per area), against building a networkx ``Graph``
of the same edges (also once); ``distance_to_nearest(graph, residents, xs, ys, limit=800)``, the walk from
every node to the nearest source point, with the straight-line step from each point to its nearest node
included (the graph's k-d tree of nodes is built by the warm-up call and kept, as in the app). Baselines, on
the same data: (A) one bare ``scipy.sparse.csgraph.dijkstra(graph.csr, directed=True, indices=<the points'
nearest nodes>, min_only=True, limit=800)`` on the prepared graph; (B) networkx
``multi_source_dijkstra_path_length(G, sources, cutoff=800, weight="length")`` on the networkx graph with
one extra node per source point, joined to its nearest node by the straight-line step, so that it computes
the same distances (graph built outside the timing; fewer repeats, as it is slow). Outside the timing the
result is checked against both: equal to networkx's, and within the steps of the bare Dijkstra's.
"""

from __future__ import annotations

import resource
import statistics
import time
import tracemalloc

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from assetmap.analysis.access import distance_to_nearest
from assetmap.analysis.walkgraph import WalkGraph, snap_points, walk_graph_from_edges

SEED = 20_261_124
SIDE = 316
SPACING_M = 80.0
JITTER_M = 20.0
DROP = 0.10
DIAGONAL = 0.08
N_SOURCES = 1_000
LIMIT = 800.0
ORIGIN = (520_000.0, 170_000.0)  # in EPSG:27700, so that the coordinates look like British ones


def make_network(seed: int = SEED) -> dict[str, np.ndarray]:
    """Generate the nodes (``x``, ``y``), streets (``u``, ``v``, ``length``) and source points (``sx``, ``sy``)."""
    rng = np.random.default_rng(seed)
    grid = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    i, j = np.divmod(grid.ravel(), SIDE)
    x = ORIGIN[0] + i * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, grid.size)
    y = ORIGIN[1] + j * SPACING_M + rng.uniform(-JITTER_M, JITTER_M, grid.size)
    u = np.concatenate([grid[:-1, :].ravel(), grid[:, :-1].ravel()])
    v = np.concatenate([grid[1:, :].ravel(), grid[:, 1:].ravel()])
    keep = rng.random(len(u)) >= DROP
    u, v = u[keep], v[keep]
    # A diagonal across a cell joins either its south-west and north-east corners or the other two.
    cells = grid[:-1, :-1].ravel()
    cells = cells[rng.random(len(cells)) < DIAGONAL]
    rising = rng.random(len(cells)) < 0.5
    du = np.where(rising, cells, cells + 1)
    dv = np.where(rising, cells + SIDE + 1, cells + SIDE)
    u, v = np.concatenate([u, du]), np.concatenate([v, dv])
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.15, len(u))
    sx = rng.uniform(x.min(), x.max(), N_SOURCES)
    sy = rng.uniform(y.min(), y.max(), N_SOURCES)
    return {"x": x, "y": y, "u": u, "v": v, "length": length, "sx": sx, "sy": sy}


def every_node(graph: WalkGraph) -> pd.DataFrame:
    """Residents: one at every node."""
    n = graph.n_nodes
    return pd.DataFrame(
        {
            "lsoa_code": "E01000001",
            "population": np.ones(n),
            "x": graph.x,
            "y": graph.y,
            "node": np.arange(n),
            "snap_m": np.zeros(n),
        }
    )


def networkx_graph(net: dict[str, np.ndarray], nodes: np.ndarray, snap: np.ndarray) -> tuple[nx.Graph, list[int]]:
    """The same streets as a networkx Graph, plus one node per source point joined to its nearest node."""
    n = len(net["x"])
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(
        zip(net["u"].tolist(), net["v"].tolist(), net["length"].tolist(), strict=True), weight="length"
    )
    sources = list(range(n, n + len(nodes)))
    graph.add_weighted_edges_from(zip(sources, nodes.tolist(), snap.tolist(), strict=True), weight="length")
    return graph, sources


def check(ours: np.ndarray, bare: np.ndarray, theirs: dict[int, float], step: float) -> None:
    """Ours must equal networkx's and lie within the longest step of the bare Dijkstra's (not timed)."""
    expected = np.full(len(ours), np.inf)
    reached = np.fromiter((k for k in theirs if k < len(ours)), dtype=np.int64)
    expected[reached] = [theirs[k] for k in reached.tolist()]
    if not (np.array_equal(np.isinf(ours), np.isinf(expected)) and np.allclose(ours, expected, rtol=0, atol=1e-6)):
        raise AssertionError("distance_to_nearest differs from networkx's walk from the same source points.")
    finite = np.isfinite(ours)
    if not (np.isfinite(bare[finite]).all() and (ours[finite] >= bare[finite] - 1e-6).all()):
        raise AssertionError("distance_to_nearest is shorter than the bare Dijkstra from the nearest nodes.")
    if (ours[finite] - bare[finite] > step + 1e-6).any():
        raise AssertionError("distance_to_nearest exceeds the bare Dijkstra by more than the longest step.")


def run(repeat: int) -> list:
    from benchmarks.__main__ import Result, interleaved

    net = make_network()
    start = time.perf_counter()
    graph = walk_graph_from_edges(net["x"], net["y"], net["u"], net["v"], net["length"])
    prepared = time.perf_counter() - start
    residents = every_node(graph)
    xs, ys = net["sx"], net["sy"]
    nodes, snap = snap_points(graph, xs, ys)
    start_nodes = np.unique(nodes)

    start = time.perf_counter()
    G, sources = networkx_graph(net, nodes, snap)
    built = time.perf_counter() - start

    def ours() -> np.ndarray:
        return distance_to_nearest(graph, residents, xs, ys, limit=LIMIT)

    def bare() -> np.ndarray:
        return dijkstra(graph.csr, directed=True, indices=start_nodes, min_only=True, limit=LIMIT)

    seconds = interleaved({"ours": ours, "bare": bare}, repeat)
    # networkx takes seconds a run: no warm-up, and at most three runs.
    nx_times = []
    for _ in range(max(1, min(repeat, 3))):
        start = time.perf_counter()
        theirs = nx.multi_source_dijkstra_path_length(G, sources, cutoff=LIMIT, weight="length")
        nx_times.append(time.perf_counter() - start)
    check(ours(), bare(), theirs, float(snap.max()))

    tracemalloc.start()
    ours()
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    within = float(np.isfinite(ours()).mean())
    print(
        f"network: {graph.n_nodes:,} nodes, {graph.n_edges:,} streets, {N_SOURCES:,} source points "
        f"({len(start_nodes):,} distinct nearest nodes, steps up to {snap.max():.0f} m); "
        f"{within:.1%} of nodes within {LIMIT:,.0f} m; peak memory of one distance_to_nearest call "
        f"(tracemalloc) {traced / 2**20:,.0f} MB, process peak (ru_maxrss) "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB",
        flush=True,
    )
    networkx = statistics.median(nx_times)
    label = f"{graph.n_nodes:,} nodes"
    return [
        Result(
            f"walk_graph_from_edges ({label}), once",
            prepared,
            "networkx Graph of the same edges, once",
            built,
            "once per area (reference)",
        ),
        Result(
            f"distance_to_nearest ({label}, {LIMIT:.0f} m)",
            seconds["ours"],
            "bare scipy dijkstra",
            seconds["bare"],
            "<= 1.5x",
        ),
        Result(
            f"distance_to_nearest ({label}, {LIMIT:.0f} m)",
            seconds["ours"],
            "networkx multi_source_dijkstra",
            networkx,
            f"<= 0.083 (12x faster); here {networkx / seconds['ours']:.1f}x faster",
        ),
    ]
