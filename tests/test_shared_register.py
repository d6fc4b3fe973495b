"""Every way into an area's register honours a shared register named by ASSETMAP_REGISTER_URL.

With a shared register (SQLite or PostGIS), imports from Open Referral and
OpenStreetMap (command line, library and Data page), the ORUK export, the public
form and its spreadsheet upload, an officer's edit and approval on the Moderate
page, the grants import, housekeeping and the map all use it, and the area folder
gets no register of its own; without one, each uses the folder's ``register.sqlite``. (Importing used to open the folder's own file
always: "3 added", and nothing on the map or the Moderate page.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from officers import OFFICER, copy_demo_area, sign_in, with_officer
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.area.load import load_area
from assetmap.area.register import ward_finder
from assetmap.area.sources import import_oruk_to_area, import_osm_to_area
from assetmap.cli import main
from assetmap.store import REGISTER_FILE, open_store

FIXTURES = Path(__file__).parent / "fixtures"
TIMEOUT_S = 120


@pytest.fixture(params=["own", "shared_sqlite", pytest.param("shared_postgis", marks=pytest.mark.postgis)])
def register(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A demo area copy on show, and where its register is: its own file, or a shared one."""
    area = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", area)
    monkeypatch.setattr(settings, "areas_dir", tmp_path / "areas")
    if request.param == "own":
        url = str(area / REGISTER_FILE)
    elif request.param == "shared_sqlite":
        url = str(tmp_path / "shared" / REGISTER_FILE)
    else:
        url = request.getfixturevalue("postgis_server").fresh_database()
    if request.param != "own":
        monkeypatch.setattr(settings, "register_url", url)
    st.cache_resource.clear()
    yield {"area": area, "url": url, "shared": request.param != "own"}
    st.cache_resource.clear()


def _names(url: str, **filters) -> set[str]:
    with open_store(url) as store:
        return set(store.records(public=False, **filters)["name"])


def _no_own_register_when_shared(register: dict) -> None:
    if register["shared"]:
        assert not (register["area"] / REGISTER_FILE).exists(), "a register was made in the area folder"


# Two places in the demo borough, and one far outside it.
INSIDE = [("Eastbrook Tenants Forum", 51.553772, -0.104803), ("Eastbrook Lunch Club", 51.5542, -0.1041)]
OUTSIDE = ("Faraway Hall", 53.45, -2.185)


def _oruk(path: Path) -> Path:
    services = [
        {
            "id": f"svc-{i}",
            "name": name,
            "status": "active",
            "service_at_locations": [{"location": {"latitude": lat, "longitude": lon}}],
        }
        for i, (name, lat, lon) in enumerate([*INSIDE, OUTSIDE])
    ]
    path.write_text(json.dumps({"contents": services}), encoding="utf-8")
    return path


def _osm(path: Path) -> Path:
    nodes = "".join(
        f'<node id="{900 + i}" version="1" lat="{lat}" lon="{lon}">'
        f'<tag k="amenity" v="community_centre"/><tag k="name" v="{name}"/></node>'
        for i, (name, lat, lon) in enumerate([*INSIDE, OUTSIDE])
    )
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?><osm version="0.6">{nodes}</osm>', encoding="utf-8")
    return path


def _map_names(area: Path) -> set[str]:
    """The approved records the area on show counts (and its map draws)."""
    from assetmap.ui import common

    st.cache_resource.clear()
    return set(common.get_area(area).approved_assets()["name"])


@pytest.mark.parametrize("source", ["oruk", "osm"])
def test_imports_go_where_the_map_and_moderate_page_look(register: dict, source: str, tmp_path: Path, capsys) -> None:
    area = str(register["area"])
    if source == "oruk":
        args = ["import-oruk", "--area", area, str(_oruk(tmp_path / "services.json")), "--default-type", "vcse_group"]
    else:
        args = ["import-osm", "--area", area, "--xml", str(_osm(tmp_path / "places.osm"))]
    assert main([*args, "--status", "approved"]) == 0
    assert "3 added" in capsys.readouterr().out
    _no_own_register_when_shared(register)
    # In the register the app opens, each placed in its ward (none for the place outside the area).
    with open_store(register["url"]) as store:
        held = store.records(status=["approved"], public=False).set_index("name")["area_code"]
    assert set(held.index) == {name for name, _, _ in [*INSIDE, OUTSIDE]}
    assert held[[name for name, _, _ in INSIDE]].str.startswith("E05").all()
    assert held.isna()[OUTSIDE[0]]
    # On the area's map: the places inside it.
    assert {name for name, _, _ in INSIDE} <= _map_names(register["area"])
    if source == "oruk":
        out = tmp_path / "out.json"
        assert main(["export-oruk", "--area", area, "--out", str(out)]) == 0
        assert {s["name"] for s in json.loads(out.read_text(encoding="utf-8"))["contents"]} == set(held.index)


