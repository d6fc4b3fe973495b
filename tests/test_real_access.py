"""Walking access on a real street network: the OpenStreetMap extract of Levenshulme, Manchester.

Expectations come from the OSM XML itself (which ways are streets, read with the standard
library and projected with pyproj), from networkx shortest paths and from straight-line
geometry, never from earlier runs of the code under test.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from assetmap.analysis.access import compute_access, distance_to_nearest
from assetmap.analysis.residents import resident_points
from assetmap.analysis.walkgraph import snap_points, walk_graph_from_networkx
from assetmap.io.boundaries import read_small_areas
from assetmap.io.deprivation import read_deprivation
from assetmap.io.network import read_network

pytestmark = pytest.mark.realdata

LIMIT = 1_200.0


# -- fixtures: everything is read once per module --------------------------------------------------


@pytest.fixture(scope="module")
def osm_path(real_data):
    return real_data / "osm" / "levenshulme.osm"


@pytest.fixture(scope="module")
def osm_streets(osm_path):
    """The file's streets read straight from the XML: node positions (EPSG:27700) and street segments.

    A street is a way tagged ``highway``; every other way (buildings, land use, railway land) is not.
    """
    root = ET.parse(osm_path).getroot()
    lonlat = {int(n.get("id")): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    segments = []
    for way in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in way.iter("tag")}
        if "highway" not in tags:
            continue
        refs = [int(nd.get("ref")) for nd in way.iter("nd")]
        segments.extend((a, b) for a, b in pairwise(refs) if a != b)
    ids = sorted({n for seg in segments for n in seg})
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    xs, ys = to_bng.transform([lonlat[n][0] for n in ids], [lonlat[n][1] for n in ids])
    xy = dict(zip(ids, zip(xs, ys, strict=True), strict=True))
    return {"n_file_nodes": len(lonlat), "xy": xy, "segments": segments}


@pytest.fixture(scope="module")
def street_graph(osm_streets):
    """Undirected networkx graph of the streets alone, straight segments measured in EPSG:27700."""
    xy = osm_streets["xy"]
    g = nx.Graph()
    for a, b in osm_streets["segments"]:
        g.add_edge(a, b, length=float(np.hypot(xy[a][0] - xy[b][0], xy[a][1] - xy[b][1])))
    return g


@pytest.fixture(scope="module")
def network(osm_path):
    return read_network(osm_path)


@pytest.fixture(scope="module")
def walk(network):
    return walk_graph_from_networkx(network)


@pytest.fixture(scope="module")
def boundary(real_data):
    return gpd.read_file(real_data / "osm" / "levenshulme_boundary.geojson").to_crs(27700).geometry.union_all()


@pytest.fixture(scope="module")
def position(walk):
    """OSM node id to position in the walk graph."""
    return {int(n): i for i, n in enumerate(walk.node_ids)}


@pytest.fixture(scope="module")
def main_street_nodes(walk, osm_streets, position):
    """Positions of street nodes on the main piece of the network, in OSM id order."""
    return np.array([position[n] for n in sorted(osm_streets["xy"]) if walk.components[position[n]] == 0])


@pytest.fixture(scope="module")
def lsoas(real_data, boundary):
    small_areas = read_small_areas(real_data / "boundaries" / "manchester_lsoa21.geojson")
    return small_areas[small_areas.intersects(boundary)].reset_index(drop=True)


@pytest.fixture(scope="module")
def deprivation(real_data, lsoas):
    imd = read_deprivation(real_data / "deprivation" / "IoD2025_File_7_manchester_partial.csv")
    return imd[imd["lsoa_code"].isin(lsoas["code"])].reset_index(drop=True)


@pytest.fixture(scope="module")
def residents(lsoas, deprivation, walk):
    return resident_points(lsoas, deprivation, walk)


def _one_resident(walk, node):
    return pd.DataFrame(
        {
            "lsoa_code": ["E01000000"],
            "population": [1.0],
            "x": [walk.x[node]],
            "y": [walk.y[node]],
            "node": [node],
            "snap_m": [0.0],
        }
    )


def _nearest(walk, candidates, x, y):
    """The candidate node nearest to (x, y), lowest position on a tie."""
    d = np.hypot(walk.x[candidates] - x, walk.y[candidates] - y)
    return int(candidates[np.argmin(d)])


def _assets_at(walk, nodes, elements):
    return gpd.GeoDataFrame(
        {"asset_id": [f"T{i}" for i in range(len(nodes))], "status": "approved", "elements": elements},
        geometry=[Point(walk.x[n], walk.y[n]) for n in nodes],
        crs="EPSG:27700",
    )


# -- 1. the graph --------------------------------------------------------------------------------


def test_network_reads_in_metres(network, walk, osm_streets, position, boundary):
    assert network.graph["crs"] is not None and str(network.graph["crs"]).upper().endswith("27700")
    # At least every street node of the file is there.
    assert walk.n_nodes >= len(osm_streets["xy"]) > 800
    # Projected to British National Grid: street nodes sit where pyproj puts their longitude and latitude.
    ids = sorted(osm_streets["xy"])
    at = np.array([position[n] for n in ids])
    want = np.array([osm_streets["xy"][n] for n in ids])
    assert np.hypot(walk.x[at] - want[:, 0], walk.y[at] - want[:, 1]).max() < 1.0
    # Whole ways crossing the edge are kept, so some nodes lie outside the extract's polygon; most are in it.
    inside = boundary.contains(gpd.points_from_xy(walk.x[at], walk.y[at])).mean()
    assert inside > 0.5, inside
    # A street is never shorter than the straight line between its ends.
    u, v, length = zip(*((a, b, d["length"]) for a, b, d in network.edges(data=True)), strict=True)
    ux = np.array([network.nodes[n]["x"] for n in u])
    uy = np.array([network.nodes[n]["y"] for n in u])
    vx = np.array([network.nodes[n]["x"] for n in v])
    vy = np.array([network.nodes[n]["y"] for n in v])
    straight = np.hypot(ux - vx, uy - vy)
    assert np.all(np.asarray(length) >= straight * 0.995 - 0.01)


def test_network_holds_the_streets_and_nothing_else(network, osm_streets):
    """read_network: 'every way tagged highway becomes a street' - and only those ways."""
    not_streets = [
        d.get("landuse") or d.get("railway") or "untagged" for _, _, d in network.edges(data=True) if "highway" not in d
    ]
    assert not not_streets, (
        f"{len(not_streets)} of {network.number_of_edges()} edges come from ways not tagged highway "
        f"(e.g. {pd.Series(not_streets).value_counts().head(4).to_dict()})"
    )
    extra = set(network.nodes) - set(osm_streets["xy"])
    assert not extra, (
        f"{len(extra)} of {network.number_of_nodes()} nodes are on no street "
        f"(the file has {len(osm_streets['xy'])} street nodes of {osm_streets['n_file_nodes']})"
    )
    assert set(osm_streets["xy"]) <= set(network.nodes)


def test_main_piece_holds_most_of_the_network(walk, street_graph):
    # Independently: the streets of the file, as drawn, are nearly all one piece.
    pieces = sorted((len(c) for c in nx.connected_components(street_graph)), reverse=True)
    assert pieces[0] / street_graph.number_of_nodes() > 0.8
    # The walk graph says the same of itself; 0 labels the largest piece.
    sizes = np.bincount(walk.components)
    assert sizes[0] == sizes.max()
    assert sizes[0] / walk.n_nodes > 0.8, f"main piece: {sizes[0]} of {walk.n_nodes} nodes in {len(sizes)} pieces"


# -- 2. a known pair -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(walk, boundary, main_street_nodes):
    """A: the main-piece street node nearest the extract's centroid; B: the one 600-1,200 m from A nearest 900 m."""
    c = boundary.centroid
    a = _nearest(walk, main_street_nodes, c.x, c.y)
    d = np.hypot(walk.x[main_street_nodes] - walk.x[a], walk.y[main_street_nodes] - walk.y[a])
    ok = (d >= 600) & (d <= 1_200)
    assert ok.sum() > 10
    b = int(main_street_nodes[ok][np.argmin(np.abs(d[ok] - 900))])
    return a, b


