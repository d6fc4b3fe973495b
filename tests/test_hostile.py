"""Hostile text through every surface: the web maps, the legend, the table twin, the pages, the PDF.

Each payload of :mod:`hostile` goes in as a record's fields, an area's or ward's
name and the data attribution, and must come out as the same text: never evaluated
by a template engine (folium and branca compile what they render with Jinja), never
run as script, never a page that breaks. ``JINJA_EFFECT`` would create a folder if it
were evaluated, so each test also checks that nothing happened on the server.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from conftest import make_tiny_area
from hostile import ALL_TEXT, CONTROL, FORMULA, JINJA, MARKER_ENV, STORABLE, assert_not_evaluated, marker_path
from htmlread import page_text, read_table
from officers import copy_demo_area, sign_in, with_officer
from streamlit.testing.v1 import AppTest

from assetmap import settings
from assetmap._errors import ValidationError
from assetmap.area.register import export_register
from assetmap.record import validate_record
from assetmap.render import htmltable, webmap
from assetmap.store import open_store

TIMEOUT_S = 120
TEXT_IDS = list(ALL_TEXT)
STORABLE_IDS = list(STORABLE)


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the side-effect payload would create a folder, armed for this test."""
    path = marker_path(tmp_path)
    monkeypatch.setenv(MARKER_ENV, str(path))
    return path


# -- the one function -------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", ALL_TEXT.values(), ids=TEXT_IDS)
def test_safe_text_leaves_nothing_a_template_or_browser_would_read(payload: str) -> None:
    out = webmap.safe_text(payload)
    assert not set(out) & set("{}<>\"'`$\\"), out
    # "#" is left only inside character references, never after a "{".
    assert "#" not in out.replace("&#", "")
    assert html.unescape(out) == payload


# -- web maps ------------------------------------------------------------------------------------------


def _tiny_with(payload: str) -> Any:
    """The tiny area with the payload as an approved asset's name, address and hours, and as a ward's name."""
    area = make_tiny_area(name=payload)
    assets = area.assets.copy()
    row = assets.index[assets["asset_id"] == "A3"][0]
    for field in ("name", "address", "opening_times", "phone"):
        assets.loc[row, field] = payload
    area.assets = assets
    summary = area._cache["area_summary"].copy()
    summary.loc[summary["code"] == "E05000002", "name"] = payload
    area._cache["area_summary"] = summary
    return area


def _leaflet_of_layers(layers: webmap.MapLayers) -> str:
    """The script the app's Map page sends for its data layers (streamlit-folium's own path)."""
    from streamlit_folium import generate_leaflet_string

    return "\n".join(generate_leaflet_string(group) for group in layers.groups)


def _features(page: str) -> list[dict[str, Any]]:
    """Every GeoJSON feature's properties written into a page or script."""
    found = []
    decoder = json.JSONDecoder()
    start = page.find('{"features"')
    while start != -1:
        obj, end = decoder.raw_decode(page, start)
        found += [f["properties"] for f in obj["features"]]
        start = page.find('{"features"', end)
    return found


@pytest.mark.parametrize("payload", STORABLE.values(), ids=STORABLE_IDS)
def test_web_map_shows_text_as_typed_and_evaluates_nothing(payload: str, marker: Path) -> None:
    area = _tiny_with(payload)
    summary = area._cache["area_summary"]
    layers = webmap.map_layers(
        summary, area.assets, display=webmap.MapDisplay(value_label=f"Label {payload}"), fictional=True
    )
    script = _leaflet_of_layers(layers)
    full = (
        webmap.area_map(
            summary,
            area.assets,
            attribution=f"Data {payload}",
            display=webmap.MapDisplay(value_label=f"Label {payload}"),
            tiles=None,
        )
        .get_root()
        .render()
    )
    for page in (script, full):
        assert_not_evaluated(page, marker)
        props = _features(page)
        # The ward's name (tooltip) and the asset's fields (popup, tooltip) read back exactly.
        assert payload in {html.unescape(p.get("name", "")) for p in props if p["kind"] == "area"}
        asset = next(p for p in props if p["kind"] == "asset" and html.unescape(p["name"]) == payload)
        assert html.unescape(asset["o"]) == payload and html.unescape(asset["p"]) == payload
    # The attribution reaches the page as JSON text, and reads back exactly.
    written = re.search(r"addAttribution\((\".*?\")\);", full)
    assert written is not None and html.unescape(json.loads(written.group(1))) == f"Data {payload}"


