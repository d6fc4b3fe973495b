"""End to end: a visitor adds a group, it stays off the public map until an officer signs in and approves it.

A real server on a copy of the demo area (the register is written there, never
into the repository's data), with a temporary secrets file holding one officer
account. Every wait is on a condition.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, serve_app
from officers import browser_sign_in, copy_demo_area, write_secrets
from test_browser import APP_IDLE, TIMEOUT_MS, _open, _wait_for_points

from assetmap.render import webmap

pytestmark = pytest.mark.browser

NAME = "Eastbrook Moonlight Knitters"
PRIVATE_EMAIL = "knitters.lead@example.org"


@pytest.fixture(scope="module")
def register_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo_area(tmp_path_factory.mktemp("register"))


@pytest.fixture(scope="module")
def register_server(register_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secrets = write_secrets(tmp_path_factory.mktemp("register-secrets"))
    env = {"STREAMLIT_SECRETS_FILES": str(secrets)}
    with serve_app(
        REPO / "assetmap" / "ui" / "webapp" / "app.py",
        register_area,
        tmp_path_factory.mktemp("register-server"),
        env=env,
    ) as base:
        yield base


def _points_now(area: Path) -> int:
    """The points the Map page draws at first: the assets serving the sidebar's default groups."""
    import assetmap
    from assetmap.render.views import shown_assets
    from assetmap.ui.common import DEFAULT_GROUP

    drawn, _, _ = webmap.points_to_draw(shown_assets(assetmap.load_area(area), group=DEFAULT_GROUP))
    return 0 if drawn is None else len(drawn)


def _type_into(page: Any, label: str, text: str) -> None:
    # Enter commits a text input at once (as leaving it would); then wait for the rerun.
    from playwright.sync_api import expect

    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_a_submitted_group_is_public_only_after_an_officer_approves_it(
    register_server: str, register_area: Path, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    base = register_server.rstrip("/")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    before = _points_now(register_area)
    _open(page, base)
    _wait_for_points(page, before)

    # A visitor adds a group by its postcode.
    _open(page, f"{base}/add")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Add your group", timeout=TIMEOUT_MS)
    _type_into(page, "Name of your group or service", NAME)
    page.get_by_label("What kind of group is it?").click()
    page.get_by_role("option", name="VCSE group", exact=True).click()
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    _type_into(page, "Postcode", "EB1 1AB")
    _type_into(page, "Your email (private)", PRIVATE_EMAIL)
    page.get_by_text("I agree to the council keeping these details").click()
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your reference is")).to_be_visible(timeout=TIMEOUT_MS)
    page.screenshot(path=str(artifacts / "register_submitted.png"), full_page=True)

    # Not public yet: the map draws as many points as before and never names it.
    _open(page, base)
    _wait_for_points(page, before)
    assert page.get_by_text(NAME).count() == 0

    # Officer pages refuse a signed-out visitor, whatever the address, and show nothing of the queue.
    for path in ("moderate", "data"):
        _open(page, f"{base}/{path}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Officers only", timeout=TIMEOUT_MS)
        assert page.get_by_text(NAME).count() == 0 and page.get_by_text(PRIVATE_EMAIL).count() == 0
    page.screenshot(path=str(artifacts / "register_refused.png"), full_page=True)

    # The officer signs in on the refused page and approves the group.
    _open(page, f"{base}/moderate")
    browser_sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Moderate submissions", timeout=TIMEOUT_MS)
    expect(page.get_by_text(NAME).first).to_be_attached(timeout=TIMEOUT_MS)  # a cell of the queue table
    page.screenshot(path=str(artifacts / "register_queue.png"), full_page=True)
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_text("it is now public")).to_be_visible(timeout=TIMEOUT_MS)

    # Now it is on the public map.
    _open(page, base)
    _wait_for_points(page, before + 1)
    page.screenshot(path=str(artifacts / "register_published.png"), full_page=True)
    assert dialogs == []
