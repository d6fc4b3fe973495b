"""End to end: a real ``streamlit run assetmap/ui/webapp/app.py`` server, driven by headless Chromium.

Every wait is on a condition (the server's health endpoint, the app's own
"not running" state, elements appearing), each with a deadline; none is a sleep.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from assetmap.analysis.groups import group_label
from assetmap.render import webmap
from assetmap.ui.common import DEFAULT_GROUP

pytestmark = pytest.mark.browser

# The map of the latest run: while a run is under way the previous one stays, marked stale.
MAP_FRAME = '[data-stale="false"] > div > iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_MS = 60_000

#: The sidebar's first choice, in words: Scaling and Strengthening, both within reach.
DEFAULT_LABEL = group_label(DEFAULT_GROUP)

# Points drawn one by one plus the counts written on cluster discs: every drawn asset once.
_COUNT_POINTS = f"""
() => {{
  const single = document.querySelectorAll('.{webmap.ASSET_CLASS}').length;
  let clustered = 0;
  document.querySelectorAll('.am-cluster span').forEach(s => {{ clustered += parseInt(s.textContent, 10); }});
  return single + clustered;
}}
"""


@pytest.fixture(scope="module")
def expected(app_area: Path) -> dict[str, Any]:
    """What the map should show, computed in-process from the same area folder."""
    if not (app_area / "area.toml").is_file():
        pytest.skip(f"No area to serve: {app_area / 'area.toml'} does not exist.")
    import assetmap
    from assetmap.render.views import shown_assets

    area = assetmap.load_area(app_area)
    summary = area.area_summary()
    # The map shows the assets serving the sidebar's groups (Scaling and Strengthening at first).
    drawn, _, _ = webmap.points_to_draw(shown_assets(area, group=DEFAULT_GROUP))
    return {
        "name": area.name,
        "fictional": area.fictional,
        "n_areas": int((~(summary.geometry.isna() | summary.geometry.is_empty)).sum()),
        "n_points": 0 if drawn is None else len(drawn),
        "drawn": drawn,
    }


def _map_frame(page: Any) -> Any:
    return page.frame_locator(MAP_FRAME).locator(":root").element_handle(timeout=TIMEOUT_MS).owner_frame()


def _wait_for_points(page: Any, n: int) -> None:
    """Wait until the map shows ``n`` points, singly or in clusters; on timeout, report the count seen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    frame = _map_frame(page)
    try:
        frame.wait_for_function(f"({_COUNT_POINTS})() === {int(n)}", timeout=TIMEOUT_MS)
    except PlaywrightTimeoutError:
        assert frame.evaluate(_COUNT_POINTS) == n


def _open(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_map_page_draws_areas_and_assets(app_server: str, page: Any, expected: dict, artifacts: Path) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []  # a script smuggled in through a record's text would show up here
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, app_server)
    expect(page.get_by_role("heading", level=1)).to_contain_text(expected["name"], timeout=TIMEOUT_MS)
    if expected["fictional"]:
        expect(page.get_by_text("Fictional demo data").first).to_be_visible()

    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(f"path.{webmap.AREA_CLASS}")).to_have_count(expected["n_areas"], timeout=TIMEOUT_MS)
    expect(page.locator(".am-legend")).to_be_visible()
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("Crown copyright")
    if expected["n_points"]:
        _wait_for_points(page, expected["n_points"])
        # The key shows each pillar's symbol (its shape as well as its colour), drawn.
        symbols = page.locator(".am-legend img")
        expect(symbols.first).to_be_visible()
        assert symbols.count() >= 2
        assert page.evaluate("() => [...document.querySelectorAll('.am-legend img')].every(i => i.naturalWidth > 0)")

    # The table twin, a real table named by its caption, has one row per area.
    twin = page.get_by_role("table", name="assets shown in each")
    expect(twin.locator("tbody tr")).to_have_count(expected["n_areas"])
    page.screenshot(path=str(artifacts / "map_page.png"), full_page=True)
    assert dialogs == []


def test_map_page_needs_nothing_from_other_sites(app_server: str, page: Any, expected: dict) -> None:
    from playwright.sync_api import expect

    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(app_server.rstrip("/")) else outside.append(r.url))
    _open(page, app_server)
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(f"path.{webmap.AREA_CLASS}")).to_have_count(expected["n_areas"], timeout=TIMEOUT_MS)
    expect(frame.locator(".leaflet-control-zoom-in")).to_be_visible()
    # Leaflet and its clusterer come from the app itself; only the background tiles are fetched
    # from elsewhere, and the map works without them.
    assert [u for u in outside if not u.startswith("https://tile.openstreetmap.org/")] == []


