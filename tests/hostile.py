"""Hostile input, by kind: text that users and files put in front of the app, and hostile files.

Every surface test of hostile input (``test_hostile.py``, ``test_hostile_files.py``,
the page and browser tests) takes its payloads from here, so a new trick is added
once and tried everywhere. Text: HTML, Jinja, Markdown, formulas, control
characters, long and non-Latin text. Files (built in a few hundred milliseconds):
zip bombs, entity declarations, cut-short files, deep JSON, mixed encodings.

``JINJA_EFFECT`` is the one with a side effect: evaluated by a template engine, it
creates the folder named by the environment variable ``HOSTILE_MARKER``. It holds
no quote, bracket or markup character, so escaping for HTML alone does not stop it.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
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


# -- hostile files ---------------------------------------------------------------------------------------
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _parts(sheet: bytes) -> dict[str, bytes]:
    """The smallest workbook openpyxl reads: one sheet of inline strings."""
    main = "http://schemas.openxmlformats.org"
    return {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{main}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}/spreadsheetml/2006/main" '
            f'xmlns:r="{main}/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Groups" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{main}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{main}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }


def _cell(text: str) -> bytes:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _row(*cells: str) -> bytes:
    return b"<row>" + b"".join(_cell(c) for c in cells) + b"</row>"


def workbook(sheet: bytes, *, level: int = 6) -> bytes:
    """A workbook whose one sheet's XML is ``sheet``."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in _parts(sheet).items():
            z.writestr(name, data)
    return out.getvalue()


def xlsx_bomb(rows: int = 3_000_000) -> bytes:
    """About 1 MB that unpacks to ``rows`` rows (some 150 MB of sheet XML), streamed into the archive."""
    out = io.BytesIO()
    block = _row("x") * 10_000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in _parts(b"").items():
            if name != "xl/worksheets/sheet1.xml":
                z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(_SHEET_HEAD + _row("name"))
            for _ in range(rows // 10_000):
                fh.write(block)
            fh.write(_SHEET_TAIL)
    return out.getvalue()


def xlsx_rows(rows: int) -> bytes:
    """A plain workbook of groups with a header and ``rows`` rows."""
    body = b"".join(_row(f"Group {i}", "vcse_group", "51.5", "-0.1") for i in range(rows))
    return workbook(_SHEET_HEAD + _row("name", "type", "latitude", "longitude") + body + _SHEET_TAIL)


def xlsx_entities() -> bytes:
    """A workbook whose sheet declares nested entities (a "billion laughs" in small)."""
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    sheet = _SHEET_HEAD.replace(b'<?xml version="1.0" encoding="UTF-8"?>', doctype)
    return workbook(sheet + _row("name") + b"<row>" + _cell("&b;") + b"</row>" + _SHEET_TAIL)


def xlsx_cut_sheet() -> bytes:
    """A sound archive whose sheet XML stops half way."""
    sheet = _SHEET_HEAD + _row("name", "type") + _row("Lunch Club", "vcse_group") + _SHEET_TAIL
    return workbook(sheet[: len(sheet) * 2 // 3])


def xlsx_cut_archive() -> bytes:
    """A workbook file cut short, as an interrupted download leaves it."""
    data = xlsx_rows(3)
    return data[: len(data) // 2]


def deep_json(levels: int = 200_000) -> bytes:
    """A JSON document nested ``levels`` deep."""
    return b'{"type": "FeatureCollection", "features": ' + b"[" * levels + b"]" * levels + b"}"


def mixed_csv() -> bytes:
    """A CSV of groups in UTF-8 with one row pasted in Windows-1252."""
    return (
        "name,type,latitude,longitude\nCafé Club,vcse_group,51.5,-0.1\n".encode()
        + "Café Two,vcse_group,51.5,-0.1\n".encode("cp1252")
        + "Crèche Group,vcse_group,51.5,-0.1\n".encode()
    )


def osm_entities() -> bytes:
    """OpenStreetMap XML declaring entities."""
    return (
        b'<?xml version="1.0"?><!DOCTYPE osm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
        b'<osm version="0.6"><node id="1" lat="51.5" lon="-0.1"><tag k="name" v="&b;"/></node></osm>'
    )


#: Name given to each hostile file, and how to build it.
HOSTILE: dict[str, Callable[[], bytes]] = {
    "bomb.xlsx": xlsx_bomb,
    "entities.xlsx": xlsx_entities,
    "cut_sheet.xlsx": xlsx_cut_sheet,
    "cut_short.xlsx": xlsx_cut_archive,
    "deep.geojson": deep_json,
    "deep.json": deep_json,
    "empty.csv": lambda: b"",
    "header_only.csv": lambda: b"name,type,latitude,longitude\n",
    "mixed.csv": mixed_csv,
    "empty_list.json": lambda: b"[]",
    "empty_object.json": lambda: b"{}",
    "entities.osm": osm_entities,
}
