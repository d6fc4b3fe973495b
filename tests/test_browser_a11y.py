"""Accessibility (WCAG 2.2 AA) in a real browser: axe-core on every page, keyboard-only journeys, visible focus.

The pages checked are those the app's own menu lists, read from the page at run time (signed
out, then signed in as an officer), so a new page is checked without being named here. Each
page is checked at 1440 x 900 and 390 x 844; axe's results go to ``test-artifacts/axe/`` and a
full-page screenshot of each to ``test-artifacts/screens/``. One server for the module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import axe
import pytest
from conftest import REPO, serve_app
from officers import OFFICER, browser_sign_in, copy_demo_area, write_secrets

from assetmap.store import open_store

pytestmark = pytest.mark.browser

TIMEOUT_MS = axe.TIMEOUT_MS
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}

# Two pending groups, so the Moderate page has a queue (and its map) to check and to approve from.
PENDING = [
    {
        "name": f"Keyboard Test Group {n}",
        "type": "vcse_group",
        "longitude": -0.104803,
        "latitude": 51.553772,
        "postcode": "EB1 1AB",
        "contact_name": "Private Person Kay",
        "contact_email": "kay.private@example.org",
    }
    for n in (1, 2)
]


@pytest.fixture(scope="module")
def a11y_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    area = copy_demo_area(tmp_path_factory.mktemp("a11y"))
    with open_store(area) as store:
        for record in PENDING:
            store.submit(record, actor="public form")
    return area


@pytest.fixture(scope="module")
def a11y_server(a11y_area: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    secrets = write_secrets(tmp_path_factory.mktemp("a11y-secrets"))
    with serve_app(
        REPO / "assetmap" / "ui" / "webapp" / "app.py",
        a11y_area,
        tmp_path_factory.mktemp("a11y-server"),
        env={"STREAMLIT_SECRETS_FILES": str(secrets)},
    ) as base:
        yield base.rstrip("/")


@pytest.fixture(scope="module")
def desktop(browser: Any) -> Iterator[Any]:
    """One desktop-sized tab for the module's journeys (signed out)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _open(page: Any, url: str) -> None:
    page.goto(url, wait_until="domcontentloaded")
    axe.wait_until_drawn(page)


def _check_pages(page: Any, pages: dict[str, str], size: str, artifacts: Path) -> list[axe.PageResult]:
    results = []
    width, height = SIZES[size]
    for title, url in pages.items():
        _open(page, url)
        name = f"{title} {width}x{height}"
        results.append(axe.audit(page, name, artifacts / "axe"))
        axe.screenshot(page, artifacts / "screens" / f"{axe.slug(name)}.png")
    return results


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_has_no_serious_axe_violation(a11y_server: str, browser: Any, size: str, artifacts: Path) -> None:
    from playwright.sync_api import expect

    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        _open(page, a11y_server)
        public = axe.nav_pages(page)
        assert len(public) >= 5, public  # the menu was read: the map, gaps, profile, print, the form...
        results = _check_pages(page, public, size, artifacts)
        # An officer page's address, signed out: the refusal with its sign-in form.
        _open(page, f"{a11y_server}/moderate")
        expect(page.get_by_role("heading", level=1)).to_have_text("Officers only")
        results += _check_pages(page, {"Officers only": page.url}, size, artifacts)
        browser_sign_in(page)
        officer = {t: u for t, u in axe.nav_pages(page).items() if t not in public}
        assert officer, "signed in, the menu lists no officer page"
        results += _check_pages(page, officer, size, artifacts)
    finally:
        context.close()
    assert not axe.failure_report(results), "\n" + axe.failure_report(results)


