"""Assets beyond an area's boundary: kept within a border buffer (walking access only), left out further out.

A copy of the demo area gets a second register file with one asset inside a ward,
one 300 m beyond the boundary and one 10 km away; the note, the ward counts, the
access shares, the gap table, its CSV and the method note must agree.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from officers import copy_demo_area

from assetmap import settings
from assetmap._errors import ValidationError
from assetmap.analysis.assign import BUFFER, INSIDE, OUTSIDE, place_points
from assetmap.area.load import load_area
from assetmap.cli import main
from assetmap.io.export import table_bytes

#: The group the added assets serve: a partnership board serves element 9 (shared long-term strategy).
GROUP = "e9"


def _points(area_dir: Path) -> dict[str, shapely.Point]:
    """Return, in EPSG:27700, a point inside a ward, one 300 m beyond the boundary and one 10 km away."""
    wards = load_area(area_dir, register=False).boundaries
    outline = shapely.union_all(np.asarray(wards.geometry.array))
    xy = shapely.get_coordinates(outline.exterior if hasattr(outline, "exterior") else outline.geoms[0].exterior)
    west = xy[xy[:, 0].argmin()]  # the westmost corner: due west of it is outside the area
    return {
        "inside": wards.geometry.iloc[0].representative_point(),
        "buffer": shapely.Point(west[0] - 300, west[1]),
        "far": shapely.Point(west[0] - 10_000, west[1]),
    }


def _add_assets(area_dir: Path, which: list[str], manifest_extra: str = "") -> None:
    """Add a register file with the chosen added assets to the area folder's manifest."""
    pts = _points(area_dir)
    geo = gpd.GeoSeries([pts[w] for w in which], crs=settings.analysis_crs).to_crs(settings.storage_crs)
    frame = pd.DataFrame(
        {
            "asset_id": [f"ADD-{w}" for w in which],
            "name": [f"Added {w} board" for w in which],
            "type": "partnership_board",
            "latitude": geo.y.round(7),
            "longitude": geo.x.round(7),
            "status": "approved",
            "last_confirmed": "2026-05-01",
        }
    )
    frame.to_csv(area_dir / "assets" / "added.csv", index=False)
    manifest = area_dir / "area.toml"
    text = manifest.read_text(encoding="utf-8")
    if manifest_extra:
        text = text.replace("[area]\n", f"[area]\n{manifest_extra}\n", 1)
    manifest.write_text(text + '\n[[layers.assets]]\npath = "assets/added.csv"\n', encoding="utf-8")


