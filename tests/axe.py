"""Accessibility checks in a real browser: axe-core on a page and its frames, and the pages the app lists.

axe-core comes from the ``axe-playwright-python`` package, which ships it (never a CDN). It
is injected into the page and into each of its frames (Streamlit draws components such as
the st_folium maps inside iframes), and each document is checked on its own, so a result
names the frame it came from. Results are written per page under ``test-artifacts/axe/``
(the full JSON and a short readable summary).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The WCAG 2.2 AA rule sets: level A and AA success criteria of WCAG 2.0, 2.1 and 2.2.
WCAG_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

#: Impacts that fail a page.
FAILING: frozenset[str] = frozenset({"serious", "critical"})


@dataclass(frozen=True)
class Exclusion:
    """One rule left unchecked on one exact part of Streamlit's own markup, which the project cannot change."""

    rule: str
    selector: str
    why: str


#: The only places a rule is not applied. Each names one rule and one selector of Streamlit's markup;
#: every other rule still runs there, and the rule still runs everywhere else.
STREAMLIT_EXCLUDED: tuple[Exclusion, ...] = (
    Exclusion(
        "list",
        '[data-testid="stSidebarNavItems"]',
        "Streamlit's page menu puts each section (its header and links) in a <div> directly inside the <ul>.",
    ),
    Exclusion(
        "listitem",
        '[data-testid="stSidebarNavItems"] > div > li',
        "the menu's <li> items sit in Streamlit's section <div>, not directly in the <ul> (same cause as above).",
    ),
)

APP_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
NAV_LINKS = '[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]'
# Streamlit folds a long menu behind a "View more" button.
NAV_MORE = '[data-testid="stSidebarNavViewButton"]'
SIDEBAR_OPEN = '[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapsedControl"] button'
TIMEOUT_MS = 60_000


@dataclass
class FrameResult:
    """axe's answer for one document: the page itself or one of its frames."""

    frame: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class PageResult:
    """axe's answers for a page and its frames."""

    name: str
    url: str
    frames: list[FrameResult]

    def failing(self) -> list[tuple[str, dict[str, Any]]]:
        """Return (frame, violation) for each serious or critical violation."""
        return [(f.frame, v) for f in self.frames for v in f.violations if v.get("impact") in FAILING]

    def summary(self) -> str:
        """Return a short readable account: each violation with its impact, count and first targets."""
        lines = [f"# axe-core on {self.name}", f"{self.url}", ""]
        for f in self.frames:
            lines.append(f"## {f.frame}: {len(f.violations)} violation(s)")
            for v in f.violations:
                targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])]
                lines.append(f"- [{v.get('impact')}] {v['id']}: {v.get('help')} ({len(targets)} element(s))")
                lines.extend(f"    - {t}" for t in targets[:5])
            lines.append("")
        return "\n".join(lines)


def axe_script() -> str:
    """Return axe-core's source as shipped by axe-playwright-python."""
    from axe_playwright_python.sync_playwright import Axe

    return str(Axe().axe_script)


def frame_label(frame: Any) -> str:
    """Name a frame in a report: ``page`` for the top document, else its iframe's title (or address)."""
    if frame.parent_frame is None:
        return "page"
    element = frame.frame_element()
    return element.get_attribute("title") or frame.name or frame.url


def wait_until_drawn(page: Any, timeout_ms: float = TIMEOUT_MS) -> None:
    """Wait for the app to finish its run and for every frame (maps included) to finish loading.

    Before its first run the app is also "not running", with nothing drawn: the run is over
    when the app is idle, the page's heading is drawn and no element is left from an earlier run.
    """
    from playwright.sync_api import expect

    expect(page.locator(APP_IDLE)).to_be_attached(timeout=timeout_ms)
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_attached(timeout=timeout_ms)
    expect(page.locator(APP_IDLE)).to_be_attached(timeout=timeout_ms)
    expect(page.locator('[data-stale="true"]')).to_have_count(0, timeout=timeout_ms)
    # Streamlit loads the code of most elements when first shown, drawing a grey placeholder meanwhile.
    expect(page.locator('[data-testid="stSkeleton"]')).to_have_count(0, timeout=timeout_ms)
    iframes = page.locator("iframe")
    for i in range(iframes.count()):
        title = iframes.nth(i).get_attribute("title") or ""
        inner = page.frame_locator("iframe").nth(i)
        # The frame's own document, once there (just after the run ends it may still be loading).
        frame = inner.locator(":root").element_handle(timeout=timeout_ms).owner_frame()
        frame.wait_for_load_state("load", timeout=timeout_ms)
        if "folium" in title:
            inner.locator(".leaflet-container").wait_for(state="attached", timeout=timeout_ms)


# Runs axe in one document, then sets aside the nodes of a violation that match one of its rule's exclusions.
_RUN = """
async ([options, excluded]) => {
  const result = await axe.run(document, options);
  const setAside = [];
  result.violations = result.violations.map(v => {
    const rules = excluded.filter(e => e.rule === v.id);
    const nodes = v.nodes.filter(n => {
      const el = n.target.length === 1 ? document.querySelector(n.target[0]) : null;
      const hit = el !== null && rules.some(e => el.matches(e.selector));
      if (hit) setAside.push({rule: v.id, target: n.target, html: n.html});
      return !hit;
    });
    return {...v, nodes};
  }).filter(v => v.nodes.length > 0);
  result.excluded = setAside;
  return result;
}
"""