def test_public_form_and_housekeeping_use_the_register_the_app_reads(register: dict) -> None:
    def add_page() -> None:
        from assetmap.ui.pages import add_group

        add_group.page()

    at = AppTest.from_function(add_page, default_timeout=TIMEOUT_S).run()
    at.text_input(key="add_name").input("Shared Register Knitters")
    at.selectbox(key="add_type").set_value("vcse_group")
    at.text_input(key="add_postcode").input("EB1 1AB")
    at.text_input(key="add_contact_email").input("knitters@example.org")
    at.checkbox(key="add_consent").check()
    at = at.button(key="add_send").click().run()
    assert not at.exception and not at.error
    assert _names(register["url"], status=["pending"]) == {"Shared Register Knitters"}
    assert main(["housekeeping", "--area", str(register["area"])]) == 0
    _no_own_register_when_shared(register)


def _submit(register: dict, name: str, lat: float, lon: float, *, approve: bool = False) -> str:
    """Put a record, placed in its ward as the public form places it, in the fixture's register."""
    (code,) = ward_finder(register["area"])([lon], [lat])
    record = {"name": name, "type": "vcse_group", "latitude": lat, "longitude": lon, "area_code": code}
    with open_store(register["url"]) as store:
        rid = store.submit(record, actor="public form")
        if approve:
            store.approve(rid, actor=OFFICER)
    return rid


def _page(name: str) -> None:
    import importlib

    importlib.import_module(f"assetmap.ui.pages.{name}").page()


def _signed_in(name: str) -> AppTest:
    at = sign_in(with_officer(AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT_S)).run())
    assert not at.exception and at.title[0].value != "Officers only"
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _csv(rows: list[dict]) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode()


# -- the library calls behind the command line and the Data page ----------------------------------------


@pytest.mark.parametrize("source", ["oruk", "osm"])
def test_library_imports_reach_the_areas_map(register: dict, source: str, tmp_path: Path) -> None:
    area = register["area"]
    if source == "oruk":
        result = import_oruk_to_area(area, _oruk(tmp_path / "s.json"), status="approved", default_type="vcse_group")
    else:
        result = import_osm_to_area(area, xml=_osm(tmp_path / "p.osm"), status="approved")
    assert len(result.added) == 3
    _no_own_register_when_shared(register)
    assert _names(register["url"]) == {name for name, _, _ in [*INSIDE, OUTSIDE]}
    assert {name for name, _, _ in INSIDE} <= set(load_area(area).assets["name"])


def test_grants_import_adds_a_layer_and_leaves_the_register_alone(register: dict, capsys) -> None:
    rid = _submit(register, *INSIDE[0], approve=True)
    assert main(["import-grants", "--area", str(register["area"]), str(FIXTURES / "grants" / "grants.json")]) == 0
    assert "5 grants" in capsys.readouterr().out
    _no_own_register_when_shared(register)
    area = load_area(register["area"])
    assert area.grants_path is not None and "grants" in area.vintages
    assert rid in set(area.assets["asset_id"])  # the area still reads its register
    assert _names(register["url"]) == {INSIDE[0][0]}  # grants are a layer, not records


# -- the app's pages: spreadsheet upload, Moderate (edit, approve), Data (OpenStreetMap file) --------------


def test_a_spreadsheet_upload_goes_to_the_register_the_map_reads(register: dict) -> None:
    rows = [{"name": name, "type": "vcse_group", "latitude": lat, "longitude": lon} for name, lat, lon in INSIDE]
    at = AppTest.from_function(_page, args=("add_group",), default_timeout=TIMEOUT_S).run()
    at.file_uploader(key="add_bulk_file_0").set_value(("groups.csv", _csv(rows), "text/csv"))
    at = at.run()
    at.checkbox(key="add_bulk_consent").check()
    at = at.run().button(key="add_bulk_send").click().run()
    assert not at.exception and not at.error
    _no_own_register_when_shared(register)
    names = {name for name, _, _ in INSIDE}
    assert _names(register["url"], status=["pending"]) == names
    with open_store(register["url"]) as store:  # once approved, the area's map shows them
        for rid in store.records(status="pending", public=False)["asset_id"]:
            store.approve(rid, actor=OFFICER)
    assert names <= _map_names(register["area"])


