"""A whole real area, Manchester, built from the published files as an officer would."""

import shutil

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


def _mixed_edition_files(r):
    return {
        "boundaries": r / "boundaries" / "manchester_wards_2023.geojson",
        "small_areas": r / "boundaries" / "manchester_lsoa21.geojson",
        "imd": r / "deprivation" / "IoD2025_england_lsoa21_scores_ranks_deciles.csv",
    }


def test_iod2025_scores_with_the_iod2019_population_refused_at_once(real_data, tmp_path, capsys):
    from assetmap.cli import main

    r = real_data
    old_population = r / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv"
    with pytest.raises(ValidationError) as err:
        init_area(tmp_path / "m", **_mixed_edition_files(r), options=LayerOptions(population=old_population))
    text = str(err.value)
    assert text.startswith("File_6_-_IoD2019_Population_Denominators.csv: this is the IoD2019 population")
    assert "IoD2025_england_lsoa21_scores_ranks_deciles.csv is IoD2025 (on 2021 LSOAs)" in text
    assert "File 6 of IoD2025" in text and "IoD2025 File 7" in text
    assert list(tmp_path.iterdir()) == []  # no area folder, no staging folder left behind
    files = _mixed_edition_files(r)
    args = ["init-area", str(tmp_path / "m"), "--boundaries", str(files["boundaries"])]
    args += [
        "--small-areas",
        str(files["small_areas"]),
        "--imd",
        str(files["imd"]),
        "--population",
        str(old_population),
    ]
    status = main(args)
    err_text = capsys.readouterr().err
    assert status == 2 and "error: File_6_-_IoD2019" in err_text and "Traceback" not in err_text
    assert list(tmp_path.iterdir()) == []


def test_gaps_and_print_fail_cleanly_when_the_manifest_points_at_another_edition(real_data, tmp_path, capsys):
    from assetmap.cli import main

    r = real_data
    folder = tmp_path / "m"
    population = r / "deprivation" / "IoD2025_File_6_population_manchester.csv"
    area = init_area(folder, **_mixed_edition_files(r), options=LayerOptions(population=population))
    assert area.deprivation["population"].sum() == pytest.approx(566_778)
    # The national file's LSOAs outside Manchester need no population: no note about them.
    assert not any("have no population" in n for n in area.notes), area.notes
    # An officer swaps in the IoD2019 population file by editing area.toml.
    shutil.copy(r / "deprivation" / "File_6_-_IoD2019_Population_Denominators.csv", folder / "deprivation")
    manifest = folder / "area.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(
        text.replace("IoD2025_File_6_population_manchester.csv", "File_6_-_IoD2019_Population_Denominators.csv"),
        encoding="utf-8",
    )
    capsys.readouterr()
    ward = str(area.boundaries["code"].iloc[0])
    for args, out in (
        (["gaps", "--area", str(folder)], tmp_path / "gaps.csv"),
        (["print", "--area", str(folder), "--ward", ward], tmp_path / "ward.pdf"),
        (["print", "--area", str(folder), "--all"], tmp_path / "pack.pdf"),
    ):
        status = main([*args, "--out", str(out)])
        err = capsys.readouterr().err
        assert status == 2, args
        assert "IoD2019 population" in err and "File 6 of IoD2025" in err, args
        assert not out.exists(), args
    assert not (tmp_path / "gaps.method.md").exists()


def test_without_a_lookup_the_note_says_how_much_placement_moves_ward_populations(real_data, tmp_path, capsys):
    from assetmap.cli import main

    r = real_data
    folder = tmp_path / "m"
    init_area(
        folder,
        boundaries=r / "boundaries" / "manchester_wards_2023_ons_columns.geojson",
        small_areas=r / "boundaries" / "manchester_lsoa21.geojson",
        imd=r / "deprivation" / "IoD2025_File_7_manchester_partial.csv",
    )
    capsys.readouterr()
    assert main(["info", str(folder)]) == 0
    out = capsys.readouterr().out
    note = next(line for line in out.splitlines() if "No LSOA-to-ward lookup given" in line)
    # Ardwick: 14,451 residents by representative point, 20,064 by area share, 28% apart.
    assert "80 cut by area boundaries" in note
    assert "by up to 28%: Ardwick (E05011351) has 14,451 residents" in note and "20,064 with LSOAs shared" in note
    assert "LSOA 2021 to ward lookup of 2023" in note and "--lookup on init-area" in note


