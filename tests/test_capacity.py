"""The capacity score (E2SFCA): worked by hand, checked against PySAL's access package, and on the demo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from assetmap._errors import ValidationError
from assetmap.analysis.capacity import CapacityOptions, capacity_access, decay, e2sfca

CRS = "EPSG:27700"


def _residents(xs: list[float], pops: list[float], lsoas: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"x": xs, "y": 0.0, "population": pops, "lsoa_code": lsoas})


def _assets(xs: list[float], capacity: list[object], unit: list[object] | None = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "elements": [(4,)] * len(xs),
            "status": "approved",
            "capacity": capacity,
            "capacity_unit": unit or ["sessions_week"] * len(xs),
        },
        geometry=shapely.points(xs, 0.0),
        crs=CRS,
    )


def test_decay_is_the_papers_steps_over_thirds_of_the_threshold() -> None:
    assert decay(np.array([0, 300, 301, 600, 601, 900, 901]), 900).tolist() == [1, 1, 0.68, 0.68, 0.22, 0.22, 0]


def test_two_step_value_worked_by_hand() -> None:
    # Residents r1 (100 people, x=0) and r2 (300 people, x=1000); assets a (10 sessions, x=200) and
    # b (4 sessions, x=700); catchment 900 m, steps at 300 and 600 m.
    # d(r1,a)=200 -> 1, d(r1,b)=700 -> 0.22, d(r2,a)=800 -> 0.22, d(r2,b)=300 -> 1.
    # R_a = 10 / (100*1 + 300*0.22) = 10/166;  R_b = 4 / (100*0.22 + 300*1) = 4/322.
    # A_1 = R_a*1 + R_b*0.22;  A_2 = R_a*0.22 + R_b*1.
    ra, rb = 10 / 166, 4 / 322
    result = capacity_access(
        _residents([0, 1000], [100, 300], ["L1", "L2"]),
        _assets([200, 700], [10, 4]),
        groups=["e4"],
        options=CapacityOptions(threshold=900),
    )
    assert result.points["e4"].to_numpy() == pytest.approx([ra + 0.22 * rb, 0.22 * ra + rb])
    lsoa = result.by_lsoa.set_index("code")["capacity_per_1000"]
    assert lsoa["L1"] == pytest.approx(1000 * (ra + 0.22 * rb))
    assert result.n_default == 0 and result.method == "straight-line"


def test_records_without_capacity_count_as_the_default() -> None:
    # Asset b gives places, not sessions a week: it counts as the default, 1 session a week.
    result = capacity_access(
        _residents([0], [100], ["L1"]),
        _assets([100, 200], [5, 40], ["sessions_week", "places"]),
        groups=["e4"],
        options=CapacityOptions(threshold=900, default_capacity=1.0),
    )
    assert result.points["e4"].iloc[0] == pytest.approx((5 + 1) / 100)
    assert result.n_default == 1
    places = capacity_access(
        _residents([0], [100], ["L1"]),
        _assets([100, 200], [5, 40], ["sessions_week", "places"]),
        groups=["e4"],
        options=CapacityOptions(threshold=900, unit="places"),
    )
    assert places.points["e4"].iloc[0] == pytest.approx((1 + 40) / 100)


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown capacity unit 'hours'"):
        capacity_access(
            _residents([0], [100], ["L1"]), _assets([100], [5]), groups=["e4"], options=CapacityOptions(unit="hours")
        )


def test_agrees_with_pysal_access_on_the_same_inputs() -> None:
    access = pytest.importorskip("access")
    rng = np.random.default_rng(7)
    n_res, n_assets, t = 40, 9, 1200.0
    rx, rpop = rng.uniform(0, 3000, n_res), rng.integers(50, 500, n_res).astype(float)
    ax, cap = rng.uniform(0, 3000, n_assets), rng.integers(1, 12, n_assets).astype(float)
    ry, ay = rng.uniform(0, 3000, n_res), rng.uniform(0, 3000, n_assets)
    residents = pd.DataFrame({"x": rx, "y": ry, "population": rpop, "lsoa_code": [f"L{i}" for i in range(n_res)]})
    assets = gpd.GeoDataFrame(
        {"elements": [(4,)] * n_assets, "status": "approved", "capacity": cap},
        geometry=shapely.points(ax, ay),
        crs=CRS,
    )
    ours = capacity_access(residents, assets, groups=["e4"], options=CapacityOptions(threshold=t))
    cost = pd.DataFrame(
        [
            {"origin": i, "dest": j, "cost": float(np.hypot(rx[i] - ax[j], ry[i] - ay[j]))}
            for i in range(n_res)
            for j in range(n_assets)
        ]
    )
    model = access.Access(
        demand_df=pd.DataFrame({"rid": range(n_res), "pop": rpop}),
        demand_index="rid",
        demand_value="pop",
        supply_df=pd.DataFrame({"aid": range(n_assets), "cap": cap}),
        supply_index="aid",
        supply_value="cap",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    steps = access.weights.step_fn({t / 3: 1.0, 2 * t / 3: 0.68, t: 0.22})
    theirs = model.enhanced_two_stage_fca(max_cost=t, weight_fn=steps).iloc[:, 0].reindex(range(n_res)).fillna(0)
    assert ours.points["e4"].to_numpy() == pytest.approx(theirs.to_numpy(), rel=1e-9, abs=1e-12)


def test_e2sfca_of_no_pairs_is_zero() -> None:
    empty = np.zeros(0, np.int64)
    out = e2sfca(empty, empty, np.zeros(0), np.array([10.0]), np.array([3.0]), CapacityOptions())
    assert out.tolist() == [0.0]


def test_demo_scores_beside_the_share(demo) -> None:
    from assetmap.area.capacity import area_capacity

    result = area_capacity(demo, groups=["e4", "involving"])
    by_area = result.by_area
    assert by_area is not None and set(by_area["group"]) == {"e4", "involving"}
    assert set(by_area["code"]) == set(demo.boundaries["code"])
    assert (by_area["capacity_per_1000"] >= 0).all()
    # Every demo record lacks a capacity: each counts as 1 session a week, and the note says so.
    assert result.n_default > 0
    # A pillar's assets are at least its elements' assets: its score is no smaller anywhere.
    wide = by_area.pivot(index="code", columns="group", values="capacity_per_1000")
    assert (wide["involving"] >= wide["e4"] - 1e-9).all()


def test_an_audiences_score_shares_each_asset_with_everyone_it_serves() -> None:
    # One point of 100 residents, 20 of them 60+. An asset for everyone (10 sessions) is shared by all 100:
    # 0.1 each; an asset for older people (4 sessions) by the 20 alone: 0.2 each. Older people: 0.3.
    older = _residents([0], [20], ["L1"])
    assets = _assets([0, 0], [10, 4]).assign(type="vcse_group", audience_groups=["everyone", "older"])
    sharing = pd.DataFrame({"children": [30.0], "working_age": [50.0], "older": [20.0]})
    result = capacity_access(older, assets, groups=["e4"], options=CapacityOptions(threshold=900), sharing=sharing)
    assert result.points["e4"].iloc[0] == pytest.approx(0.1 + 0.2)
    assert result.shared
    alone = capacity_access(older, assets, groups=["e4"], options=CapacityOptions(threshold=900))
    assert alone.points["e4"].iloc[0] == pytest.approx(14 / 20)  # without sharing, all 14 sessions go to 20
