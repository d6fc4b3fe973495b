"""Officer sign-in and its lockout in a real browser: both outlive a reload, a new tab and a new browser.

Each test has its own server and register: the lockout counts per client address, and every
visitor of a test server comes from the same address.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import REPO, serve_app
from officers import OFFICER, PASSWORD, browser_sign_in, copy_demo_area, write_secrets
from test_browser import APP_IDLE, TIMEOUT_MS, _open

from assetmap import auth, settings

pytestmark = pytest.mark.browser


@pytest.fixture
def sign_in_server(tmp_path: Path) -> Iterator[str]:
    area = copy_demo_area(tmp_path)
    env = {"STREAMLIT_SECRETS_FILES": str(write_secrets(tmp_path))}
    with serve_app(REPO / "assetmap" / "ui" / "webapp" / "app.py", area, tmp_path, env=env) as base:
        yield base


def _officer_cookie(context: Any) -> dict[str, Any]:
    return next(c for c in context.cookies() if c["name"] == auth.SESSION_COOKIE)


@contextlib.contextmanager
def _through(page: Any, route: str) -> Iterator[None]:
    """Wait, around an action, for the browser to pass through ``route`` and load the page it leads back to."""
    from playwright.sync_api import expect

    with page.expect_response(lambda r: route in r.url, timeout=TIMEOUT_MS):
        with page.expect_response(
            lambda r: r.request.is_navigation_request() and urlsplit(r.url).path == "/moderate", timeout=TIMEOUT_MS
        ):
            yield
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_sign_in_outlives_a_reload_and_signing_out_ends_it(sign_in_server: str, page: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    _open(page, f"{sign_in_server}/moderate")
    with _through(page, "/officer/session"):
        browser_sign_in(page)
    expect(page.get_by_role("heading", name="Moderate submissions")).to_be_visible(timeout=TIMEOUT_MS)

    cookie = _officer_cookie(page.context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert time.time() < cookie["expires"] <= time.time() + settings.officer_session_s + 60
    assert auth.SESSION_COOKIE not in page.evaluate("document.cookie")  # out of reach of the page's scripts

    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_text(f"Signed in as {OFFICER}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("heading", name="Moderate submissions")).to_be_visible(timeout=TIMEOUT_MS)
    tab = page.context.new_page()  # a new tab of the same browser
    _open(tab, f"{sign_in_server}/moderate")
    expect(tab.get_by_role("heading", name="Moderate submissions")).to_be_visible(timeout=TIMEOUT_MS)
    tab.close()

    with _through(page, "/officer/sign-out"):
        page.get_by_role("button", name="Sign out").click()
    assert all(c["name"] != auth.SESSION_COOKIE for c in page.context.cookies())
    page.reload(wait_until="domcontentloaded")
    expect(page.get_by_role("heading", name="Officers only")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_text(f"Signed in as {OFFICER}")).to_have_count(0)

    # A copy of the cookie taken before signing out no longer signs anyone in.
    other = browser.new_context()
    try:
        other.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
        thief = other.new_page()
        _open(thief, f"{sign_in_server}/moderate")
        expect(thief.get_by_role("heading", name="Officers only")).to_be_visible(timeout=TIMEOUT_MS)
    finally:
        other.close()


def _try_sign_in(page: Any, password: str) -> None:
    from playwright.sync_api import expect

    page.get_by_label("User name", exact=True).fill(OFFICER)
    field = page.get_by_label("Password", exact=True)
    field.fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(field).to_have_value("", timeout=TIMEOUT_MS)  # the form empties itself once the run is done
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)


def test_the_lockout_outlives_a_reload_and_a_new_browser(sign_in_server: str, page: Any, browser: Any) -> None:
    from playwright.sync_api import expect

    _open(page, f"{sign_in_server}/sign-in")
    for _ in range(settings.max_sign_in_failures):
        _try_sign_in(page, "not the password")
        expect(page.get_by_text("do not match an officer account")).to_be_visible(timeout=TIMEOUT_MS)

    page.reload(wait_until="domcontentloaded")
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=TIMEOUT_MS)
    _try_sign_in(page, PASSWORD)
    expect(page.get_by_text("Too many failed attempts. Try again in 5 minutes.")).to_be_visible(timeout=TIMEOUT_MS)

    fresh = browser.new_context()  # no cookies, no session: still the same user name and address
    try:
        tab = fresh.new_page()
        _open(tab, f"{sign_in_server}/sign-in")
        _try_sign_in(tab, PASSWORD)
        expect(tab.get_by_text("Too many failed attempts. Try again in 5 minutes.")).to_be_visible(timeout=TIMEOUT_MS)
        expect(tab.get_by_text(f"Signed in as {OFFICER}")).to_have_count(0)
        assert all(c["name"] != auth.SESSION_COOKIE for c in fresh.cookies())
    finally:
        fresh.close()
