"""End to end: on the Plan page an officer asks for a suggestion, clicks the map beside it and sees the change.

Every wait is on a condition (the app's "not running" state, elements appearing), none a sleep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assetmap.analysis.groups import group_label
from assetmap.render.webmap.sites import SITE_CLASS, SUGGESTED_CLASS
from assetmap.ui.common import DEFAULT_GROUP

pytestmark = pytest.mark.browser

MAP_FRAME = '[data-stale="false"] > div > iframe[title="streamlit_folium.st_folium"]'
APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
TIMEOUT_MS = 60_000


def test_clicking_the_map_beside_a_suggested_site_shows_the_change(
    app_server: str, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        page.goto(app_server.rstrip("/") + "/plan", wait_until="domcontentloaded")
        expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
        expect(page.get_by_role("heading", level=1)).to_contain_text("plan new assets", timeout=TIMEOUT_MS)
        frame = page.frame_locator(MAP_FRAME)
        expect(frame.locator(".leaflet-container")).to_be_visible(timeout=TIMEOUT_MS)

        page.get_by_role("button", name="Suggest sites").click()
        expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
        first = frame.locator(f".{SUGGESTED_CLASS}", has_text="S1")
        expect(first).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_text("Download the suggested sites (CSV)")).to_be_visible()

        # A click on the map just beside the first suggestion (not on its marker) places a candidate site there.
        box = first.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2 + 22, box["y"] + box["height"] / 2)
        expect(page.get_by_text("1. Point on the map", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.get_by_role("heading", name="Candidate sites (1 of up to 10)")).to_be_visible()
        expect(frame.locator(f".{SITE_CLASS}", has_text="1")).to_be_visible(timeout=TIMEOUT_MS)

        page.get_by_role("button", name="Show the change").click()
        expect(page.get_by_text("Residents newly within reach", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
        label = group_label(DEFAULT_GROUP)
        expect(page.get_by_text(f"{label}: areas whose gap index would fall", exact=True)).to_be_visible(
            timeout=TIMEOUT_MS
        )
        expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
        # The change table and the suggestions' table; the first's download holds the wards whose gap falls.
        tables = page.locator('[data-testid="stDataFrame"]')
        expect(tables).to_have_count(2)
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_text("Download the change (CSV)", exact=True).click()
        rows = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
        assert rows[0].startswith("Area,Residents,Within reach before (%),Within reach after (%)") and len(rows) > 1
        # The reach before and the reach added are drawn, and keyed.
        expect(frame.locator("path.am-added")).to_have_count(1, timeout=TIMEOUT_MS)
        expect(page.locator(".am-plan-legend")).to_contain_text("Newly within reach with the sites")
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Residents newly within reach")
        reached = metric.locator('[data-testid="stMetricValue"]').inner_text()
        assert float(reached.replace(",", "")) > 0
        page.screenshot(path=str(artifacts / "plan_1440x900.png"), full_page=True)
    finally:
        context.close()