def screenshot(page: Any, path: Path) -> None:
    """Save the whole page, as tall as its content: Streamlit scrolls inside its main block, not the window."""
    size = page.viewport_size
    tall = page.evaluate(
        "() => Math.max(0, ...['stMain', 'stSidebarContent'].map(t => document.querySelector(`[data-testid=${t}]`))"
        ".filter(e => e && e.offsetParent !== null && e.getBoundingClientRect().left >= 0).map(e => e.scrollHeight))"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        page.set_viewport_size({"width": size["width"], "height": max(int(tall), size["height"])})
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)


def run_axe(page: Any, excluded: tuple[Exclusion, ...] = STREAMLIT_EXCLUDED) -> list[FrameResult]:
    """Run axe-core's WCAG 2.2 AA rules on the page and on each of its frames, each document on its own.

    Nodes matching an :class:`Exclusion` of their rule are set aside (listed under ``excluded``).
    """
    script = axe_script()
    options = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)}, "iframes": False, "resultTypes": ["violations"]}
    rules = [{"rule": e.rule, "selector": e.selector} for e in excluded]
    results = []
    for frame in page.frames:
        if frame.is_detached() or (frame.parent_frame is not None and frame.url in ("", "about:blank")):
            continue
        frame.evaluate(script)
        raw = frame.evaluate(_RUN, [options, rules])
        results.append(FrameResult(frame_label(frame), raw.get("violations", []), raw))
    return results


def slug(text: str) -> str:
    """Return ``text`` as a file name part."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def record(result: PageResult, folder: Path) -> None:
    """Write a page's axe results (JSON and a summary) under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = slug(result.name)
    data = {"page": result.name, "url": result.url, "frames": [{"frame": f.frame, **f.raw} for f in result.frames]}
    (folder / f"{stem}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    (folder / f"{stem}.md").write_text(result.summary(), encoding="utf-8")


def audit(page: Any, name: str, folder: Path) -> PageResult:
    """Check the page now on show, record the results under ``folder`` as ``name``; return them."""
    result = PageResult(name, page.url, run_axe(page))
    record(result, folder)
    return result


def nav_pages(page: Any) -> dict[str, str]:
    """Return {title: address} of every page the app's menu lists now, read from the page itself."""
    sidebar_toggle = page.locator(SIDEBAR_OPEN)
    if not page.locator(NAV_LINKS).first.is_visible() and sidebar_toggle.count():
        sidebar_toggle.first.click()
    more = page.locator(NAV_MORE)
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
    links = page.locator(NAV_LINKS)
    links.first.wait_for(state="attached", timeout=TIMEOUT_MS)
    # The title is the link's label (its icon's name is text too).
    found = links.evaluate_all(
        "els => els.map(a => [a.querySelector('[label]')?.getAttribute('label') ?? a.innerText, a.href])"
    )
    return {" ".join(str(title).split()): href for title, href in found}


def failure_report(results: list[PageResult]) -> str:
    """Return the serious and critical violations of ``results`` as lines, for a failed assertion."""
    lines = []
    for r in results:
        for frame, v in r.failing():
            targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])]
            lines.append(f"{r.name} [{frame}] {v['impact']} {v['id']}: {v.get('help')} at {targets[:3]}")
    return "\n".join(lines)


# -- the keyboard ---------------------------------------------------------------------------

# What a screen reader would call the focused element: its own label, its <label>, or its text.
_FOCUSED = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return "";
  const named = el.getAttribute("aria-label") || (el.labels && el.labels.length ? el.labels[0].innerText : "");
  return (named || el.innerText || el.value || el.tagName).replace(/\\s+/g, " ").trim();
}
"""


def focused_name(page: Any) -> str:
    """Return the accessible name (label or text) of the element that has the keyboard focus."""
    return str(page.evaluate(_FOCUSED))


def tab_to(page: Any, name: str, *, limit: int = 200, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element is named ``name``; fail after ``limit`` presses.

    A name may follow the name of the control's icon ("send Send"), which Streamlit writes as text.
    """
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = focused_name(page)
        # A field's help button ("Help for Postcode") comes before the field and is not it.
        icon_first = now.casefold().endswith(" " + name.casefold()) and not now.casefold().startswith("help for ")
        if now.casefold() == name.casefold() or icon_first:
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {name!r}; it passed: {seen[-30:]}")


# The ring a focused control shows: its own outline; for a hidden checkbox or radio input, its label's;
# for a text field, that of the box drawn round it (the nearest ancestor with a border), which clips the field.
_FOCUS_RING = """
() => {
  const el = document.activeElement;
  let ringed = el;
  if (el.matches("input[type=checkbox], input[type=radio]")) {
    ringed = el.closest("label") || el;
  } else if (el.matches("input, textarea")) {
    const boxed = e => { const s = getComputedStyle(e); return s.borderTopStyle !== "none" && parseFloat(s.borderTopWidth) > 0; };
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) { if (boxed(e)) { ringed = e; break; } }
  }
  const style = getComputedStyle(ringed);
  return {tag: el.tagName.toLowerCase(), type: el.getAttribute("type") || el.getAttribute("role") || "",
          style: style.outlineStyle, width: parseFloat(style.outlineWidth) || 0, colour: style.outlineColor};
}
"""


def focus_ring(page: Any) -> dict[str, Any]:
    """Return the computed outline (style, width in px, colour) drawn round the focused control."""
    return dict(page.evaluate(_FOCUS_RING))


def choose_with_keys(page: Any, option: str, *, limit: int = 50) -> None:
    """In the focused list box, press the down arrow until ``option`` is the one marked, then Enter."""
    marked = page.get_by_role("option", name=option, exact=True)
    for _ in range(limit):
        page.keyboard.press("ArrowDown")
        if marked.count() and marked.first.get_attribute("data-focused") == "true":
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"The down arrow never reached the option {option!r}")