def _idle(page: Any) -> None:
    from playwright.sync_api import expect

    expect(page.locator(axe.APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def _type_field(page: Any, label: str, text: str) -> None:
    """Tab to a text field, type into it and leave it with Tab (which sends it); wait for the rerun."""
    from playwright.sync_api import expect

    axe.tab_to(page, label)
    _idle(page)  # a rerun still drawing the form would drop the keys typed into it
    page.keyboard.type(text)
    expect(page.get_by_label(label, exact=True)).to_have_value(text)
    page.keyboard.press("Tab")
    _idle(page)


def test_the_volunteer_form_is_filled_and_sent_from_the_keyboard(a11y_server: str, desktop: Any) -> None:
    from playwright.sync_api import expect

    page = desktop
    _open(page, f"{a11y_server}/add")
    _type_field(page, "Name of your group or service", "Keyboard Only Walkers")
    axe.tab_to(page, "What kind of group is it?")
    page.keyboard.type("VCSE group")
    page.keyboard.press("Enter")
    _idle(page)
    expect(page.get_by_text("Groups of this kind usually serve")).to_be_visible(timeout=TIMEOUT_MS)
    _type_field(page, "Postcode", "EB1 1AB")
    _type_field(page, "Your email (private)", "walkers.lead@example.org")
    consent = "I agree to the council keeping these details and publishing the public ones once checked."
    axe.tab_to(page, consent)
    page.keyboard.press("Space")
    _idle(page)
    expect(page.get_by_role("checkbox", name=consent)).to_be_checked()
    axe.tab_to(page, "Send")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your reference is")).to_be_visible(timeout=TIMEOUT_MS)


def test_the_map_table_twin_is_reached_and_reordered_from_the_keyboard(a11y_server: str, desktop: Any) -> None:
    from playwright.sync_api import expect

    page = desktop
    _open(page, a11y_server)
    table = page.get_by_role("table", name="assets shown in each")
    before = table.locator("tbody tr").first.text_content() or ""
    axe.tab_to(page, "Order the table by")
    axe.choose_with_keys(page, "Area name, A to Z")
    expect(page.get_by_role("combobox", name="Order the table by")).to_have_value("Area name, A to Z")
    expect(table.locator("tbody tr").first).not_to_have_text(before, timeout=TIMEOUT_MS)
    _idle(page)
    names = table.locator("tbody tr > :nth-child(2)").all_inner_texts()  # code, then name
    assert names == sorted(names, key=str.casefold) and len(names) > 2, names
    # Past the table, the keyboard goes on to its download.
    axe.tab_to(page, "Download this table (CSV)")


def test_an_officer_approves_a_record_from_the_keyboard(a11y_server: str, a11y_area: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        _open(page, f"{a11y_server}/moderate")
        axe.tab_to(page, "User name")
        page.keyboard.type(OFFICER)
        axe.tab_to(page, "Password")
        from officers import PASSWORD

        page.keyboard.type(PASSWORD)
        axe.tab_to(page, "Sign in")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Moderate submissions", timeout=TIMEOUT_MS)
        _idle(page)
        axe.tab_to(page, "Approve and publish")
        page.keyboard.press("Enter")
        expect(page.get_by_text("it is now public")).to_be_visible(timeout=TIMEOUT_MS)
    finally:
        context.close()
    with open_store(a11y_area) as store:
        approved = set(store.records(status="approved")["name"])
    assert approved & {r["name"] for r in PENDING}


def test_a_control_focused_from_the_keyboard_shows_a_ring(a11y_server: str, desktop: Any) -> None:
    page = desktop
    _open(page, f"{a11y_server}/add")
    page.locator("body").focus()
    rings: dict[str, dict[str, Any]] = {}
    # The first 40 stops of the Tab key: the skip link, the menu's links, the form's fields and buttons.
    for _ in range(40):
        page.keyboard.press("Tab")
        ring = axe.focus_ring(page)
        if ring["tag"] != "body":  # past the last control the focus leaves the page for a moment
            rings[f"{axe.focused_name(page)[:60]} ({ring['tag']} {ring['type']})"] = ring
    kinds = {(r["tag"], r["type"]) for r in rings.values()}
    assert {("a", ""), ("input", "text")} <= kinds and any(t == "button" for t, _ in kinds), kinds
    faint = {name: r for name, r in rings.items() if r["style"] == "none" or r["width"] < 2}
    assert not faint, faint


def test_the_legend_says_in_words_what_colours_and_symbols_mean(
    a11y_server: str, desktop: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page = desktop
    _open(page, a11y_server)
    page.get_by_label("Shade areas by").click()
    page.get_by_role("option", name=re.compile("^Need and access")).click()
    axe.wait_until_drawn(page)
    key = page.locator(".am-legend .am-bivariate")
    expect(key).to_be_visible(timeout=TIMEOUT_MS)
    # The 3 x 3 key names its axes and the class a reader looks for first, in words.
    words = " ".join(key.inner_text().split())
    for said in ("Need", "High", "Low", "Low → high access", "high need, low access"):
        assert said in words, (said, words)
    assert "high need with low access" in (key.get_attribute("aria-label") or "")
    # Each pillar's symbol (shape and colour) stands beside the pillar's name and count.
    rows = page.locator(".am-legend div:has(> span > img)")
    assert rows.count() >= 2
    for text in rows.all_inner_texts():
        assert any(p in text for p in ("Scaling", "Involving", "Strengthening", "Sustaining")) and "(" in text, text
    result = axe.audit(page, "Map, need and access 1440x900", artifacts / "axe")
    assert not axe.failure_report([result]), axe.failure_report([result])
