"""Uploaded files: safe names, kinds and sizes, headers, and a new area built all or nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO

import assetmap
from assetmap import settings
from assetmap._errors import AreaError, DataFormatError, ValidationError
from assetmap.area import create
from assetmap.io import uploads
from assetmap.io.uploads import Upload

TINY = REPO / "tests" / "fixtures" / "tiny"
BAD = REPO / "tests" / "fixtures" / "bad"


def _files(**paths: Path) -> dict[str, list[Upload]]:
    chosen = {
        "boundaries": TINY / "wards.geojson",
        "small_areas": TINY / "lsoa21.geojson",
        "deprivation": TINY / "file7.csv",
    }
    chosen.update(paths)
    return {layer: [Upload(p.name, p.read_bytes())] for layer, p in chosen.items()}


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\win.ini", "win.ini"),
        ("C:\\data\\Wards May 2024.GeoJSON", "Wards_May_2024.geojson"),
        (".htaccess", "htaccess"),
        ("..", "upload"),
        ("", "upload"),
        ("wards;rm -rf ~.csv", "wards_rm_-rf.csv"),
        ("Café wards.gpkg", "Caf_wards.gpkg"),
        ("a\x00b.csv", "a_b.csv"),
    ],
)
def test_safe_filename_keeps_a_base_name_only(name, safe):
    assert uploads.safe_filename(name) == safe


def test_safe_filename_is_never_a_path_and_is_bounded():
    name = uploads.safe_filename("x" * 500 + ".geojson")
    assert len(name) <= 100 and name.endswith(".geojson")
    for raw in ("/abs/path.csv", "a/../b.csv", "./.././c.csv"):
        out = uploads.safe_filename(raw)
        assert "/" not in out and "\\" not in out and not out.startswith(".")


def test_safe_folder_name():
    assert uploads.safe_folder_name("Manchester (wards 2023)") == "manchester-wards-2023"
    assert uploads.safe_folder_name("../../etc") == "etc"
    assert uploads.safe_folder_name("***") == "area"


def test_check_upload_names_the_file_and_the_allowed_kinds():
    (problem,) = uploads.check_upload("report.docx", 10, "boundaries")
    assert problem.file == "report.docx"
    assert all(ext in str(problem) for ext in uploads.UPLOAD_TYPES["boundaries"])
    assert uploads.check_upload("wards.GEOJSON", 10, "boundaries") == []
    assert uploads.check_upload("streets.osm", 10, "network") == []
    assert uploads.check_upload("streets.osm.pbf", 10, "network") == []
    assert uploads.check_upload("open_roads.gpkg", 10, "network") == []  # its content decides what it is
    assert uploads.check_upload("streets.csv", 10, "network")


def test_check_upload_sizes(monkeypatch):
    monkeypatch.setitem(settings.upload_limit_mb, "deprivation", 2)
    assert uploads.check_upload("iod.csv", 2_000_000, "deprivation") == []
    (problem,) = uploads.check_upload("iod.csv", 2_000_001, "deprivation")
    assert "iod.csv" in str(problem) and "2 MB limit" in str(problem)
    (empty,) = uploads.check_upload("iod.csv", 0, "deprivation")
    assert "empty" in str(empty)
    # The overall limit caps every layer's.
    monkeypatch.setattr(settings, "max_file_mb", 1)
    assert uploads.upload_limit_mb("deprivation") == 1


def test_check_upload_refuses_unknown_layers():
    with pytest.raises(ValueError, match="unknown layer"):
        uploads.check_upload("a.csv", 1, "nonsense")


def test_check_uploads_lists_every_problem_at_once():
    with pytest.raises(ValidationError) as info:
        uploads.check_uploads(
            {"boundaries": [Upload("a.geojson", b"{}"), Upload("b.geojson", b"{}")], "assets": [Upload("x.exe", b"MZ")]}
        )
    text = str(info.value)
    for expected in ("LSOA boundaries", "Indices of Deprivation file", "give one file only", "x.exe"):
        assert expected in text


def test_write_uploads_stays_inside_the_folder_and_keeps_both_of_two_names(tmp_path):
    written = uploads.write_uploads(
        {"assets": [Upload("../../evil.csv", b"a\n1\n"), Upload("evil.csv", b"a\n2\n")], "network": []}, tmp_path
    )
    paths = written["assets"]
    assert [p.name for p in paths] == ["evil.csv", "evil_2.csv"]
    assert all(p.resolve().is_relative_to(tmp_path.resolve()) for p in paths)
    assert [p.read_bytes() for p in paths] == [b"a\n1\n", b"a\n2\n"]
    assert "network" not in written


def test_table_columns_of_csv_and_xlsx(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffLSOA code (2021),Total population: mid 2022\nE01000001,1\n".encode())
    assert uploads.table_columns(bom) == ["LSOA code (2021)", "Total population: mid 2022"]
    windows = tmp_path / "cp1252.csv"
    windows.write_bytes("lsoa_code,Spend £\nE01000001,1\n".encode("cp1252"))
    assert uploads.table_columns(windows) == ["lsoa_code", "Spend £"]
    book = tmp_path / "iod.xlsx"
    with pd.ExcelWriter(book) as writer:
        pd.DataFrame({"About": ["notes"]}).to_excel(writer, sheet_name="Notes", index=False)
        pd.read_csv(TINY / "file7.csv", encoding="utf-8-sig").to_excel(writer, sheet_name="IoD", index=False)
    assert uploads.table_columns(book) == uploads.table_columns(TINY / "file7.csv")
    with pytest.raises(DataFormatError, match="not a table"):
        uploads.table_columns(TINY / "wards.geojson")


def test_check_columns_of_boundaries():
    ok = uploads.check_columns(TINY / "wards.geojson", "boundaries")
    assert ok.missing == () and ok.found == {"code_col": "WD24CD", "name_col": "WD24NM"}
    bad = uploads.check_columns(BAD / "no_code_column.geojson", "boundaries")
    assert bad.missing == ("code_col",) and bad.columns == ["zone", "label"]
    assert "no_code_column.geojson" in bad.message
    assert bad.roles == ("code_col", "name_col")
    given = uploads.check_columns(BAD / "no_code_column.geojson", "boundaries", {"code_col": "zone", "name_col": "x"})
    assert given.missing == () and given.found == {"code_col": "zone"}  # 'x' is not a column: ignored
    # A file that cannot be read has nothing missing: the loader says what is wrong with it.
    broken = uploads.check_columns(BAD / "truncated.geojson", "boundaries")
    assert broken.missing == () and broken.columns == []


def test_check_columns_of_deprivation(tmp_path):
    ok = uploads.check_columns(TINY / "file7.csv", "deprivation")
    assert ok.missing == () and {"lsoa_code", "imd_score", "population"} <= set(ok.found)
    bare = tmp_path / "bare.csv"
    bare.write_text("LSOA21CD,Deprivation value\nE01000001,12.5\n", encoding="utf-8")
    check = uploads.check_columns(bare, "deprivation")
    assert check.missing == ("imd_score", "population")
    assert "bare.csv" in check.message and "IMD score" in check.message
    assert uploads.check_columns(bare, "deprivation", population_given=True).missing == ("imd_score",)
    mapped = uploads.check_columns(bare, "deprivation", {"imd_score": "Deprivation value"}, population_given=True)
    assert mapped.missing == () and mapped.found["imd_score"] == "Deprivation value"
    nolsoa = uploads.check_columns(REPO / "tests/fixtures/deprivation/bad/no_lsoa_column.csv", "deprivation")
    assert nolsoa.missing == ("lsoa_code",) and "no LSOA code column" in nolsoa.message


def test_area_from_uploads_builds_the_area_and_leaves_no_work_behind(tmp_path):
    steps: list[str] = []
    files = _files(assets=TINY / "assets.csv", postcodes=TINY / "postcodes.csv", lookup=TINY / "lookup.csv")
    area = create.area_from_uploads(files, name="  Tiny   Town ", areas_dir=tmp_path, on_step=steps.append)
    assert area.name == "Tiny Town"
    assert area.path == tmp_path / "tiny-town"
    assert [p.name for p in tmp_path.iterdir()] == ["tiny-town"]
    again = assetmap.load_area(area.path)
    assert len(again.boundaries) == len(area.boundaries) and len(again.assets) == len(area.assets) > 0
    assert set(again.vintages) >= {"boundaries", "small_areas", "deprivation", "lookup", "postcodes", "assets"}
    assert steps[0] == "Checking the files" and steps[-1] == "Saving the area"
    assert [e.name for e in create.list_areas(tmp_path)] == ["Tiny Town"]


@pytest.mark.parametrize(
    ("layer", "name", "data", "error"),
    [
        ("boundaries", "wards.gpkg", b"SQLite format 3\x00" + bytes(2048), DataFormatError),
        ("boundaries", "duplicate_codes.geojson", (BAD / "duplicate_codes.geojson").read_bytes(), ValidationError),
        ("deprivation", "garbage.csv", b"\x00\x01\x02 nothing", DataFormatError),
        ("lookup", "lookup.csv", b"LSOA21CD,WD24CD\nE01999901,E05000000\n", ValidationError),
    ],
)
def test_area_from_uploads_leaves_nothing_on_failure(tmp_path, layer, name, data, error):
    files = {**_files(), layer: [Upload(name, data)]}
    with pytest.raises(error, match=name.replace(".", r"\.")):
        create.area_from_uploads(files, name="Broken", areas_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_area_from_uploads_asks_for_columns_then_uses_them(tmp_path):
    files = _files(boundaries=BAD / "no_code_column.geojson")
    with pytest.raises(uploads.ColumnsNotDetected) as info:
        create.area_from_uploads(files, name="Zones", areas_dir=tmp_path)
    assert list(info.value.checks) == ["boundaries"]
    assert list(tmp_path.iterdir()) == []
    area = create.area_from_uploads(
        files, name="Zones", areas_dir=tmp_path, columns={"boundaries": {"code_col": "zone", "name_col": "label"}}
    )
    assert sorted(area.boundaries["code"]) == ["east", "north", "south", "west"]


def test_area_from_uploads_refuses_an_existing_name_unless_replacing(tmp_path):
    first = create.area_from_uploads(_files(), name="Twice", areas_dir=tmp_path)
    manifest = (first.path / "area.toml").read_text()
    with pytest.raises(AreaError, match="already kept"):
        create.area_from_uploads(_files(), name="Twice", areas_dir=tmp_path)
    assert (first.path / "area.toml").read_text() == manifest
    # A failed replacement keeps the old area.
    with pytest.raises(DataFormatError):
        create.area_from_uploads(
            {**_files(), "boundaries": [Upload("x.gpkg", b"SQLite format 3\x00" + bytes(64))]},
            name="Twice",
            areas_dir=tmp_path,
            replace=True,
        )
    assert (first.path / "area.toml").read_text() == manifest
    second = create.area_from_uploads(
        _files(assets=TINY / "assets.csv", postcodes=TINY / "postcodes.csv"),
        name="Twice",
        areas_dir=tmp_path,
        replace=True,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["twice"]
    assert len(assetmap.load_area(second.path).assets) > 0


def test_area_from_uploads_needs_a_name(tmp_path):
    with pytest.raises(ValidationError, match="no name"):
        create.area_from_uploads(_files(), name="  ", areas_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_list_areas_skips_hidden_and_broken_folders(tmp_path):
    create.area_from_uploads(_files(), name="Good", areas_dir=tmp_path)
    (tmp_path / ".upload-abc").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "area.toml").write_text("not = [toml", encoding="utf-8")
    (tmp_path / "stray.txt").write_text("x", encoding="utf-8")
    assert [(e.name, e.path.name) for e in create.list_areas(tmp_path)] == [("Good", "good")]
    assert create.list_areas(tmp_path / "absent") == []


def test_xlsx_upload_reads_like_the_csv(tmp_path):
    buffer = io.BytesIO()
    pd.read_csv(TINY / "file7.csv", dtype=str, encoding="utf-8-sig").to_excel(buffer, index=False)
    files = {**_files(), "deprivation": [Upload("iod.xlsx", buffer.getvalue())]}
    area = create.area_from_uploads(files, name="Book", areas_dir=tmp_path)
    reference = create.area_from_uploads(_files(), name="Csv", areas_dir=tmp_path)
    pd.testing.assert_frame_equal(area.deprivation, reference.deprivation)


def test_an_area_from_uploads_with_a_pbf_street_network(tmp_path):
    import osmium

    demo = settings.demo_area_path
    pbf = tmp_path / "streets.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(demo / "streets" / "demo_streets.osm")):
            writer.add(obj)
    files = {
        "boundaries": [Upload("wards.geojson", (demo / "boundaries" / "demo_wards.geojson").read_bytes())],
        "small_areas": [Upload("lsoa.geojson", (demo / "boundaries" / "demo_lsoa21.geojson").read_bytes())],
        "deprivation": [Upload("file7.csv", (demo / "deprivation" / "demo_iod2025_file7.csv").read_bytes())],
        "lookup": [Upload("lookup.csv", (demo / "lookups" / "demo_lsoa21_to_ward24.csv").read_bytes())],
        "network": [Upload("streets.osm.pbf", pbf.read_bytes())],
    }
    area = create.area_from_uploads(files, name="Streets from PBF", areas_dir=tmp_path / "areas")
    result = area.gaps(groups=["e6"])
    assert result.access.method == "network"
    assert result.table["access_share"].between(0, 1).all()
