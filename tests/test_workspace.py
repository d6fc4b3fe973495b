import shutil
from pathlib import Path

import pytest

from assetmap import AreaError, DataFormatError, LayerOptions, ValidationError, init_area, load_area, settings

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "tiny"
BAD = FIX / "bad"


def make_tiny(directory, **overrides):
    kwargs = dict(
        boundaries=TINY / "wards.geojson",
        small_areas=TINY / "lsoa21.geojson",
        imd=TINY / "file7.csv",
        lookup=TINY / "lookup.csv",
        postcodes=TINY / "postcodes.csv",
        assets=[TINY / "assets.csv"],
        name="Tinyton",
    )
    kwargs.update(overrides)
    # The optional files and their settings go to init_area as one LayerOptions.
    optional = {k: kwargs.pop(k) for k in list(kwargs) if k in LayerOptions.__dataclass_fields__}
    return init_area(directory, **kwargs, options=LayerOptions(**optional))


def test_init_area_copies_layers_and_loads(tmp_path):
    area = make_tiny(tmp_path / "tiny")
    assert (tmp_path / "tiny" / "area.toml").is_file()
    assert sorted(p.name for p in (tmp_path / "tiny").rglob("*") if p.is_file()) == sorted(
        ["area.toml", "wards.geojson", "lsoa21.geojson", "file7.csv", "lookup.csv", "postcodes.csv", "assets.csv"]
    )
    again = load_area(tmp_path / "tiny")
    assert again.name == "Tinyton"
    for layer in (area.boundaries, again.boundaries, again.small_areas, again.assets):
        assert layer.crs.to_epsg() == 27700
    assert len(again.boundaries) == 4 and len(again.small_areas) == 8 and len(again.assets) == 5
    assert again.deprivation["population"].sum() == 11_000
    # The source files can go: the area folder holds its own copies.
    assert again.path == tmp_path / "tiny"


def test_area_summary_per_ward_by_hand(tmp_path):
    area = make_tiny(tmp_path / "tiny")
    s = area.area_summary().set_index("code")
    # Ward A holds LSOAs 1 (score 60, pop 1000) and 2 (score 50, pop 1000).
    assert s.loc["E05999901", "population"] == 2000
    assert s.loc["E05999901", "avg_score"] == pytest.approx(55.0)
    # Ward B: LSOAs 3 (40, 2000) and 4 (30, 2000).
    assert s.loc["E05999902", "avg_score"] == pytest.approx(35.0)
    assert s["population"].sum() == area.deprivation["population"].sum()
    assert s.loc["E05999901", "n_assets"] == 1
    assert s["n_assets"].sum() == 5
    assert s.crs.to_epsg() == 27700


def test_without_lookup_links_lsoas_by_geometry(tmp_path):
    area = make_tiny(tmp_path / "tiny", lookup=None)
    assert set(area.lookup["method"]) == {"best-fit"}
    assert any("best fit" in n for n in area.notes)
    assert area.area_summary()["population"].sum() == 11_000


def _population_file(path: Path, header: tuple[str, str], codes: list[str]) -> Path:
    """A population file shaped like IoD File 6 (LSOA code and total population columns)."""
    rows = [",".join(header)] + [f"{code},1375" for code in codes]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


TINY_CODES = [f"E0199990{i}" for i in range(1, 9)]


