"""Candidate sites by postcode, point or asset; shares before and after a what-if; the planning map's shapes and layers."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import X0, Y0, make_tiny_area
from pyproj import Transformer

from assetmap._errors import ValidationError
from assetmap.analysis.scenario import WhatIf, reach_shares
from assetmap.area import site_places as sites
from assetmap.area.coverage import area_access
from assetmap.render import views
from assetmap.render.webmap.sites import PlacedSite, site_layers

GROUP = "strengthening"


def _field(exc: pytest.ExceptionInfo[ValidationError]) -> str | None:
    return exc.value.problems[0].field


def test_a_postcode_in_any_spelling_is_placed_from_the_lookup(demo):
    row = demo.postcodes.iloc[0]
    site = sites.site_from_postcode(demo, f"  {row['postcode'].lower().replace(' ', '')} ")
    assert site.label == row["postcode"] and site.how == "postcode"
    assert (site.longitude, site.latitude) == (row["longitude"], row["latitude"])
    x, y = Transformer.from_crs(4326, 27700, always_xy=True).transform(row["longitude"], row["latitude"])
    assert (site.x, site.y) == pytest.approx((x, y))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no postcode was given"),
        ("not one", "'not one' is not a UK postcode"),
        ("EB9 9ZZ", "'EB9 9ZZ' is not in the area's postcode lookup"),
    ],
)
def test_a_bad_postcode_is_refused_on_its_field(demo, text, words):
    with pytest.raises(ValidationError, match=words) as exc:
        sites.site_from_postcode(demo, text)
    assert _field(exc) == "postcode"


def test_a_postcode_far_from_the_area_is_refused(demo, monkeypatch):
    lookup = demo.postcodes.copy()
    lookup.loc["M11AE"] = {"postcode": "M1 1AE", "longitude": -2.2374, "latitude": 53.4794, "terminated": False}
    monkeypatch.setattr(demo, "postcodes", lookup)
    with pytest.raises(ValidationError, match=r"postcode 'M1 1AE' is \d[\d,.]* km outside") as exc:
        sites.site_from_postcode(demo, "m1 1ae")
    assert _field(exc) == "postcode"


def test_an_area_without_a_postcode_lookup_says_so():
    area = make_tiny_area()
    assert area.postcodes is None
    with pytest.raises(ValidationError, match="no postcode lookup") as exc:
        sites.site_from_postcode(area, "SW1A 1AA")
    assert _field(exc) == "postcode"


def test_a_click_inside_is_a_site_and_one_far_outside_is_refused(demo):
    inside = demo.boundaries.to_crs(4326).geometry.iloc[0].representative_point()
    site = sites.site_from_lonlat(demo, inside.x, inside.y)
    assert site.how == "map" and sites.outside_by(demo, site.x, site.y) == 0
    with pytest.raises(ValidationError, match=r"that point is .* km outside") as exc:
        sites.site_from_lonlat(demo, -2.24, 53.48)
    assert _field(exc) == "point"


def test_reach_shares_count_everyone_and_the_most_deprived_fifth():
    by_lsoa = pd.DataFrame(
        {
            "lsoa_code": ["A", "B", "C"],
            "population": [100.0, 300.0, 600.0],
            "reached_before": [0.0, 150.0, 600.0],
            "reached_after": [100.0, 300.0, 600.0],
        }
    )
    deprivation = pd.DataFrame({"lsoa_code": ["A", "B", "C"], "imd_decile": [1, 2, 5]})
    result = WhatIf(GROUP, 800.0, 250.0, 250.0, by_lsoa, "network", np.zeros(0))
    assert reach_shares(result, deprivation) == pytest.approx(
        {
            "population": 1000.0,
            "share_before": 0.75,
            "share_after": 1.0,
            "deprived_population": 400.0,
            "deprived_share_before": 150 / 400,
            "deprived_share_after": 1.0,
        }
    )


def test_reach_shapes_are_smooth_and_hold_every_resident_reached(demo):
    worst = demo.gaps(groups=[GROUP]).table
    worst = worst[~worst["whole_area"]].sort_values("gap_rank").iloc[0].geometry.representative_point()
    result = demo.what_if([(worst.x, worst.y)], GROUP)
    reach = views.what_if_reach(demo, result, (np.array([worst.x]), np.array([worst.y])))
    assert list(reach.index) == ["before", "added"] and reach.crs.to_epsg() == 27700
    assert not reach.loc["added"].is_empty
    assert reach.loc["before"].intersection(reach.loc["added"]).area < 1.0  # the added land is new land
    # Not the lace of the raw catchment: far fewer pieces, holes and corners.
    raw = views.catchment(demo, GROUP).iloc[0]
    before = reach.loc["before"]
    holes = int(shapely.get_num_interior_rings(shapely.get_parts(before)).sum())
    raw_holes = int(shapely.get_num_interior_rings(shapely.get_parts(raw)).sum())
    assert shapely.get_num_geometries(before) * 10 < shapely.get_num_geometries(raw)
    assert holes * 5 < raw_holes
    assert shapely.get_num_coordinates(before) * 5 < shapely.get_num_coordinates(raw)
    # Every resident point newly within reach is shaded as such (none dropped as a speck).
    access = area_access(demo, limit=1200.0)
    was = access.distance[GROUP].to_numpy() <= result.threshold
    now = result.distance_after <= result.threshold
    newly = access.residents.loc[now & ~was, ["x", "y"]].to_numpy()
    assert len(newly)
    assert shapely.contains_xy(reach.loc["added"].union(before), newly[:, 0], newly[:, 1]).all()


def test_reach_without_a_network_is_circles_around_the_sites():
    area = make_tiny_area()
    x, y = X0 + 2500.0, Y0 + 500.0
    result = area.what_if([(x, y)], GROUP, threshold=400)
    reach = views.what_if_reach(area, result, (np.array([x]), np.array([y])))
    added = reach.loc["added"]
    assert not added.is_empty
    assert added.difference(shapely.Point(x, y).buffer(401)).area < 1.0


def test_the_planning_map_escapes_names_and_keys_what_it_shows(demo):
    hostile = "<img src=x onerror=alert(1)>{{ 7*7 }}`${x}`"
    areas = demo.boundaries.copy()
    areas.loc[areas.index[0], "name"] = hostile
    site = PlacedSite(1, hostile, -0.08, 51.54)
    layers = site_layers(areas, sites=[site], suggested=[PlacedSite(1, "S", -0.07, 51.53)])
    m = folium.Map()
    for group in layers.groups:
        group.add_to(m)
    html = m.get_root().render()
    assert "<img src=x" not in html and "{{ 7*7 }}" not in html
    assert "&#123;&#123; 7*7 &#125;&#125;" in html  # kept as text, not evaluated by the template
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "am-site" in html and "am-suggested" in html
    assert "Candidate site (numbered)" in layers.legend and "Suggested site" in layers.legend
    assert "Within reach now" not in layers.legend  # no reach drawn: not in the key
    reach = gpd.GeoSeries([shapely.box(530000, 180000, 531000, 181000), shapely.Polygon()], index=["before", "added"])
    keyed = site_layers(areas, reach=reach.set_crs(27700))
    assert "Within reach now" in keyed.legend and "Newly within reach" not in keyed.legend
    assert len(keyed.groups) == 2  # the areas and the reach now; the empty added land is not drawn


def test_a_site_for_a_group_with_no_asset_yet_lowers_its_ward_gap():
    area = make_tiny_area()
    table = area.gaps().table
    unserved = table.loc[table["whole_area"] & table["no_assets"], "group"].tolist()
    assert unserved, "the tiny area should have a group with no asset"
    group = unserved[0]
    ward = area.boundaries.iloc[0]
    centre = ward.geometry.centroid
    result = area.what_if([(centre.x, centre.y)], group, threshold=400)
    assert result.newly_reached > 0
    row = result.by_area.set_index("code").loc[ward["code"]]
    assert row["share_before"] == 0 and row["share_after"] > 0
    assert row["gap_after"] < row["gap_before"]
    # The shares agree with the residents the what-if counts.
    reached = result.by_lsoa["reached_after"].sum() / result.by_lsoa["population"].sum()
    assert reach_shares(result, area.deprivation)["share_after"] == pytest.approx(reached)
