"""End to end on a phone-sized screen (390 x 844): the form, the bulk upload and the Check a submission page.

A real server on a copy of the demo area (the register is written there). Screenshots
go to ``test-artifacts/phone_*.png``. Every wait is on a condition.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import REPO, serve_app
from officers import copy_demo_area
from test_browser import APP_IDLE, TIMEOUT_MS, _open
from test_browser_register import _type_into

from assetmap.ui import forms

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
NAME = "Eastbrook Pocket Gardeners"
EMAIL = "gardeners.lead@example.org"


@pytest.fixture(scope="module")
def phone_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_demo_area(tmp_path_factory.mktemp("phone"))


@pytest.fixture(scope="module")
def phone_server(phone_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_app(REPO / "assetmap" / "ui" / "webapp" / "app.py", phone_area, tmp_path_factory.mktemp("srv")) as base:
        yield base.rstrip("/")


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A fresh browser page the size of a phone's screen (no cookies, no cache)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def _idle(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_the_menu_closes_after_choosing_a_page_and_the_heading_is_compact(
    phone_server: str, phone: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _open(phone, f"{phone_server}/add")
    heading = phone.get_by_role("heading", level=1)
    expect(heading).to_have_text("Add your group", timeout=TIMEOUT_MS)
    box = heading.bounding_box()
    # The heading and the start of the introduction fit in the first fifth of the screen.
    assert box is not None and box["y"] + box["height"] < PHONE["height"] / 5, box
    phone.screenshot(path=str(artifacts / "phone_add_top.png"))
    sidebar = phone.locator('[data-testid="stSidebar"]')
    phone.get_by_test_id("stExpandSidebarButton").click()
    expect(sidebar).to_have_attribute("data-collapsed", "false", timeout=TIMEOUT_MS)
    phone.screenshot(path=str(artifacts / "phone_menu_open.png"))
    phone.get_by_test_id("stSidebarNavLink").filter(has_text="Check a submission").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check a submission", timeout=TIMEOUT_MS)
    expect(sidebar).to_have_attribute("data-collapsed", "true", timeout=TIMEOUT_MS)
    phone.screenshot(path=str(artifacts / "phone_menu_closed.png"))


def test_form_brings_the_first_error_into_view_then_the_check_page_shows_the_entry(
    phone_server: str, phone: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    _open(phone, f"{phone_server}/add")
    _type_into(phone, "Name of your group or service", NAME)
    phone.get_by_label("What kind of group is it?").click()
    phone.get_by_role("option", name="VCSE group", exact=True).click()
    _idle(phone)
    _type_into(phone, "Postcode", "EB1 1AB")
    phone.get_by_text("I agree to the council keeping these details").click()
    _idle(phone)
    phone.get_by_role("button", name="Send").click()
    # The private email was left blank: its field, far above the Send button, is in view and focused.
    email = phone.get_by_label("Your email (private)", exact=True)
    expect(email).to_be_focused(timeout=TIMEOUT_MS)
    expect(email).to_be_in_viewport()
    expect(
        phone.get_by_text("Your email is blank. Give it, so that an officer can ask about the entry")
    ).to_be_visible()
    phone.screenshot(path=str(artifacts / "phone_add_error.png"))

    _type_into(phone, "Your email (private)", EMAIL)
    phone.get_by_role("button", name="Send").click()
    done = phone.get_by_text("Your reference is")
    expect(done).to_be_visible(timeout=TIMEOUT_MS)
    expect(phone.get_by_text("usually within 10 working days")).to_be_visible()
    phone.screenshot(path=str(artifacts / "phone_add_done.png"))
    reference = re.search(r"Your reference is ([A-Z0-9]{4}-[A-Z0-9]{4})", done.inner_text())
    assert reference, done.inner_text()

    # The confirmation's link opens the check page beside it, so the confirmation stays to read.
    with phone.expect_popup() as opened:
        phone.get_by_test_id("stAlertContentSuccess").get_by_role("link", name="Check a submission").click()
    phone = opened.value
    expect(phone.get_by_role("heading", level=1)).to_have_text("Check a submission", timeout=TIMEOUT_MS)
    phone.get_by_label("Reference", exact=True).fill(reference.group(1).lower())
    phone.get_by_label("Your email", exact=True).fill(EMAIL.upper())
    phone.get_by_role("button", name="Check").click()
    expect(phone.get_by_text(f"{NAME} (reference {reference.group(1)})", exact=False)).to_be_visible(timeout=TIMEOUT_MS)
    expect(phone.get_by_text("Status: Waiting to be checked.", exact=False)).to_be_visible()
    phone.screenshot(path=str(artifacts / "phone_check.png"), full_page=True)
    # A wrong email: the same answer as a wrong reference.
    phone.get_by_label("Your email", exact=True).fill("someone.else@example.org")
    phone.get_by_role("button", name="Check").click()
    expect(phone.get_by_text("We found no entry with that reference and that email.")).to_be_visible(timeout=TIMEOUT_MS)
    phone.screenshot(path=str(artifacts / "phone_check_not_found.png"), full_page=True)


def test_bulk_upload_report_wraps_within_the_screen(phone_server: str, phone: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    template = pd.read_csv(io.BytesIO(forms.template_bytes("csv", postcode="EB1 1AB")), dtype=str)
    bad = {"name": "Broken Row Group", "type": "vcse_group", "postcode": "ZZ", "email": "nope"}
    sheet = pd.concat([template, pd.DataFrame([bad])], ignore_index=True).to_csv(index=False).encode()
    _open(phone, f"{phone_server}/add")
    phone.get_by_role("tab", name="Many groups (spreadsheet)").click()
    phone.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "groups.csv", "mimeType": "text/csv", "buffer": sheet}
    )
    fix = phone.get_by_text("Delete the example row, or write your own group's details over it", exact=False)
    expect(fix).to_be_visible(timeout=TIMEOUT_MS)
    _idle(phone)
    table = phone.get_by_test_id("stTable").filter(has_text="How to fix")
    for header in ("Row", "Field", "Problem", "How to fix"):
        expect(table.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    fix.scroll_into_view_if_needed()
    # Every cell ends within the screen: the text wraps rather than running off to the right.
    rights = table.locator("td, th").evaluate_all("cells => cells.map(c => c.getBoundingClientRect().right)")
    assert rights and max(rights) <= PHONE["width"], rights
    phone.screenshot(path=str(artifacts / "phone_bulk_report.png"), full_page=True)
