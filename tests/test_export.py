import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import Point

from assetmap import DataFormatError
from assetmap.io.export import neutralise_formulae, write_table

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


def test_formula_cells_neutralised_numbers_kept():
    df = pd.DataFrame({"name": [*PAYLOADS, "Safe"], "lon": [-2.1] * 7})
    out = neutralise_formulae(df)
    assert all(v.startswith("'") for v in out["name"][:6])
    assert out["name"].iloc[6] == "Safe"
    assert out["lon"].tolist() == [-2.1] * 7
    assert df["name"].iloc[0] == PAYLOADS[0]  # the input is not changed


def test_csv_and_xlsx_exports_are_neutralised(tmp_path):
    df = pd.DataFrame({"name": PAYLOADS, "elements": [(1, 6)] * 6})
    write_table(df, tmp_path / "t.csv")
    back = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert back["name"].tolist() == ["'" + p for p in PAYLOADS]
    assert all(v.startswith("'") for v in back["name"])
    assert back["elements"].iloc[0] == "1;6"
    write_table(df, tmp_path / "t.xlsx")
    ws = load_workbook(tmp_path / "t.xlsx").active
    cells = [ws.cell(row=i, column=1).value for i in range(2, 8)]
    assert all(str(c).startswith("'") for c in cells)
    assert all(ws.cell(row=i, column=1).data_type == "s" for i in range(2, 8))


def test_geojson_in_wgs84_and_geopackage(tmp_path):
    gdf = gpd.GeoDataFrame({"name": ["A"], "pillars": [("scaling",)]}, geometry=[Point(400000, 300000)], crs=27700)
    write_table(gdf, tmp_path / "a.geojson")
    back = gpd.read_file(tmp_path / "a.geojson")
    assert back.crs.to_epsg() == 4326 and back["pillars"].iloc[0] == "scaling"
    write_table(gdf, tmp_path / "a.gpkg")
    assert gpd.read_file(tmp_path / "a.gpkg").crs.to_epsg() == 27700


def test_unknown_extension_and_no_partial_file(tmp_path):
    with pytest.raises(DataFormatError, match=r"\.csv, \.xlsx"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "a.txt")
    with pytest.raises(DataFormatError, match="needs geometry"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "a.geojson")
    assert list(tmp_path.iterdir()) == []


def test_table_bytes_match_the_file_and_refuse_unknown_formats(tmp_path):
    from assetmap.io.export import table_bytes

    frame = pd.DataFrame({"name": ["=1+1", "Hall"], "n": [1, 2]})
    assert table_bytes(frame, "csv") == write_table(frame, tmp_path / "t.csv").read_bytes()
    with pytest.raises(DataFormatError, match="csv, xlsx, geojson, gpkg"):
        table_bytes(frame, "docx")


def test_missing_values_are_empty_cells_never_text(tmp_path):
    df = pd.DataFrame(
        {
            "name": ["a", None],
            "when": pd.Series([pd.Timestamp("2025-01-02").date(), pd.NaT], dtype=object),
            "mixed": pd.Series([float("nan"), "x"], dtype=object),
            "text": pd.array([pd.NA, "y"], dtype="string"),
        }
    )
    out = write_table(df, tmp_path / "t.csv")
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["name,when,mixed,text", "a,2025-01-02,,", ",,x,y"]
    book = write_table(df, tmp_path / "t.xlsx")
    rows = list(load_workbook(book).active.iter_rows(values_only=True))
    assert rows[2] == (None, None, "x", "y")
