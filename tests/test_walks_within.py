"""Every walk within a limit from many sources: the searches confined to each square's reach agree with
one search of the whole network."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from assetmap.analysis.walkgraph import WalkGraph, snap_points, walk_graph_from_edges, walks_within


def _street_grid(seed: int = 3, side: int = 40, spacing: float = 60.0) -> WalkGraph:
    """A jittered grid of streets with some removed and lengths 1 to 1.3 times the straight line."""
    rng = np.random.default_rng(seed)
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = (ii.ravel() * spacing + rng.uniform(-15, 15, side * side)).astype(float)
    y = (jj.ravel() * spacing + rng.uniform(-15, 15, side * side)).astype(float)
    pos = np.arange(side * side).reshape(side, side)
    u = np.concatenate([pos[:-1, :].ravel(), pos[:, :-1].ravel()])
    v = np.concatenate([pos[1:, :].ravel(), pos[:, 1:].ravel()])
    keep = rng.random(len(u)) > 0.15
    u, v = u[keep], v[keep]
    length = np.hypot(x[u] - x[v], y[u] - y[v]) * rng.uniform(1.0, 1.3, len(u))
    return walk_graph_from_edges(x, y, u, v, length)


def _brute(graph: WalkGraph, sources: tuple, targets: tuple, limit: float) -> set[tuple[int, int]]:
    dist = dijkstra(graph.csr, directed=False, indices=sources[0])[:, targets[0]]
    total = dist + sources[1][:, None] + targets[1][None, :]
    a, r = np.nonzero(total <= limit)
    return {(int(i), int(j)): total[i, j] for i, j in zip(a, r, strict=True)}


def _points(graph: WalkGraph, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = graph.bounds
    return snap_points(graph, rng.uniform(x0 - 50, x1 + 50, n), rng.uniform(y0 - 50, y1 + 50, n))


@pytest.mark.parametrize("limit", [150.0, 500.0, 900.0])
def test_same_pairs_and_distances_as_one_search_of_the_whole_network(limit: float) -> None:
    graph = _street_grid()
    sources, targets = _points(graph, 150, 1), _points(graph, 700, 2)
    src, dst, metres = walks_within(graph, sources, targets, limit)
    expected = _brute(graph, sources, targets, limit)
    assert len(expected) > 200  # the case reaches across several squares
    assert {(int(a), int(b)) for a, b in zip(src, dst, strict=True)} == set(expected)
    np.testing.assert_allclose(metres, [expected[(int(a), int(b))] for a, b in zip(src, dst, strict=True)])
    assert np.all(np.diff(src) >= 0)  # ordered by source


def test_streets_shorter_than_their_straight_line_still_give_every_walk() -> None:
    """A graph made without the length rule (a street a tenth of its straight line) is searched whole."""
    graph = _street_grid(seed=5, side=20)
    coo = graph.csr.tocoo()
    data = coo.data.copy()
    data[(coo.row == 0) | (coo.col == 0)] *= 0.1
    short = WalkGraph(
        csr=sparse.csr_matrix((data, (coo.row, coo.col)), shape=coo.shape),
        x=graph.x,
        y=graph.y,
        node_ids=graph.node_ids,
    )
    assert short.least_stretch < 0.25
    sources, targets = _points(short, 40, 3), _points(short, 300, 4)
    src, dst, _ = walks_within(short, sources, targets, 300.0)
    assert {(int(a), int(b)) for a, b in zip(src, dst, strict=True)} == set(_brute(short, sources, targets, 300.0))


def test_nothing_to_walk_from_or_to() -> None:
    graph = _street_grid(side=5)
    none = (np.zeros(0, np.int64), np.zeros(0))
    for args in ((none, _points(graph, 3, 1)), (_points(graph, 3, 1), none)):
        src, dst, metres = walks_within(graph, *args, 500.0)
        assert len(src) == len(dst) == len(metres) == 0
