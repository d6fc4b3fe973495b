"""The app in a real browser: first render of the Map page and the re-render after a filter change.

Each figure is the time from the browser's request (or the click) until the page is
interactive again: the script has finished and the map shows every ward. The baseline
is the smallest Streamlit page served and driven the same way in the same run.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assetmap import load_area, server, settings

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
MAP_FRAME = '[data-stale="false"] > div > iframe[title="streamlit_folium.st_folium"]'
AREA_PATHS = "path.am-area"
TIMEOUT_MS = 120_000
HELLO = Path(__file__).with_name("_hello_app.py")

#: The two ways the sidebar's default pair (Scaling and Strengthening) combines, alternated so each click
#: changes the map, and the words of each in the map's legend.
GROUPS = {
    "every one chosen": "Scaling and Strengthening (both within reach)",
    "any one chosen": "Scaling or Strengthening (either within reach)",
}


def _browser(p: Any) -> Any:
    from conftest import CHROMIUM, CHROMIUM_ARGS

    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _page(browser: Any) -> tuple[Any, Any]:
    # A new context: an empty cache, and no request intercepted (the browser's arguments keep it offline).
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    return context, context.new_page()


def _open_hello(browser: Any, url: str) -> float:
    context, page = _page(browser)
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("heading", name="hello").wait_for(timeout=TIMEOUT_MS)
        page.locator(APP_IDLE).wait_for(state="attached", timeout=TIMEOUT_MS)
        return time.perf_counter() - start
    finally:
        context.close()


def _hello_change(page: Any, option: str) -> float:
    page.get_by_label("Choice").click()
    choice = page.get_by_role("option", name=option, exact=True)
    choice.wait_for(timeout=TIMEOUT_MS)
    start = time.perf_counter()
    choice.click()
    page.get_by_text(option, exact=True).last.wait_for(timeout=TIMEOUT_MS)
    page.locator(APP_IDLE).wait_for(state="attached", timeout=TIMEOUT_MS)
    return time.perf_counter() - start


def _map_ready(page: Any, n_areas: int, legend: str | None = None) -> None:
    frame = page.frame_locator(MAP_FRAME)
    if legend:
        page.locator(".am-legend", has_text=legend).wait_for(timeout=TIMEOUT_MS)
    frame.locator(AREA_PATHS).nth(n_areas - 1).wait_for(state="attached", timeout=TIMEOUT_MS)
    page.locator(APP_IDLE).wait_for(state="attached", timeout=TIMEOUT_MS)


def _open_map(browser: Any, url: str, n_areas: int) -> tuple[float, Any, Any]:
    context, page = _page(browser)
    start = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    _map_ready(page, n_areas)
    return time.perf_counter() - start, context, page


def _choose(page: Any, label: str, option: str) -> None:
    # Typing narrows the list first: long option lists render only what is in view.
    page.get_by_label(label).click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def _change_group(page: Any, group: str, n_areas: int) -> float:
    # The clock starts at the click that picks the way of combining the chosen groups.
    # The radio's input is hidden under its label, as for a person: the label is what is clicked.
    option = page.locator('[data-testid="stSidebarContent"] label').filter(
        has=page.get_by_role("radio", name=group, exact=True)
    )
    option.wait_for(timeout=TIMEOUT_MS)
    start = time.perf_counter()
    option.click()
    _map_ready(page, n_areas, legend=GROUPS[group])
    return time.perf_counter() - start


def run(repeat: int) -> list:
    from playwright.sync_api import sync_playwright

    from benchmarks.__main__ import Result

    area_path = settings.demo_area_path
    n_areas = len(load_area(area_path).boundaries)
    repeat = max(2, repeat)
    cold, warm, change, hello_open, hello_change = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = _browser(p)
        with server.serve(area_path, Path(tmp), app=HELLO) as hello:
            _open_hello(browser, hello)  # warm-up
            hello_open = [_open_hello(browser, hello) for _ in range(repeat)]
            context, page = _page(browser)
            page.goto(hello, wait_until="domcontentloaded")
            page.locator(APP_IDLE).wait_for(state="attached", timeout=TIMEOUT_MS)
            hello_change = [_hello_change(page, ("two", "one")[i % 2]) for i in range(repeat)]
            context.close()
        for i in range(repeat):
            # A fresh server each time, started as `assetmap serve` starts it; the first visitor's
            # browser has nothing cached either.
            log_dir = Path(tmp) / f"app-{i}"
            log_dir.mkdir()
            with server.serve(area_path, log_dir) as url:
                seconds, context, page = _open_map(browser, url, n_areas)
                cold.append(seconds)
                # A returning visitor: a new tab (a new session) in a browser that has the app's scripts cached.
                again = context.new_page()
                start = time.perf_counter()
                again.goto(url, wait_until="domcontentloaded")
                _map_ready(again, n_areas)
                warm.append(time.perf_counter() - start)
                _choose(
                    again,
                    "Shade areas by",
                    "Gap index for Scaling and Strengthening (both within reach) (need x share out of reach)",
                )
                _map_ready(again, n_areas, legend="Gap index")
                ways = list(GROUPS)
                change += [_change_group(again, ways[(j + 1) % 2], n_areas) for j in range(repeat)]
                context.close()
        browser.close()
    median = statistics.median
    return [
        Result(
            "app: Map page, new server, empty browser cache",
            median(cold),
            "smallest page, first visit",
            median(hello_open),
            "< 3 s",
        ),
        Result(
            "app: Map page, new session, browser cache warm",
            median(warm),
            "smallest page, first visit",
            median(hello_open),
            "< 3 s",
        ),
        Result(
            "app: way of combining changed, map redrawn",
            median(change),
            "smallest page, widget change",
            median(hello_change),
            "< 1 s",
        ),
    ]
