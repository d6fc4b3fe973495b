"""Assignment of real Manchester assets to real wards, checked against OS Code-Point's own ward per postcode."""

import warnings

import geopandas as gpd
import pandas as pd
import pytest

from assetmap.analysis.assign import assign_to_areas
from assetmap.io.assets import read_assets
from assetmap.io.boundaries import read_boundaries
from assetmap.io.postcodes import read_postcodes

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def wards(real_data):
    return read_boundaries(real_data / "boundaries" / "manchester_wards_2023_ons_columns.geojson")


@pytest.fixture(scope="module")
def codepoint(real_data):
    return read_postcodes(real_data / "postcodes" / "manchester_postcodes_codepoint_2025.csv")


def test_council_and_ons_column_files_agree(real_data, wards):
    council = read_boundaries(real_data / "boundaries" / "manchester_wards_2023.geojson")
    assert council.attrs["code_col"] == "area_code" and wards.attrs["code_col"] == "WD23CD"
    assert council["code"].tolist() == wards["code"].tolist()
    assert len(wards) == 32


def test_every_postcode_in_its_codepoint_ward(wards, codepoint):
    pts = gpd.GeoDataFrame(
        codepoint, geometry=gpd.points_from_xy(codepoint["longitude"], codepoint["latitude"], crs=4326)
    ).to_crs(27700)
    got = assign_to_areas(pts, wards)
    agree = (got["area_code"] == codepoint["ward_code"]).mean()
    # The boundaries are generalised to 20 m, so a handful of postcodes on a ward edge may differ.
    assert agree > 0.999, agree


def test_food_banks_by_postcode_land_in_the_right_ward(real_data, wards, codepoint):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows outside Manchester's lookup are left out on purpose
        banks = read_assets(
            real_data / "assets" / "gm_food_banks.csv", postcodes=codepoint, default_type="food_bank", on_error="skip"
        )
    assert len(banks) >= 78  # 81 Manchester rows; a postcode or two is not in the 2025 file
    banks[["area_code", "area_name"]] = assign_to_areas(banks, wards)
    truth = codepoint.set_index("postcode").loc[banks["postcode"], "ward_code"].to_numpy()
    assert (banks["area_code"].to_numpy() == truth).mean() == 1.0


def test_libraries_points_agree_with_their_postcodes(real_data, wards, codepoint):
    libs = read_assets(real_data / "assets" / "libraries_manchester.geojson")
    assert len(libs) == 22 and set(libs["type"]) == {"library"}
    libs[["area_code", "area_name"]] = assign_to_areas(libs, wards)
    known = libs["postcode"].isin(codepoint["postcode"])
    truth = codepoint.set_index("postcode").loc[libs.loc[known, "postcode"], "ward_code"].to_numpy()
    assert known.sum() >= 20
    assert (libs.loc[known, "area_code"].to_numpy() == truth).mean() >= 0.95


def _no_missing_text(path) -> None:
    text = path.read_text(encoding="utf-8-sig")
    for word in ("NaT", "nan", "<NA>", "None"):
        assert f",{word}," not in text and f",{word}\r\n" not in text, word


def test_cli_assign_keeps_every_column_and_needs_no_type(real_data, tmp_path, capsys):
    from assetmap.cli import main

    r = real_data
    source = r / "assets" / "gm_green_flags.geojson"
    out = tmp_path / "green_flags.csv"
    args = ["assign", "--boundaries", str(r / "boundaries" / "manchester_wards_2023.geojson"), "--assets", str(source)]
    args += ["--small-areas", str(r / "boundaries" / "manchester_lsoa21.geojson"), "--out", str(out)]
    assert main(args) == 0
    original = gpd.read_file(source)
    got = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    # The file's own area columns are kept, renamed, beside the ones assign adds.
    kept = [c for c in original.columns if c != "geometry"]
    renamed = [f"{c}_input" if c in ("area_code", "area_name") else c for c in kept]
    assert got.columns.tolist() == [*renamed, "area_code", "area_name", "lsoa_code"]
    assert "kept as area_code_input, area_name_input" in capsys.readouterr().out
    assert got["name"].tolist() == original["name"].tolist()
    mine = got[got["area_code"] != ""]
    # The 8 Green Flag sites in Manchester (MANIFEST), each in a Manchester ward and LSOA.
    assert len(mine) == 8 and set(mine["area_code_input"]) == {"E08000003"}
    assert mine["lsoa_code"].str.match(r"^E01\d{6}$").all() and mine["area_name"].ne("").all()
    assert (got.loc[got["area_code"] == "", "lsoa_code"] == "").all()
    _no_missing_text(out)


def test_cli_assign_by_postcode_keeps_unplaced_rows_blank_with_skip_invalid(real_data, tmp_path, capsys):
    from assetmap.cli import main

    r = real_data
    out = tmp_path / "food_banks.csv"
    args = ["assign", "--boundaries", str(r / "boundaries" / "manchester_wards_2023.geojson")]
    args += ["--assets", str(r / "assets" / "gm_food_banks.csv")]
    args += ["--postcodes", str(r / "postcodes" / "manchester_postcodes_codepoint_2025.csv"), "--out", str(out)]
    # Postcodes outside Manchester's Code-Point file cannot be placed: listed, and nothing written.
    assert main(args) == 2
    assert "rows cannot be placed" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--skip-invalid"]) == 0
    got = pd.read_csv(out, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert len(got) == 171 and got.columns[:2].tolist() == ["Name", "Referral method"]
    placed = got[got["area_code"] != ""]
    assert len(placed) >= 78 and set(placed["Area code"]) == {"E08000003"}
    _no_missing_text(out)
