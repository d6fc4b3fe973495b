from pathlib import Path

import pandas as pd
import pytest

from assetmap import AssetMapWarning, DataFormatError, ValidationError
from assetmap.io.assets import flag_duplicates, read_assets
from assetmap.io.postcodes import read_postcodes

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "tiny"
BAD = FIX / "bad"


@pytest.fixture(scope="module")
def postcodes():
    return read_postcodes(TINY / "postcodes.csv")


def test_reads_register_with_types_elements_and_locations(postcodes):
    gdf = read_assets(TINY / "assets.csv", postcodes=postcodes)
    assert gdf.crs.to_epsg() == 27700
    by_id = gdf.set_index("asset_id")
    assert by_id.loc["T1", "type"] == "food_bank"
    assert by_id.loc["T1", "elements"] == (4, 11)  # the type's defaults
    assert by_id.loc["T3", "elements"] == (1, 8)  # an explicit override wins
    assert by_id.loc["T3", "pillars"] == ("scaling", "strengthening")
    assert by_id.loc["T4", "type"] == "growing_hub"  # a synonym, in any case
    assert by_id.loc["T3", "location_method"] == "postcode"
    assert by_id.loc["T1", "location_method"] == "lonlat"
    # The postcode-only record sits at its postcode, the centre of LSOA 5 (400,000-400,500 by 301,000-302,000).
    assert by_id.loc["T3", "geometry"].x == pytest.approx(400_250, abs=1)
    assert by_id.loc["T3", "geometry"].y == pytest.approx(301_500, abs=1)
    assert str(by_id.loc["T1", "last_confirmed"]) == "2025-03-01"


def test_every_bad_row_reported_with_row_field_and_fix(postcodes):
    with pytest.raises(ValidationError) as err:
        read_assets(BAD / "assets_problems.csv", postcodes=postcodes)
    problems = {(p.row, p.field) for p in err.value.problems}
    assert problems == {
        (3, "name"),
        (4, "type"),
        (5, "location"),
        (6, "latitude"),
        (7, "postcode"),
        (8, "postcode"),
        (9, "latitude"),
        (10, "last_confirmed"),
    }
    text = str(err.value)
    assert "8 of 9 rows need fixing" in text
    assert "'spaceship' is not an asset type: 1 row (4)" in text and "food_bank" in text and "--type-map" in text
    assert "look swapped" in text
    assert "'TT9 9ZZ' is not in the postcode lookup" in text
    assert "'NOT A CODE' is not a UK postcode" in text
    assert "outside the United Kingdom" in text
    assert "assets_problems.csv, row 5" in text


def test_skip_keeps_good_rows_and_warns(postcodes):
    with pytest.warns(AssetMapWarning, match="left out 8 of 9 rows"):
        gdf = read_assets(BAD / "assets_problems.csv", postcodes=postcodes, on_error="skip")
    assert gdf["name"].tolist() == ["Good Pantry"]


def test_postcode_without_lookup_says_add_one():
    with pytest.raises(ValidationError, match="no postcode lookup"):
        read_assets(TINY / "assets.csv")


