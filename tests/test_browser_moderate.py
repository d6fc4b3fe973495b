"""In a real browser: the Moderate page's map is drawn with no script error, its pin is dragged and the place saved;
the Map page answers at its own address; a clicked ward has no black focus box.

A real server on a copy of the demo area with one pending record placed a little
away from its postcode, and a temporary secrets file holding one officer account.
Every wait is on a condition.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, serve_app
from officers import browser_sign_in, copy_demo_area, write_secrets
from test_browser import APP_IDLE, MAP_FRAME, TIMEOUT_MS, _open

from assetmap.render import webmap
from assetmap.store import open_store

pytestmark = pytest.mark.browser

NAME = "Eastbrook Evening Choir"
# The postcode EB1 1AB's centre is at (-0.104803, 51.553772): the record says it meets 90 m north-east.
LON, LAT = -0.104, 51.5544


@pytest.fixture(scope="module")
def moderate_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_demo_area(tmp_path_factory.mktemp("moderate"))
    with open_store(folder) as store:
        store.submit(
            {"name": NAME, "type": "vcse_group", "longitude": LON, "latitude": LAT, "postcode": "EB1 1AB"},
            actor="public form",
        )
    return folder


@pytest.fixture(scope="module")
def moderate_server(moderate_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secrets = write_secrets(tmp_path_factory.mktemp("moderate-secrets"))
    with serve_app(
        REPO / "assetmap" / "ui" / "webapp" / "app.py",
        moderate_area,
        tmp_path_factory.mktemp("moderate-server"),
        env={"STREAMLIT_SECRETS_FILES": str(secrets)},
    ) as base:
        yield base


#: Console errors that are not the page's: basemap tiles (the test machine has no network) and Streamlit's own
#: probes of "/<page>/_stcore/...", which it answers at the root.
_ENVIRONMENT = re.compile(
    r"Failed to load resource: .* at (https://tile\.openstreetmap\.org/|\S+/_stcore/(host-config|health)$)"
)


def _record(area: Path) -> dict[str, Any]:
    with open_store(area) as store:
        rid = store.records(status="pending", public=False)["asset_id"].iloc[0]
        return {**store.get(rid), "audit": store.audit(rid)}


def test_the_moderation_map_draws_and_a_dragged_pin_is_saved(
    moderate_server: str, moderate_area: Path, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text} at {msg.location.get('url')}")
            if msg.type == "error"
            else None
        ),
    )
    base = moderate_server.rstrip("/")
    _open(page, f"{base}/moderate")
    browser_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderate submissions", timeout=TIMEOUT_MS)

    frame = page.frame_locator(MAP_FRAME)
    pin = frame.locator(".am-record-pin")
    expect(pin).to_be_visible(timeout=TIMEOUT_MS)
    expect(frame.locator(f".{webmap.POSTCODE_CLASS}")).to_be_visible()
    expect(frame.locator(".leaflet-tile-container, .leaflet-pane").first).to_be_attached()
    expect(page.get_by_text("the purple square is the centre of its postcode, EB1 1AB")).to_be_visible()
    page.screenshot(path=str(artifacts / "moderate_map.png"), full_page=True)

    # Drag the pin 60 px east and 40 px south.
    box = pin.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 6 * step, y + 4 * step)
    page.mouse.up()
    expect(page.get_by_text("New place: latitude")).to_be_visible(timeout=TIMEOUT_MS)
    before = _record(moderate_area)
    assert (before["longitude"], before["latitude"]) == (pytest.approx(LON), pytest.approx(LAT))  # not saved yet

    reason = page.get_by_label("Reason for moving it (for the audit log)", exact=True)
    reason.fill("Meets in the hall round the corner")
    reason.press("Enter")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Save the new place").click()
    expect(page.get_by_text(f"Moved {NAME}")).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "moderate_map_saved.png"), full_page=True)

    after = _record(moderate_area)
    assert after["longitude"] > LON and after["latitude"] < LAT  # east and south, as dragged
    last = after["audit"].iloc[-1]
    assert last["action"] == "edit" and last["reason"] == "Meets in the hall round the corner"
    # The map is drawn again at the saved place.
    expect(page.frame_locator(MAP_FRAME).locator(".am-record-pin")).to_be_visible(timeout=TIMEOUT_MS)
    left = [p for p in problems if not _ENVIRONMENT.search(p)]
    assert left == [], "\n".join(left)


def test_the_map_page_answers_at_its_own_address(app_server: str, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    _open(page, f"{app_server.rstrip('/')}/map")
    expect(page.get_by_role("heading", level=1)).to_contain_text("need and community assets", timeout=TIMEOUT_MS)
    assert page.get_by_text("Page not found").count() == 0
    expect(page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}").first).to_be_attached(timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "page_map_by_address.png"), full_page=True)


_ACTIVE = """r => {
  const a = r.ownerDocument.activeElement;
  return [a.tagName.toLowerCase(), a.getAttribute("class") || "", getComputedStyle(a).outlineStyle];
}"""


def test_a_clicked_ward_has_no_black_focus_box(app_server: str, page: Any) -> None:
    from playwright.sync_api import expect

    _open(page, app_server)
    ward = page.frame_locator(MAP_FRAME).locator(f"path.{webmap.AREA_CLASS}").nth(3)
    expect(ward).to_be_attached(timeout=TIMEOUT_MS)
    ward.click()
    expect(page.get_by_text("Selected:")).to_be_visible(timeout=TIMEOUT_MS)
    tag, classes, outline = page.frame_locator(MAP_FRAME).locator(":root").evaluate(_ACTIVE)
    # The clicked ward keeps the focus, without the browser's focus rectangle around its box.
    assert tag == "path" and webmap.AREA_CLASS in classes.split()
    assert outline == "none"