@pytest.mark.parametrize("payload", STORABLE.values(), ids=STORABLE_IDS)
def test_legend_and_table_twin_read_back_exactly(payload: str, marker: Path) -> None:
    area = _tiny_with(payload)
    summary = area._cache["area_summary"]
    legend = webmap.map_layers(summary, area.assets, display=webmap.MapDisplay(value_label=f"Label {payload}")).legend
    assert_not_evaluated(legend, marker)
    assert f"Label {payload}" in html.unescape(legend)
    twin = webmap.map_table(summary, area.assets)
    page = htmltable.html_table(twin, caption=f"Wards {payload}")
    caption, table = read_table(page)
    assert caption == f"Wards {payload}"
    assert payload in table["Area"].tolist()


def test_moderate_preview_marker_is_inert(marker: Path) -> None:
    # What the Moderate page draws for a pending record: its popup and tooltip.
    import folium

    for payload in STORABLE.values():
        record = {"name": payload, "type": "vcse_group", "address": payload, "opening_times": payload}
        m = webmap.base_map(attribution=f"Data {payload}", tiles=None)
        folium.Marker(
            [51.5, -0.1], tooltip=webmap.safe_text(payload), popup=folium.Popup(webmap.popup_html(record))
        ).add_to(m)
        assert_not_evaluated(m.get_root().render(), marker)


