"""OpenStreetMap places into the register, and walk networks saved in the area folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assetmap import settings
from assetmap.area import sources
from assetmap.area.load import load_area
from assetmap.area.manifest import read_manifest
from assetmap.area.register import open_area_register
from assetmap.cli import main
from assetmap.io import osm
from assetmap.store import open_store

FIXTURE = Path(__file__).parent / "fixtures" / "osm" / "elmfield.osm"


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "register.sqlite") as s:
        yield s


@pytest.fixture
def area_dir(tmp_path) -> Path:
    target = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, target, ignore=shutil.ignore_patterns("register.sqlite*"))
    return target


def test_synthetic_extract_types_and_exclusions(store):
    result = sources.import_osm(store, osm.features_from_xml(FIXTURE), status="approved", actor="officer")
    records = store.records(public=False).set_index("source_id")
    assert dict(records["type"]) == {
        "node/1001": "community_centre",
        "node/1002": "faith_group",
        "node/1004": "growing_hub",
        "node/1005": "food_bank",
        "way/2001": "library",
        "way/2002": "allotment",
    }
    assert set(records["source"]) == {"osm"} and set(records["status"]) == {"approved"}
    names = set(records["name"])
    for excluded in (
        "Residents' Private Hall",
        "Number 9 House",
        "Elmfield Estate",
        "Elm Court",
        "Elm Lodge Care Home",
    ):
        assert excluded not in names
    assert "Private Back Garden" not in names  # a garden not tagged garden:type=community
    centre = records.loc["node/1001"]
    assert centre["postcode"] == "M19 2AB" and centre["address"] == "12 Elm Street"
    assert centre["website"] == "https://elmstreet.example.org"
    assert records.loc["node/1005", "postcode"] is None  # a malformed postcode is dropped, not the place
    # A polygon is placed at its representative point, inside its outline.
    library = records.loc["way/2001"]
    assert -2.1870 < library["longitude"] < -2.1866 and 53.4400 < library["latitude"] < 53.4404
    assert any("access=private" in line for line in result.skipped)
    assert any("building=house" in line for line in result.skipped)
    assert len(result.added) == 6


def test_reimport_changes_nothing_and_a_rename_updates(store, tmp_path):
    first = sources.import_osm(store, osm.features_from_xml(FIXTURE), actor="officer")
    audit_rows = len(store.audit())
    second = sources.import_osm(store, osm.features_from_xml(FIXTURE), actor="officer")
    assert second.added == [] and second.updated == [] and len(second.unchanged) == len(first.added)
    assert len(store.audit()) == audit_rows  # no audit rows for records that did not change

    renamed = tmp_path / "renamed.osm"
    renamed.write_text(
        FIXTURE.read_text(encoding="utf-8").replace("Elmfield Library", "Elmfield Community Library"),
        encoding="utf-8",
    )
    third = sources.import_osm(store, osm.features_from_xml(renamed), actor="officer")
    assert len(third.updated) == 1 and third.added == []
    record = store.get(third.updated[0])
    assert record["name"] == "Elmfield Community Library" and record["source_id"] == "way/2001"
    assert store.audit(third.updated[0])["action"].tolist()[-1] == "edit"
    assert len(store.records(public=False)) == len(first.added)


def test_similar_name_nearby_is_matched_not_added(store):
    store.submit(
        {"name": "Elm St Community Centre", "type": "community_centre", "longitude": -2.19001, "latitude": 53.44001},
        actor="form",
    )
    result = sources.import_osm(store, osm.features_from_xml(FIXTURE), actor="officer")
    assert [sid for sid, _ in result.matched] == ["node/1001"]
    assert len(store.records(public=False)) == 6  # 5 new + the form's record


def test_tag_map_is_data_and_checked(tmp_path):
    tag_map = osm.load_tag_map()
    assert tag_map.query_tags()["club"] is True
    assert "private" in tag_map.exclude["access"]
    bad = tmp_path / "tags.toml"
    bad.write_text('[[rules]]\ntags = { amenity = "library" }\ntype = "spaceport"\n', encoding="utf-8")
    with pytest.raises(Exception, match="spaceport"):
        osm.load_tag_map(bad)
    own = tmp_path / "own.toml"
    own.write_text('[[rules]]\ntags = { amenity = "library" }\ntype = "library"\n', encoding="utf-8")
    records, _ = osm.assets_from_features(osm.features_from_xml(FIXTURE, osm.load_tag_map(own)), osm.load_tag_map(own))
    assert [r["type"] for r in records] == ["library"]


def test_not_osm_xml_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.osm"
    bad.write_text("name,type\n", encoding="utf-8")
    with pytest.raises(Exception, match="not an OpenStreetMap XML"):
        osm.features_from_xml(bad)


def test_cli_import_and_network_saved_in_area(area_dir, capsys):
    assert main(["import-osm", "--area", str(area_dir), "--xml", str(FIXTURE), "--status", "approved"]) == 0
    out = capsys.readouterr().out
    assert "6 added" in out and "OpenStreetMap contributors" in out
    assert main(["import-osm", "--area", str(area_dir), "--xml", str(FIXTURE)]) == 0
    assert "0 added, 0 updated, 6 unchanged" in capsys.readouterr().out

    # The extract's streets are in Manchester, not in the demo borough: refused, the area left as it was.
    manifest = (area_dir / "area.toml").read_text(encoding="utf-8")
    assert main(["build-network", "--area", str(area_dir), "--xml", str(FIXTURE)]) == 2
    assert "elmfield.osm: the street network does not overlap" in capsys.readouterr().err
    assert (area_dir / "area.toml").read_text(encoding="utf-8") == manifest
    assert not (area_dir / "streets" / FIXTURE.name).exists()

    own = shutil.copy(area_dir / "streets" / "demo_streets.osm", area_dir.parent / "own_streets.osm")
    assert main(["build-network", "--area", str(area_dir), "--network", str(own)]) == 0
    saved = area_dir / "streets" / "own_streets.osm"
    assert saved.is_file()
    spec = read_manifest(area_dir)["layers"]["network"]
    assert spec["path"] == "streets/own_streets.osm" and spec["source"] == "osm"
    area = load_area(area_dir)
    assert area.network_path == saved.resolve()
    assert "OpenStreetMap" in area.attribution
    graph = area.network()
    assert graph.graph["crs"] == settings.analysis_crs
    highways = {d["highway"] for _, _, d in graph.edges(data=True)}
    assert "motorway" not in highways and {"residential", "footway"} <= highways
    with open_area_register(area_dir) as register:
        assert (register.records(public=False)["source"] == "osm").sum() == 6
    # The extract lies in Manchester, far beyond the demo borough's border buffer: left out, and counted.
    assert (area.assets["source"] == "osm").sum() == 0 and area.assets_left_out >= 6


def test_real_levenshulme_extract(real_data, tmp_path):
    extract = real_data / "osm" / "levenshulme.osm"
    with open_store(tmp_path / "register.sqlite") as store:
        first = sources.import_osm(store, osm.features_from_xml(extract), actor="officer")
        records = store.records(public=False)
        # Levenshulme's mapped community places are its churches and mosques.
        assert len(records) >= 5 and set(records["type"]) == {"faith_group"}
        assert {"St Agnes' Church", "Shahporan Mosjid"} <= set(records["name"])
        assert records["source_id"].str.fullmatch(r"(node|way|relation)/\d+").all()
        assert (records["name"] == "makki masjid").sum() == 1  # two outlines of one mosque, one record
        # Nothing residential leaks in: no feature the mapping excludes, none of the terraces.
        features = osm.features_from_xml(extract)
        kept = {tuple(s.split("/")) for s in records["source_id"]}
        for (element, osm_id), row in features.iterrows():
            if (element, str(osm_id)) in kept:
                assert row.get("building") not in ("residential", "house", "terrace", "apartments")
                assert row.get("landuse") != "residential"
        audit_rows = len(store.audit())
        second = sources.import_osm(store, osm.features_from_xml(extract), actor="officer")
        assert second.added == [] and second.updated == [] and len(store.audit()) == audit_rows
        assert len(store.records(public=False)) == len(first.added)


def _data_page() -> None:
    from assetmap.ui.pages import data

    data.page()


def test_data_page_offers_the_osm_import(area_dir, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from assetmap.ui import auth

    monkeypatch.setattr(auth, "current_officer", lambda: "officer")  # the page is for signed-in officers
    monkeypatch.setattr(settings, "default_area_path", area_dir)
    st.cache_resource.clear()
    at = AppTest.from_function(_data_page, default_timeout=90).run()
    assert not at.exception
    assert any(h.value == "Import community places from OpenStreetMap (file)" for h in at.subheader)
    assert at.radio(key="data_osm_status").value == "pending"
    st.cache_resource.clear()
