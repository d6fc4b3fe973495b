import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from assetmap import CRSError
from assetmap.analysis.assign import assign_to_areas, lookup_from_geometry, placement_effect


@pytest.fixture
def areas():
    return gpd.GeoDataFrame(
        {"code": ["B", "A"], "name": ["Bee", "Ay"]},
        geometry=[box(1000, 0, 2000, 1000), box(0, 0, 1000, 1000)],
        crs=27700,
    )


def test_points_inside_edge_and_outside(areas):
    pts = gpd.GeoDataFrame(
        geometry=[Point(500, 500), Point(1500, 500), Point(1000, 500), Point(1000, 1000), Point(5000, 5000)], crs=27700
    )
    got = assign_to_areas(pts, areas)
    # On the shared edge and corner: the area first by code ("A"), every time.
    assert got["area_code"].tolist()[:4] == ["A", "B", "A", "A"]
    assert pd.isna(got["area_code"].iloc[4])
    assert got["area_name"].iloc[1] == "Bee"
    assert got.index.equals(pts.index)


def test_assignment_does_not_depend_on_order(areas):
    rng = np.random.default_rng(1)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(0, 2000, 200), rng.uniform(0, 1000, 200)), crs=27700)
    pts.loc[0, "geometry"] = Point(1000, 300)
    first = assign_to_areas(pts, areas)
    shuffled = assign_to_areas(pts.sample(frac=1, random_state=2), areas.iloc[::-1])
    assert first["area_code"].equals(shuffled.loc[first.index, "area_code"])


def test_polygons_use_representative_point(areas):
    polys = gpd.GeoDataFrame(geometry=[box(1100, 100, 1200, 200)], crs=27700)
    assert assign_to_areas(polys, areas)["area_code"].tolist() == ["B"]


def test_crs_mismatch_named(areas):
    pts = gpd.GeoDataFrame(geometry=[Point(-2, 53)], crs=4326)
    with pytest.raises(CRSError, match="to_crs"):
        assign_to_areas(pts, areas)


def test_inputs_not_modified(areas):
    pts = gpd.GeoDataFrame({"x": [1]}, geometry=[Point(500, 500)], crs=27700)
    before = pts.copy()
    assign_to_areas(pts, areas)
    pd.testing.assert_frame_equal(pts, before)


def test_lookup_nested_best_fit_and_cut_apportioned(areas):
    lsoas = gpd.GeoDataFrame(
        {"code": ["L1", "L2", "L3"]},
        geometry=[box(0, 0, 500, 1000), box(1100, 0, 2000, 1000), box(800, 0, 1200, 1000)],
        crs=27700,
    )
    got = lookup_from_geometry(lsoas, areas)
    rows = {(r.lsoa_code, r.area_code): (r.weight, r.method) for r in got.itertuples()}
    assert rows[("L1", "A")] == (1.0, "best-fit")
    assert rows[("L2", "B")] == (1.0, "best-fit")
    assert rows[("L3", "A")] == (pytest.approx(0.5), "apportioned")
    assert rows[("L3", "B")] == (pytest.approx(0.5), "apportioned")
    # Each LSOA's weights sum to one: population is conserved.
    assert got.groupby("lsoa_code")["weight"].sum().round(9).eq(1).all()


def test_placement_effect_by_hand(areas):
    # L3 lies 700 m in A and 300 m in B: its representative point is in A; by area share 70/30.
    lsoas = gpd.GeoDataFrame(
        {"code": ["L1", "L2", "L3"]},
        geometry=[box(0, 0, 100, 1000), box(1900, 0, 2000, 1000), box(300, 0, 1300, 1000)],
        crs=27700,
    )
    population = pd.Series({"L1": 500.0, "L2": 1000.0, "L3": 1000.0})
    got = placement_effect(lsoas, areas, population)
    assert got.loc["A", ["by_point", "by_share"]].tolist() == pytest.approx([1500.0, 1200.0])
    assert got.loc["B", ["by_point", "by_share"]].tolist() == pytest.approx([1000.0, 1300.0])
    # The change is a share of the larger figure; the largest comes first, with the area's name.
    assert got.index[0] == "B" and got["name"].iloc[0] == "Bee"
    assert got.loc["B", "change"] == pytest.approx(300 / 1300)
    assert got.loc["A", "change"] == pytest.approx(300 / 1500)
    # Population is conserved both ways.
    assert got["by_point"].sum() == pytest.approx(2500) and got["by_share"].sum() == pytest.approx(2500)


def test_sliver_outside_is_shared_out_but_a_real_overhang_is_not(areas):
    lsoas = gpd.GeoDataFrame(
        {"code": ["S", "H"]},
        # S: 95% inside, straddling A and B, 5% below y=0 (a generalisation sliver).
        # H: half of it beyond x=2000, outside every area.
        geometry=[box(800, -50, 1200, 950), box(1800, 0, 2200, 1000)],
        crs=27700,
    )
    got = lookup_from_geometry(lsoas, areas).groupby("lsoa_code")["weight"].sum()
    assert got["S"] == pytest.approx(1.0)
    assert got["H"] == pytest.approx(0.5)


def test_inside_beats_touching_and_overlaps_go_first_by_code():
    import geopandas as gpd
    from shapely.geometry import Point, box

    from assetmap.analysis.assign import assign_to_areas

    areas = gpd.GeoDataFrame(
        {"code": ["E05000003", "E05000001", "E05000002"], "name": ["C", "A", "B"]},
        # A and B overlap on x 50-100; C's edge at x = 200 runs through B's inside.
        geometry=[box(200, 0, 300, 100), box(0, 0, 100, 100), box(50, 0, 250, 100)],
        crs="EPSG:27700",
    )
    points = gpd.GeoDataFrame(
        geometry=[Point(75, 50), Point(200, 50), Point(25, 50), Point(300, 50), Point(400, 50)], crs="EPSG:27700"
    )
    got = assign_to_areas(points, areas)["area_code"].tolist()
    # In both A and B: A (first by code). Inside B, on C's edge: B. Inside A only: A. On C's outer edge: C.
    assert got[:4] == ["E05000001", "E05000002", "E05000001", "E05000003"]
    assert got[4] is pd.NA or pd.isna(got[4])


def test_rows_without_a_place_are_in_no_area(areas):
    pts = gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=[None, Point(1500, 500), Point()], crs=27700)
    got = assign_to_areas(pts, areas)
    assert got["area_code"].isna().tolist() == [True, False, True]
    assert got.loc[1, "area_code"] == "B"
