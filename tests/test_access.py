"""Walking access on graphs small enough to check by hand: a line, a grid, two unjoined pieces.

The line: five nodes at x = 0, 100, 200, 300, 400 (y = 0), joined in order by 100 m streets.
The grid: 3 x 3 nodes 100 m apart, joined along rows and columns only.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

from assetmap import settings
from assetmap._errors import CRSError, ValidationError
from assetmap.analysis.access import compute_access, distance_to_nearest
from assetmap.analysis.residents import resident_points
from assetmap.analysis.scenario import suggest_sites, what_if
from assetmap.analysis.walkgraph import snap_points, walk_graph_from_edges, walk_graph_from_networkx

CRS = settings.analysis_crs


def line_graph():
    x = np.arange(5) * 100.0
    return walk_graph_from_edges(x, np.zeros(5), [0, 1, 2, 3], [1, 2, 3, 4], [100.0] * 4)


def grid_graph():
    xs, ys = np.meshgrid(np.arange(3) * 100.0, np.arange(3) * 100.0)
    x, y = xs.ravel(), ys.ravel()
    u, v = [], []
    for i in range(9):
        if i % 3 < 2:
            u.append(i), v.append(i + 1)
        if i < 6:
            u.append(i), v.append(i + 3)
    return walk_graph_from_edges(x, y, u, v, [100.0] * len(u))


def on_nodes(graph, lsoa="L1", population=None):
    n = graph.n_nodes
    return pd.DataFrame(
        {
            "lsoa_code": lsoa,
            "population": population if population is not None else np.full(n, 10.0),
            "x": graph.x,
            "y": graph.y,
            "node": np.arange(n),
            "snap_m": 0.0,
        }
    )


def assets_at(points, elements, status=None):
    return gpd.GeoDataFrame(
        {
            "asset_id": [f"a{i}" for i in range(len(points))],
            "elements": elements,
            "status": status or ["approved"] * len(points),
        },
        geometry=[Point(p) for p in points],
        crs=CRS,
    )


# -- the graph ----------------------------------------------------------------------------------------


def test_line_graph_distances_by_hand():
    g = line_graph()
    d = distance_to_nearest(g, on_nodes(g), [0.0], [0.0], limit=1000)
    np.testing.assert_allclose(d, [0, 100, 200, 300, 400])


def test_limit_cuts_off_and_threshold_is_inclusive():
    g = line_graph()
    d = distance_to_nearest(g, on_nodes(g), [0.0], [0.0], limit=200)
    assert d[:3].tolist() == [0, 100, 200]
    assert np.isinf(d[3:]).all()


def test_grid_walks_round_the_block_and_never_beats_the_crow():
    g = grid_graph()
    res = on_nodes(g)
    d = distance_to_nearest(g, res, [0.0], [0.0], limit=1000)
    # Manhattan distance on the grid: the far corner is 400 m away, 283 m as the crow flies.
    np.testing.assert_allclose(d, np.abs(g.x) + np.abs(g.y))
    straight = distance_to_nearest(None, res, [0.0], [0.0], limit=1000)
    assert (d >= straight - 1e-9).all()
    assert d[8] == pytest.approx(400.0) and straight[8] == pytest.approx(np.hypot(200, 200))


def test_asset_off_the_street_adds_its_step_to_the_street():
    g = line_graph()
    # 50 m from node 0 (40 m along, 30 m off), the nearest node.
    d = distance_to_nearest(g, on_nodes(g), [40.0], [30.0], limit=1000)
    np.testing.assert_allclose(d, [50, 150, 250, 350, 450])
    straight = np.hypot(g.x - 40.0, g.y - 30.0)
    assert (d >= straight).all()


def test_several_sources_take_the_nearest():
    g = line_graph()
    d = distance_to_nearest(g, on_nodes(g), [0.0, 400.0], [0.0, 0.0], limit=1000)
    np.testing.assert_allclose(d, [0, 100, 200, 100, 0])


def test_parallel_edges_keep_the_shortest_and_loops_are_dropped():
    g = walk_graph_from_edges([0, 100, 200], [0, 0, 0], [0, 1, 0, 1, 2], [1, 0, 1, 2, 2], [150, 100, 120, 100, 5])
    assert g.n_edges == 2
    d = distance_to_nearest(g, on_nodes(g), [0.0], [0.0], limit=1000)
    np.testing.assert_allclose(d, [0, 100, 200])


def test_components_largest_first():
    # Two pieces: nodes 0-1-2 and 3-4.
    g = walk_graph_from_edges(np.arange(5) * 100.0, np.zeros(5), [0, 1, 3], [1, 2, 4], [100, 100, 100])
    assert g.components.tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize(
    "edges",
    [
        ([0], [7], [100.0]),  # a node that does not exist
        ([0], [1], [-1.0]),  # a negative length
        ([0], [1], [np.nan]),  # a missing length
        ([0, 1], [1, 2], [0.1, 0.1]),  # lengths far shorter than the streets: kilometres, or degrees
    ],
)
def test_bad_edges_refused(edges):
    with pytest.raises(ValidationError):
        walk_graph_from_edges([0, 100, 200], [0, 0, 0], *edges)


def test_networkx_graph_in_degrees_refused():
    import networkx as nx

    graph = nx.MultiDiGraph(crs="EPSG:4326")
    graph.add_node(1, x=-2.2, y=53.4)
    graph.add_node(2, x=-2.21, y=53.4)
    graph.add_edge(1, 2, length=660.0)
    with pytest.raises(CRSError, match="27700"):
        walk_graph_from_networkx(graph)


def test_networkx_graph_converts_with_lengths_and_ids():
    import networkx as nx

    graph = nx.MultiDiGraph(crs=CRS)
    for i in range(3):
        graph.add_node(1000 + i, x=100.0 * i, y=0.0)
    graph.add_edge(1000, 1001, length=110.0)
    graph.add_edge(1001, 1000, length=110.0)
    graph.add_edge(1001, 1002)  # no length: the straight line
    g = walk_graph_from_networkx(graph)
    assert g.node_ids.tolist() == [1000, 1001, 1002]
    d = distance_to_nearest(g, on_nodes(g), [0.0], [0.0], limit=1000)
    np.testing.assert_allclose(d, [0, 110, 210])


def test_snap_points():
    node, dist = snap_points(line_graph(), [10.0, 390.0], [0.0, 30.0])
    assert node.tolist() == [0, 4]
    np.testing.assert_allclose(dist, [10.0, np.hypot(10.0, 30.0)])


# -- residents --------------------------------------------------------------------------------------


@pytest.fixture
def two_lsoas():
    small = gpd.GeoDataFrame(
        {"code": ["L1", "L2", "L3"], "name": ["one", "two", "three"]},
        geometry=[box(-50, -50, 150, 50), box(150, -50, 450, 50), box(0, 500, 100, 600)],
        crs=CRS,
    )
    dep = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "population": [1000.0, 1500.0, 300.0]})
    return small, dep


def test_residents_spread_over_nodes_inside_and_conserved(two_lsoas):
    small, dep = two_lsoas
    res = resident_points(small, dep, line_graph())
    # L1 holds nodes 0 and 1, L2 nodes 2, 3 and 4 (x = 150 is on the shared edge: no node there), L3 none.
    assert res.groupby("lsoa_code")["population"].sum().to_dict() == {"L1": 1000.0, "L2": 1500.0, "L3": 300.0}
    l1 = res[res["lsoa_code"] == "L1"]
    assert sorted(l1["node"]) == [0, 1] and l1["population"].tolist() == [500.0, 500.0]
    assert (res.loc[res["lsoa_code"] == "L2", "population"] == 500.0).all()
    l3 = res[res["lsoa_code"] == "L3"].iloc[0]
    # No node inside: one representative point, joined to the nearest node by a straight step.
    assert l3["placement"] == "representative point"
    assert l3["snap_m"] == pytest.approx(np.hypot(l3["x"] - 100.0, l3["y"]))
    assert (res.loc[res["placement"] == "node", "snap_m"] == 0).all()


def test_residents_without_network_on_a_grid(two_lsoas):
    small, dep = two_lsoas
    res = resident_points(small, dep, spacing=50.0)
    assert res.groupby("lsoa_code")["population"].sum().to_dict() == {"L1": 1000.0, "L2": 1500.0, "L3": 300.0}
    assert (res["placement"] == "grid").all() and (res["node"] == -1).all()
    assert shapely.contains_xy(
        small.geometry.iloc[0], *res.loc[res["lsoa_code"] == "L1", ["x", "y"]].to_numpy().T
    ).all()
    assert len(res[res["lsoa_code"] == "L2"]) == 6 * 2  # a 300 m x 100 m box at 50 m spacing


def test_residents_do_not_depend_on_row_order(two_lsoas):
    small, dep = two_lsoas
    a = resident_points(small, dep, line_graph())
    b = resident_points(small.iloc[::-1], dep.iloc[::-1], line_graph())
    pd.testing.assert_frame_equal(a, b)


def test_no_population_column_is_a_clear_error(two_lsoas):
    small, dep = two_lsoas
    with pytest.raises(ValidationError, match="File 6"):
        resident_points(small, dep.drop(columns="population"), line_graph())


def test_network_elsewhere_is_refused(two_lsoas):
    small, dep = two_lsoas
    far = walk_graph_from_edges([50_000.0, 50_100.0], [0.0, 0.0], [0], [1], [100.0])
    with pytest.raises(ValidationError, match="does not overlap"):
        resident_points(small, dep, far)


# -- access per group ----------------------------------------------------------------------------------


def test_access_per_element_and_pillar():
    g = line_graph()
    res = on_nodes(g)
    assets = assets_at([(0, 0), (400, 0), (200, 0)], [(6,), (7,), (1,)], status=["approved", "approved", "pending"])
    acc = compute_access(res, assets, graph=g, limit=1000)
    assert acc.method == "network" and acc.distance.attrs["method"] == "network"
    np.testing.assert_allclose(acc.distance["e6"], [0, 100, 200, 300, 400])
    np.testing.assert_allclose(acc.distance["e7"], [400, 300, 200, 100, 0])
    # Strengthening holds elements 6, 7 and 8: the nearer of the two.
    np.testing.assert_allclose(acc.distance["strengthening"], [0, 100, 200, 100, 0])
    # The only element 1 asset is pending, so nothing serves element 1.
    assert np.isinf(acc.distance["e1"]).all()
    unreachable = acc.unreachable.set_index("group")
    assert unreachable.loc["e1", "n_assets"] == 0
    assert unreachable.loc["e1", "population_no_path"] == res["population"].sum()
    assert acc.n_assets["all"] == 2


def test_access_does_not_depend_on_asset_order_and_leaves_inputs_alone():
    g = grid_graph()
    res = on_nodes(g)
    assets = assets_at([(0, 0), (200, 200), (100, 0)], [(6,), (6, 7), (4,)])
    before = assets.copy()
    a = compute_access(res, assets, graph=g)
    b = compute_access(res, assets.iloc[::-1], graph=g)
    pd.testing.assert_frame_equal(a.distance, b.distance)
    pd.testing.assert_frame_equal(assets, before)


def test_network_never_shorter_than_straight_line_and_zero_at_the_asset():
    g = grid_graph()
    res = on_nodes(g)
    assets = assets_at([(100, 100), (37, 212)], [(6,), (6,)])
    net = compute_access(res, assets, graph=g, limit=1000).distance
    straight = compute_access(res, assets, limit=1000).distance
    assert straight.attrs["method"] == "straight-line"
    assert (net.to_numpy() >= straight.to_numpy() - 1e-9).all()
    assert net["e6"].iloc[4] == 0  # node 4 is (100, 100)


def test_disconnected_residents_are_reported_not_dropped():
    # Nodes 0-1-2 joined; 3-4 a separate piece with 30 residents on it.
    g = walk_graph_from_edges(np.arange(5) * 100.0, np.zeros(5), [0, 1, 3], [1, 2, 4], [100, 100, 100])
    res = on_nodes(g, population=np.array([10.0, 10, 10, 15, 15]))
    acc = compute_access(res, assets_at([(0, 0)], [(6,)]), graph=g, limit=1000)
    assert len(acc.residents) == 5
    assert np.isinf(acc.distance["e6"].iloc[3:]).all()
    row = acc.unreachable.set_index("group").loc["e6"]
    assert row["population_no_path"] == 30.0 and row["population_beyond_limit"] == 0.0
    assert any("not joined to the main network" in n for n in acc.notes)


def test_beyond_limit_counted_apart_from_no_path():
    g = line_graph()
    acc = compute_access(on_nodes(g), assets_at([(0, 0)], [(6,)]), graph=g, limit=250)
    row = acc.unreachable.set_index("group").loc["e6"]
    assert row["population_beyond_limit"] == 20.0 and row["population_no_path"] == 0.0


@pytest.mark.parametrize("limit", [0, -100, 50_000, float("nan")])
def test_absurd_limits_refused(limit):
    g = line_graph()
    with pytest.raises(ValidationError, match="metres"):
        compute_access(on_nodes(g), assets_at([(0, 0)], [(6,)]), graph=g, limit=limit)


def test_assets_in_another_crs_refused():
    g = line_graph()
    assets = assets_at([(0, 0)], [(6,)]).set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(CRSError, match="to_crs"):
        compute_access(on_nodes(g), assets, graph=g)


def test_unknown_group_refused():
    g = line_graph()
    with pytest.raises(ValidationError, match="e12"):
        compute_access(on_nodes(g), assets_at([(0, 0)], [(6,)]), graph=g, groups=["e12"])


# -- what if and site suggestions ------------------------------------------------------------------------


@pytest.fixture
def line_case():
    g = line_graph()
    res = on_nodes(g, population=np.array([100.0, 100, 100, 100, 100]))
    res["lsoa_code"] = ["L1", "L1", "L2", "L2", "L2"]
    dep = pd.DataFrame({"lsoa_code": ["L1", "L2"], "imd_decile": [5, 1], "population": [200.0, 300.0]})
    acc = compute_access(res, assets_at([(0, 0)], [(6,)]), graph=g, limit=1200)
    return g, acc, dep


def test_what_if_counts_newly_reached(line_case):
    g, acc, dep = line_case
    # Within 150 m: nodes 0 and 1 now. A new asset at node 4 reaches nodes 3 and 4 (in L2, decile 1).
    result = what_if(acc, dep, [400.0], [0.0], "e6", threshold=150, graph=g)
    assert result.newly_reached == 200.0 and result.newly_reached_deprived == 200.0
    by = result.by_lsoa.set_index("lsoa_code")
    assert by.loc["L2", "reached_before"] == 0 and by.loc["L2", "reached_after"] == 200.0
    again = what_if(acc, dep, [0.0], [0.0], "e6", threshold=150, graph=g)
    assert again.newly_reached == 0.0


def test_suggest_sites_is_greedy_and_explained(line_case):
    g, acc, dep = line_case
    chosen = suggest_sites(acc, dep, "e6", 3, threshold=100, graph=g)
    # Only L2 (nodes 2-4) is deprived; node 3 reaches all three within 100 m, then nothing is left to gain.
    assert len(chosen) == 1
    assert chosen.iloc[0][["x", "newly_reached_deprived"]].tolist() == [300.0, 300.0]
    assert "greedy" in chosen.attrs["note"] and "maximal-coverage" in chosen.attrs["note"]


def test_suggested_sites_count_the_walk_from_home_to_the_street():
    # Residents 500 m off the line's far end: their walk to the street counts, as in the access measure,
    # so no site within 150 m of the street reaches them, and the suggestion agrees with a what-if.
    g = line_graph()
    res = on_nodes(g, lsoa="L2", population=np.full(5, 100.0))
    res.loc[4, ["y", "snap_m"]] = [500.0, 500.0]
    dep = pd.DataFrame({"lsoa_code": ["L2"], "imd_decile": [1], "population": [500.0]})
    acc = compute_access(res, assets_at([(0, 0)], [(6,)]), graph=g, limit=1200)
    chosen = suggest_sites(acc, dep, "e6", 1, threshold=150, graph=g)
    site = chosen.iloc[0]
    assert site["newly_reached_deprived"] == 200.0  # two of nodes 2 to 4 on the line; not the one 500 m off it
    check = what_if(acc, dep, [site["x"]], [site["y"]], "e6", threshold=150, graph=g)
    assert check.newly_reached_deprived == site["newly_reached_deprived"]


def test_suggest_sites_bad_k(line_case):
    g, acc, dep = line_case
    with pytest.raises(ValidationError, match="between 1 and 50"):
        suggest_sites(acc, dep, "e6", 0, graph=g)


@pytest.mark.parametrize("max_pairs", [None, 0])
def test_straight_line_matches_brute_force(monkeypatch, max_pairs):
    from assetmap.analysis import access

    if max_pairs is not None:  # force the one-tree-per-element path
        monkeypatch.setattr(access, "_MAX_PAIRS", max_pairs)
    rng = np.random.default_rng(7)
    res_xy = rng.uniform(0, 3000, (300, 2))
    asset_xy = rng.uniform(0, 3000, (200, 2))
    masks = rng.integers(0, 1 << 12, 200) & 0b111111111110
    got = access._straight_by_element(asset_xy, masks, res_xy, list(range(1, 12)), 500.0)
    metres = np.hypot(*(res_xy[:, None, :] - asset_xy[None, :, :]).transpose(2, 0, 1))
    for e in range(1, 12):
        serves = (masks >> e) & 1 == 1
        expected = np.where(serves[None, :], metres, np.inf).min(axis=1)
        expected[expected > 500.0] = np.inf
        np.testing.assert_allclose(got[e], expected)


def test_polygon_asset_stands_at_its_representative_point():
    g = line_graph()
    assets = gpd.GeoDataFrame({"elements": [(6,)], "status": ["approved"]}, geometry=[box(380, -10, 420, 10)], crs=CRS)
    acc = compute_access(on_nodes(g), assets, graph=g, limit=1000)
    np.testing.assert_allclose(acc.distance["e6"], [400, 300, 200, 100, 0])


def test_walk_graph_survives_a_round_trip_through_a_file(tmp_path):
    from assetmap.analysis.walkgraph import load_walk_graph, save_walk_graph

    graph = walk_graph_from_edges([0, 100, 200], [0, 0, 0], [0, 1], [1, 2], [100, 120], node_ids=[11, 22, 33])
    save_walk_graph(graph, tmp_path / "g.npz")
    back = load_walk_graph(tmp_path / "g.npz")
    assert (back.csr != graph.csr).nnz == 0
    assert back.x.tolist() == graph.x.tolist() and back.y.tolist() == graph.y.tolist()
    assert back.node_ids.tolist() == [11, 22, 33] and back.crs == graph.crs
    assert [p.name for p in tmp_path.iterdir()] == ["g.npz"]  # no temporary file left behind


def test_asset_arrays_skip_missing_and_empty_and_place_polygons_inside():
    from assetmap.analysis.access import asset_arrays
    from assetmap.taxonomy import load_taxonomy

    square = box(100, 100, 300, 300)
    assets = gpd.GeoDataFrame(
        {
            "status": ["approved", "approved", "approved", "approved", "pending"],
            "elements": [(6,), (6,), (1,), (11,), (6,)],
        },
        geometry=[Point(10, 20), None, Point(), square, Point(5, 5)],
        crs=settings.analysis_crs,
    )
    xy, masks = asset_arrays(assets, load_taxonomy())
    assert xy[0].tolist() == [10.0, 20.0] and len(xy) == 2  # missing, empty and pending left out
    assert square.contains(Point(xy[1]))
    assert masks.tolist() == [1 << 6, 1 << 11]
