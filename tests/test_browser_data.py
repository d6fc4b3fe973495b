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
def data_server(areas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run the app on the demo area, keeping created areas in ``areas_dir``; yield its base URL."""
    demo = Path(settings.demo_area_path)
    if not (demo / "area.toml").is_file():
        pytest.skip(f"No demo area: {demo / 'area.toml'} does not exist (build it first).")
    secrets = write_secrets(tmp_path_factory.mktemp("data-secrets"))  # the Data page is for officers
    # A temporary register: signing in keeps its session there, never in the repository's demo area.
    register = tmp_path_factory.mktemp("data-register") / "register.sqlite"
    env = {
        "ASSETMAP_AREAS_DIR": str(areas_dir),
        "STREAMLIT_SECRETS_FILES": str(secrets),
        "ASSETMAP_REGISTER_URL": f"sqlite:///{register}",
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
