"""Access for one audience: residents by age from the IoD denominators, and the assets that serve them."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from assetmap._errors import ValidationError
from assetmap.analysis.access import compute_access
from assetmap.analysis.audience import audience_share, residents_for, serves_audience
from assetmap.analysis.shares import access_shares
from assetmap.cli import main
from assetmap.io.deprivation import read_deprivation, read_population

DEP = pd.DataFrame(
    {
        "lsoa_code": ["L1", "L2"],
        "population": [1000.0, 500.0],
        "population_0_15": [200.0, 100.0],
        "population_60_plus": [300.0, 50.0],
    }
)


def test_working_age_is_the_rest_where_the_file_has_no_16_59() -> None:
    share = audience_share(DEP, "working_age")
    assert share.to_dict() == pytest.approx({"L1": 0.5, "L2": 0.7})
    assert audience_share(DEP.assign(population_16_59=[600.0, 300.0]), "working_age")["L1"] == pytest.approx(0.6)


def test_residents_for_scales_each_point_by_its_lsoa() -> None:
    residents = pd.DataFrame({"lsoa_code": ["L1", "L1", "L2"], "population": [500.0, 500.0, 500.0]})
    children = residents_for(residents, DEP, "children")
    assert children["population"].tolist() == pytest.approx([100.0, 100.0, 100.0])
    assert residents_for(residents, DEP, "everyone") is residents


def test_no_ages_is_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError, match="no population of older people") as caught:
        audience_share(DEP[["lsoa_code", "population"]], "older")
    assert "File 6" in str(caught.value)
    with pytest.raises(ValidationError, match="unknown audience 'toddlers'"):
        audience_share(DEP, "toddlers")


def test_serves_audience_by_list_words_and_type() -> None:
    assets = pd.DataFrame(
        {
            "type": ["vcse_group", "vcse_group", "youth_service", "vcse_group", "vcse_group"],
            "audience_groups": ["families", None, None, None, "older"],
            "audience": [None, "Older people (60+)", None, "Men", None],
        }
    )
    assert serves_audience(assets, "children").tolist() == [True, False, True, True, False]
    assert serves_audience(assets, "older").tolist() == [False, True, False, True, True]
    assert serves_audience(assets, "everyone").all()


def test_share_of_children_counts_only_assets_for_them() -> None:
    # Two LSOAs, one resident point each; an asset for older people sits on L1's point, one for families
    # on L2's. For children only the families asset counts: L1's children are out of reach.
    residents = pd.DataFrame(
        {"x": [0.0, 5000.0], "y": [0.0, 0.0], "population": [1000.0, 500.0], "lsoa_code": ["L1", "L2"]}
    )
    assets = gpd.GeoDataFrame(
        {"elements": [(4,), (4,)], "type": "vcse_group", "audience_groups": ["older", "families"]},
        geometry=shapely.points([0.0, 5000.0], 0.0),
        crs="EPSG:27700",
    )
    children = residents_for(residents, DEP, "children")
    access = compute_access(children, assets[serves_audience(assets, "children")], groups=["e4"])
    shares = access_shares(children, access.distance, by="lsoa", thresholds=[800])
    assert shares.set_index("code")["share_within_800m"].to_dict() == {"L1": 0.0, "L2": 1.0}
    assert shares["population"].tolist() == [200.0, 100.0]
    everyone = compute_access(residents, assets, groups=["e4"])
    assert access_shares(residents, everyone.distance, by="lsoa", thresholds=[800])["share_within_800m"].eq(1).all()


def test_iod_ages_are_read(real_data) -> None:
    pop = read_population(real_data / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv")
    first = pop.iloc[0]
    assert (first["population"], first["population_0_15"], first["population_16_59"], first["population_60_plus"]) == (
        1296.0,
        175.0,
        656.0,
        465.0,
    )


def test_demo_file7_ages_and_gaps_for_children(demo) -> None:
    from assetmap import settings

    dep = read_deprivation(settings.demo_area_path / "deprivation" / "demo_iod2025_file7.csv")
    assert {"population_0_15", "population_60_plus"} <= set(dep.columns)
    everyone = demo.gaps(groups=["e4"])
    children = demo.gaps(groups=["e4"], audience="children")
    wards = children.table[~children.table["whole_area"]]
    assert (wards["audience"] == "children").all()
    assert wards["audience_population"].sum() == pytest.approx(dep["population_0_15"].sum(), rel=0.02)
    assert not children.table["access_share"].equals(everyone.table["access_share"])
    assert "**Audience:** access for children and young people (0-15) only" in children.note
    assert "**Audience:**" not in everyone.note


def test_cli_gaps_for_an_audience_with_capacity(tmp_path, capsys) -> None:
    out = tmp_path / "gaps.csv"
    args = ["gaps", "--element", "4", "--audience", "older", "--capacity", "sessions_week", "--out", str(out)]
    assert main(args) == 0
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert (table["audience"] == "older").all() and table["capacity_per_1000"].notna().all()
    note = (tmp_path / "gaps.method.md").read_text(encoding="utf-8")
    assert "**Capacity score (E2SFCA):**" in note and "older people (60+)" in note
    with pytest.raises(SystemExit) as refused:
        main(["gaps", "--audience", "toddlers", "--out", str(out)])
    assert refused.value.code == 2 and "argument --audience: invalid choice: 'toddlers'" in capsys.readouterr().err
