import warnings
import zipfile
from pathlib import Path

import pytest

from assetmap import AssetMapWarning, CRSError, DataFormatError, ValidationError
from assetmap.io._read import sniff_format
from assetmap.io.boundaries import read_boundaries, read_small_areas

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "tiny"
BAD = FIX / "bad"


def test_reads_ons_columns_into_code_name_in_bng():
    gdf = read_boundaries(TINY / "wards.geojson")
    assert list(gdf.columns) == ["code", "name", "geometry"]
    assert gdf.crs.to_epsg() == 27700
    assert gdf["code"].tolist() == ["E05999901", "E05999902", "E05999903", "E05999904"]
    assert gdf.attrs["code_col"] == "WD24CD" and gdf.attrs["name_col"] == "WD24NM"
    # 1 km squares survive the round trip through WGS84 to within a square metre.
    assert gdf.area.round(-1).tolist() == [1_000_000.0] * 4


def test_small_areas_vintage_from_column_name():
    gdf = read_small_areas(TINY / "lsoa21.geojson")
    assert len(gdf) == 8
    assert gdf.attrs["lsoa_vintage"] == 2021


def test_small_areas_refuse_ward_codes():
    with pytest.raises(ValidationError, match="LSOA codes"):
        read_small_areas(TINY / "wards.geojson", code_col="WD24CD")


def test_explicit_columns_where_detection_fails():
    with pytest.raises(DataFormatError, match="--boundaries-code-col"):
        read_boundaries(BAD / "no_code_column.geojson")
    gdf = read_boundaries(BAD / "no_code_column.geojson", code_col="zone", name_col="label")
    assert sorted(gdf["code"]) == ["east", "north", "south", "west"]


def test_unknown_column_named():
    with pytest.raises(DataFormatError, match="no column 'WD99CD'"):
        read_boundaries(TINY / "wards.geojson", code_col="WD99CD")


def test_formats_geopackage_shapefile_zip_kml(tmp_path):
    gdf = read_boundaries(TINY / "wards.geojson")
    ons = gdf.rename(columns={"code": "WD24CD", "name": "WD24NM"})
    ons.to_file(tmp_path / "w.gpkg", driver="GPKG")
    ons.to_file(tmp_path / "w.shp")
    with zipfile.ZipFile(tmp_path / "w.zip", "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            if (tmp_path / f"w.{ext}").exists():
                zf.write(tmp_path / f"w.{ext}", f"wards/w.{ext}")
    ons.to_crs(4326).to_file(tmp_path / "w.kml", driver="KML")
    for name, kind in [("w.gpkg", "gpkg"), ("w.shp", "shp"), ("w.zip", "shpzip"), ("w.kml", "kml")]:
        assert sniff_format(tmp_path / name) == kind
        got = read_boundaries(tmp_path / name, code_col="WD24CD" if kind != "kml" else None)
        assert len(got) == 4, name
        assert got.crs.to_epsg() == 27700
        assert abs(got.area.sum() - 4_000_000) < 100, name


def test_wrong_extension_read_by_content(tmp_path):
    target = tmp_path / "wards.csv"
    target.write_bytes((TINY / "wards.geojson").read_bytes())
    assert len(read_boundaries(target)) == 4


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.geojson", "empty"),
        ("garbage.geojson", "binary file"),
        ("truncated.geojson", "cannot read"),
        ("notes.docx", "zip archive"),
    ],
)
def test_unreadable_files_named(name, message):
    with pytest.raises(DataFormatError, match=message) as err:
        read_boundaries(BAD / name)
    assert name in str(err.value)


def test_table_is_not_a_layer():
    with pytest.raises(DataFormatError, match="not a map layer"):
        read_boundaries(TINY / "file7.csv")


def test_missing_file():
    with pytest.raises(DataFormatError, match="no such file"):
        read_boundaries(BAD / "nowhere.geojson")


def test_duplicate_codes_listed_with_rows():
    with pytest.raises(ValidationError) as err:
        read_boundaries(BAD / "duplicate_codes.geojson")
    text = str(err.value)
    assert "E05999901" in text and "rows [2, 3]" in text and "Dissolve" in text


def test_mixed_geometries_rejected():
    with pytest.raises(ValidationError, match="not polygons") as err:
        read_boundaries(BAD / "mixed_geometries.geojson")
    assert "LineString" in str(err.value) and "Point" in str(err.value)


def test_empty_geometry_rejected():
    with pytest.raises(ValidationError, match="has no geometry") as err:
        read_boundaries(BAD / "empty_geometry.geojson")
    assert "E05999902" in str(err.value)


def test_invalid_geometry_repaired_and_reported():
    with pytest.warns(AssetMapWarning, match="repaired 1 invalid") as rec:
        gdf = read_boundaries(BAD / "invalid_geometry.geojson")
    assert "E05999901" in str(rec[0].message)
    assert gdf.is_valid.all()
    assert gdf.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert gdf.attrs["repaired"] == ["E05999901"]


def test_no_crs_bng_assumed_and_told():
    with pytest.warns(AssetMapWarning, match="read as EPSG:27700"):
        gdf = read_boundaries(BAD / "no_crs_bng.shp")
    assert gdf.crs.to_epsg() == 27700
    assert gdf.total_bounds[0] == pytest.approx(400_000)


def test_no_crs_lonlat_refused_with_fix():
    with pytest.raises(CRSError, match="crs='EPSG:4326'"):
        read_boundaries(BAD / "no_crs_lonlat.shp")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gdf = read_boundaries(BAD / "no_crs_lonlat.shp", crs="EPSG:4326")
    assert gdf.total_bounds[0] == pytest.approx(400_000, abs=1)


def test_zip_with_unsafe_path_refused(tmp_path):
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../../etc/evil.shp", b"\x00\x00\x27\x0a")
    with pytest.raises(DataFormatError, match="unsafe path"):
        read_boundaries(bad)
