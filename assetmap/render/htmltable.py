"""Tables as plain, accessible HTML: the text twin of a map.

A real ``<table>`` with a caption and column headers is what screen readers and
keyboard users navigate best, prints as it looks, and costs a browser far less
than an interactive grid. Every cell is escaped; numbers are formatted and
right-aligned.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from numbers import Number
from typing import Any

import pandas as pd

#: What a cell with no value says.
NO_DATA: str = "no data"

_CELL = "padding:4px 8px;border-bottom:1px solid #d9d9d9;vertical-align:top"
_HEAD = f"{_CELL};position:sticky;top:0;background:#f0f2f6;text-align:left;font-weight:600"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def format_cell(value: Any, spec: str | None = None) -> str:
    """Return one cell's text (not yet escaped).

    Parameters
    ----------
    value : Any
        The cell's value.
    spec : str, optional
        A format specification for numbers, as for :func:`format` (".1f", ".1%", ",d"...).
        Without one, integers get thousands separators and other numbers two decimals.

    Returns
    -------
    str
        The text, or :data:`NO_DATA` for a missing value.
    """
    if _missing(value):
        return NO_DATA
    if isinstance(value, bool) or not isinstance(value, Number):
        return str(value)
    if spec is None:
        spec = ",d" if float(value).is_integer() else ",.2f"
    if spec.endswith("d"):
        value = round(float(value))
    return format(value, spec)


def html_table(
    frame: pd.DataFrame,
    *,
    caption: str,
    formats: Mapping[str, str] | None = None,
    max_height_px: int | None = 420,
) -> str:
    """Return ``frame`` as an HTML table, every header and cell escaped.

    Parameters
    ----------
    frame : DataFrame
        Rows to show, in order; the index is not shown.
    caption : str
        What the table is (its ``<caption>``, and the name of its scrolling region).
    formats : mapping of str to str, optional
        Format specification per column (see :func:`format_cell`).
    max_height_px : int or None, default 420
        Height above which the table scrolls inside its own box, which takes keyboard
        focus so it can be scrolled without a mouse; None never to scroll.

    Returns
    -------
    str
        An HTML fragment.
    """
    formats = formats or {}
    numeric = {c: pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame}
    align = {c: ";text-align:right;font-variant-numeric:tabular-nums" if numeric[c] else "" for c in frame}
    head = "".join(f'<th scope="col" style="{_HEAD}{align[c]}">{html.escape(str(c))}</th>' for c in frame.columns)
    columns = [frame[c].tolist() for c in frame.columns]
    specs = [formats.get(c) for c in frame.columns]
    styles = [f"{_CELL}{align[c]}" for c in frame.columns]
    rows = []
    for values in zip(*columns, strict=True):
        cells = "".join(
            f'<td style="{style}">{html.escape(format_cell(v, spec))}</td>'
            for v, spec, style in zip(values, specs, styles, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    name = html.escape(caption)
    box = "overflow-x:auto" + (f";max-height:{max_height_px}px;overflow-y:auto" if max_height_px else "")
    return (
        f'<div role="region" aria-label="{name}" tabindex="0" style="{box}">'
        '<table style="border-collapse:collapse;width:100%;font-size:0.9rem">'
        f'<caption style="caption-side:top;text-align:left;padding:4px 0;color:#444">{name}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
