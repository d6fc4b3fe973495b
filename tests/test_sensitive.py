"""A sensitive location never leaks through a public output to better than its ward.

The tiny area's refuge (A9, element 11, sensitive) is moved between two far corners
of its ward, in different LSOAs: every public output (the catchment shading, the
ward and LSOA gap tables, what-if, site suggestions, the public register export)
must come out the same both times, so none of them can tell where it is.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, make_tiny_area
from shapely.geometry import Point

from assetmap.analysis.assign import generalise_sensitive
from assetmap.area.coverage import counted_assets
from assetmap.area.register import export_register
from assetmap.render.views import catchment
from assetmap.store import open_store

GROUP = "e11"
THRESHOLD = 400.0
#: Two places in ward E05000003 (x 2,000-3,000 m, y 0-1,000 m), in its two LSOAs, far from its middle.
CORNERS = {"south_west": (2_050.0, 50.0), "north_east": (2_950.0, 950.0)}


def _area_with_refuge_at(x: float, y: float):
    area = make_tiny_area()
    area._cache.pop("area_summary")
    assets = area.assets.copy()
    row = assets.index[assets["asset_id"] == "A9"][0]
    assets.loc[row, "geometry"] = Point(X0 + x, Y0 + y)
    area.assets = gpd.GeoDataFrame(assets, geometry="geometry", crs=area.assets.crs)
    return area


def _public_outputs(area) -> dict[str, object]:
    what_if = area.what_if([(X0 + 500.0, Y0 + 500.0)], GROUP, threshold=THRESHOLD)
    return {
        "catchment": catchment(area, GROUP, threshold=THRESHOLD),
        "wards": area.gaps(groups=[GROUP], threshold=THRESHOLD).table,
        "lsoas": area.gaps(groups=[GROUP], threshold=THRESHOLD, by="lsoa").table,
        "what_if": what_if.by_area,
        "suggest": area.suggest_sites(GROUP, 2, threshold=THRESHOLD),
    }


@pytest.fixture(scope="module")
def outputs() -> dict[str, dict[str, object]]:
    return {name: _public_outputs(_area_with_refuge_at(*xy)) for name, xy in CORNERS.items()}


def test_public_outputs_do_not_depend_on_where_in_its_ward_a_sensitive_asset_is(outputs) -> None:
    a, b = outputs["south_west"], outputs["north_east"]
    assert a["catchment"].union_all().equals_exact(b["catchment"].union_all(), 1e-6)
    for key in ("wards", "lsoas", "what_if", "suggest"):
        left, right = (pd.DataFrame(o[key]).drop(columns="geometry", errors="ignore") for o in (a, b))
        pd.testing.assert_frame_equal(left, right, check_exact=False, obj=key)
        if "geometry" in getattr(a[key], "columns", ()):
            assert a[key].geometry.geom_equals_exact(b[key].geometry, 1e-6).all(), key


@pytest.mark.parametrize("corner", list(CORNERS))
def test_the_catchment_does_not_point_at_the_place(outputs, corner: str) -> None:
    x, y = CORNERS[corner]
    true_place = Point(X0 + x, Y0 + y)
    shade = outputs[corner]["catchment"].union_all()
    # The shading around the refuge is centred on its ward, more than 500 m from the place itself,
    # and does not even cover it.
    nearest_part = min(getattr(shade, "geoms", [shade]), key=lambda part: part.distance(true_place))
    assert nearest_part.centroid.distance(true_place) > 500
    assert not shade.contains(true_place)


def test_sensitive_assets_count_at_their_wards_point_and_lose_their_exact_place() -> None:
    area = _area_with_refuge_at(*CORNERS["north_east"])
    counted = counted_assets(area).set_index("asset_id")
    ward = area.boundaries.set_index("code").loc["E05000003"].geometry
    assert counted.loc["A9"].geometry.equals(ward.representative_point())
    assert counted.loc[["A9"], ["address", "postcode"]].isna().all(axis=None)
    # Other assets are where they are, and the input is not changed.
    assert counted.loc["A1"].geometry.equals(area.assets.set_index("asset_id").loc["A1"].geometry)
    assert area.assets.set_index("asset_id").loc["A9"].geometry.equals(Point(X0 + 2_950.0, Y0 + 950.0))


def test_a_sensitive_asset_outside_every_area_is_in_no_catchment() -> None:
    area = make_tiny_area()
    assets = area.assets.copy()
    assets.loc[assets["asset_id"] == "A9", "area_code"] = None
    placed = generalise_sensitive(assets, area.boundaries)
    assert placed.set_index("asset_id").loc["A9"].geometry is None


def test_public_register_export_gives_a_sensitive_record_its_ward_only(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        refuge = store.submit(
            {
                "name": "Quiet Refuge",
                "type": "vcse_group",
                "longitude": -0.104803,
                "latitude": 51.553772,
                "postcode": "N7 6PA",
                "address": "1 Hidden Lane",
                "sensitive": True,
                "area_code": "E05000001",
            },
            actor="public form",
        )
        store.approve(refuge, actor="officer")
        public = pd.read_csv(io.BytesIO(export_register(store, "csv")), dtype=str, keep_default_na=False)
        mapped = gpd.read_file(io.BytesIO(export_register(store, "geojson")))
        officer = pd.read_csv(io.BytesIO(export_register(store, "csv", officer=True)), dtype=str, keep_default_na=False)
    row = public.set_index("asset_id").loc[refuge]
    assert (row["address"], row["postcode"], row["longitude"], row["latitude"]) == ("", "", "", "")
    assert row["area_code"] == "E05000001"
    assert mapped.geometry.isna().all() or mapped.geometry.is_empty.all()
    # Officers keep the true place.
    assert officer.set_index("asset_id").loc[refuge, "address"] == "1 Hidden Lane"
    assert np.isclose(float(officer.set_index("asset_id").loc[refuge, "latitude"]), 51.553772)


def test_the_printed_map_is_framed_the_same_wherever_the_sensitive_asset_is(tmp_path: Path) -> None:
    import subprocess

    from assetmap.render import printmap

    pages = []
    # Both listed in the ward (a register may place a record just outside its ward's line).
    for i, xy in enumerate([(2_600.0, 800.0), (2_500.0, -1_500.0)]):
        area = _area_with_refuge_at(*xy)
        assets = area.assets.copy()
        assets.loc[assets["asset_id"] == "A9", "area_code"] = "E05000003"
        area.assets = assets
        pdf = tmp_path / f"ward{i}.pdf"
        pdf.write_bytes(printmap.print_ward(area, "E05000003"))
        subprocess.run(
            ["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / f"p{i}")], check=True
        )
        pages.append(next(tmp_path.glob(f"p{i}*.png")).read_bytes())
    assert pages[0] == pages[1]
