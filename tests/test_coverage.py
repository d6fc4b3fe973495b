"""Gap analysis of whole areas: the demo borough (with its street network) and the tiny synthetic area (without)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import assetmap
from assetmap import settings
from assetmap._errors import ValidationError
from assetmap.analysis.access import compute_access
from assetmap.analysis.groups import group_keys, resolve_groups
from assetmap.area.coverage import counted_assets


@pytest.fixture(scope="module")
def demo_gaps(demo):
    return demo.gaps()


def areas_of(table: pd.DataFrame, group: str) -> pd.DataFrame:
    return table[(table["group"] == group) & ~table["whole_area"]]


def test_demo_uses_the_network_for_every_group(demo_gaps):
    table = demo_gaps.table
    assert set(table["group"]) == set(group_keys())
    assert (table["access_method"] == "network").all()
    assert "walking distance along the street network" in demo_gaps.note
    assert table.crs == settings.analysis_crs


def test_population_conserved(demo, demo_gaps):
    total = demo.deprivation["population"].sum()
    for group in ("e6", "strengthening"):
        rows = areas_of(demo_gaps.table, group)
        assert rows["population"].sum() == pytest.approx(total)
        whole = demo_gaps.table[(demo_gaps.table["group"] == group) & demo_gaps.table["whole_area"]]
        assert whole["population"].iloc[0] == pytest.approx(total)
    assert demo_gaps.access.residents["population"].sum() == pytest.approx(total)


def test_counts_match_the_register(demo, demo_gaps):
    approved = demo.approved_assets()
    serves_e6 = approved["elements"].map(lambda e: 6 in e)
    per_ward = approved[serves_e6].groupby("area_code").size()
    rows = areas_of(demo_gaps.table, "e6").set_index("code")
    assert rows["n_assets"].to_dict() == per_ward.reindex(rows.index).fillna(0).astype(int).to_dict()


def test_whole_area_access_is_population_weighted(demo_gaps):
    rows = areas_of(demo_gaps.table, "involving")
    whole = demo_gaps.table[(demo_gaps.table["group"] == "involving") & demo_gaps.table["whole_area"]].iloc[0]
    expected = np.average(rows["access_share"], weights=rows["population"])
    assert whole["access_share"] == pytest.approx(expected)


def test_shares_grow_with_distance_and_gap_follows_its_inputs(demo_gaps):
    t = demo_gaps.table
    assert (t["share_within_400m"] <= t["share_within_800m"] + 1e-12).all()
    assert (t["share_within_800m"] <= t["share_within_1200m"] + 1e-12).all()
    np.testing.assert_allclose(t["gap_index"], t["need_percentile"] / 100 * (1 - t["access_share"]))


def test_network_never_shorter_than_straight_line(demo):
    acc = demo.access()
    # The same assets as the analysis counts (sensitive ones at their ward's point).
    straight = compute_access(acc.residents, counted_assets(demo), limit=acc.limit).distance
    net = acc.distance
    finite = np.isfinite(net.to_numpy())
    assert (net.to_numpy()[finite] >= straight.to_numpy()[finite] - 1e-6).all()
    # And straight-line access is at least as good everywhere.
    assert (np.isfinite(straight.to_numpy()) >= finite).all()


def test_ranks_are_a_permutation_per_group(demo_gaps):
    for group, rows in demo_gaps.table[~demo_gaps.table["whole_area"]].groupby("group"):
        assert sorted(rows["gap_rank"]) == list(range(1, len(rows) + 1)), group
        top = rows.sort_values("gap_rank").iloc[0]
        assert top["gap_index"] == rows["gap_index"].max()


def test_excluding_stale_records(demo, demo_gaps):
    stale = demo_gaps.stale
    assert len(stale) == int(demo.stale_mask()[demo.assets["status"].eq("approved")].sum()) > 0
    fresh = demo.gaps(include_stale=False)
    whole = fresh.table[fresh.table["whole_area"]].set_index("group")
    before = demo_gaps.table[demo_gaps.table["whole_area"]].set_index("group")
    assert (whole["n_assets"] <= before["n_assets"]).all()
    assert (whole["access_share"] <= before["access_share"] + 1e-12).all()
    assert whole["n_assets"].sum() < before["n_assets"].sum()
    assert "left out" in fresh.note and "are counted" in demo_gaps.note


def test_by_lsoa_is_the_hyper_local_view(demo):
    g = demo.gaps(by="lsoa", groups=["e6", "scaling"])
    rows = g.table[~g.table["whole_area"]]
    assert len(rows) == 2 * len(demo.small_areas)
    assert rows["code"].str.startswith("E01").all()
    assert rows["population"].sum() == pytest.approx(2 * demo.deprivation["population"].sum())
    assert rows.loc[rows["group"] == "e6", "n_assets"].sum() == demo.approved_assets()["elements"].map(
        lambda e: 6 in e
    ).sum() - _outside_every_lsoa(demo, 6)


def _outside_every_lsoa(area, element):
    approved = area.approved_assets()
    serves = approved[approved["elements"].map(lambda e: element in e)]
    joined = gpd.sjoin(serves[["geometry"]], area.small_areas[["geometry"]], predicate="intersects", how="left")
    return int(joined.groupby(level=0)["index_right"].count().eq(0).sum())


def test_threshold_changes_the_answer(demo):
    near = demo.gaps(threshold=400, groups=["e6"]).table
    far = demo.gaps(threshold=1200, groups=["e6"]).table
    assert (near["access_share"].to_numpy() <= far["access_share"].to_numpy() + 1e-12).all()
    assert (near["threshold_m"] == 400).all()
    assert "within 400 m" in demo.gaps(threshold=400, groups=["e6"]).note


@pytest.mark.parametrize("threshold", [0, -800, 100_000])
def test_absurd_thresholds_refused(demo, threshold):
    with pytest.raises(ValidationError, match="metres"):
        demo.gaps(threshold=threshold)


def test_what_if_only_lowers_gaps(demo, demo_gaps):
    e6 = areas_of(demo_gaps.table, "e6")
    worst = e6.sort_values("gap_rank").iloc[0]
    site = worst.geometry.representative_point()
    result = demo.what_if([(site.x, site.y)], "e6")
    assert result.newly_reached >= result.newly_reached_deprived >= 0
    assert result.newly_reached > 0
    assert (result.by_area["gap_change"] <= 1e-12).all()
    fell = result.by_area[result.by_area["gap_change"] < 0]
    assert worst["code"] in set(fell["code"])
    # Before-figures agree with the gap table.
    before = result.by_area.set_index("code").loc[e6["code"], "gap_before"].to_numpy()
    np.testing.assert_allclose(before, e6["gap_index"].to_numpy())


def test_what_if_at_an_existing_asset_changes_nothing(demo):
    approved = demo.approved_assets()
    asset = approved[approved["elements"].map(lambda e: 6 in e)].iloc[0].geometry
    result = demo.what_if([(asset.x, asset.y)], "e6")
    assert result.newly_reached == 0


def test_what_if_refuses_lonlat_pairs(demo):
    with pytest.raises(ValidationError, match="British National Grid"):
        demo.what_if([(-0.1, 51.5)], "e6")


def test_suggest_sites_greedy_inside_the_area(demo):
    sites = demo.suggest_sites("e6", 4)
    assert 1 <= len(sites) <= 4
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    gains = sites["newly_reached_deprived"].to_numpy()
    assert (np.diff(gains) <= 1e-9).all()  # greedy: each pick gains no more than the one before
    assert sites["area_code"].notna().all()
    np.testing.assert_allclose(sites["cumulative_deprived"], np.cumsum(gains))
    # Opening all the suggested sites together reaches what the greedy run says it does.
    together = demo.what_if(sites[["x", "y"]], "e6")
    assert together.newly_reached_deprived == pytest.approx(sites["cumulative_deprived"].iloc[-1])


def test_suggest_among_supplied_candidates(demo):
    cands = pd.DataFrame({"x": [532504.0, 529000.0], "y": [182992.0, 186000.0], "name": ["Hall A", "Hall B"]})
    sites = demo.suggest_sites("e6", 2, candidates=cands)
    assert set(sites["name"]) <= {"Hall A", "Hall B"}


def test_tiny_area_without_network_is_straight_line(tiny_area):
    tiny_area._cache.pop("area_summary")  # the fixture's summary is cut down for the map tests
    g = tiny_area.gaps(groups=["e6", "e11"])
    assert (g.table["access_method"] == "straight-line").all()
    assert "straight-line distance" in g.note and "overstate" in g.note
    # Pending, rejected and withdrawn records never count: two approved records serve element 6.
    whole = g.table[g.table["whole_area"]].set_index("group")
    assert whole.loc["e6", "n_assets"] == 2
    assert whole.loc["e6", "population"] == tiny_area.deprivation["population"].sum()


def test_element_without_assets_flagged(tiny_area):
    tiny_area._cache.pop("area_summary")
    g = tiny_area.gaps(groups=["e8", "e6"])
    e8 = g.table[g.table["group"] == "e8"]
    assert e8["no_assets"].all() and (e8["access_share"] == 0).all()
    assert "No approved asset serves element 8" in g.note


def test_resolve_groups():
    assert resolve_groups(element=6) == ["e6"]
    assert resolve_groups(element="e11") == ["e11"]
    assert resolve_groups(pillar="Strengthening") == ["strengthening"]
    assert resolve_groups() is None
    with pytest.raises(ValidationError, match="1 to 11"):
        resolve_groups(element=0)
    with pytest.raises(ValidationError, match="Scaling"):
        resolve_groups(pillar="growing")


def test_asset_outside_every_area_serves_the_edge_but_counts_in_none(tiny_area):
    tiny_area._cache.pop("area_summary")
    before = tiny_area.gaps(groups=["e8"])
    assert before.table["no_assets"].all()
    # An element 8 asset 100 m beyond the tiny area's western edge.
    extra = tiny_area.assets.iloc[[0]].copy()
    x0, y0 = tiny_area.boundaries.total_bounds[:2]
    extra["asset_id"], extra["elements"], extra["area_code"], extra["area_name"] = "X1", (8,), None, None
    extra["geometry"] = gpd.points_from_xy([x0 - 100], [y0 + 500], crs=settings.analysis_crs)
    tiny_area.assets = pd.concat([tiny_area.assets, extra], ignore_index=True)
    tiny_area._cache.clear()
    after = tiny_area.gaps(groups=["e8"]).table.set_index("code")
    assert after.loc[after.index != "ALL", "n_assets"].sum() == 0
    assert after.loc["ALL", "n_assets"] == 0 and not after["no_assets"].any()
    west = tiny_area.boundaries.sort_values("code").iloc[0]["code"]
    assert after.loc[west, "share_within_1200m"] > 0


# -- what the map shows ---------------------------------------------------------------


def test_map_layer_joins_need_and_the_groups_gap(demo, demo_gaps):
    from assetmap.render.views import map_layer

    layer = map_layer(demo, "e6")
    rows = areas_of(demo_gaps.table, "e6").set_index("code")
    assert len(layer) == len(demo.boundaries) and layer.crs == settings.analysis_crs
    for column in ("access_share", "gap_index", "bivariate_class", "gap_rank"):
        assert layer.set_index("code")[column].to_dict() == rows[column].to_dict()
    summary = demo.area_summary().set_index("code")
    assert layer.set_index("code")["avg_score"].to_dict() == summary["avg_score"].to_dict()
    assert layer.attrs["method"] == "network"


def test_map_layer_by_lsoa_carries_each_lsoas_own_imd(demo):
    from assetmap.render.views import map_layer

    layer = map_layer(demo, "strengthening", by="lsoa").set_index("code")
    dep = demo.deprivation.set_index("lsoa_code")
    assert set(layer.index) == set(demo.small_areas["code"])
    assert (layer["avg_score"] == dep.loc[layer.index, "imd_score"]).all()
    assert (layer["imd_decile"] == dep.loc[layer.index, "imd_decile"]).all()
    assert layer["population"].sum() == pytest.approx(demo.deprivation["population"].sum())


def test_catchment_holds_exactly_the_residents_within_reach(demo):
    from assetmap.render.views import catchment

    shape = catchment(demo, "e6", threshold=800)
    assert shape.crs == settings.analysis_crs and shape.attrs["method"] == "network"
    access = demo.access()
    near = access.distance["e6"].to_numpy() <= 800
    pts = gpd.points_from_xy(access.residents["x"], access.residents["y"])
    inside = np.asarray(pts.within(shape.iloc[0].buffer(1.0)))
    # Every reached street node is inside; the catchment does not spill over most far ones.
    assert inside[near].all()
    assert inside[~near].mean() < 0.5
    wider = catchment(demo, "e6", threshold=1200)
    assert wider.area.iloc[0] > shape.area.iloc[0]


def test_catchment_without_network_is_circles_round_the_assets(tiny_area):
    from assetmap.render.views import catchment, shown_assets

    tiny_area._cache.pop("area_summary")
    shape = catchment(tiny_area, "e6", threshold=400)
    assert shape.attrs["method"] == "straight-line"
    serving = shown_assets(tiny_area, group="e6")
    outline = tiny_area.boundaries.union_all()
    for point in serving.geometry:
        if outline.contains(point):
            assert shape.iloc[0].buffer(1.0).contains(point)
    assert catchment(tiny_area, "e8", threshold=400).iloc[0].is_empty  # no asset serves element 8


def test_reach_shape_covers_the_points_fills_street_gaps_and_keeps_land_out_of_reach():
    from assetmap.render.views import reach_shape

    # Street nodes every 100 m over 2 km, less a 600 m square in the middle that nobody reaches.
    gx, gy = np.meshgrid(np.arange(0.0, 2001.0, 100.0), np.arange(0.0, 2001.0, 100.0))
    x, y = gx.ravel() + 0.37, gy.ravel() - 0.21
    out = (abs(x - 1000) < 300) & (abs(y - 1000) < 300)
    shape = reach_shape(x[~out], y[~out], 60.0)
    assert shape.is_valid
    # Every point lies well inside: at least half the radius from the edge.
    assert shapely.contains_xy(shape.buffer(-30.0), x[~out], y[~out]).all()
    # The gaps between neighbouring streets are filled; the unreached square stays a hole.
    assert shapely.contains_xy(shape, 50.0, 50.0)
    assert not shapely.contains_xy(shape, 1000.0, 1000.0)
    assert sum(len(p.interiors) for p in shape.geoms) == 1
    # Nothing further than twice the radius from every point is covered.
    assert not shapely.contains_xy(shape, -130.0, 500.0)
    assert reach_shape(np.array([]), np.array([]), 60.0).is_empty


def test_shown_assets_filters(demo):
    from assetmap.render.views import shown_assets

    approved = demo.approved_assets()
    assert len(shown_assets(demo)) == len(approved)
    e6 = shown_assets(demo, group="e6")
    assert len(e6) == approved["elements"].map(lambda e: 6 in e).sum()
    some_type = approved["type"].iloc[0]
    assert (shown_assets(demo, types=[some_type])["type"] == some_type).all()
    fresh = shown_assets(demo, include_stale=False)
    assert len(fresh) == len(approved) - int(demo.stale_mask().loc[approved.index].sum())
    with pytest.raises(ValidationError):
        shown_assets(demo, group="e99")


def test_prepared_network_is_kept_by_content(tmp_path, monkeypatch):
    import shutil

    from assetmap.area import coverage
    from assetmap.io import network as network_io

    folder = tmp_path / "area"
    shutil.copytree(settings.demo_area_path, folder)
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    first = coverage.walk_graph(assetmap.load_area(folder))
    assert len(list((tmp_path / "cache" / "networks").glob("*.npz"))) == 1

    # A second load of the same file reads the prepared copy: the street file is not parsed again.
    def no_parsing(*args, **kwargs):
        raise AssertionError("the street file was parsed again")

    monkeypatch.setattr(network_io, "read_network", no_parsing)
    monkeypatch.setattr(assetmap.area.load, "read_network", no_parsing)
    again = coverage.walk_graph(assetmap.load_area(folder))
    assert (again.csr != first.csr).nnz == 0 and again.node_ids.tolist() == first.node_ids.tolist()

    # An edited street file is prepared afresh.
    monkeypatch.undo()
    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    osm = next((folder / "streets").glob("*.osm"))
    osm.write_text(osm.read_text(encoding="utf-8").replace("</osm>", "<!-- edited --></osm>"), encoding="utf-8")
    coverage.walk_graph(assetmap.load_area(folder))
    assert len(list((tmp_path / "cache" / "networks").glob("*.npz"))) == 2


@pytest.mark.parametrize("damage", ["junk", "truncated"])
def test_unreadable_prepared_network_is_rebuilt(tmp_path, monkeypatch, damage):
    from assetmap.area import coverage

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    area = assetmap.load_area(settings.demo_area_path)
    prepared = coverage._prepared_path(area.network_path, area.network_bounds())
    if damage == "junk":
        prepared.parent.mkdir(parents=True)
        prepared.write_bytes(b"not a graph")
    else:
        good = coverage.walk_graph(assetmap.load_area(settings.demo_area_path))
        coverage.save_walk_graph(good, prepared)
        prepared.write_bytes(prepared.read_bytes()[: prepared.stat().st_size // 2])
    graph = coverage.walk_graph(area)
    assert graph.n_nodes > 0
    assert coverage.load_walk_graph(prepared).n_nodes == graph.n_nodes  # replaced by a good copy