def test_asset_popup_opens(app_server: str, page: Any, expected: dict, artifacts: Path) -> None:
    from playwright.sync_api import expect

    if not expected["n_points"]:
        pytest.skip("The area has no drawn assets.")
    _open(page, app_server)
    frame = page.frame_locator(MAP_FRAME)
    marker = frame.locator(f".{webmap.ASSET_CLASS}, .am-cluster").first
    expect(marker).to_be_attached(timeout=TIMEOUT_MS)
    # Clicks are dispatched to the element itself: a marker may sit under the legend.
    # A cluster zooms in on click; repeat until a single marker is drawn (bounded by the zoom levels).
    for _ in range(20):
        if frame.locator(f".{webmap.ASSET_CLASS}").count():
            break
        frame.locator(".am-cluster").first.dispatch_event("click")
        expect(frame.locator(f".{webmap.ASSET_CLASS}, .am-cluster").first).to_be_attached()
    # From the keyboard: a marker takes focus (Tab reaches it) and Enter opens its popup.
    frame.locator(f".{webmap.ASSET_CLASS}").first.focus()
    page.keyboard.press("Enter")
    popup = frame.locator(".leaflet-popup-content .am-popup")
    expect(popup).to_be_visible(timeout=TIMEOUT_MS)
    expect(popup.locator("strong")).not_to_be_empty()
    frame.locator(".leaflet-popup-content").screenshot(path=str(artifacts / "map_popup.png"))
    # The browser puts the popup together from the point's fields: it reads as the server's own.
    name = popup.locator("strong").inner_text()
    drawn = expected["drawn"]
    records = drawn[drawn["name"] == name]
    assert len(records), f"no drawn asset is named {name!r}"
    shown = popup.inner_text().split()
    page.set_content(webmap.popup_html(records.iloc[0]))
    assert shown == page.locator(".am-popup").inner_text().split()


def test_changing_the_shading_redraws_the_map(app_server: str, page: Any, expected: dict) -> None:
    from playwright.sync_api import expect

    _open(page, app_server)
    expect(page.locator(".am-legend")).to_contain_text("IMD score", timeout=TIMEOUT_MS)
    page.get_by_label("Shade areas by").click()
    page.get_by_role("option", name="Population", exact=True).click()
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    expect(page.locator(".am-legend")).to_contain_text("Population", timeout=TIMEOUT_MS)
    expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}")).to_have_count(expected["n_areas"])