@pytest.fixture(scope="module")
def areas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The demo with no added asset, with the inside one, with inside and buffer, and with all three."""
    out = {}
    for key, which in {
        "base": [],
        "inside": ["inside"],
        "buffer": ["inside", "buffer"],
        "all": ["inside", "buffer", "far"],
    }.items():
        folder = copy_demo_area(tmp_path_factory.mktemp(key))
        if which:
            _add_assets(folder, which)
        out[key] = load_area(folder, register=False)
    return out


def _ward_of_buffer_point(area) -> str:
    """Return the ward nearest the point beyond the boundary (the border ward it serves)."""
    point = area.assets.loc[area.assets["asset_id"].eq("ADD-buffer"), "geometry"].iloc[0]
    return str(area.boundaries.loc[area.boundaries.distance(point).idxmin(), "code"])


def test_place_points_is_the_rule(areas):
    area = areas["all"]
    folder = area.path
    pts = _points(folder)
    frame = gpd.GeoDataFrame(geometry=list(pts.values()), crs=settings.analysis_crs)
    placed = place_points(frame, area.boundaries, 2000)
    assert placed["extent"].tolist() == [INSIDE, BUFFER, OUTSIDE]
    assert placed["area_code"].notna().tolist() == [True, False, False]
    # A narrower band leaves the 300 m asset out; a wider one keeps the 10 km one.
    assert place_points(frame, area.boundaries, 200)["extent"].tolist() == [INSIDE, OUTSIDE, OUTSIDE]
    assert place_points(frame, area.boundaries, 12_000)["extent"].tolist() == [INSIDE, BUFFER, BUFFER]


def test_one_note_for_what_is_left_out(areas):
    area = areas["all"]
    assert set(area.assets["asset_id"]) >= {"ADD-inside", "ADD-buffer"}
    assert "ADD-far" not in set(area.assets["asset_id"])
    assert area.assets_left_out == 1 and area.asset_buffer_m == 2000
    left = [n for n in area.notes if "left out" in n]
    assert left == ["1 record lies outside Eastbrook (fictional demo borough) and 2 km around it: left out."]
    assert any(n.startswith("1 record lies beyond the boundary, within 2 km") for n in area.notes)
    assert areas["buffer"].assets_left_out == 0
    assert not any("left out" in n for n in areas["buffer"].notes)


def test_ward_counts_hold_only_assets_inside(areas):
    base, inside, buffer, full = (areas[k].area_summary().set_index("code")["n_assets"] for k in areas)
    ward = areas["all"].assets.loc[areas["all"].assets["asset_id"].eq("ADD-inside"), "area_code"].iloc[0]
    assert inside[ward] == base[ward] + 1
    # Neither the buffer asset nor the far one counts in any ward.
    pd.testing.assert_series_equal(buffer, inside)
    pd.testing.assert_series_equal(full, inside)
    assert full.sum() == base.sum() + 1


def _table(area, by="area"):
    return area.gaps(groups=[GROUP], network=False, by=by).table


def test_buffer_asset_raises_a_border_wards_access_and_the_far_one_changes_nothing(areas):
    ward = _ward_of_buffer_point(areas["all"])
    inside, buffer, full = (_table(areas[k]).set_index("code") for k in ("inside", "buffer", "all"))
    assert buffer.loc[ward, "access_share"] > inside.loc[ward, "access_share"]
    # The asset counts in no ward: the border ward's count and the whole area's are unchanged.
    assert buffer.loc[ward, "n_assets"] == inside.loc[ward, "n_assets"]
    whole = buffer[buffer["whole_area"]].iloc[0]
    assert whole["n_assets"] == inside[inside["whole_area"]].iloc[0]["n_assets"]
    assert whole["n_assets_outside"] == 1 and buffer.loc[~buffer["whole_area"], "n_assets_outside"].eq(0).all()
    # The far asset, left out, changes nothing at all.
    pd.testing.assert_frame_equal(full.drop(columns="geometry"), buffer.drop(columns="geometry"))


def test_lsoa_table_counts_the_buffer_asset_in_no_lsoa(areas):
    inside, buffer = _table(areas["inside"], "lsoa"), _table(areas["buffer"], "lsoa")
    assert buffer.loc[~buffer["whole_area"], "n_assets"].sum() == inside.loc[~inside["whole_area"], "n_assets"].sum()
    assert buffer.loc[buffer["whole_area"], "n_assets_outside"].iloc[0] >= 1


def test_gap_csv_and_method_note_agree(areas):
    result = areas["all"].gaps(groups=[GROUP], network=False)
    csv = pd.read_csv(io.BytesIO(table_bytes(result.table.drop(columns="geometry"), "csv")))
    whole = csv[csv["whole_area"]].iloc[0]
    wards = csv[~csv["whole_area"]]
    assert whole["n_assets"] == wards["n_assets"].sum()
    assert whole["n_assets_outside"] == 1
    table = result.table
    assert whole["n_assets"] == table.loc[table["whole_area"], "n_assets"].iloc[0]
    note = result.note
    n_beyond = int(areas["all"].assets["area_code"].isna().sum())
    assert n_beyond == 1
    assert "1 of them lies beyond the area's boundary, within 2 km" in note
    assert "1 record further out was left out" in note
    # The note's count of assets used for access is the wards' assets plus the one beyond.
    counted = result.access.n_assets["all"]
    assert counted == len(areas["all"].approved_assets())
    base_note = areas["base"].gaps(groups=[GROUP], network=False).note
    assert "None of them lies beyond the area's boundary" in base_note and "0 records further out" in base_note


def test_ward_profile_and_map_leave_the_buffer_asset_out_of_ward_lists(areas):
    from assetmap.analysis import profile
    from assetmap.render import webmap

    area = areas["all"]
    listed = pd.concat(
        [profile.ward_assets(area.assets, code, stale=area.stale_mask()) for code in area.boundaries["code"]]
    )
    assert "ADD-buffer" not in set(listed["asset_id"]) and "ADD-inside" in set(listed["asset_id"])
    assert listed["asset_id"].nunique() == area.area_summary()["n_assets"].sum()
    # The map draws it (it counts for access) and says it lies beyond the boundary.
    notes = webmap.map_notes(area.approved_assets())
    assert any(n.startswith("1 asset(s) drawn lie beyond the area's boundary") for n in notes)
    table = webmap.map_table(area.area_summary(), area.approved_assets(), value="avg_score")
    assert table["Assets shown"].sum() == area.area_summary()["n_assets"].sum()


def test_buffer_set_per_area_and_by_the_setting(tmp_path, monkeypatch):
    folder = copy_demo_area(tmp_path)
    _add_assets(folder, ["inside", "buffer", "far"], manifest_extra="asset_buffer_m = 12000")
    wide = load_area(folder, register=False)
    assert wide.asset_buffer_m == 12_000 and wide.assets_left_out == 0
    assert wide.assets["area_code"].isna().sum() == 2
    monkeypatch.setattr(settings, "asset_buffer_m", "0")
    text = (folder / "area.toml").read_text(encoding="utf-8").replace("asset_buffer_m = 12000\n", "")
    (folder / "area.toml").write_text(text, encoding="utf-8")
    narrow = load_area(folder, register=False)
    assert narrow.assets_left_out == 2 and narrow.assets["area_code"].notna().all()
    assert "2 records lie outside Eastbrook (fictional demo borough) and 0 m around it: left out." in narrow.notes


def test_bad_buffers_are_refused_naming_where(tmp_path, monkeypatch, capsys):
    folder = copy_demo_area(tmp_path)
    text = (folder / "area.toml").read_text(encoding="utf-8")
    (folder / "area.toml").write_text(text.replace("[area]\n", '[area]\nasset_buffer_m = "two km"\n', 1))
    with pytest.raises(ValidationError, match=r"area\.toml, field 'asset_buffer_m': the border buffer 'two km'"):
        load_area(folder, register=False)
    monkeypatch.setattr(settings, "asset_buffer_m", "-5")
    (folder / "area.toml").write_text(text)
    with pytest.raises(ValidationError, match="ASSETMAP_ASSET_BUFFER_M"):
        load_area(folder, register=False)
    demo = settings.demo_area_path
    status = main(
        [
            "init-area",
            str(tmp_path / "new"),
            "--boundaries",
            str(demo / "boundaries" / "demo_wards.geojson"),
            "--small-areas",
            str(demo / "boundaries" / "demo_lsoa21.geojson"),
            "--imd",
            str(demo / "deprivation" / "demo_iod2025_file7.csv"),
            "--buffer",
            "2km",
        ]
    )
    err = capsys.readouterr().err
    assert status == 2 and "field '--buffer'" in err and "Traceback" not in err
    assert not (tmp_path / "new").exists()


def test_init_area_buffer_is_written_to_the_manifest(tmp_path, capsys):
    demo = settings.demo_area_path
    status = main(
        [
            "init-area",
            str(tmp_path / "new"),
            "--boundaries",
            str(demo / "boundaries" / "demo_wards.geojson"),
            "--small-areas",
            str(demo / "boundaries" / "demo_lsoa21.geojson"),
            "--imd",
            str(demo / "deprivation" / "demo_iod2025_file7.csv"),
            "--boundaries-code-col",
            "WD24CD",
            "--boundaries-name-col",
            "WD24NM",
            "--buffer",
            "500",
        ]
    )
    assert status == 0, capsys.readouterr().err
    assert "asset_buffer_m = 500.0" in (tmp_path / "new" / "area.toml").read_text(encoding="utf-8")
    assert load_area(tmp_path / "new", register=False).asset_buffer_m == 500


def test_gaps_page_says_what_lies_beyond(areas, monkeypatch, fresh_streamlit_caches):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    def gaps_page() -> None:
        from assetmap.ui.pages import gaps

        gaps.page()

    monkeypatch.setattr(settings, "default_area_path", areas["all"].path)
    st.cache_resource.clear()
    at = AppTest.from_function(gaps_page, default_timeout=120).run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "1 record was further out: left out." in captions
    note = " ".join(m.value for m in at.markdown)
    assert "1 record further out was left out" in note