def test_no_type_column_needs_default_type(tmp_path):
    f = tmp_path / "banks.csv"
    f.write_text("Name,Latitude,Longitude\nA Pantry,52.6,-2.0\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="--type "):
        read_assets(f)
    gdf = read_assets(f, default_type="food_bank")
    assert gdf["type"].tolist() == ["food_bank"]


def test_easting_northing_and_geojson_polygon(tmp_path):
    f = tmp_path / "bng.csv"
    f.write_text("name,type,Easting,Northing\nHall,community centre,400100,300200\n", encoding="utf-8")
    gdf = read_assets(f)
    assert gdf.geometry.x.iloc[0] == pytest.approx(400_100, abs=0.01)
    assert gdf["location_method"].iloc[0] == "bng"
    import geopandas as gpd
    from shapely.geometry import box

    poly = gpd.GeoDataFrame(
        {"name": ["Park Garden"], "type": ["allotment"]}, geometry=[box(400_000, 300_000, 400_100, 300_100)], crs=27700
    )
    poly.to_file(tmp_path / "site.gpkg", driver="GPKG")
    got = read_assets(tmp_path / "site.gpkg")
    assert got["location_method"].iloc[0] == "geometry"
    assert box(400_000, 300_000, 400_100, 300_100).contains(got.geometry.iloc[0])


def test_xlsx_register(tmp_path):
    pd.DataFrame({"Asset name": ["Book Club"], "Category": ["Library"], "lat": [52.6], "lng": [-2.0]}).to_excel(
        tmp_path / "r.xlsx", index=False
    )
    gdf = read_assets(tmp_path / "r.xlsx")
    assert gdf["name"].tolist() == ["Book Club"] and gdf["type"].tolist() == ["library"]


def test_ids_are_stable_across_reads(tmp_path):
    f = tmp_path / "noid.csv"
    f.write_text("name,type,lat,lon\nA,library,52.6,-2.0\nB,library,52.61,-2.01\n", encoding="utf-8")
    assert read_assets(f)["asset_id"].tolist() == read_assets(f)["asset_id"].tolist()
    assert read_assets(f)["asset_id"].is_unique


def test_duplicate_ids_refused(tmp_path):
    f = tmp_path / "dup.csv"
    f.write_text("id,name,type,lat,lon\nX1,A,library,52.6,-2.0\nX1,B,library,52.61,-2.01\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="X1"):
        read_assets(f)


def test_likely_duplicates_flagged(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text(
        "id,name,type,lat,lon,postcode\n"
        "1,Hope Pantry,food bank,52.6,-2.0,\n"
        "2,HOPE PANTRY.,food bank,52.60001,-2.00001,\n"
        "3,Hope Pantry,food bank,52.7,-2.1,\n"
        "4,Other,food bank,52.6,-2.0,\n",
        encoding="utf-8",
    )
    dups = flag_duplicates(read_assets(f))
    assert dups[["asset_id", "duplicate_of"]].values.tolist() == [["2", "1"]]


def test_unsafe_text_kept_as_data_not_interpreted(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text(
        'name,type,lat,lon\n"<script>alert(1)</script>",library,52.6,-2.0\n"=HYPERLINK(""x"")",library,52.6,-2.1\n',
        encoding="utf-8",
    )
    gdf = read_assets(f)
    assert gdf["name"].tolist() == ["<script>alert(1)</script>", '=HYPERLINK("x")']


def test_windows_1252_csv(tmp_path):
    f = tmp_path / "cp.csv"
    f.write_bytes("name,type,lat,lon\nCaf\u00e9 Club \u2013 Tinyton,library,52.6,-2.0\n".encode("cp1252"))
    assert read_assets(f)["name"].iloc[0] == "Caf\u00e9 Club \u2013 Tinyton"


@pytest.mark.parametrize("where", ["first row", "later row"])
def test_a_row_longer_than_the_header_is_named(tmp_path, where):
    rows = ["Hall A,community_centre,52.6,-2.0", "Hall B,library,52.61,-2.01"]
    rows[0 if where == "first row" else 1] += ",surplus"
    path = tmp_path / "register.csv"
    path.write_text("name,type,lat,lon\n" + "\n".join(rows) + "\n", encoding="utf-8")
    line = 2 if where == "first row" else 3
    with pytest.raises(DataFormatError, match=rf"register.csv, line {line}: 5 cells but the header has 4 columns"):
        read_assets(path)


def test_a_long_row_after_a_lone_carriage_return_is_still_a_clear_message(tmp_path):
    # Found by fuzzing: a carriage return inside a line made the row check itself fail.
    path = tmp_path / "register.csv"
    path.write_bytes(b"name,type,lat,lon\nHall A\rx,community_centre,52.6,-2.0,surplus\n")
    with pytest.raises(DataFormatError, match=r"register.csv"):
        read_assets(path)
