"""The Data page, run headless: what the areas are called, the border buffer, and adding an asset file to an area."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from conftest import REPO
from officers import sign_in, with_officer
from streamlit.testing.v1 import AppTest

import assetmap
from assetmap import settings
from assetmap.area import create
from assetmap.io import uploads
from assetmap.ui import common

TIMEOUT_S = 90
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
TINY = REPO / "tests" / "fixtures" / "tiny"
REGISTERS = REPO / "tests" / "fixtures" / "registers"
DEPRIVATION = REPO / "tests" / "fixtures" / "deprivation"


def _data_page() -> None:
    from assetmap.ui.pages import data

    data.page()


@pytest.fixture
def areas_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty areas folder, the demo on show, and a temporary register."""
    folder = tmp_path / "areas"
    monkeypatch.setattr(settings, "areas_dir", folder)
    monkeypatch.setattr(settings, "default_area_path", settings.demo_area_path)
    monkeypatch.setattr(settings, "register_url", f"sqlite:///{tmp_path / 'register.sqlite'}")
    return folder


def _app() -> AppTest:
    return sign_in(with_officer(AppTest.from_function(_data_page, default_timeout=TIMEOUT_S)).run())


def _errors(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in at.error]


def _upload(at: AppTest, key: str, name: str, data: bytes) -> None:
    at.file_uploader(key=key).set_value((name, data, "application/octet-stream"))


def _fill(at: AppTest, name: str) -> None:
    at.text_input(key="data_name_0").set_value(name)
    _upload(at, "data_upload_boundaries_0", "wards.geojson", (TINY / "wards.geojson").read_bytes())
    _upload(at, "data_upload_small_areas_0", "lsoa21.geojson", (TINY / "lsoa21.geojson").read_bytes())
    _upload(at, "data_upload_deprivation_0", "file7.csv", (TINY / "file7.csv").read_bytes())


