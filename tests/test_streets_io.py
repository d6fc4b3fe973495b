"""Streets for a printed map's base: OpenStreetMap XML and PBF, OS Open Roads and other line layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from assetmap._errors import DataFormatError
from assetmap.io.streets import read_streets, streets_format


def _pbf_from(osm_path, out) -> None:
    """Write ``osm_path`` as an .osm.pbf with pyosmium, as a Geofabrik extract is stored."""
    import osmium

    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(str(osm_path)):
            writer.add(obj)


@pytest.mark.realdata
def test_osm_xml_and_pbf_give_the_same_classed_and_named_streets(real_data, tmp_path):
    osm = real_data / "osm" / "levenshulme.osm"
    pbf = tmp_path / "levenshulme.osm.pbf"
    _pbf_from(osm, pbf)
    assert streets_format(osm) == "osm" and streets_format(pbf) == "pbf"
    xml, packed = read_streets(osm), read_streets(pbf)
    assert xml.source == packed.source == "osm"
    assert len(xml.lines) == len(packed.lines) > 150
    assert xml.lines["cls"].value_counts().to_dict() == packed.lines["cls"].value_counts().to_dict()
    assert {"major", "minor", "path"} <= set(xml.lines["cls"])
    assert sorted(xml.lines["name"]) == sorted(packed.lines["name"])
    assert "Dickenson Road" in set(xml.lines["name"])
    # In British National Grid metres, in Manchester.
    minx, miny, maxx, maxy = xml.lines.total_bounds
    assert 380_000 < minx < maxx < 395_000 and 390_000 < miny < maxy < 400_000
    assert np.allclose(xml.lines.length.sum(), packed.lines.length.sum())


@pytest.mark.realdata
def test_a_box_keeps_only_the_streets_that_cross_it(real_data):
    osm = real_data / "osm" / "levenshulme.osm"
    whole = read_streets(osm)
    minx, miny, maxx, maxy = whole.lines.total_bounds
    half = (minx, miny, (minx + maxx) / 2, (miny + maxy) / 2)
    part = read_streets(osm, bbox=half)
    assert 0 < len(part.lines) < len(whole.lines)
    with pytest.raises(DataFormatError, match=r"levenshulme\.osm: no streets in it within the area"):
        read_streets(osm, bbox=(0.0, 0.0, 100.0, 100.0))


def _open_roads(path) -> None:
    """A GeoPackage shaped like OS Open Roads: a road_link line layer (and a road_node layer) in EPSG:27700."""
    links = gpd.GeoDataFrame(
        {
            "road_classification": ["A Road", "B Road", "Unclassified", "Not Classified", "Motorway"],
            "name_1": ["Stockport Road", "Barlow Road", None, "Chapel Street", ""],
            "road_function": ["A Road", "B Road", "Local Road", "Local Road", "Motorway"],
        },
        geometry=[
            LineString([(386000, 395000), (386500, 395000)]),
            LineString([(386000, 395100), (386000, 395600)]),
            LineString([(386100, 395100), (386200, 395200)]),
            LineString([(386300, 395100), (386400, 395300)]),
            LineString([(390000, 399000), (391000, 399000)]),
        ],
        crs=27700,
    )
    links.to_file(path, layer="road_node_first", driver="GPKG")  # not the road layer: the reader must pick it
    links.to_file(path, layer="road_link", driver="GPKG")


def test_os_open_roads_geopackage_is_read_by_its_road_link_layer(tmp_path):
    gpkg = tmp_path / "open_roads.gpkg"
    _open_roads(gpkg)
    assert streets_format(gpkg) == "vector"
    base = read_streets(gpkg)
    assert base.source == "lines"
    assert base.lines["cls"].tolist() == ["major", "medium", "minor", "minor", "major"]
    assert base.lines["name"].tolist() == ["Stockport Road", "Barlow Road", "", "Chapel Street", ""]
    clipped = read_streets(gpkg, bbox=(385_900, 394_900, 386_600, 395_700))
    assert len(clipped.lines) == 4


def test_a_file_that_is_not_streets_is_refused_by_name(tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, these are not roads\n")
    with pytest.raises(DataFormatError, match=r"notes\.txt: not an OpenStreetMap extract .*--streets"):
        read_streets(bad)
    with pytest.raises(DataFormatError, match="missing or empty streets file"):
        read_streets(tmp_path / "nowhere.osm")


def test_places_are_named_and_an_extract_cut_way_keeps_what_it_has(tmp_path):
    osm = tmp_path / "tiny.osm"
    osm.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="53.4450" lon="-2.1900"/>
  <node id="2" lat="53.4455" lon="-2.1890"/>
  <node id="3" lat="53.4460" lon="-2.1880"/>
  <node id="9" lat="53.4452" lon="-2.1895"><tag k="place" v="suburb"/><tag k="name" v="Levenshulme"/></node>
  <node id="8" lat="53.4453" lon="-2.1896"><tag k="place" v="house"/><tag k="name" v="Not a place"/></node>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="99"/>
    <tag k="highway" v="residential"/><tag k="name" v="Chapel Street"/></way>
  <way id="11"><nd ref="1"/><nd ref="3"/><tag k="highway" v="proposed"/></way>
  <way id="12"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>
</osm>
"""
    )
    base = read_streets(osm)
    assert base.lines["name"].tolist() == ["Chapel Street"] and base.lines["cls"].tolist() == ["minor"]
    assert len(base.lines.geometry.iloc[0].coords) == 3  # node 99 lies outside the extract
    assert base.places["name"].tolist() == ["Levenshulme"]
