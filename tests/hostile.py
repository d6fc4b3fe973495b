"""Hostile text that users and files can put in front of the app, by kind.

Every surface test of hostile input (``test_hostile.py``, the browser tests) takes
its payloads from here, so a new trick is added once and tried everywhere.

``JINJA_EFFECT`` is the one with a side effect: evaluated by a template engine, it
creates the folder named by the environment variable ``HOSTILE_MARKER``. It holds
no quote, bracket or markup character, so escaping for HTML alone does not stop it.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Name of the environment variable naming the folder ``JINJA_EFFECT`` would create.
MARKER_ENV = "HOSTILE_MARKER"

#: Evaluated by Jinja, this makes the folder ``$HOSTILE_MARKER`` on the server.
JINJA_EFFECT = "Side {{ lipsum.__globals__.os.mkdir(lipsum.__globals__.os.environ.HOSTILE_MARKER) }} Club"

#: Template syntax: each is shown as typed, never evaluated, and never breaks a page.
JINJA: dict[str, str] = {
    "jinja_expression": "x {{ 7*7 }} y",
    "jinja_raw_block": "Open {% raw %} Group",
    "jinja_comment": "Hash {# Group",
    "jinja_globals": "{{ lipsum.__globals__ }}",
    "jinja_lone_braces": "Braces {{ Group",
    "jinja_effect": JINJA_EFFECT,
}

#: Markup and script: shown as text, nothing runs.
HTML: dict[str, str] = {
    "html_script": '<script>alert("name")</script> Group',
    "html_img": '<img src=x onerror=alert("img")> & Co',
    "html_attr": '"><svg onload=alert(1)> Group',
    "js_template": "`${alert(1)}` Group",
    "js_url": "javascript:alert(1)",
}

#: Markdown that would become links, images, emphasis or maths if rendered.
MARKDOWN: dict[str, str] = {
    "markdown": "**Bold** [link](http://evil.example) ![x](http://evil.example/x.png) $x^2$ Group",
}

#: Spreadsheet formulas: neutralised in every CSV and XLSX.
FORMULA: dict[str, str] = {
    "formula_hyperlink": '=HYPERLINK("http://evil.example","click")',
    "formula_plus": "+1+1 Group",
    "formula_at": "@SUM(A1) Group",
}

#: Long and non-Latin text: kept whole, laid out without breaking a page.
BIG: dict[str, str] = {
    "long": "Long " + "very " * 34 + "long name",
    "unicode": "Café ☕ Ĳsselmeer Łódź 👩‍👩‍👧",
}

#: Control characters and bidirectional overrides: refused in records (``validate_record``).
CONTROL: dict[str, str] = {
    "control_nul": "Nul\x00Group",
    "control_escape": "Esc\x1b[31mGroup",
    "bidi_override": "Bidi \u202egnp\u202c Group",
}

#: Every payload a record may hold once checked (control characters are refused first).
STORABLE: dict[str, str] = {**JINJA, **HTML, **MARKDOWN, **FORMULA, **BIG}

#: Every text payload.
ALL_TEXT: dict[str, str] = {**STORABLE, **CONTROL}

#: What the engine would make of the payloads that it evaluates: none may ever appear.
EVALUATED: tuple[str, ...] = ("x 49 y", "<module ", "function generate_lorem_ipsum")


def marker_path(folder: Path) -> Path:
    """Return where ``JINJA_EFFECT`` would create its folder under ``folder`` (not created)."""
    return folder / "hostile-marker"


def arm_marker(folder: Path) -> Path:
    """Point ``HOSTILE_MARKER`` at a folder under ``folder`` for this process; return its path."""
    path = marker_path(folder)
    os.environ[MARKER_ENV] = str(path)
    return path


def assert_not_evaluated(text: str, marker: Path | None = None) -> None:
    """Fail if ``text`` shows a payload evaluated, or the side-effect payload ran."""
    for sign in EVALUATED:
        assert sign not in text, f"template text was evaluated: {sign!r} appears"
    if marker is not None:
        assert not marker.exists(), f"the side-effect payload ran: {marker} was created"