def test_known_pair_agrees_with_networkx(network, walk, pair):
    a, b = pair
    straight = float(np.hypot(walk.x[a] - walk.x[b], walk.y[a] - walk.y[b]))
    assert 600 <= straight <= 1_200
    got = distance_to_nearest(walk, _one_resident(walk, a), [walk.x[b]], [walk.y[b]], limit=5_000)[0]

    simple = nx.Graph()
    for u, v, length in network.edges(data="length"):
        if u != v and (not simple.has_edge(u, v) or simple[u][v]["length"] > length):
            simple.add_edge(u, v, length=length)
    want = nx.shortest_path_length(simple, walk.node_ids[a], walk.node_ids[b], weight="length")
    assert got == pytest.approx(want, rel=0.01)
    assert straight <= got < 2 * straight, (got, straight)


def test_walks_follow_streets_only(walk, pair, main_street_nodes, street_graph):
    """From A, walking distances to every street node within the limit are the streets' own, no shortcuts."""
    a, _ = pair
    targets = main_street_nodes
    res = pd.DataFrame(
        {
            "lsoa_code": "E01000000",
            "population": 1.0,
            "x": walk.x[targets],
            "y": walk.y[targets],
            "node": targets,
            "snap_m": 0.0,
        }
    )
    got = distance_to_nearest(walk, res, [walk.x[a]], [walk.y[a]], limit=5_000)
    ref = nx.single_source_dijkstra_path_length(street_graph, int(walk.node_ids[a]), weight="length")
    want = np.array([ref.get(int(walk.node_ids[t]), np.inf) for t in targets])
    near = want <= LIMIT
    assert near.sum() > 100
    # The library measures along the ground (haversine); the reference on the grid: within 1 %.
    short = got[near] < want[near] * 0.99
    assert not short.any(), (
        f"{int(short.sum())} of {int(near.sum())} street nodes are reached by a walk shorter than any along the "
        f"streets, by up to {np.max(want[near] - got[near]):.0f} m"
    )
    assert np.all(got[near] <= want[near] * 1.01)


