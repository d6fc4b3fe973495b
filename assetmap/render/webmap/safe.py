"""The one way user text reaches a web map: :func:`safe_text`, and links and script data made safe."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from assetmap.record import is_blank

# Every character that means something to HTML, to JavaScript template literals (folium
# writes popups and tooltips into backtick strings) or to Jinja (folium and branca compile
# the script they render as a template a second time, so "{{ 7*7 }}" in a group's name would
# be evaluated on the server), replaced by its character reference in one pass: no "{" is
# left, so no "{{", "{%" or "{#" can reach a template.
_SAFE_CHARS = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#96;",
        "$": "&#36;",
        "\\": "&#92;",
        "{": "&#123;",
        "}": "&#125;",
        "#": "&#35;",
    }
)


def safe_text(value: Any) -> str:
    """Return ``value`` as text that is inert in HTML, in folium's JavaScript strings and in Jinja.

    This is the one way user text (record fields, area and ward names, file
    names, notes) reaches a folium or branca map. ``html.escape`` alone is not
    enough there: folium writes popup and tooltip HTML into JavaScript template
    literals, where a backtick, ``${`` or a backslash would run as code, and
    branca compiles each rendered script again as a Jinja template, where
    ``{{ }}``, ``{% %}`` and ``{# #}`` would be evaluated on the server. The
    result shows exactly the original text wherever the browser reads it as HTML.

    Parameters
    ----------
    value : object
        Anything; None and NaN become an empty string.

    Returns
    -------
    str
        Text with no ``<``, ``>``, quote, backtick, ``$``, backslash, ``{`` or ``}``,
        and ``#`` only inside character references.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA or value is pd.NaT:
        return ""
    return str(value).translate(_SAFE_CHARS)


def present(value: Any) -> bool:
    """Return True where a value is given (see :func:`assetmap.record.is_blank`)."""
    return not is_blank(value)


def safe_link(url: Any) -> str:
    """Return a website as a link when it is http(s), else as plain text (no javascript: links)."""
    if not present(url):
        return ""
    text = str(url).strip()
    if re.match(r"^https?://", text, re.I):
        target = text
    elif re.match(r"^[a-z][a-z0-9+.-]*:(?!\d)", text, re.I):
        return safe_text(text)  # another scheme (javascript:, data:, file:...): never a link
    else:
        target = f"https://{text}"
    if not urlparse(target).netloc:
        return safe_text(text)
    return f'<a href="{safe_text(target)}" target="_blank" rel="noopener noreferrer">{safe_text(text)}</a>'


def safe_mailto(email: Any) -> str:
    """Return an email address as a mailto link when it looks like one, else as plain text."""
    if not present(email):
        return ""
    text = str(email).strip()
    if re.fullmatch(r"[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+", text):
        return f'<a href="mailto:{safe_text(text)}">{safe_text(text)}</a>'
    return safe_text(text)


def script_json(value: Any) -> str:
    """JSON for inside a <script>: the characters that could end it or start markup are escaped."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
