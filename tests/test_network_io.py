"""Reading street networks: only what people can walk on becomes a street."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from assetmap import settings
from assetmap._errors import DataFormatError, ValidationError
from assetmap.analysis.walkgraph import snap_points, walk_graph_from_edges
from assetmap.io.network import network_format, read_network, read_street_edges

NODES = "\n".join(
    f'  <node id="{i}" lat="{53.44 + (i // 10) * 0.001:.4f}" lon="{-2.19 + (i % 10) * 0.001:.4f}"/>'
    for i in range(1, 30)
)


def _way(way_id: int, nodes: list[int], **tags: str) -> str:
    refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
    kv = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'  <way id="{way_id}">{refs}{kv}</way>'


def _osm(tmp_path, *ways: str):
    path = tmp_path / "streets.osm"
    path.write_text(
        f"<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n{NODES}\n" + "\n".join(ways) + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def test_only_walkable_ways_become_streets(tmp_path):
    path = _osm(
        tmp_path,
        _way(100, [1, 2, 3], highway="residential", name="Kept Road"),
        _way(101, [3, 4], highway="footway"),
        _way(102, [4, 5], highway="service", access="private"),  # an estate road: its residents walk it
        _way(103, [11, 12, 13, 11], building="yes"),  # a building outline is not a street
        _way(104, [5, 14], landuse="railway"),
        _way(105, [21, 22], highway="motorway"),
        _way(106, [22, 23], highway="construction"),
        _way(107, [23, 24], highway="path", foot="no"),
        _way(108, [24, 25], highway="pedestrian", area="yes"),
    )
    graph = read_network(path)
    assert set(graph.nodes) == {1, 2, 3, 4, 5}
    assert {d["osmid"] for _, _, d in graph.edges(data=True)} == {100, 101, 102}
    assert str(graph.graph["crs"]).upper().endswith("27700")
    assert all(d["length"] > 0 for _, _, d in graph.edges(data=True))


def test_file_with_no_streets_refused(tmp_path):
    path = _osm(tmp_path, _way(103, [11, 12, 13, 11], building="yes"))
    with pytest.raises(DataFormatError, match="no walkable streets"):
        read_network(path)


def test_graphml_saved_by_osmnx_reads_back_alike(tmp_path):
    import osmnx as ox

    path = _osm(
        tmp_path,
        _way(100, [1, 2, 3], highway="residential"),
        _way(101, [3, 4], highway="footway"),
        _way(103, [11, 12, 13, 11], building="yes"),
    )
    graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)  # buildings included
    ox.save_graphml(graph, tmp_path / "streets.graphml")
    again = read_network(tmp_path / "streets.graphml")
    assert set(again.nodes) == {1, 2, 3, 4}
    assert sorted(round(d["length"], 6) for _, _, d in again.edges(data=True)) == sorted(
        round(d["length"], 6) for _, _, d in read_network(path).edges(data=True)
    )


# -- the lean readers: the same walks from OpenStreetMap XML, PBF and OS Open Roads as osmnx gave --------------


def _osmnx_walk_graph(path):
    """The walk graph as it was built before the lean readers: osmnx's graph of every way, filtered, projected."""
    import osmnx as ox

    from assetmap.analysis.walkgraph import walk_graph_from_networkx
    from assetmap.io.network import walkable_streets

    tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = [*tags, "foot"]
    try:
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
    finally:
        ox.settings.useful_tags_way = tags
    return walk_graph_from_networkx(ox.project_graph(walkable_streets(graph), to_crs=settings.analysis_crs))


def _lean_walk_graph(path, clip=None):
    edges = read_street_edges(path, clip=clip)
    return walk_graph_from_edges(edges.x, edges.y, edges.u, edges.v, edges.length, node_ids=edges.node_ids)


def _walks(graph, points):
    """Walking distances between fixed points (snapped to the graph), in metres."""
    node, _ = snap_points(graph, points[:, 0], points[:, 1])
    return dijkstra(graph.csr, directed=False, indices=node)[:, node]


def _fixed_points(graph, n=25):
    main = np.flatnonzero(graph.components == 0)
    pick = main[np.linspace(0, len(main) - 1, n).astype(int)]
    return np.column_stack([graph.x[pick], graph.y[pick]])


def _write_pbf(source, target):
    import osmium

    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            writer.add(obj)
    return target


