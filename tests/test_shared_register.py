"""Every way into an area's register honours a shared register named by ASSETMAP_REGISTER_URL.

With a shared register (SQLite or PostGIS), imports from Open Referral and
OpenStreetMap, the ORUK export, the public form, housekeeping and the map all use
it, and the area folder gets no register of its own; without one, each uses the
folder's ``register.sqlite``. (Importing used to open the folder's own file
always: "3 added", and nothing on the map or the Moderate page.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from officers import copy_demo_area
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap.cli import main
from assetmap.store import REGISTER_FILE, open_store

FIXTURES = Path(__file__).parent / "fixtures"
TIMEOUT_S = 120


@pytest.fixture(params=["own", "shared_sqlite", pytest.param("shared_postgis", marks=pytest.mark.postgis)])
def register(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """A demo area copy on show, and where its register is: its own file, or a shared one."""
    area = copy_demo_area(tmp_path)
    monkeypatch.setattr(settings, "default_area_path", area)
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
    at.checkbox(key="add_consent").check()
    at = at.button(key="add_send").click().run()
    assert not at.exception and not at.error
    assert _names(register["url"], status=["pending"]) == {"Shared Register Knitters"}
    assert main(["housekeeping", "--area", str(register["area"])]) == 0
    _no_own_register_when_shared(register)