def test_population_of_another_edition_refused_and_nothing_written(tmp_path):
    pop = _population_file(
        tmp_path / "File_6_IoD2019.csv",
        ("LSOA code (2011)", "Total population: mid 2015 (excluding prisoners)"),
        TINY_CODES,
    )
    with pytest.raises(ValidationError, match=r"IoD2019 population.*file7.csv is IoD2025.*File 6 of IoD2025"):
        make_tiny(tmp_path / "tiny", population=pop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["File_6_IoD2019.csv"]


def test_lsoas_without_a_population_refused_naming_them(tmp_path):
    # One LSOA of the area is missing from the population file: no ward figure could be computed.
    pop = _population_file(
        tmp_path / "File_6_IoD2025.csv", ("LSOA code (2021)", "Total population: mid 2022"), TINY_CODES[:-1]
    )
    with pytest.raises(ValidationError) as err:
        make_tiny(tmp_path / "tiny", population=pop)
    text = str(err.value)
    assert text.startswith("File_6_IoD2025.csv: 1 of the area's 8 LSOAs have no population (E01999908)")
    assert "File 6) of IoD2025" in text
    assert not (tmp_path / "tiny").exists()


def test_assets_assigned_and_outside_reported(tmp_path):
    extra = tmp_path / "extra.csv"
    extra.write_text("asset_id,name,type,lat,lon\nX1,Far Away Hall,community centre,52.7,-1.8\n", encoding="utf-8")
    area = make_tiny(tmp_path / "tiny", assets=[TINY / "assets.csv", extra])
    assert area.assets.set_index("asset_id").loc["T2", "area_code"] == "E05999902"
    # Far beyond the area and its border buffer: left out, in one note.
    assert "X1" not in set(area.assets["asset_id"]) and area.assets_left_out == 1
    assert [n for n in area.notes if "left out" in n] == [
        f"1 record lies outside {area.name} and 2 km around it: left out."
    ]


def test_bad_asset_file_leaves_no_half_written_area(tmp_path):
    target = tmp_path / "tiny"
    with pytest.raises(ValidationError, match=r"assets_problems\.csv"):
        make_tiny(target, assets=[BAD / "assets_problems.csv"])
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_skip_invalid_assets_records_what_was_left_out(tmp_path):
    area = make_tiny(tmp_path / "tiny", assets=[BAD / "assets_problems.csv"], skip_invalid_assets=True)
    assert area.assets["name"].tolist() == ["Good Pantry"]
    assert any("left out 8 of 9 rows" in n for n in area.notes)


def test_bad_boundaries_leave_nothing(tmp_path):
    with pytest.raises(ValidationError, match=r"duplicate_codes\.geojson"):
        make_tiny(tmp_path / "t", boundaries=BAD / "duplicate_codes.geojson")
    with pytest.raises(DataFormatError, match="empty"):
        make_tiny(tmp_path / "t", boundaries=BAD / "empty.geojson")
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_not_overwritten_unless_asked(tmp_path):
    make_tiny(tmp_path / "tiny")
    with pytest.raises(AreaError, match="not empty"):
        make_tiny(tmp_path / "tiny")
    area = make_tiny(tmp_path / "tiny", name="Tinyton again", overwrite=True)
    assert load_area(tmp_path / "tiny").name == "Tinyton again" == area.name


def test_missing_manifest_and_missing_layer_file(tmp_path):
    with pytest.raises(AreaError, match="init-area"):
        load_area(tmp_path)
    make_tiny(tmp_path / "tiny")
    (tmp_path / "tiny" / "assets" / "assets.csv").unlink()
    with pytest.raises(AreaError, match=r"assets/assets\.csv"):
        load_area(tmp_path / "tiny")


def test_broken_manifest(tmp_path):
    make_tiny(tmp_path / "tiny")
    (tmp_path / "tiny" / "area.toml").write_text("[area\nname=", encoding="utf-8")
    with pytest.raises(AreaError, match="TOML"):
        load_area(tmp_path / "tiny")


def test_lookup_of_another_vintage_refused(tmp_path):
    other = tmp_path / "lookup_other.csv"
    other.write_text("LSOA21CD,WD24CD\nE01999901,E05000001\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not in the boundaries"):
        make_tiny(tmp_path / "tiny", lookup=other)


def test_imd_with_no_matching_lsoas_names_vintage(tmp_path):
    imd = tmp_path / "imd2019.csv"
    text = (
        (TINY / "file7.csv")
        .read_text(encoding="utf-8-sig")
        .replace("(2021)", "(2011)")
        .replace("E019999", "E010000")
        .replace("33,000", "32,000")
    )
    imd.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as err:
        make_tiny(tmp_path / "tiny", imd=imd)
    assert "2011" in str(err.value) and "0 of 8" in str(err.value)


def test_network_of_another_place_refused(tmp_path):
    net = settings.demo_area_path / "streets" / "demo_streets.osm"
    if not net.exists():
        pytest.skip("demo network not built")
    shutil.copy(net, tmp_path / "streets.osm")
    with pytest.raises(ValidationError, match="does not overlap"):
        make_tiny(tmp_path / "tiny", network=tmp_path / "streets.osm")
    assert not (tmp_path / "tiny").exists()


def test_demo_area_staleness_is_against_its_own_date_and_not_osm_credited():
    area = load_area(settings.demo_area_path)
    assert area.fictional and area.as_of.isoformat() == "2026-06-01"
    stale = area.stale_mask()
    assert 0 < stale.sum() < len(area.assets) / 4
    assert any(f"{int(stale.sum())} records were last confirmed" in n for n in area.notes)
    assert "OpenStreetMap" not in area.attribution and "Fictional" in area.attribution


def test_neighbourhoods_covering_part_of_the_lsoas_report_who_is_left_out(tmp_path):
    import geopandas as gpd

    wards = gpd.read_file(TINY / "wards.geojson")
    wards.iloc[:2].to_file(tmp_path / "south.geojson", driver="GeoJSON")  # wards A and B only
    area = make_tiny(tmp_path / "tiny", boundaries=tmp_path / "south.geojson", lookup=None)
    # LSOAs 5-8 (1,500 + 1,500 + 1,000 + 1,000 residents) lie in no area.
    assert area.area_summary()["population"].sum() == 6_000
    assert any("5,000 residents of 4 LSOAs live outside every area" in n for n in area.notes)
