"""The HTML table twin: escaped, formatted, and readable as a table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from htmlread import number, read_table

from assetmap.render.htmltable import NO_DATA, format_cell, html_table


def test_cells_and_headers_are_escaped():
    hostile = '<script>alert("x")</script>'
    frame = pd.DataFrame({hostile: [hostile, "Tom & Jerry's"], "n": [1, 2]})
    page = html_table(frame, caption=f"Caption {hostile}")
    assert "<script>" not in page
    caption, table = read_table(page)
    # The reader sees the text exactly as written, as text.
    assert caption == f"Caption {hostile}"
    assert list(table.columns) == [hostile, "n"]
    assert table[hostile].tolist() == [hostile, "Tom & Jerry's"]


def test_numbers_are_formatted_per_column_and_missing_values_said():
    frame = pd.DataFrame(
        {
            "Area": ["A", "B", "C"],
            "Share": [0.1234, np.nan, 1.0],
            "People": [12345.0, 7.0, np.nan],
            "Score": [1.0, 2.5, 3.25],
        }
    )
    _, table = read_table(html_table(frame, caption="t", formats={"Share": ".1%", "People": ",d"}))
    assert table["Share"].tolist() == ["12.3%", NO_DATA, "100.0%"]
    assert table["People"].tolist() == ["12,345", "7", NO_DATA]
    # Without a format: integers with separators, other numbers to two places.
    assert table["Score"].tolist() == ["1", "2.50", "3.25"]
    assert number(table["Share"]).iloc[0] == pytest.approx(0.123)


def test_numbers_are_right_aligned_and_text_is_not():
    page = html_table(pd.DataFrame({"Area": ["A"], "Value": [1.5]}), caption="t")
    heads = page.split("<th ")[1:]
    assert "text-align:left" in heads[0] and "text-align:right" in heads[1]


def test_table_is_a_named_region_that_keyboards_can_scroll():
    page = html_table(pd.DataFrame({"a": range(3)}), caption="Wards by need", max_height_px=300)
    assert page.startswith('<div role="region" aria-label="Wards by need" tabindex="0"')
    assert "max-height:300px" in page
    assert "max-height" not in html_table(pd.DataFrame({"a": range(3)}), caption="t", max_height_px=None)


def test_rows_keep_the_frames_order_and_count():
    frame = pd.DataFrame({"Code": [f"E0{i}" for i in range(50, 0, -1)], "v": range(50)})
    _, table = read_table(html_table(frame, caption="t"))
    assert table["Code"].tolist() == frame["Code"].tolist()


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [
        (None, None, NO_DATA),
        (math.nan, ".1f", NO_DATA),
        (pd.NA, None, NO_DATA),
        (3, None, "3"),
        (2.0, "d", "2"),
        (2.6, "d", "3"),
        (np.int64(1234567), None, "1,234,567"),
        ("high need, low access", None, "high need, low access"),
        (True, None, "True"),
    ],
)
def test_format_cell(value, spec, text):
    assert format_cell(value, spec) == text
