"""End to end: a register holding hostile text, served for real and opened in Chromium.

A record's name that looks like HTML must be shown as text in the popup and the
table twin, and no script it carries may run. A name that is template syntax must
be shown as typed on every page and must do nothing on the server, and no table
offers a download of its own that would bypass the app's neutralised ones.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import REPO, serve_app
from hostile import JINJA, JINJA_EFFECT, MARKER_ENV, assert_not_evaluated, marker_path
from test_browser import APP_IDLE, MAP_FRAME, TIMEOUT_MS

from assetmap import settings
from assetmap.render import webmap

pytestmark = pytest.mark.browser

HOSTILE = '<script>alert("name")</script><img src=x onerror=alert("img")> & Co'


@pytest.fixture(scope="module")
def hostile_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo area with a short register: three groups and one whose name is hostile."""
    demo = settings.demo_area_path
    if not (demo / "area.toml").is_file():
        pytest.skip("the demo area is not built")
    folder = tmp_path_factory.mktemp("hostile") / "area"
    shutil.copytree(demo, folder)
    path = folder / "assets" / "demo_assets.csv"
    register = pd.read_csv(path, dtype=str, keep_default_na=False)
    approved = register[(register["status"] == "approved") & (register["sensitive"] == "false")].head(4).copy()
    approved.iloc[0, approved.columns.get_loc("name")] = HOSTILE
    approved.iloc[0, approved.columns.get_loc("description")] = "<b>bold?</b> javascript:alert(3)"
    approved.iloc[1, approved.columns.get_loc("name")] = JINJA["jinja_expression"]
    approved.iloc[2, approved.columns.get_loc("name")] = JINJA_EFFECT
    approved.iloc[2, approved.columns.get_loc("address")] = JINJA["jinja_raw_block"]
    approved.to_csv(path, index=False)
    return folder


@pytest.fixture(scope="module")
def marker(hostile_area: Path) -> Path:
    """Where the side-effect payload would create a folder if the server evaluated it."""
    return marker_path(hostile_area.parent)


@pytest.fixture(scope="module")
def hostile_server(hostile_area: Path, marker: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {MARKER_ENV: str(marker)}
    with serve_app(
        REPO / "assetmap" / "ui" / "webapp" / "app.py", hostile_area, tmp_path_factory.mktemp("hostile-server"), env=env
    ) as base:
        yield base


def test_hostile_name_is_shown_literally_and_runs_nothing(hostile_server: str, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_server, wait_until="domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    frame = page.frame_locator(MAP_FRAME)
    markers = frame.locator(f".{webmap.ASSET_CLASS}")
    expect(markers).to_have_count(4, timeout=TIMEOUT_MS)
    popups = frame.locator(".leaflet-popup-content .am-popup")
    popup = popups.filter(has_text=HOSTILE)
    for i in range(4):
        markers.nth(i).dispatch_event("click")
        expect(popups.first).to_be_visible(timeout=TIMEOUT_MS)
        if popup.count():
            break
    else:
        pytest.fail("No popup showed the hostile name as text.")
    expect(popup.locator("strong")).to_have_text(HOSTILE)
    # Nothing in the popup became an element: no script, no image.
    assert popup.locator("script, img, b").count() == 0
    popup.screenshot(path=str(artifacts / "hostile_popup.png"))
    assert dialogs == []


def _open(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_template_syntax_is_shown_as_typed_and_runs_nothing_on_the_server(
    hostile_server: str, page: Any, marker: Path, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _open(page, hostile_server)
    frame = page.frame_locator(MAP_FRAME)
    markers = frame.locator(f".{webmap.ASSET_CLASS}")
    expect(markers).to_have_count(4, timeout=TIMEOUT_MS)
    popups = frame.locator(".leaflet-popup-content .am-popup")
    wanted = {JINJA["jinja_expression"], JINJA_EFFECT}
    seen: set[str] = set()
    name = popups.first.locator("strong")
    for i in range(4):
        markers.nth(i).dispatch_event("click")
        expect(popups.first).to_be_visible(timeout=TIMEOUT_MS)
        if seen:  # each marker's popup replaces the last one: wait for it to open
            shown_before = re.compile("^(" + "|".join(re.escape(t) for t in seen) + ")$")
            expect(name).not_to_have_text(shown_before, timeout=TIMEOUT_MS)
        seen.add(name.inner_text())
    assert wanted <= seen, seen
    # Every public page, with the same register: as typed, never evaluated, never an error.
    for path in ("", "gaps", "ward", "print", "add"):
        _open(page, f"{hostile_server.rstrip('/')}/{path}")
        assert page.locator('[data-testid="stException"]').count() == 0, path
        assert_not_evaluated(page.content(), marker)
    expect(page.get_by_role("button", name="Send")).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "hostile_add_page.png"))
    assert not marker.exists()


def test_tables_offer_no_download_of_their_own(hostile_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, f"{hostile_server.rstrip('/')}/ward")
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible(timeout=TIMEOUT_MS)
    table.hover()
    toolbar = page.locator('[data-testid="stElementToolbar"]').first
    expect(toolbar).to_be_attached(timeout=TIMEOUT_MS)
    # The table's toolbar (search, full screen) is there, but not its CSV export: the
    # page's own download buttons, which neutralise formulas, are the way to a file.
    expect(page.get_by_role("button", name="Download as CSV")).to_have_count(0)
    assert (
        page.get_by_role("button", name="Download").count() + page.locator('[data-testid="stDownloadButton"]').count()
    )


def _server_pid(base: str) -> int:
    """The process id of the app server listening at ``base`` (found by its command line)."""
    port = base.rsplit(":", 1)[1].strip("/")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"assetmap.ui.launch" in args and b"--server.port" in args and port.encode() in args:
            return int(proc.name)
    raise AssertionError(f"no app server process listens on port {port}")


def _rss_mb(pid: int) -> float:
    import resource

    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * resource.getpagesize() / 1e6


def test_the_server_refuses_a_workbook_bomb_cheaply(hostile_server: str, page: Any, tmp_path: Path) -> None:
    """A 1 MB workbook that unpacks to 3 million rows: refused at once, and the server's memory does not grow."""
    import hostile
    from playwright.sync_api import expect

    pid = _server_pid(hostile_server)
    _open(page, f"{hostile_server.rstrip('/')}/add")
    page.get_by_role("tab", name="Many groups (spreadsheet)").click()
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    # A small good workbook first, so the reading code is loaded before memory is measured.
    small = tmp_path / "small.xlsx"
    small.write_bytes(hostile.xlsx_rows(2))
    upload.set_input_files(str(small))
    expect(page.get_by_text("2 rows read: 2 ready")).to_be_visible(timeout=TIMEOUT_MS)
    bomb = tmp_path / "groups.xlsx"
    bomb.write_bytes(hostile.xlsx_bomb())
    assert bomb.stat().st_size < 1_500_000
    before = _rss_mb(pid)
    upload.set_input_files(str(bomb))
    # The report's table cell names the problem (the grid draws it; its cell is in the page).
    expect(page.get_by_text("times its packed size")).to_be_attached(timeout=TIMEOUT_MS)
    expect(page.get_by_text("The file cannot be read as it is.")).to_be_visible()
    # Refused by its packed size, before any row is read: parsed whole, 3 million rows would take
    # gigabytes (how fast the refusal is, is a benchmark's business, not a test's).
    assert _rss_mb(pid) - before < 100
    assert page.locator('[data-testid="stException"]').count() == 0
