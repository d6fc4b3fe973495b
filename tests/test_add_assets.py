"""Adding one asset file to an area with flags only: ``assetmap add-assets``."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

import assetmap
from assetmap.area.assets import AssetFile, add_assets
from assetmap.area.load import load_area
from assetmap.area.register import open_area_register
from assetmap.cli import main
from assetmap.io.assets import read_assets
from assetmap.io.postcodes import read_postcodes

TINY = Path(__file__).parent / "fixtures" / "tiny"
REGISTERS = Path(__file__).parent / "fixtures" / "registers"


def _area(folder: Path) -> Path:
    status = main(
        [
            "init-area",
            str(folder),
            "--boundaries",
            str(TINY / "wards.geojson"),
            "--small-areas",
            str(TINY / "lsoa21.geojson"),
            "--imd",
            str(TINY / "file7.csv"),
            "--postcodes",
            str(TINY / "postcodes.csv"),
            "--name",
            "Tiny",
        ]
    )
    assert status == 0
    return folder


@pytest.fixture
def area(tmp_path: Path) -> Path:
    return _area(tmp_path / "tiny")


def test_pharmacy_register_into_the_layers_with_a_type_and_detected_columns(area, capsys):
    before = (area / "area.toml").read_text()
    assert main(["add-assets", str(area), str(REGISTERS / "pharmacies.csv"), "--type", "pharmacy"]) == 0
    out = capsys.readouterr().out
    assert "Added 3 pharmacies from pharmacies.csv to Tiny's asset layers." in out
    manifest = (area / "area.toml").read_text()
    assert manifest.startswith(before.rstrip("\n")) and 'asset_type = "pharmacy"' in manifest
    loaded = load_area(area)
    assert sorted(loaded.assets["name"]) == ["Boots", "Lloyds Pharmacy", "Well Pharmacy"]
    # Two pharmacies in one building: two records, two ids.
    assert loaded.assets["asset_id"].nunique() == 3
    # The same file again adds nothing, and says so.
    assert main(["add-assets", str(area), str(REGISTERS / "pharmacies.csv"), "--type", "pharmacy"]) == 0
    assert "Nothing added" in capsys.readouterr().out
    assert (area / "area.toml").read_text() == manifest
    assert sorted(p.name for p in (area / "assets").iterdir()) == ["pharmacies.csv"]


def test_a_refused_file_leaves_the_area_unchanged(area, capsys):
    before = (area / "area.toml").read_text()
    status = main(["add-assets", str(area), str(REGISTERS / "charities.csv")])
    err = capsys.readouterr().err
    assert status == 2
    assert "'Book swap' is not an asset type: 2 rows (3, 4)" in err
    assert "'(blank)' is not an asset type: 1 row (5)" in err
    assert "--type-map" in err and "--skip-invalid" in err
    assert err.count("Book swap") == 1  # once per value, not once per row
    assert (area / "area.toml").read_text() == before
    assert not (area / "assets").exists() or not any((area / "assets").iterdir())


def test_type_map_and_wider_headers(area, tmp_path, capsys):
    mapping = tmp_path / "types.csv"
    mapping.write_text("value,type\nbook SWAP,library\n", encoding="utf-8")
    status = main(
        ["add-assets", str(area), str(REGISTERS / "charities.csv"), "--type-map", str(mapping), "--skip-invalid"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "Added 3 assets" in out and "1 rows left out: 1 type not known" in out
    assets = load_area(area).assets.set_index("name")
    assert assets.loc["Eastside Food Share", "type"] == "food_bank"  # "Food Bank": the type's label, any case
    assert assets.loc["Book Bus", "type"] == "library"
    assert assets.loc["Book Bus", "postcode"] == "TT1 1AA"  # charity_contact_postcode


def test_several_name_columns_say_which_was_used():
    with pytest.warns(
        assetmap.AssetMapWarning, match=r"used 'NAME' as the name \('DISTNAME' could be too\).*--name-col"
    ):
        frame = read_assets(REGISTERS / "polling.csv", default_type="community_centre")
    assert list(frame["name"]) == ["St Mary's Church Hall", "Eastside Community Centre"]
    frame = read_assets(REGISTERS / "polling.csv", default_type="community_centre", columns={"name": "DISTNAME"})
    assert list(frame["name"]) == ["AA", "AB"]


def test_repeated_ids_are_rows_to_skip_and_name_the_column(tmp_path):
    f = tmp_path / "ids.csv"
    f.write_text("ref,name,latitude,longitude\nX1,A,52.6,-1.99\nX1,B,52.6,-1.99\nX2,C,52.6,-1.99\n", encoding="utf-8")
    with pytest.raises(assetmap.ValidationError) as err:
        read_assets(f, default_type="library")
    assert {(p.row, p.field) for p in err.value.problems} == {(2, "asset_id"), (3, "asset_id")}
    assert "column 'ref'" in str(err.value) and "--skip-invalid" in str(err.value)
    with pytest.warns(assetmap.AssetMapWarning):
        frame = read_assets(f, default_type="library", on_error="skip")
    assert list(frame["asset_id"]) == ["X2"]


def test_made_ids_are_unique_and_stable_for_identical_rows(tmp_path):
    f = tmp_path / "same.csv"
    f.write_text("name,latitude,longitude\nA,52.6,-1.99\nA,52.6,-1.99\nB,52.6,-1.99\n", encoding="utf-8")
    first = list(read_assets(f, default_type="library")["asset_id"])
    assert len(set(first)) == 3
    assert list(read_assets(f, default_type="library")["asset_id"]) == first


def test_into_the_register_once(area, capsys):
    with open_area_register(area):
        pass  # the area now keeps a register: files go into it
    how = AssetFile(asset_type="pharmacy", status="pending")
    first = add_assets(area, REGISTERS / "pharmacies.csv", how)
    assert (first.into, first.added, first.already) == ("register", 3, 0)
    assert "Added 3 pharmacies from pharmacies.csv to Tiny's register." == first.summary()
    again = add_assets(area, REGISTERS / "pharmacies.csv", how)
    assert (again.added, again.already) == (0, 3)
    assert (
        again.summary()
        == "Nothing added: the 3 pharmacies of pharmacies.csv are in Tiny's register already (added before)."
    )
    with open_area_register(area) as store:
        records = store.records(public=False)
    assert len(records) == 3 and set(records["status"]) == {"pending"} and set(records["source"]) == {"register"}
    assert records["source_id"].str.startswith("pharmacies.csv#").all()
    assert "assets" not in (area / "area.toml").read_text()


def test_area_taxonomy_adds_types(area, capsys):
    text = (Path(assetmap.__file__).parent / "taxonomy.toml").read_text(encoding="utf-8")
    text += '\n[[asset_types]]\nkey = "warm_space"\nlabel = "Warm space"\nelements = [4, 11]\n'
    (area / "taxonomy.toml").write_text(text, encoding="utf-8")
    manifest = (area / "area.toml").read_text()
    (area / "area.toml").write_text(manifest.replace("[area]\n", '[area]\ntaxonomy = "taxonomy.toml"\n', 1))
    assert main(["taxonomy", "--area", str(area)]) == 0
    out = capsys.readouterr().out
    assert "warm_space: Warm space" in out and "4 Active communities" in out and "Involving, Sustaining" in out
    assert main(["add-assets", str(area), str(REGISTERS / "polling.csv"), "--type", "warm_space"]) == 0
    assert set(load_area(area).assets["type"]) == {"warm_space"}


@pytest.fixture(scope="module")
def manchester_bare(real_data, tmp_path_factory):
    """Manchester from its published files, with postcodes and no assets: a folder to copy per test."""
    from assetmap import LayerOptions, init_area

    r = real_data
    folder = tmp_path_factory.mktemp("bare") / "manchester"
    init_area(
        folder,
        boundaries=r / "boundaries" / "manchester_wards_2023.geojson",
        small_areas=r / "boundaries" / "manchester_lsoa21.geojson",
        imd=r / "deprivation" / "IoD2025_File_7_manchester_partial.csv",
        options=LayerOptions(postcodes=r / "postcodes" / "manchester_postcodes_codepoint_2025.csv"),
        name="Manchester",
    )
    return folder


@pytest.mark.parametrize(
    ("name", "flags", "kind"),
    [
        ("gm_food_banks.csv", ["--type", "food_bank"], "food_bank"),
        ("gm_libraries.geojson", [], "library"),  # its Type values ("Partnership run library"...) are libraries
        ("gm_green_flags.geojson", ["--type", "green_space"], "green_space"),
    ],
)
def test_real_greater_manchester_files(real_data, manchester_bare, tmp_path, name, flags, kind, capsys):
    area = tmp_path / "manchester"
    shutil.copytree(manchester_bare, area)
    status = main(["add-assets", str(area), str(real_data / "assets" / name), "--skip-invalid", *flags])
    out, notes = capsys.readouterr()
    assert status == 0, out
    loaded = load_area(area)
    assets = loaded.assets
    assert len(assets) and set(assets["type"]) == {kind}
    # The county-wide files keep Manchester's rows and its border band; the rest are left out, counted.
    source = real_data / "assets" / name
    n_rows = len(pd.read_csv(source) if source.suffix == ".csv" else gpd.read_file(source))
    assert len(assets) + loaded.assets_left_out <= n_rows
    if name == "gm_food_banks.csv":
        assert "rows left out" in out and "postcode not found" in out  # Code-Point covers Manchester only
    else:
        assert loaded.assets_left_out > 0
    if name == "gm_green_flags.geojson":
        # The file names a contact person per site beside their own phone: neither is published.
        assert assets["email"].isna().all() and assets["phone"].isna().all()
        assert "column 'telephone' was not added" in notes and "--phone-col telephone" in notes


def test_manchester_with_the_three_county_files_keeps_only_manchester_and_its_border(
    real_data, manchester_bare, tmp_path, capsys
):
    # The walk-through: one area, three county-wide files, flags only.
    area = tmp_path / "manchester"
    shutil.copytree(manchester_bare, area)
    files = real_data / "assets"
    assert (
        main(["add-assets", str(area), str(files / "gm_food_banks.csv"), "--type", "food_bank", "--skip-invalid"]) == 0
    )
    assert main(["add-assets", str(area), str(files / "gm_libraries.geojson")]) == 0
    assert main(["add-assets", str(area), str(files / "gm_green_flags.geojson"), "--type", "green_space"]) == 0
    capsys.readouterr()
    loaded = load_area(area)
    assets = loaded.assets
    assert set(assets["type"]) == {"food_bank", "library", "green_space"}
    outline = loaded.boundaries.geometry.union_all()
    distance = assets.geometry.distance(outline)
    assert (distance <= loaded.asset_buffer_m + 1).all()  # in Manchester or its border buffer
    in_wards = assets["area_code"].isin(loaded.boundaries["code"])
    assert (distance[in_wards] <= 1).all() and (~in_wards).any()  # ward counts hold Manchester's alone
    assert loaded.assets_left_out > 0
    counted = loaded.area_summary()["n_assets"].sum()
    assert counted == in_wards.sum()


# -- messages name flags and page controls, never Python ------------------------------------------------

_PYTHON = re.compile(r"\b[a-z]+(?:_[a-z]+)+=|\bcolumns=\{|\bdefault_type\b|\[layers\.")


def _messages() -> list[tuple[str, int, str]]:
    """Every string literal of the package that reads as a message to a user (a sentence with a fix)."""
    found = []
    for path in sorted(Path(assetmap.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
        for node in ast.walk(tree):
            if id(node) in parts:
                continue  # read with its f-string
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value
            else:
                continue
            if " " in text and re.search(r"[.:;]\s|[.]$", text):
                found.append((str(path.relative_to(path.parents[1])), node.lineno, text))
    return found


def test_messages_name_flags_not_python():
    bad = [f"{p}:{line}: {text!r}" for p, line, text in _messages() if _PYTHON.search(text)]
    assert not bad, "\n".join(bad)


def test_the_message_check_finds_python_words():
    assert _PYTHON.search("Add a 'name' column or pass columns={'name': ...}.")
    assert _PYTHON.search("say what every row is with default_type.")
    assert _PYTHON.search("Add path under [layers.assets].")
    assert not _PYTHON.search("Give the name column with --name-col.")


def _council_parks(folder: Path) -> Path:
    """A file shaped like a council's parks list: a named officer per site, with that officer's phone."""
    path = folder / "parks.csv"
    pd.DataFrame(
        {
            "name": ["Tiny Park", "Little Green"],
            "managed": ["Tiny Council", "Tiny Council"],
            "contact": ["Ann Example", "Bob Sample"],
            "telephone": ["0161 496 0000", "0161 496 0001"],
            "email": ["N/A", "ann@example.org"],
            "postcode": ["TT1 1AA", "TT2 1AA"],
        }
    ).to_csv(path, index=False)
    return path


def test_a_named_contact_person_and_their_phone_stay_private(area, tmp_path, capsys):
    with open_area_register(area):
        pass
    parks = _council_parks(tmp_path)
    status = main(["add-assets", str(area), str(parks), "--type", "green_space"])
    out, notes = capsys.readouterr()
    assert status == 0, out + notes
    assert "column 'telephone' was not added" in notes and "--phone-col telephone" in notes
    with open_area_register(area) as store:
        private = store.records(public=False).set_index("name")
        public = store.records(public=True)
    assert private.loc["Tiny Park", "contact_name"] == "Ann Example"
    assert private.loc["Little Green", "contact_email"] == "ann@example.org"
    assert pd.isna(private.loc["Tiny Park", "contact_email"])  # "N/A" is no address
    assert private["phone"].isna().all() and private["email"].isna().all()
    shown = public.astype("string").stack().tolist()
    assert not {"Ann Example", "ann@example.org", "0161 496 0000"} & set(shown)


def test_a_phone_column_given_by_flag_is_published(area, tmp_path, capsys):
    parks = _council_parks(tmp_path)
    status = main(["add-assets", str(area), str(parks), "--type", "green_space", "--phone-col", "telephone"])
    out, notes = capsys.readouterr()
    assert status == 0, out + notes
    assert "was not added" not in notes
    assets = load_area(area).assets.set_index("name")
    assert assets.loc["Tiny Park", "phone"] == "0161 496 0000"
    assert assets.loc["Tiny Park", "contact_name"] == "Ann Example"


def test_a_contact_column_of_addresses_is_the_public_email(tmp_path):
    path = tmp_path / "food.csv"
    pd.DataFrame(
        {"Name": ["Pantry"], "Postcode": ["TT1 1AA"], "Contact": ["pantry@example.org"], "Phone": ["0161 496 0002"]}
    ).to_csv(path, index=False)
    got = read_assets(path, default_type="food_bank", postcodes=read_postcodes(TINY / "postcodes.csv"))
    assert got.loc[0, "email"] == "pantry@example.org" and got.loc[0, "phone"] == "0161 496 0002"
    assert pd.isna(got.loc[0, "contact_name"])
