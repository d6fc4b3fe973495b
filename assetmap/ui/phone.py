"""What every page needs on a phone.

A compact heading, a menu that closes once a page is chosen, and, after a form is
refused, the first field in error brought into view.

The scripts here are the app's own constant text; no user text ever goes into them.
"""

from __future__ import annotations

import json

import streamlit as st

#: Widest screen, in CSS pixels, laid out as a phone (Streamlit's own breakpoint for its sidebar).
PHONE_MAX_PX: int = 768

#: Styles for narrow screens: a heading that leaves room for the form, tables whose text wraps.
PHONE_CSS: str = f"""
@media (max-width: {PHONE_MAX_PX}px) {{
  .stMainBlockContainer {{ padding-top: 3.25rem; padding-left: 1rem; padding-right: 1rem; }}
  [data-testid="stHeading"] h1 {{ font-size: 1.6rem; line-height: 1.2; padding: 0.25rem 0 0.5rem; }}
  [data-testid="stHeading"] h2 {{ font-size: 1.3rem; }}
  [data-testid="stTable"] td, [data-testid="stTable"] th {{
    white-space: normal; overflow-wrap: anywhere; min-width: 4rem;
  }}
}}
"""

# Streamlit closes its menu after a choice only when the browser says it is a phone; a narrow
# window of any other browser (a phone in "desktop site" mode, a small tablet) kept it open over the page.
_MENU_SCRIPT: str = f"""
<script>
(function () {{
  if (window.__assetmapMenu) return;
  window.__assetmapMenu = true;
  document.addEventListener("click", function (event) {{
    if (window.innerWidth > {PHONE_MAX_PX}) return;
    if (!event.target.closest('[data-testid="stSidebarNavLink"]')) return;
    setTimeout(function () {{
      var bar = document.querySelector('[data-testid="stSidebar"]');
      var close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (bar && bar.getAttribute("data-collapsed") === "false" && close) close.click();
    }}, 0);
  }}, true);
}})();
</script>
"""


def page_chrome() -> None:
    """Add the phone styles and the menu's closing to the page (once per run, from the app's main script)."""
    st.html(f"<style>{PHONE_CSS}</style>")
    st.html(_MENU_SCRIPT, unsafe_allow_javascript=True)


def focus_script(widget_key: str, nonce: int) -> str:
    """Return the script that scrolls the widget with key ``widget_key`` into view and focuses it.

    Parameters
    ----------
    widget_key : str
        The Streamlit key of the widget (its container has the class ``st-key-<key>``).
    nonce : int
        Changes with each refusal, so that the same field is brought into view again
        after the next one (an unchanged element is not drawn, nor its script run, again).
    """
    selector = json.dumps(f".st-key-{widget_key}")
    return f"""
<script data-nonce="{int(nonce)}">
(function () {{
  var tries = 0;
  (function find() {{
    var box = document.querySelector({selector});
    if (!box) {{ if (tries++ < 40) setTimeout(find, 50); return; }}
    box.scrollIntoView({{block: "center"}});
    // The field itself, not the help icon beside its label.
    var field = box.querySelector("input:not([type=hidden])") || box.querySelector("textarea") ||
      box.querySelector("[role=combobox]") || box.querySelector("button");
    if (field) field.focus({{preventScroll: true}});
  }})();
}})();
</script>
"""


def focus_first_error(widget_key: str, nonce: int) -> None:
    """Bring the widget with key ``widget_key`` into view and give it the focus (see :func:`focus_script`)."""
    st.html(focus_script(widget_key, nonce), unsafe_allow_javascript=True)
