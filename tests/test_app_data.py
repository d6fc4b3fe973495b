"""The Data page, run headless with streamlit.testing: uploads, column choices, errors, switching areas."""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import hostile
import pandas as pd
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

# Cached areas outlive an AppTest run; each test starts from nothing.
pytestmark = pytest.mark.usefixtures("fresh_streamlit_caches")
TINY = REPO / "tests" / "fixtures" / "tiny"
BAD = REPO / "tests" / "fixtures" / "bad"


def _data_page() -> None:
    from assetmap.ui.pages import data

    data.page()


def _create_with_a_docx() -> None:
    # Streamlit's uploader refuses a wrong extension before the page sees it; the page checks again.
    from assetmap import settings
    from assetmap.io.uploads import Upload
    from assetmap.ui.pages import data

    tiny = settings.package_root.parent / "tests" / "fixtures" / "tiny"
    good = {
        "small_areas": [Upload("lsoa21.geojson", (tiny / "lsoa21.geojson").read_bytes())],
        "deprivation": [Upload("file7.csv", (tiny / "file7.csv").read_bytes())],
    }
    data.create_area({"boundaries": [Upload("../notes.docx", b"PK\x03\x04 not a map")], **good}, name="Docx")


@pytest.fixture
def areas_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty areas folder, and the demo area as the default on show.

    The register is a temporary one: signing in keeps its session there, never in the repository's demo area.
    """
    folder = tmp_path / "areas"
    monkeypatch.setattr(settings, "areas_dir", folder)
    monkeypatch.setattr(settings, "default_area_path", settings.demo_area_path)
    monkeypatch.setattr(settings, "register_url", f"sqlite:///{tmp_path / 'register.sqlite'}")
    return folder


def _app() -> AppTest:
    """The Data page, signed in through its form as the test officer (the page is for officers only)."""
    return sign_in(with_officer(AppTest.from_function(_data_page, default_timeout=TIMEOUT_S)).run())


def _text(value: str) -> str:
    """A message as shown: Markdown escapes removed."""
    return value.replace("\\", "")


def _errors(at: AppTest) -> list[str]:
    return [_text(e.value) for e in at.error]


def _upload(at: AppTest, layer: str, name: str, data: bytes, generation: int = 0) -> None:
    at.file_uploader(key=f"data_upload_{layer}_{generation}").set_value((name, data, "application/octet-stream"))


def _fill(at: AppTest, name: str, boundaries: tuple[str, bytes] | None = None, deprivation: bytes | None = None):
    at.text_input(key="data_name_0").set_value(name)
    _upload(at, "boundaries", *(boundaries or ("wards.geojson", (TINY / "wards.geojson").read_bytes())))
    _upload(at, "small_areas", "lsoa21.geojson", (TINY / "lsoa21.geojson").read_bytes())
    _upload(at, "deprivation", "file7.csv", deprivation or (TINY / "file7.csv").read_bytes())


def _submit(at: AppTest) -> AppTest:
    return next(b for b in at.button if b.label == "Create the area").click().run()


def _kept(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_page_shows_the_area_on_show_and_the_form(areas_dir):
    at = _app().run()
    assert not at.exception and not at.error
    demo = assetmap.load_area(settings.demo_area_path)
    assert at.sidebar.subheader[0].value == common.md_text(demo.name)
    assert {m.label: m.value for m in at.metric}["Wards"] == f"{len(demo.boundaries):,}"
    # The demo is on show already; there is nothing kept yet.
    assert at.button(key="data_show_demo").disabled
    assert any("No areas created yet" in _text(c.value) for c in at.caption)
    uploader = at.file_uploader(key="data_upload_deprivation_0")
    assert sorted(uploader.allowed_type) == [".csv", ".xlsx"]
    assert ".zip" in at.file_uploader(key="data_upload_boundaries_0").allowed_type
    assert at.file_uploader(key="data_upload_assets_0").accept_multiple_files


def test_creating_an_area_from_files_shows_it_and_switches_to_it(areas_dir):
    at = _app().run()
    _fill(at, "Tiny Town")
    at = _submit(at)
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    target = areas_dir / "tiny-town"
    assert _kept(areas_dir) == ["tiny-town"]  # no working folders left behind
    assert (target / "area.toml").is_file()
    assert at.session_state[common.AREA_PATH_KEY] == str(target)
    assert any("Created **Tiny Town**" in _text(s.value) for s in at.success)
    assert at.sidebar.subheader[0].value == common.md_text("Tiny Town")
    wards = gpd.read_file(TINY / "wards.geojson")
    assert {m.label: m.value for m in at.metric}["Wards"] == str(len(wards))
    # The summary names the layers, and the form starts again empty.
    assert any("Boundaries: wards.geojson" in _text(m.value) for m in at.markdown)
    assert at.file_uploader(key="data_upload_boundaries_1").value is None
    # The new area is listed and is the one on show; the demo is one click away.
    assert at.selectbox(key="data_kept").value == str(target)
    assert not at.button(key="data_show_demo").disabled


def test_a_boundaries_file_without_a_code_column_asks_for_the_columns(areas_dir):
    at = _app().run()
    _fill(at, "Mapped", boundaries=("no_code_column.geojson", (BAD / "no_code_column.geojson").read_bytes()))
    at = _submit(at)
    assert not at.exception
    assert any("no_code_column.geojson" in e and "no column of area codes" in e for e in _errors(at))
    assert _kept(areas_dir) == []
    code = at.selectbox(key="data_map_boundaries_code_col_0")
    assert code.options == ["zone", "label"] and code.value is None
    assert common.AREA_PATH_KEY not in at.session_state or at.session_state[common.AREA_PATH_KEY] != str(
        areas_dir / "mapped"
    )

    code.set_value("zone")
    at.selectbox(key="data_map_boundaries_name_col_0").set_value("label")
    at = _submit(at)
    assert not at.exception and not at.error, _errors(at)
    area = assetmap.load_area(areas_dir / "mapped")
    assert sorted(area.boundaries["code"]) == ["east", "north", "south", "west"]
    assert "Tiny Ward A" in set(area.boundaries["name"])
    assert at.session_state[common.AREA_PATH_KEY] == str(areas_dir / "mapped")


def _iod_without_score() -> bytes:
    frame = pd.read_csv(TINY / "file7.csv", dtype=str, encoding="utf-8-sig")
    score = next(c for c in frame.columns if c.endswith("Score"))
    frame = frame.drop(columns=[c for c in frame.columns if "(IMD) R" in c or "(IMD) D" in c])
    return frame.rename(columns={score: "Deprivation value"}).to_csv(index=False).encode()


def test_an_iod_file_without_a_score_column_asks_for_it(areas_dir):
    at = _app().run()
    _fill(at, "Scored", deprivation=_iod_without_score())
    at = _submit(at)
    assert not at.exception
    assert any("file7.csv" in e and "IMD score" in e for e in _errors(at))
    assert _kept(areas_dir) == []
    score = at.selectbox(key="data_map_deprivation_imd_score_0")
    assert "Deprivation value" in score.options and score.value is None

    score.set_value("Deprivation value")
    at = _submit(at)
    assert not at.exception and not at.error, _errors(at)
    area = assetmap.load_area(areas_dir / "scored")
    expected = pd.read_csv(TINY / "file7.csv", encoding="utf-8-sig")
    scores = expected.set_index(expected.columns[0])[next(c for c in expected.columns if c.endswith("Score"))]
    got = area.deprivation.set_index("lsoa_code")["imd_score"]
    pd.testing.assert_series_equal(got.sort_index(), scores.loc[got.index].sort_index(), check_names=False)


@pytest.mark.parametrize(
    ("given", "looks_like", "goes_as"),
    [
        ("lookup.csv", "an LSOA-to-ward lookup", "the LSOA-to-ward lookup"),
        ("postcodes.csv", "a postcode lookup", "the postcode lookup"),
    ],
)
def test_another_kind_of_file_given_as_the_deprivation_file_is_named_not_mapped(areas_dir, given, looks_like, goes_as):
    at = _app().run()
    _fill(at, "Wrong", deprivation=(TINY / given).read_bytes())
    at = _submit(at)
    assert not at.exception
    assert any(
        f"file7.csv: this looks like {looks_like}, not an Indices of Deprivation file" in e
        and f"Give it as {goes_as}" in e
        for e in _errors(at)
    ), _errors(at)
    # Not asked to choose its columns: no column would make a lookup a deprivation file.
    assert not [s for s in at.selectbox if (s.key or "").startswith("data_map_deprivation")]
    assert _kept(areas_dir) == []


def test_messages_name_the_forms_controls_not_commands_or_keywords(areas_dir):
    at = _app().run()
    _fill(at, "Mapped", boundaries=("no_code_column.geojson", (BAD / "no_code_column.geojson").read_bytes()))
    at = _submit(at)
    message = next(e for e in _errors(at) if "no column of area codes" in e)
    assert "Choose it in 'Code column'" in message
    said = message.removeprefix("no_code_column.geojson:")  # the file's own name is not the page's words
    assert not [word for word in ("init-area", "--", "code_col", "columns=") if word in said], message


def _corrupt_gpkg() -> bytes:
    return b"SQLite format 3\x00" + bytes(range(256)) * 8


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("wards.gpkg", _corrupt_gpkg(), "cannot read it"),
        ("truncated.geojson", (BAD / "truncated.geojson").read_bytes(), "cannot read it"),
        ("duplicate_codes.geojson", (BAD / "duplicate_codes.geojson").read_bytes(), "appears on rows"),
    ],
)
def test_a_bad_boundaries_file_shows_the_loaders_message_and_writes_nothing(areas_dir, name, data, says):
    at = _app().run()
    _fill(at, "Broken", boundaries=(name, data))
    at = _submit(at)
    assert not at.exception
    assert any(name in e and says in e for e in _errors(at)), _errors(at)
    assert _kept(areas_dir) == []
    # The demo stays on show.
    assert at.sidebar.subheader[0].value == common.md_text(assetmap.load_area(settings.demo_area_path).name)


def test_a_population_file_of_another_edition_is_refused_and_nothing_kept(areas_dir):
    at = _app().run()
    _fill(at, "Mixed")
    codes = [f"E0199990{i}" for i in range(1, 9)]
    old = "LSOA code (2011),Total population: mid 2015 (excluding prisoners)\n" + "".join(f"{c},1375\n" for c in codes)
    _upload(at, "population", "File_6_IoD2019.csv", old.encode())
    at = _submit(at)
    assert not at.exception
    errors = _errors(at)
    assert any("IoD2019 population" in e and "is IoD2025" in e and "File 6 of IoD2025" in e for e in errors), errors
    assert not areas_dir.exists() or _kept(areas_dir) == []


def test_an_oversized_file_is_refused_by_name_and_limit(areas_dir, monkeypatch):
    monkeypatch.setitem(settings.upload_limit_mb, "boundaries", 0.001)
    at = _app().run()
    _fill(at, "Big")
    at = _submit(at)
    assert not at.exception
    assert any("wards.geojson" in e and "over the 0.001 MB limit" in e for e in _errors(at)), _errors(at)
    assert not areas_dir.exists() or _kept(areas_dir) == []


def test_missing_required_files_are_listed_together(areas_dir):
    at = _app().run()
    at.text_input(key="data_name_0").set_value("Nothing")
    _upload(at, "boundaries", "wards.geojson", (TINY / "wards.geojson").read_bytes())
    at = _submit(at)
    errors = _errors(at)
    assert any("LSOA boundaries" in e and "Indices of Deprivation file" in e for e in errors), errors
    assert not areas_dir.exists() or _kept(areas_dir) == []


def test_a_wrong_kind_of_file_is_refused_by_name_and_allowed_kinds(areas_dir):
    at = AppTest.from_function(_create_with_a_docx, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    errors = _errors(at)
    assert any("notes.docx" in e and ".geojson" in e and ".gpkg" in e for e in errors), errors
    assert all("../" not in e for e in errors)  # only the safe base name is shown
    assert not areas_dir.exists() or _kept(areas_dir) == []


def test_an_existing_name_is_refused_unless_replaced(areas_dir):
    files = {
        layer: [uploads.Upload(p.name, p.read_bytes())]
        for layer, p in (
            ("boundaries", BAD / "no_code_column.geojson"),
            ("small_areas", TINY / "lsoa21.geojson"),
            ("deprivation", TINY / "file7.csv"),
        )
    }
    columns = {"boundaries": {"code_col": "zone"}}
    create.area_from_uploads(files, name="Tiny Town", areas_dir=areas_dir, columns=columns)
    at = _app().run()
    _fill(at, "Tiny Town")
    at = _submit(at)
    assert any("already kept" in e and "Tiny Town" in e for e in _errors(at)), _errors(at)
    assert sorted(assetmap.load_area(areas_dir / "tiny-town").boundaries["code"])[0] == "east"  # untouched

    at.checkbox(key="data_replace_0").check()
    at = _submit(at)
    assert not at.exception and not at.error, _errors(at)
    assert _kept(areas_dir) == ["tiny-town"]
    assert assetmap.load_area(areas_dir / "tiny-town").boundaries["code"].str.startswith("E05").all()


def test_switching_between_kept_areas_and_the_demo(areas_dir):
    made = create.area_from_uploads(
        {
            "boundaries": [uploads.Upload("wards.geojson", (TINY / "wards.geojson").read_bytes())],
            "small_areas": [uploads.Upload("lsoa21.geojson", (TINY / "lsoa21.geojson").read_bytes())],
            "deprivation": [uploads.Upload("file7.csv", (TINY / "file7.csv").read_bytes())],
        },
        name="Kept Town",
        areas_dir=areas_dir,
    )
    demo = assetmap.load_area(settings.demo_area_path)
    at = _app().run()
    assert at.sidebar.subheader[0].value == common.md_text(demo.name)
    assert at.selectbox(key="data_kept").options == ["Kept Town (kept-town)"]
    at.button(key="data_show_kept").click().run()
    assert not at.exception
    assert at.session_state[common.AREA_PATH_KEY] == str(made.path)
    assert at.sidebar.subheader[0].value == common.md_text("Kept Town")

    at.button(key="data_show_demo").click().run()
    assert not at.exception
    assert at.session_state[common.AREA_PATH_KEY] == str(settings.demo_area_path)
    assert at.sidebar.subheader[0].value == common.md_text(demo.name)
    assert at.button(key="data_show_demo").disabled


def test_an_area_that_cannot_load_does_not_stop_the_page(areas_dir, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    at = _app()
    at.session_state[common.AREA_PATH_KEY] = str(broken)
    at.run()
    assert not at.exception
    assert any("could not be loaded" in e for e in _errors(at))
    at.button(key="data_show_demo").click().run()
    assert not at.error
    assert at.session_state[common.AREA_PATH_KEY] == str(settings.demo_area_path)


def test_uploads_with_an_xlsx_deprivation_file(areas_dir):
    frame = pd.read_csv(TINY / "file7.csv", dtype=str, encoding="utf-8-sig")
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False, sheet_name="IoD")
    at = _app().run()
    _fill(at, "Excel Town", deprivation=buffer.getvalue())
    at.file_uploader(key="data_upload_deprivation_0").set_value(("iod.xlsx", buffer.getvalue(), "application/vnd"))
    at = _submit(at)
    assert not at.exception and not at.error, _errors(at)
    area = assetmap.load_area(areas_dir / "excel-town")
    assert len(area.deprivation) == len(frame)


@pytest.mark.parametrize(
    ("layer", "name", "build", "says"),
    [
        ("deprivation", "file7.xlsx", hostile.xlsx_bomb, "times its packed size"),
        ("deprivation", "file7.xlsx", hostile.xlsx_entities, "declares a DOCTYPE or entities"),
        ("deprivation", "file7.xlsx", hostile.xlsx_cut_sheet, "Save it again as .xlsx"),
        ("deprivation", "file7.csv", lambda: b"", "empty"),
        ("boundaries", "wards.geojson", hostile.deep_json, "nested more than 100 levels deep"),
    ],
)
def test_a_hostile_upload_shows_a_clear_error_and_writes_nothing(areas_dir, layer, name, build, says):
    at = _app().run()
    tiny = {
        "boundaries": ("wards.geojson", (TINY / "wards.geojson").read_bytes()),
        "deprivation": ("file7.csv", (TINY / "file7.csv").read_bytes()),
    }
    tiny[layer] = (name, build())
    at.text_input(key="data_name_0").set_value("Hostile")
    _upload(at, "boundaries", *tiny["boundaries"])
    _upload(at, "small_areas", "lsoa21.geojson", (TINY / "lsoa21.geojson").read_bytes())
    _upload(at, "deprivation", *tiny["deprivation"])
    at = _submit(at)
    assert not at.exception
    assert any(name in e and says in e for e in _errors(at)), _errors(at)
    assert _kept(areas_dir) == []