# -- 3. distances over the whole extract ----------------------------------------------------------


@pytest.fixture(scope="module")
def spread_assets(walk, boundary, residents, main_street_nodes):
    """Five assets at main-piece street nodes inside the extract that hold residents.

    They go near the midpoints between the polygon's centroid and each of its first five corners.
    Every asset serves element 1; asset i also serves element i + 2 alone.
    """
    homes = np.intersect1d(main_street_nodes, residents.loc[residents["placement"].eq("node"), "node"])
    homes = homes[boundary.contains(gpd.points_from_xy(walk.x[homes], walk.y[homes]))]
    assert len(homes) > 100
    c = boundary.centroid
    corners = list(boundary.exterior.coords)[:5]
    nodes = [_nearest(walk, homes, (c.x + x) / 2, (c.y + y) / 2) for x, y in corners]
    assert len(set(nodes)) == len(nodes)
    return nodes, _assets_at(walk, nodes, [(1, i + 2) for i in range(len(nodes))])


def test_residents_carry_the_lsoas_population(real_data, lsoas, residents):
    assert len(lsoas) >= 3
    # The population from the raw file, read without the library.
    raw = pd.read_csv(real_data / "deprivation" / "IoD2025_File_7_manchester_partial.csv", encoding="utf-8-sig")
    raw = raw.set_index("LSOA code (2021)")["Total population: mid 2022"]
    raw = pd.to_numeric(raw.astype(str).str.replace(",", ""), errors="raise")
    want = raw.reindex(lsoas["code"])
    assert want.notna().all()
    got = residents.groupby("lsoa_code")["population"].sum()
    assert set(got.index) == set(lsoas["code"])
    assert got.reindex(want.index).to_numpy() == pytest.approx(want.to_numpy())
    assert residents["population"].sum() == pytest.approx(want.sum())
    assert (residents["population"] > 0).all()


@pytest.fixture(scope="module")
def spread_access(walk, residents, spread_assets):
    """Access to the five assets, walking (network) and as the crow flies (straight-line)."""
    _, assets = spread_assets
    return (
        compute_access(residents, assets, graph=walk, limit=LIMIT),
        compute_access(residents, assets, graph=None, limit=LIMIT),
    )


def test_distances_are_sane_over_the_extract(walk, residents, spread_assets, spread_access):
    nodes, _ = spread_assets
    net, line = spread_access
    assert net.method == "network" and line.method == "straight-line"
    assert list(net.distance.columns) == list(line.distance.columns)
    assert net.residents["population"].sum() == pytest.approx(residents["population"].sum())

    # No walk is shorter than the straight line to the nearest asset of the group.
    for key in ["e1", "e2", "e3", "e4", "e5", "e6", "scaling", "involving"]:
        d_net, d_line = net.distance[key].to_numpy(), line.distance[key].to_numpy()
        finite = np.isfinite(d_net)
        assert finite.any(), key
        assert np.all(d_net[finite] >= d_line[finite] - 1e-6), key
        assert np.all(d_net[finite] <= LIMIT)
    # Groups no asset serves are out of reach everywhere.
    assert np.isinf(net.distance["e11"]).all()

    # A resident standing on an asset's node is 0 m from it.
    snapped, snap_m = snap_points(walk, [walk.x[n] for n in nodes], [walk.y[n] for n in nodes])
    assert snap_m == pytest.approx(0.0, abs=1e-6)
    for i, node in enumerate(snapped):
        here = residents.index[(residents["node"] == node) & (residents["snap_m"] == 0)]
        assert len(here) > 0
        assert net.distance.loc[here, "e1"].to_numpy() == pytest.approx(0.0, abs=1e-6)
        assert net.distance.loc[here, f"e{i + 2}"].to_numpy() == pytest.approx(0.0, abs=1e-6)


