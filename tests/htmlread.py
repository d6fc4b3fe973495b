"""Read what the app sends to the browser: its HTML tables back into frames (cell text), a page as text."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pandas as pd


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.caption: list[str] = []
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._in_caption = False
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "caption":
            self._in_caption = True
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            (self.header if self._in_head else self.rows[-1]).append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_caption:
            self.caption.append(data)


def read_table(body: str) -> tuple[str, pd.DataFrame]:
    """Return the caption and the cells (as text) of the one ``<table>`` in ``body``."""
    parser = _TableParser()
    parser.feed(body)
    assert parser.header, "no table header found"
    return "".join(parser.caption), pd.DataFrame(parser.rows, columns=parser.header)


def number(text: pd.Series) -> pd.Series:
    """Turn formatted cells ("1,234", "12.5%", "no data") into numbers (a percentage as a share)."""
    clean = text.str.replace(",", "", regex=False)
    percent = clean.str.endswith("%")
    values = pd.to_numeric(clean.str.rstrip("%"), errors="coerce")
    return values.where(~percent, values / 100)


def map_twin(at) -> pd.DataFrame:
    """The Map page's table twin in a ``streamlit.testing`` run, numbers read back from its text."""
    bodies = [h.proto.body for h in at.get("html") if "assets shown in each</caption>" in h.proto.body]
    twins = [read_table(body)[1] for body in bodies]
    assert len(twins) == 1, f"expected one table twin, found {len(twins)}"
    table = twins[0]
    for column in table.columns[2:]:
        values = number(table[column])
        if values.notna().any():
            table[column] = values
    return table


def page_text(at: Any) -> str:
    """Everything a ``streamlit.testing`` run sent to the browser, as text (tables and components included)."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(parts)