def test_national_lookup_is_cut_to_the_area(manchester):
    lookup = manchester.lookup
    assert lookup["lsoa_code"].nunique() == 295 and set(lookup["lsoa_code"]) == set(manchester.small_areas["code"])
    assert set(lookup["area_code"]) <= set(manchester.boundaries["code"])
    assert set(lookup["method"]) == {"lookup"} and (lookup["weight"] == 1).all()
    assert not any("No LSOA-to-ward lookup" in n for n in manchester.notes)


# -- assets beyond the boundary: a region-wide register loaded into one borough ----------------


def _manchester_with(real_data, folder, assets, asset_type):
    r = real_data
    return init_area(
        folder,
        boundaries=r / "boundaries" / "manchester_wards_2023.geojson",
        small_areas=r / "boundaries" / "manchester_lsoa21.geojson",
        imd=r / "deprivation" / "IoD2025_File_7_manchester_partial.csv",
        options=LayerOptions(
            postcodes=r / "postcodes" / "manchester_postcodes_codepoint_2025.csv",
            assets=[r / "assets" / assets],
            asset_type=asset_type,
            skip_invalid_assets=True,
        ),
        name="Manchester",
        code="E08000003",
    )


def _distance_to_manchester(real_data, points):
    """Metres from each point to Manchester's wards, by geopandas alone (0 inside)."""
    import geopandas as gpd

    wards = gpd.read_file(real_data / "boundaries" / "manchester_wards_2023.geojson").to_crs(27700)
    return points.to_crs(27700).distance(wards.union_all())


def test_gm_food_banks_keep_only_manchester_and_its_border(real_data, tmp_path):
    import geopandas as gpd

    area = _manchester_with(real_data, tmp_path / "m", "gm_food_banks.csv", "food_bank")
    # By hand: place each food bank by its postcode in Code-Point, then measure to Manchester.
    banks = pd.read_csv(real_data / "assets" / "gm_food_banks.csv")
    codes = pd.read_csv(real_data / "postcodes" / "manchester_postcodes_codepoint_2025.csv")
    key = codes.assign(pc=codes["Postcode"].str.replace(" ", "").str.upper()).drop_duplicates("pc").set_index("pc")
    pc = banks["Postcode"].str.replace(" ", "").str.upper()
    found = banks[pc.isin(key.index)]
    xy = key.loc[pc[pc.isin(key.index)], ["Eastings", "Northings"]]
    points = gpd.GeoSeries(gpd.points_from_xy(xy["Eastings"], xy["Northings"]), crs=27700)
    dist = _distance_to_manchester(real_data, points).to_numpy()
    assert len(area.assets) == len(found) == int((dist <= 2000).sum())
    # Every asset kept lies in Manchester or within 2 km of it; the wards count only those inside.
    kept = _distance_to_manchester(real_data, area.assets.geometry)
    assert (kept <= 2000 + 1).all()
    assert area.area_summary()["n_assets"].sum() == int((dist == 0).sum()) == area.assets["area_code"].notna().sum()
    # Code-Point covers Manchester only: the other boroughs' food banks never geocode, so the
    # border rule leaves out none, and the note says so.
    assert area.assets_left_out == int((dist > 2000).sum()) == 0
    assert any(
        n.startswith(f"gm_food_banks.csv: left out {len(banks) - len(found)} of {len(banks)} rows") for n in area.notes
    )
    note = area.gaps(network=False).note
    assert "0 records further out were left out" in note


def test_gm_libraries_outside_manchester_left_out_with_one_note(real_data, tmp_path):
    import geopandas as gpd

    area = _manchester_with(real_data, tmp_path / "m", "gm_libraries.geojson", "library")
    libs = gpd.read_file(real_data / "assets" / "gm_libraries.geojson")
    dist = _distance_to_manchester(real_data, libs.geometry).to_numpy()
    inside, band, far = int((dist == 0).sum()), int(((dist > 0) & (dist <= 2000)).sum()), int((dist > 2000).sum())
    assert (inside, band, far) == (23, 23, 95)  # checked by hand with geopandas
    assert area.assets_left_out == far and len(area.assets) == inside + band
    left = [n for n in area.notes if "around it: left out" in n]
    assert left == [f"{far} records lie outside Manchester and 2 km around it: left out."]
    wards = area.area_summary()
    assert wards["n_assets"].sum() == inside == area.assets["area_code"].notna().sum()
    # Salford's, Trafford's and Stockport's libraries near the border count for walking access only.
    result = area.gaps(network=False, groups=["e2"])
    whole = result.table[result.table["whole_area"]].iloc[0]
    assert whole["n_assets"] == inside and whole["n_assets_outside"] == band
    assert result.access.n_assets["all"] == inside + band
    assert f"{band} of them lie beyond the area's boundary, within 2 km" in result.note
    assert f"{far} records further out were left out" in result.note