def test_an_officers_edit_on_the_moderate_page_is_saved_where_the_app_reads(register: dict) -> None:
    rid = _submit(register, *INSIDE[0])
    at = _signed_in("moderate")
    form = f"moderate_edit_{rid}_1"
    at.text_input(key=f"{form}_name").input("Eastbrook Tenants Association")
    at.number_input(key=f"{form}_latitude").set_value(INSIDE[1][1])
    at.number_input(key=f"{form}_longitude").set_value(INSIDE[1][2])
    at = _button(at, "Save changes").click().run()
    assert not at.exception and not at.error
    _no_own_register_when_shared(register)
    with open_store(register["url"]) as store:
        record = store.get(rid)
    assert record["name"] == "Eastbrook Tenants Association"
    assert record["area_code"] == ward_finder(register["area"])([INSIDE[1][2]], [INSIDE[1][1]])[0]


def test_an_approval_on_the_moderate_page_puts_the_record_on_the_map(register: dict) -> None:
    rid = _submit(register, *INSIDE[0])
    assert INSIDE[0][0] not in _map_names(register["area"])
    at = _button(_signed_in("moderate"), "Approve and publish").click().run()
    assert not at.exception and "Approved" in at.success[0].value
    _no_own_register_when_shared(register)
    assert rid in set(load_area(register["area"]).approved_assets()["asset_id"])
    assert INSIDE[0][0] in _map_names(register["area"])


def test_the_data_pages_openstreetmap_import_reaches_the_areas_map(register: dict, tmp_path: Path) -> None:
    at = _signed_in("data")
    at.file_uploader(key="data_osm_file").set_value(("places.osm", _osm(tmp_path / "p.osm").read_bytes(), "text/xml"))
    at.radio(key="data_osm_status").set_value("approved")
    at = _button(at, "Import from OpenStreetMap").click().run()
    assert not at.exception and not at.error
    assert next(m.value for m in at.metric if m.label == "Added") == "3"
    _no_own_register_when_shared(register)
    assert _names(register["url"], status=["approved"]) == {name for name, _, _ in [*INSIDE, OUTSIDE]}
    assert {name for name, _, _ in INSIDE} <= _map_names(register["area"])


def _border_place() -> tuple[str, float, float]:
    """A place 300 m west of the demo borough's westmost corner: beyond its boundary, within its buffer."""
    import geopandas as gpd
    import numpy as np
    import shapely

    wards = load_area(settings.demo_area_path, register=False).boundaries
    xy = shapely.get_coordinates(shapely.union_all(np.asarray(wards.geometry.array)).boundary)
    west = xy[xy[:, 0].argmin()]
    point = gpd.GeoSeries([shapely.Point(west[0] - 300, west[1])], crs=settings.analysis_crs).to_crs(4326).iloc[0]
    return ("Border Food Bank", point.y, point.x)


def test_register_records_follow_the_border_rule(register: dict, tmp_path: Path, capsys) -> None:
    border = _border_place()
    services = [
        {
            "id": f"svc-{i}",
            "name": name,
            "status": "active",
            "service_at_locations": [{"location": {"latitude": lat, "longitude": lon}}],
        }
        for i, (name, lat, lon) in enumerate([*INSIDE, border, OUTSIDE])
    ]
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"contents": services}), encoding="utf-8")
    area_dir = str(register["area"])
    args = ["import-oruk", "--area", area_dir, str(path), "--default-type", "vcse_group", "--status", "approved"]
    assert main(args) == 0, capsys.readouterr().err
    area = load_area(register["area"])
    names = area.assets.set_index("name")["area_code"]
    # Inside: in a ward. In the buffer: kept, in no ward, counted for access. Far away: not this area's.
    assert names[[n for n, _, _ in INSIDE]].notna().all()
    assert border[0] in names.index and pd.isna(names[border[0]])
    assert OUTSIDE[0] not in names.index
    assert area.area_summary()["n_assets"].sum() == area.approved_assets()["area_code"].notna().sum()
    assert area.access(network=False).n_assets["all"] == len(area.approved_assets())
    if register["shared"]:
        # A shared register holds other areas' records: they are theirs, not left out of this one.
        assert area.assets_left_out == 0
    else:
        assert area.assets_left_out == 1
        assert any(n.startswith("1 record lies outside Eastbrook") for n in area.notes)