def _submit(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Create the area").click().run()


def _kept(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_an_area_is_created_with_its_label_and_buffer(areas_dir):
    at = _app().run()
    assert at.text_input(key="data_label_0").value == "Wards"
    assert at.number_input(key="data_buffer_0").value == 2000
    _fill(at, "Tiny Town")
    at.text_input(key="data_label_0").set_value("localities")
    at.number_input(key="data_buffer_0").set_value(500)
    at = _submit(at)
    assert not at.exception and not at.error, _errors(at)
    meta = tomllib.loads((areas_dir / "tiny-town" / "area.toml").read_text())["area"]
    assert meta["boundary_label"] == "Localities" and meta["boundary_label_singular"] == "Locality"
    assert meta["asset_buffer_m"] == 500
    assert "Localities" in {m.label for m in at.metric}
    assert any("500 m beyond the boundary" in c.value.replace("\\", "") for c in at.caption)


@pytest.mark.parametrize(
    ("control", "value", "says"),
    [
        ("data_buffer_0", -5.0, "Border buffer for assets (metres)"),
        ("data_buffer_0", 10_000_000.0, "Border buffer for assets (metres)"),
        ("data_label_0", "   ", "What the areas are called is blank"),
    ],
)
def test_a_bad_label_or_buffer_is_refused_naming_the_control(areas_dir, control, value, says):
    at = _app().run()
    _fill(at, "Refused")
    (at.number_input if control == "data_buffer_0" else at.text_input)(key=control).set_value(value)
    at = _submit(at)
    assert not at.exception
    assert any(says in e for e in _errors(at)), _errors(at)
    assert _kept(areas_dir) == []


def test_a_population_file_of_iod2019_with_iod2025_file7_is_refused(areas_dir):
    at = _app().run()
    _fill(at, "Mixed")
    _upload(at, "data_upload_population_0", "iod2019_file6.csv", (DEPRIVATION / "iod2019_file6.csv").read_bytes())
    at = _submit(at)
    assert not at.exception
    assert any("IoD2019" in e and "IoD2025" in e for e in _errors(at)), _errors(at)
    assert _kept(areas_dir) == []


@pytest.fixture
def own_area(areas_dir) -> Path:
    made = create.area_from_uploads(
        {
            "boundaries": [uploads.Upload("wards.geojson", (TINY / "wards.geojson").read_bytes())],
            "small_areas": [uploads.Upload("lsoa21.geojson", (TINY / "lsoa21.geojson").read_bytes())],
            "deprivation": [uploads.Upload("file7.csv", (TINY / "file7.csv").read_bytes())],
        },
        name="Own Town",
        areas_dir=areas_dir,
    )
    return Path(made.path)


def _own(path: Path) -> AppTest:
    at = _app()
    at.session_state[common.AREA_PATH_KEY] = str(path)
    return at.run()


def _add(at: AppTest) -> AppTest:
    return at.button(key="data_add_go").click().run()


def _names(path: Path) -> list[str]:
    return sorted(assetmap.load_area(path).assets["name"])


def test_the_demo_area_takes_no_asset_file(areas_dir):
    at = _app().run()
    assert not at.exception
    assert any("demo area is read-only" in i.value for i in at.info)
    assert not [u for u in at.file_uploader if u.key == "data_add_file"]


def test_an_asset_file_is_added_with_its_type_and_name_column_and_again_adds_nothing(own_area):
    before = _names(own_area)
    at = _own(own_area)
    _upload(at, "data_add_file", "pharmacies.csv", (REGISTERS / "pharmacies.csv").read_bytes())
    at = at.run()
    name_col = at.selectbox(key="data_add_col_name")
    assert "pharmacy_name" in name_col.options and name_col.value == "(detect)"
    at.selectbox(key="data_add_type").set_value("pharmacy")
    name_col.set_value("pharmacy_name")
    at = _add(at)
    assert not at.exception and not at.error, _errors(at)
    assert any("Added 3" in s.value and "pharmacies.csv" in s.value.replace("\\", "") for s in at.success), [
        s.value for s in at.success
    ]
    after = assetmap.load_area(own_area).assets
    added = after[~after["name"].isin(before)]
    assert {"Boots", "Well Pharmacy", "Lloyds Pharmacy"} <= set(added["name"])
    assert set(added["type"]) == {"pharmacy"}

    at = _add(at)
    assert not at.exception and not at.error, _errors(at)
    assert not at.success
    assert any("Nothing added" in i.value for i in at.info), [i.value for i in at.info]
    assert len(assetmap.load_area(own_area).assets) == len(after)


def test_unknown_type_values_without_a_mapping_are_refused_naming_the_control(own_area):
    before = _names(own_area)
    at = _own(own_area)
    rows = "name,kind,latitude,longitude\nCorner Hub,Widget shop,52.602287,-1.997742\n"
    _upload(at, "data_add_file", "hubs.csv", rows.encode())
    at = at.run()
    at.radio(key="data_add_way").set_value("Read the type from a column")
    at = at.run()
    at.selectbox(key="data_add_type_col").set_value("kind")
    at = _add(at)
    assert not at.exception
    errors = _errors(at)
    assert any("Widget shop" in e and "'Type mapping file'" in e and "'Type of every row'" in e for e in errors), errors
    assert not any("--" in e for e in errors), errors
    assert _names(own_area) == before

    # With a mapping, the same file goes in.
    _upload(at, "data_add_map", "kinds.csv", b"value,type\nWidget shop,community_centre\n")
    at = _add(at.run())
    assert not at.exception and not at.error, _errors(at)
    assert "Corner Hub" in _names(own_area)


def test_bad_rows_are_refused_in_the_words_of_the_controls_and_then_left_out(own_area):
    before = _names(own_area)
    at = _own(own_area)
    rows = "name,latitude,longitude\nGood Hall,52.602287,-1.997742\nNowhere Hall,,\n"
    _upload(at, "data_add_file", "halls.csv", rows.encode())
    at = at.run()
    at.selectbox(key="data_add_type").set_value("community_centre")
    at = _add(at)
    errors = _errors(at)
    assert any("halls.csv" in e and "tick 'Leave out bad rows'" in e for e in errors), errors
    assert not any("--" in e for e in errors), errors
    assert _names(own_area) == before

    at.checkbox(key="data_add_skip").check()
    at = _add(at)
    assert not at.exception and not at.error, _errors(at)
    assert any("1 rows left out" in s.value for s in at.success), [s.value for s in at.success]
    assert "Good Hall" in _names(own_area) and "Nowhere Hall" not in _names(own_area)
