"""End to end: the Data page of a real ``streamlit run assetmap/ui/webapp/app.py`` server takes the real Manchester files.

The server keeps created areas in a temporary folder (ASSETMAP_AREAS_DIR) and opens
on the demo area. Every wait is on a condition, never a sleep.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from conftest import REPO, serve_app
from officers import browser_sign_in, write_secrets

from assetmap import settings
from assetmap.render import webmap

pytestmark = pytest.mark.browser

MAP_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_MS = 90_000

#: The real files uploaded, by the label of their uploader.
REAL_FILES: dict[str, str] = {
    "Ward or neighbourhood boundaries": "boundaries/manchester_wards_2023.geojson",
    "LSOA boundaries": "boundaries/manchester_lsoa21.geojson",
    "Indices of Deprivation file": "deprivation/IoD2025_File_7_manchester_partial.csv",
}


@pytest.fixture(scope="module")
def areas_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the server keeps created areas in (empty at the start)."""
    return tmp_path_factory.mktemp("areas")


@pytest.fixture(scope="module")
def data_register(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of the server's register: signing in keeps its session there, and added asset files their records."""
    return f"sqlite:///{tmp_path_factory.mktemp('data-register') / 'register.sqlite'}"


@pytest.fixture(scope="module")
def data_server(areas_dir: Path, data_register: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run the app on the demo area, keeping created areas in ``areas_dir``; yield its base URL."""
    demo = Path(settings.demo_area_path)
    if not (demo / "area.toml").is_file():
        pytest.skip(f"No demo area: {demo / 'area.toml'} does not exist (build it first).")
    secrets = write_secrets(tmp_path_factory.mktemp("data-secrets"))  # the Data page is for officers
    # A temporary register, never the repository's demo area's.
    env = {
        "ASSETMAP_AREAS_DIR": str(areas_dir),
        "STREAMLIT_SECRETS_FILES": str(secrets),
        "ASSETMAP_REGISTER_URL": data_register,
    }
    with serve_app(
        REPO / "assetmap" / "ui" / "webapp" / "app.py", demo, tmp_path_factory.mktemp("data-server"), env=env
    ) as base:
        yield base


def _idle(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def _name_area(page: Any, name: str) -> None:
    # Tab commits the text box as a person leaving it would; an upload's rerun can otherwise race the typing.
    box = page.get_by_label("Area name")
    box.fill(name)
    box.press("Tab")
    _idle(page)


def _uploader(page: Any, label: str) -> Any:
    return page.locator('[data-testid="stFileUploader"]').filter(has_text=label).first


def test_data_page_accepts_the_real_manchester_files_and_shows_the_area(
    real_data: Path, data_server: str, page: Any, areas_dir: Path, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    wards = gpd.read_file(real_data / REAL_FILES["Ward or neighbourhood boundaries"])
    page.goto(data_server.rstrip("/") + "/data", wait_until="domcontentloaded")
    _idle(page)
    browser_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data: areas and their layers", timeout=TIMEOUT_MS)

    for label, relative in REAL_FILES.items():
        uploader = _uploader(page, label)
        uploader.locator('input[type="file"]').set_input_files(str(real_data / relative))
        expect(uploader.get_by_role("button", name=f"Remove {Path(relative).name}")).to_be_visible(timeout=TIMEOUT_MS)
    _name_area(page, "Manchester")
    page.get_by_role("button", name=re.compile("Create the area")).click()

    expect(page.get_by_text("it is now on show on every page")).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)
    assert (areas_dir / "manchester" / "area.toml").is_file()
    assert not [p for p in areas_dir.iterdir() if p.name.startswith(".")]  # no work left behind
    expect(page.locator('[data-testid="stSidebar"]').get_by_role("heading", name="Manchester")).to_be_visible()
    preview = page.frame_locator(MAP_FRAME)
    expect(preview.locator(f"path.{webmap.AREA_CLASS}")).to_have_count(len(wards), timeout=TIMEOUT_MS)
    page.get_by_role("heading", level=1).scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "data_page.png"), full_page=True)

    # The new area is the one on show on the Map page too (same session: navigate within the app).
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=re.compile(r"\bMap$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Manchester: need and community assets", timeout=TIMEOUT_MS
    )
    expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}")).to_have_count(
        len(wards), timeout=TIMEOUT_MS
    )
    twin = page.get_by_role("table", name="assets shown in each")
    expect(twin.locator("tbody tr")).to_have_count(len(wards), timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "data_page_map.png"), full_page=True)


def test_a_bad_upload_shows_the_loaders_message(data_server: str, page: Any, areas_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    before = sorted(p.name for p in areas_dir.iterdir())
    broken = tmp_path / "wards.gpkg"
    broken.write_bytes(b"SQLite format 3\x00" + bytes(4096))
    fixtures = REPO / "tests" / "fixtures" / "tiny"
    page.goto(data_server.rstrip("/") + "/data", wait_until="domcontentloaded")
    _idle(page)
    browser_sign_in(page)
    for label, path in (
        ("Ward or neighbourhood boundaries", broken),
        ("LSOA boundaries", fixtures / "lsoa21.geojson"),
        ("Indices of Deprivation file", fixtures / "file7.csv"),
    ):
        uploader = _uploader(page, label)
        uploader.locator('input[type="file"]').set_input_files(str(path))
        expect(uploader.get_by_role("button", name=f"Remove {path.name}")).to_be_visible(timeout=TIMEOUT_MS)
    _name_area(page, "Broken")
    page.get_by_role("button", name=re.compile("Create the area")).click()
    alert = page.locator('[data-testid="stAlertContentError"]').filter(has_text="wards.gpkg")
    expect(alert).to_contain_text("cannot read it", timeout=TIMEOUT_MS)
    assert sorted(p.name for p in areas_dir.iterdir()) == before


#: The Code-Point Open postcodes of Manchester, for the postcode-lookup uploader (the food banks have no coordinates).
REAL_POSTCODES = "postcodes/manchester_postcodes_codepoint_2025.csv"


def _put_asset_file(page: Any, path: Path) -> None:
    """Put ``path`` in the "Asset file" uploader: the column pickers then offer its columns."""
    from playwright.sync_api import expect

    uploader = _uploader(page, "Asset file")
    uploader.locator('input[type="file"]').set_input_files(str(path))
    expect(uploader.get_by_role("button", name=f"Remove {path.name}")).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)


def _add_the_file(page: Any, name: str, kind: str) -> int:
    """Press "Add the file", wait for the summary line naming the file ``name``; return how many ``kind`` it added."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="Add the file").click()
    done = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=name)
    summary = re.compile(rf"Added ([1-9]\d*) {kind}")
    expect(done).to_contain_text(summary, timeout=TIMEOUT_MS)
    _idle(page)
    return int(summary.search(done.inner_text()).group(1))


def _choose_option(page: Any, control: str, option: str, attempts: int = 3) -> None:
    """Choose ``option`` in the list ``control`` as a person would: open it, type, pick the option.

    A rerun that redraws the page closes an open list (as it would under a person's
    pointer); the choice is then made again, up to ``attempts`` times.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    box = page.get_by_role("combobox", name=control, exact=True)
    for attempt in range(attempts):
        _idle(page)
        try:
            box.click()
            box.press_sequentially(option)  # the list is long and drawn in part: typing narrows it to the option
            page.get_by_role("option", name=option, exact=True).click(timeout=TIMEOUT_MS // 6)
            expect(box).to_have_value(option, timeout=TIMEOUT_MS // 6)
            break
        except (AssertionError, PlaywrightTimeout):
            if attempt == attempts - 1:
                raise
            box.press("Escape")
    _idle(page)


def test_asset_files_added_on_the_data_page_keep_only_assets_in_or_near_manchester(
    real_data: Path,
    data_server: str,
    data_register: str,
    page: Any,
    areas_dir: Path,
    artifacts: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    from assetmap.area.load import load_area

    page.goto(data_server.rstrip("/") + "/data", wait_until="domcontentloaded")
    _idle(page)
    browser_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Data: areas and their layers", timeout=TIMEOUT_MS)
    for label, relative in {**REAL_FILES, "Postcode lookup": REAL_POSTCODES}.items():
        uploader = _uploader(page, label)
        uploader.locator('input[type="file"]').set_input_files(str(real_data / relative))
        expect(uploader.get_by_role("button", name=f"Remove {Path(relative).name}")).to_be_visible(timeout=TIMEOUT_MS)
    _name_area(page, "Manchester assets")
    page.get_by_role("button", name=re.compile("Create the area")).click()
    expect(page.get_by_text("it is now on show on every page")).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)
    expect(page.get_by_role("heading", name="Add an asset file to this area")).to_be_visible(timeout=TIMEOUT_MS)

    # Food banks: every row one type; the rows whose postcode is not in Manchester's lookup are left out.
    _choose_option(page, "Type of every row", "Food bank or pantry")
    page.get_by_text("Leave out bad rows", exact=True).click()
    expect(page.get_by_role("checkbox", name="Leave out bad rows", exact=True)).to_be_checked(timeout=TIMEOUT_MS)
    _idle(page)
    _put_asset_file(page, real_data / "assets" / "gm_food_banks.csv")
    added_food = _add_the_file(page, "gm_food_banks.csv", "food banks")
    # The rows whose postcode is not in the lookup (outside Manchester) are left out, and listed.
    expect(page.get_by_text(re.compile(r"^[1-9]\d* rows left out$"))).to_be_visible(timeout=TIMEOUT_MS)

    # Libraries: the type read from the file's own "Type" column.
    _put_asset_file(page, real_data / "assets" / "gm_libraries.geojson")
    page.get_by_text("Read the type from a column", exact=True).click()
    expect(page.get_by_role("combobox", name="Type column", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)
    _choose_option(page, "Type column", "Type")
    added_libraries = _add_the_file(page, "gm_libraries.geojson", "libraries")

    # Green Flag parks: every row a green space.
    _put_asset_file(page, real_data / "assets" / "gm_green_flags.geojson")
    page.get_by_text("Type of every row", exact=True).click()
    expect(page.get_by_role("combobox", name="Type of every row", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    _idle(page)
    _choose_option(page, "Type of every row", "Park or green space")
    added_green = _add_the_file(page, "gm_green_flags.geojson", "green spaces")
    page.screenshot(path=str(artifacts / "data_page_assets.png"), full_page=True)

    monkeypatch.setattr(settings, "register_url", data_register)  # the added records are in the server's register
    area = load_area(areas_dir / "manchester-assets")
    assert {"food_bank", "library", "green_space"} <= set(area.assets["type"])
    # The Greater Manchester files go into the register whole; the area keeps only what lies in or near it.
    kept = area.assets["type"].value_counts()
    assert 0 < kept["food_bank"] <= added_food
    assert 0 < kept["library"] < added_libraries
    assert 0 < kept["green_space"] < added_green
    crs = "EPSG:27700"  # British National Grid: distances in metres
    manchester = area.boundaries.to_crs(crs).union_all()
    distance = area.assets.to_crs(crs).distance(manchester)
    far = area.assets.loc[distance > 2000 + 1, ["name", "type"]]
    assert far.empty, f"assets more than 2 km beyond Manchester: {far.to_dict('records')}"
    counted = area.assets["area_code"].isin(set(area.boundaries["code"]))
    assert counted.any() and (~counted).any()  # the border buffer keeps some assets outside every ward
    outside = area.assets.loc[counted & (distance > 1), ["name", "type"]]
    assert outside.empty, f"assets outside Manchester in a ward's counts: {outside.to_dict('records')}"
    assert int(area.area_summary()["n_assets"].sum()) == int(counted.sum())
