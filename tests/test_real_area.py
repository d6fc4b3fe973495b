"""A whole real area, Manchester, built from the published files as an officer would."""

import pandas as pd
import pytest

from assetmap import LayerOptions, ValidationError, init_area, summarise_deprivation

pytestmark = pytest.mark.realdata


def test_layers_and_population(manchester):
    assert len(manchester.boundaries) == 32
    assert len(manchester.small_areas) == 295
    assert manchester.deprivation["population"].sum() == pytest.approx(566_778)
    assert manchester.small_areas.crs.to_epsg() == 27700
    # Food banks outside Manchester are not in its postcode file: left out, and said so.
    assert any("gm_food_banks.csv: left out" in n for n in manchester.notes)
    libs = manchester.assets[manchester.assets["file"] == "libraries_manchester.geojson"]
    assert len(libs) == 22 and set(libs["type"]) == {"library"}
    banks = manchester.assets[manchester.assets["file"] == "gm_food_banks.csv"]
    assert len(banks) >= 78 and set(banks["type"]) == {"food_bank"}


def test_ward_summary_adds_up_to_the_authority(manchester):
    wards = manchester.area_summary()
    lad = summarise_deprivation(manchester.deprivation, by="lad")
    assert len(wards) == 32 and wards["population"].notna().all()
    assert wards["population"].sum() == pytest.approx(lad["population"].iloc[0])
    # Population-weighted ward scores average back to the authority's score.
    back = (wards["avg_score"] * wards["population"]).sum() / wards["population"].sum()
    assert back == pytest.approx(lad["avg_score"].iloc[0])
    assert wards["n_lsoas"].sum() == pytest.approx(295)
    # Every approved asset with a ward is counted once.
    assert wards["n_assets"].sum() == manchester.approved_assets()["area_code"].notna().sum()


def test_most_deprived_ward_is_deprived(manchester):
    wards = manchester.area_summary().sort_values("avg_score", ascending=False)
    top = wards.iloc[0]
    assert top["share_pop_decile_1_2"] > 0.8
    assert wards["avg_score"].iloc[-1] < wards["avg_score"].median() < top["avg_score"]


def test_2019_file_on_2021_lsoas_refused_with_vintages(real_data, tmp_path):
    r = real_data
    with pytest.raises(ValidationError) as err:
        init_area(
            tmp_path / "m",
            boundaries=r / "boundaries" / "manchester_wards_2023.geojson",
            small_areas=r / "boundaries" / "manchester_lsoa21.geojson",
            imd=r / "deprivation" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
            options=LayerOptions(population=r / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv"),
        )
    text = str(err.value)
    assert "2011" in text and "2021" in text and "of 295" in text
    assert not (tmp_path / "m").exists()


def test_2019_area_on_2011_lsoas_without_lookup(real_data, tmp_path):
    r = real_data
    area = init_area(
        tmp_path / "m19",
        boundaries=r / "boundaries" / "manchester_wards_2023_ons_columns.geojson",
        small_areas=r / "boundaries" / "manchester_lsoa11.geojson",
        imd=r / "deprivation" / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv",
        options=LayerOptions(population=r / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv"),
    )
    assert len(area.deprivation) == 282
    summary = area.area_summary()
    assert summary["population"].sum() == pytest.approx(area.deprivation["population"].sum())
    # 122 of Manchester's 282 LSOAs were in the most deprived 10% in IoD2019 (MHCLG).
    lad = summarise_deprivation(area.deprivation, by="lad")
    assert lad["prop_lsoas_most_deprived_10pct"].iloc[0] == pytest.approx(122 / 282)
    assert isinstance(summary, pd.DataFrame)
