"""Reading street networks: only what people can walk on becomes a street."""

from __future__ import annotations

import pytest

from assetmap._errors import DataFormatError
from assetmap.io.network import read_network

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