def test_main_network_inside_the_extract_is_within_reach(walk, residents, boundary, spread_assets, spread_access):
    nodes, _ = spread_assets
    net, line = spread_access
    # Residents at main-network nodes inside the extract: each is within a few hundred metres of an
    # asset as the crow flies (measured here with numpy), so a sane walk there is within the limit.
    xy = residents[["x", "y"]].to_numpy()
    asset_xy = np.column_stack([walk.x[nodes], walk.y[nodes]])
    crow = np.hypot(xy[:, None, 0] - asset_xy[None, :, 0], xy[:, None, 1] - asset_xy[None, :, 1]).min(axis=1)
    assert line.distance["e1"].to_numpy()[crow < LIMIT] == pytest.approx(crow[crow < LIMIT])
    inside = boundary.contains(gpd.points_from_xy(xy[:, 0], xy[:, 1]))
    on_main = residents["placement"].eq("node").to_numpy() & (walk.components[residents["node"]] == 0) & inside
    assert on_main.sum() > 100
    assert crow[on_main].max() < LIMIT / 2
    walk_m = net.distance.loc[on_main, "e1"].to_numpy()
    assert np.isfinite(walk_m).all(), (
        f"{int((~np.isfinite(walk_m)).sum())} of {int(on_main.sum())} such residents have no walk within "
        f"{LIMIT:,.0f} m though the nearest asset is at most {crow[on_main].max():,.0f} m away as the crow flies"
    )


def test_residents_are_placed_on_streets(walk, residents, osm_streets):
    """Residents are spread over the street network's nodes, not over building outlines or land-use edges."""
    at_node = residents[residents["placement"].eq("node")]
    ids = walk.node_ids[at_node["node"].to_numpy()].astype(np.int64)
    on_street = np.isin(ids, list(osm_streets["xy"]))
    share = at_node.loc[on_street, "population"].sum() / at_node["population"].sum()
    assert on_street.all(), f"only {share:.0%} of the population placed at nodes is on a street node"


# -- 4. disconnected pieces --------------------------------------------------------------------


def test_disconnected_pieces_are_reported_not_dropped(walk, residents, boundary, main_street_nodes):
    c = boundary.centroid
    hub = _nearest(walk, main_street_nodes, c.x, c.y)
    assert walk.components[hub] == 0
    assets = _assets_at(walk, [hub], [(11,)])
    result = compute_access(residents, assets, graph=walk, groups=["e11"], limit=LIMIT)

    # Nobody is dropped.
    assert len(result.residents) == len(residents) == len(result.distance)
    assert result.residents["population"].sum() == pytest.approx(residents["population"].sum())

    # Independently: residents on a piece other than the hub's cannot walk to it at any distance.
    piece = walk.components[residents["node"].to_numpy()]
    pop = residents["population"].to_numpy()
    off = piece != walk.components[hub]
    row = result.unreachable.set_index("group").loc["e11"]
    assert row["n_assets"] == 1
    assert row["population_no_path"] == pytest.approx(pop[off].sum())
    # Residents off the main network are kept, counted as having no path, and mentioned in the notes.
    if off.any():
        assert row["population_no_path"] > 0
        assert np.isinf(result.distance.loc[off, "e11"]).all()
        assert any("not joined to the main network" in n for n in result.notes)
    # The rest either reach it within the limit or are counted beyond it.
    d = result.distance["e11"].to_numpy()
    assert row["population_beyond_limit"] == pytest.approx(pop[~off & ~np.isfinite(d)].sum())
    assert pop[~off & np.isfinite(d)].sum() + row["population_no_path"] + row[
        "population_beyond_limit"
    ] == pytest.approx(pop.sum())