def test_gaps_page_ranks_and_links_to_the_plan_page(
    app_server: str, page: Any, expected: dict, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _open(page, app_server.rstrip("/") + "/gaps")
    expect(page.get_by_role("heading", level=1)).to_contain_text("gaps in community assets", timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"Ranked by gap index: {DEFAULT_LABEL}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Download CSV")).to_be_visible(timeout=TIMEOUT_MS)
    # The file is made when the button is clicked: it holds the ranked wards and the whole area.
    with page.expect_download(timeout=TIMEOUT_MS) as download:
        page.get_by_text("Download CSV").click()
    rows = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("code,name,group") and len(rows) > 2
    page.screenshot(path=str(artifacts / "gaps_page.png"), full_page=True)
    # The what-if is on the Plan page, one link away.
    page.get_by_role(
        "link", name="What if a new asset opened? Try sites, or ask for suggestions, on the Plan page"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("plan new assets", timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Add a candidate site")).to_be_visible()
    assert urlparse(page.url).path.rstrip("/").endswith("/plan")


_AREA_FILLS = f"""
() => Array.from(document.querySelectorAll('path.{webmap.AREA_CLASS}')).map(p => p.getAttribute('fill')).join(',')
"""


def _choose(page: Any, label: str, option: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label(label, exact=True).click()  # not the "Help for ..." button beside it
    page.get_by_role("option", name=option, exact=True).click()
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_changing_the_element_changes_the_choropleth(
    app_server: str, page: Any, expected: dict, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _open(page, app_server)
    _choose(page, "Shade areas by", f"Gap index for {DEFAULT_LABEL} (need x share out of reach)")
    expect(page.locator(".am-legend")).to_contain_text(f"Gap index for {DEFAULT_LABEL}", timeout=TIMEOUT_MS)
    before = _map_frame(page).evaluate(_AREA_FILLS)
    # Added to the chosen pillars: residents must reach all three.
    _choose(page, "Elements and pillars", "Element 6: Thriving VCSE sector and volunteering")
    expect(page.locator(".am-legend")).to_contain_text("Element 6", timeout=TIMEOUT_MS)
    expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}")).to_have_count(expected["n_areas"])
    assert _map_frame(page).evaluate(_AREA_FILLS) != before
    # The 3 x 3 key of need against access.
    _choose(page, "Shade areas by", f"Need and access to {group_label('e6&scaling&strengthening')}")
    key = page.locator(".am-bivariate")
    expect(key).to_be_visible(timeout=TIMEOUT_MS)
    expect(key.locator("td[title]")).to_have_count(9)
    page.screenshot(path=str(artifacts / "map_bivariate.png"), full_page=True)


def test_clicking_a_ward_selects_it(app_server: str, page: Any, expected: dict) -> None:
    from playwright.sync_api import expect

    _open(page, app_server)
    frame = page.frame_locator(MAP_FRAME)
    area = frame.locator(f"path.{webmap.AREA_CLASS}").first
    expect(area).to_be_attached(timeout=TIMEOUT_MS)
    area.dispatch_event("click")
    expect(page.get_by_text("Selected:")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("Its profile is on the Ward profile page.")).to_be_visible()


# By address: the Map page is the app's home, at its root.
PAGES = {
    "": "need and community assets",
    "gaps": "gaps in community assets",
    "ward": None,
    "print": "Print ward maps",
    "add": "Add your group",
    "check": "Check a submission",
    "moderate": "Officers only",  # refused while signed out (tests/test_browser_register.py signs in)
    "data": "Officers only",
    "sign-in": "Officer sign-in",
}


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_opens_without_an_error(app_server: str, page: Any, artifacts: Path, path: str) -> None:
    from playwright.sync_api import expect

    _open(page, f"{app_server.rstrip('/')}/{path}")
    heading = page.get_by_role("heading", level=1).first
    expect(heading).to_be_visible(timeout=TIMEOUT_MS)
    if PAGES[path]:
        expect(heading).to_contain_text(PAGES[path])
    assert page.locator('[data-testid="stException"]').count() == 0
    # The address is the page's own, not one Streamlit answers with "Page not found".
    assert page.get_by_text("Page not found").count() == 0
    if path in ("", "gaps", "ward"):  # the analysis pages share the sidebar's filters
        expect(page.get_by_label("Elements and pillars", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    if path == "":
        expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}").first).to_be_attached()
    page.screenshot(path=str(artifacts / f"page_{path or 'map'}.png"), full_page=True)


def test_controls_work_from_the_keyboard(app_server: str, page: Any, expected: dict) -> None:
    from playwright.sync_api import expect

    _open(page, app_server)
    expect(page.locator(".am-legend")).to_contain_text("IMD score", timeout=TIMEOUT_MS)
    # No mouse: focus the control, type to narrow the list, confirm with Enter.
    page.get_by_label("Shade areas by").focus()
    page.keyboard.type("Population")
    page.keyboard.press("Enter")
    expect(page.locator(".am-legend")).to_contain_text("Population", timeout=TIMEOUT_MS)
    expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}")).to_have_count(expected["n_areas"])


def test_readable_at_200_percent_zoom(app_server: str, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    # 200% zoom of a 1280 x 900 window: the page lays out in half the CSS pixels, at twice the density.
    context = browser.new_context(viewport={"width": 640, "height": 450}, device_scale_factor=2)
    try:
        page = context.new_page()
        _open(page, app_server)
        heading = page.get_by_role("heading", level=1)
        expect(heading).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_label("Shade areas by")).to_be_visible()
        expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}").first).to_be_attached(
            timeout=TIMEOUT_MS
        )
        # Nothing runs off the side: the page never needs a horizontal scroll bar.
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.screenshot(path=str(artifacts / "map_zoom_200.png"), full_page=True)
    finally:
        context.close()


def test_an_address_reproduces_the_view_and_a_reload_keeps_it(app_server: str, page: Any, app_area: Path) -> None:
    from playwright.sync_api import expect

    import assetmap

    ward = assetmap.load_area(app_area).boundaries.sort_values("code")["code"].iloc[-1]
    query = "groups=e6,scaling&combine=any&threshold=1200&stale=0&view=lsoa"
    label = group_label("e6|scaling")
    caption = f"Showing {label}; within 1,200 m; stale records left out."

    def same_view() -> None:
        expect(page.get_by_role("heading", level=1)).to_contain_text("gaps in community assets", timeout=TIMEOUT_MS)
        expect(page.get_by_text(caption, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_text(f"Ranked by gap index: {label}", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        # The LSOA view: no ward-by-element matrix, and the address keeps saying so.
        expect(page).to_have_url(re.compile(r"view=lsoa"))
        expect(page.get_by_text("Coverage by element", exact=True)).to_have_count(0)

    _open(page, f"{app_server.rstrip('/')}/gaps?{query}")
    same_view()
    # A reload keeps it all (the caption names the groups, the way they combine, the distance and stale switch).
    page.reload(wait_until="domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    same_view()
    assert page.locator('[data-testid="stException"]').count() == 0
    # The selected ward is in the address too; a bad value is left out with a notice, not a traceback.
    _open(page, f"{app_server.rstrip('/')}/ward?ward={ward}&threshold=nine")
    expect(page.get_by_role("heading", level=2).filter(has_text=ward)).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text("is not one offered")).to_be_visible()
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("heading", level=2).filter(has_text=ward)).to_be_visible(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