# -- records ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", CONTROL.values(), ids=list(CONTROL))
def test_control_characters_are_refused_with_the_field_named(payload: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_record({"name": payload, "type": "vcse_group", "longitude": -0.1, "latitude": 51.5})
    assert [p.field for p in caught.value.problems] == ["name"]
    assert "control characters" in str(caught.value)


@pytest.mark.parametrize("payload", STORABLE.values(), ids=STORABLE_IDS)
def test_stored_text_comes_back_as_typed_and_exports_neutralised(payload: str, tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        rid = store.submit(
            {"name": payload, "type": "vcse_group", "longitude": -0.1, "latitude": 51.5, "description": payload},
            actor="public form",
        )
        assert store.get(rid)["name"] == payload
        store.approve(rid, actor="officer")
        csv = pd.read_csv(io.BytesIO(export_register(store, "csv")), dtype=str, keep_default_na=False)
        xlsx = pd.read_excel(io.BytesIO(export_register(store, "xlsx")), dtype=str).fillna("")
    for table in (csv, xlsx):
        cell = table["name"].iloc[0]
        if payload in FORMULA.values():
            assert cell == "'" + payload  # a spreadsheet shows it as text, never a formula
        else:
            assert cell == payload


# -- the PDF -----------------------------------------------------------------------------------------


def test_printed_ward_shows_every_payload_as_text(marker: Path) -> None:
    from pypdf import PdfReader

    from assetmap.render import printmap

    area = make_tiny_area(name=JINJA["jinja_expression"])
    assets = area.assets.copy()
    template = assets[assets["asset_id"] == "A4"].iloc[0]
    rows = []
    for i, payload in enumerate(v for k, v in STORABLE.items() if k not in ("long", "unicode")):
        row = template.copy()
        row["asset_id"], row["name"] = f"H{i:02d}", payload
        rows.append(row)
    area.assets = pd.concat([assets, pd.DataFrame(rows)], ignore_index=True).set_geometry("geometry", crs=assets.crs)
    area._cache.pop("area_summary")
    pdf = printmap.print_ward(area, "E05000001")
    text = "".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert_not_evaluated(text, marker)
    for payload in (r["name"] for r in rows):
        assert "".join(payload.split()) in text, payload


# -- every page of the app -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_register(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo area whose register holds every payload, approved and pending."""
    folder = copy_demo_area(tmp_path_factory.mktemp("hostile-pages"))
    with open_store(folder) as store:
        for i, payload in enumerate(STORABLE.values()):
            record = {
                "type": "vcse_group",
                "longitude": -0.104803 + i * 0.0004,
                "latitude": 51.553772,
                "description": payload,
                "address": payload,
                "opening_times": payload,
                "contact_name": payload,
            }
            rid = store.submit({**record, "name": payload}, actor="public form")
            store.approve(rid, actor="officer")
            store.submit({**record, "name": f"Pending {payload}"}, actor="public form")
    return folder


def _page(name: str) -> None:
    import importlib

    importlib.import_module(f"assetmap.ui.pages.{name}").page()


@pytest.mark.usefixtures("fresh_streamlit_caches")
@pytest.mark.parametrize("name", ["map", "gaps", "ward", "print_page", "add_group", "moderate", "data"])
def test_every_page_shows_payloads_without_evaluating_them(
    name: str, hostile_register: Path, marker: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "default_area_path", hostile_register)
    at = with_officer(AppTest.from_function(_page, args=(name,), default_timeout=TIMEOUT_S)).run()
    if name in ("moderate", "data"):
        at = sign_in(at)
    assert not at.exception, [e.value for e in at.exception]
    assert_not_evaluated(page_text(at), marker)
    if name == "moderate":
        # Each pending record's preview map and details, in turn.
        pick = at.selectbox(key="moderate_pick")
        for option in pick.options[: len(STORABLE)]:
            at = at.selectbox(key="moderate_pick").select(option).run()
            assert not at.exception
            assert_not_evaluated(page_text(at), marker)
    st.cache_resource.clear()


# -- coordinates -----------------------------------------------------------------------------------------

#: Longitude and latitude that are no place in the United Kingdom, as typed into a file.
UNREAL = {
    "nan": ("nan", "51.5"),
    "infinity": ("Infinity", "51.5"),
    "minus_infinity": ("-0.1", "-inf"),
    "latitude_91": ("-0.1", "91"),
    "paris": ("2.35", "48.85"),
}


@pytest.mark.parametrize(("lon", "lat"), UNREAL.values(), ids=list(UNREAL))
def test_unreal_coordinates_are_refused_in_every_source(lon: str, lat: str, tmp_path: Path) -> None:
    from assetmap._errors import AssetMapError
    from assetmap.io.assets import read_assets
    from assetmap.io.bulk import parse_bulk
    from assetmap.io.oruk import record_from_service

    # The form, and every write to the register: refused, nothing stored.
    record = {"name": "Somewhere Club", "type": "vcse_group", "longitude": float(lon), "latitude": float(lat)}
    with pytest.raises(ValidationError, match="latitude"):
        validate_record(record)
    with open_store(tmp_path) as store:
        with pytest.raises(ValidationError):
            store.submit(record, actor="public form")
        assert sum(store.counts().values()) == 0
    # A register or asset file, and the public bulk upload: the row and field named.
    csv = f"name,type,longitude,latitude\nGood Club,vcse_group,-0.1,51.5\nSomewhere Club,vcse_group,{lon},{lat}\n"
    (tmp_path / "groups.csv").write_text(csv, encoding="utf-8")
    with pytest.raises(AssetMapError, match=r"groups\.csv, row 3, field 'latitude'"):
        read_assets(tmp_path / "groups.csv")
    records, problems = parse_bulk(csv.encode(), "groups.csv")
    assert [(p.row, p.field) for p in problems] == [(3, "latitude")]
    assert records["name"].tolist() == ["Good Club"]
    # A map layer whose point is there: GeoJSON writes NaN and Infinity as such.
    point = [float(lon), float(lat)]
    features = [
        {
            "type": "Feature",
            "properties": {"name": n, "type": "vcse_group"},
            "geometry": {"type": "Point", "coordinates": c},
        }
        for n, c in (("Good Club", [-0.1, 51.5]), ("Somewhere Club", point))
    ]
    (tmp_path / "groups.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with pytest.raises(AssetMapError, match=r"groups\.geojson, row 3, field 'geometry'"):
        read_assets(tmp_path / "groups.geojson")
    # Open Referral: the service is left out, named.
    service = {
        "id": "svc-1",
        "name": "Somewhere Club",
        "status": "active",
        "service_at_locations": [{"location": {"latitude": float(lat), "longitude": float(lon)}}],
    }
    clean, messages = record_from_service(service, default_type="vcse_group")
    assert clean is None and "svc-1" in messages[0] and "not coordinates in the United Kingdom" in messages[0]