def _write_open_roads(graph, target):
    """An OS Open Roads-shaped GeoPackage of a walk graph: a RoadLink per street, plus a motorway to leave out."""
    import geopandas as gpd
    import shapely

    coo = sparse.triu(graph.csr).tocoo()
    lines = shapely.linestrings(
        np.stack(
            [
                np.column_stack([graph.x[coo.row], graph.y[coo.row]]),
                np.column_stack([graph.x[coo.col], graph.y[coo.col]]),
            ],
            1,
        )
    )
    # A motorway straight across the area: a shortcut no one may walk.
    far = np.argmax(np.hypot(graph.x - graph.x[0], graph.y - graph.y[0]))
    motorway = shapely.linestrings([[graph.x[0], graph.y[0]], [graph.x[far], graph.y[far]]])
    ids = [str(i) for i in graph.node_ids]
    links = gpd.GeoDataFrame(
        {
            "road_classification": ["Unclassified"] * len(lines) + ["Motorway"],
            "road_function": ["Local Road"] * len(lines) + ["Motorway"],
            "start_node": [ids[i] for i in coo.row] + [ids[0]],
            "end_node": [ids[i] for i in coo.col] + [ids[far]],
        },
        geometry=[*lines, motorway],
        crs=settings.analysis_crs,
    )
    links.to_file(target, layer="road_link", driver="GPKG")
    nodes = gpd.GeoDataFrame({"id": ids}, geometry=gpd.points_from_xy(graph.x, graph.y), crs=settings.analysis_crs)
    nodes.to_file(target, layer="road_node", driver="GPKG")
    return target


def test_levenshulme_same_walks_from_xml_pbf_and_open_roads(real_data, tmp_path):
    osm = real_data / "osm" / "levenshulme.osm"
    before = _osmnx_walk_graph(osm)
    xml = _lean_walk_graph(osm)
    pbf_path = _write_pbf(osm, tmp_path / "levenshulme.osm.pbf")
    assert network_format(pbf_path) == "pbf"
    pbf = _lean_walk_graph(pbf_path)
    roads = _lean_walk_graph(_write_open_roads(xml, tmp_path / "open_roads.gpkg"))
    points = _fixed_points(before)
    expected = _walks(before, points)
    assert np.isfinite(expected).all() and expected.max() > 500
    for graph in (xml, pbf, roads):
        assert graph.n_nodes == before.n_nodes
        assert (graph.components == 0).mean() == pytest.approx((before.components == 0).mean(), rel=0.005)
        np.testing.assert_allclose(_walks(graph, points), expected, rtol=0.005)


def test_demo_streets_same_walks_as_before():
    osm = settings.demo_area_path / "streets" / "demo_streets.osm"
    before = _osmnx_walk_graph(osm)
    lean = _lean_walk_graph(osm)
    assert lean.n_nodes == before.n_nodes and lean.n_edges == before.n_edges
    assert (lean.components == 0).mean() == pytest.approx((before.components == 0).mean(), rel=0.005)
    points = _fixed_points(before)
    np.testing.assert_allclose(_walks(lean, points), _walks(before, points), rtol=0.005)


def test_streets_beyond_the_clip_are_left_out_and_elsewhere_refused():
    osm = settings.demo_area_path / "streets" / "demo_streets.osm"
    whole = _lean_walk_graph(osm)
    minx, miny, maxx, maxy = whole.bounds
    half = (minx, miny, (minx + maxx) / 2, maxy)
    clipped = _lean_walk_graph(osm, clip=half)
    assert 0 < clipped.n_nodes < whole.n_nodes
    # Every street kept has an end inside the clip.
    inside = (clipped.x <= half[2]).astype(int)
    coo = clipped.csr.tocoo()
    assert (inside[coo.row] + inside[coo.col] >= 1).all()
    with pytest.raises(ValidationError, match="does not overlap"):
        read_street_edges(osm, clip=(0.0, 0.0, 1000.0, 1000.0))


def test_open_roads_inner_vertices_join_no_other_link(tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    # Two links crossing at a shared inner vertex (a bridge): no junction there. A plain line layer joins them.
    frame = gpd.GeoDataFrame(
        {"road_function": ["Local Road", "A Road"], "start_node": ["a", "c"], "end_node": ["b", "d"]},
        geometry=[LineString([(0, 0), (50, 0), (100, 0)]), LineString([(50, -50), (50, 0), (50, 50)])],
        crs=settings.analysis_crs,
    )
    frame.to_file(tmp_path / "roads.gpkg", layer="RoadLink", driver="GPKG")
    roads = read_street_edges(tmp_path / "roads.gpkg")
    assert len(roads.x) == 6 and set(roads.highway) == {"residential", "primary"}
    frame.drop(columns=["start_node", "end_node"]).to_file(tmp_path / "lines.geojson", driver="GeoJSON")
    lines = read_street_edges(tmp_path / "lines.geojson")
    assert network_format(tmp_path / "lines.geojson") == "lines" and len(lines.x) == 5


def test_several_line_layers_and_other_files_named_in_the_refusal(tmp_path, capsys):
    import geopandas as gpd
    from shapely.geometry import LineString

    from assetmap.cli import main

    line = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=settings.analysis_crs)
    line.to_file(tmp_path / "two.gpkg", layer="rivers", driver="GPKG")
    line.to_file(tmp_path / "two.gpkg", layer="paths", driver="GPKG")
    with pytest.raises(DataFormatError, match=r"two.gpkg: has several layers of lines \(rivers, paths\)"):
        read_street_edges(tmp_path / "two.gpkg")
    table = tmp_path / "streets.csv"
    table.write_text("name,length\nHigh Street,120\n", encoding="utf-8")
    assert main(["build-network", "--area", str(tmp_path), "--network", str(table)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --network streets.csv: not a street network") and ".osm.pbf" in err
