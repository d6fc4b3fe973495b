"""One ward's printed content: its facts beside the whole area's and its asset index, wrapped and put on pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from assetmap.analysis import profile
from assetmap.render.printmap.layers import WHOLE_AREA, PrintLayers, ward_assets
from assetmap.render.printmap.layout import INDEX_COLUMNS, PageLayout, facts_height, header_row_mm, paginate
from assetmap.render.printmap.text import MIN_PT, PT_PER_MM, clean_text, fmt_value
from assetmap.taxonomy import load_taxonomy


@dataclass
class WardContent:
    """One ward laid out for print: its assets numbered, its facts, and the index rows wrapped and put on pages."""

    code: str
    name: str
    geometry: Any
    assets: pd.DataFrame  # numbered, in index order
    facts: list[tuple[str, str, str]]
    rows: list[list[list[str]]]  # index table: per asset, per column, wrapped lines
    row_heights: list[float]  # mm
    pages: list[list[int]]  # rows on each data page


#: Facts of the facts box taken from :func:`assetmap.analysis.profile.deprivation_facts`, with their words and formats.
_FACTS: tuple[tuple[str, str, str], ...] = (
    ("population", "Residents", ",.0f"),
    ("avg_score", "IMD score, population-weighted (higher is more deprived)", ".1f"),
    ("need_percentile", "National percentile of that score (100 is most deprived)", ".0f"),
    ("share_pop_decile_1_2", "Residents in the 20% most deprived LSOAs nationally", ".0%"),
)


def _ward_facts(layers: PrintLayers, code: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    facts = layers.facts
    if facts is not None and code in facts.index:
        for key, label, fmt in _FACTS:
            rows.append((label, fmt_value(facts.loc[code, key], fmt), fmt_value(facts.loc[WHOLE_AREA, key], fmt)))
    n = len(ward_assets(layers, code))
    total = layers.register.n_in_wards
    rows.append(("Approved assets", f"{n:,}", f"{total:,}"))
    if layers.coverage is not None:
        cov = profile.ward_coverage(layers.coverage, code)
        for p in load_taxonomy().pillars:
            row = cov[cov["group"] == p.key]
            if len(row):
                r = row.iloc[0]
                rows.append(
                    (
                        f"Residents within {layers.threshold:,.0f} m: {p.name}",
                        fmt_value(r["ward_access_share"], ".0%"),
                        fmt_value(r["whole_area_access_share"], ".0%"),
                    )
                )
    return rows


_NO_NAME = frozenset(("", "unknown", "unnamed", "no name", "n/a", "na", "none", "null", "-"))


def display_name(name: object, type_label: object) -> str:
    """Return a record's name to print; a record with no real name ("Unknown", blank) is printed by its type."""
    text = clean_text(name)
    if text.strip().lower() in _NO_NAME:
        return clean_text(type_label) or "Unnamed"
    return text


def _places_together(assets: pd.DataFrame) -> pd.DataFrame:
    """Return the assets with those at one address (the same place to the metre) next to each other.

    The index keeps its order otherwise; the map then draws each address once, numbered as a range ("12-15").
    """
    if len(assets) < 2:
        return assets.assign(place=np.arange(len(assets)))
    xy = np.round(assets[["x", "y"]].to_numpy(dtype="float64"))
    key = pd.Series([f"{a:.0f},{b:.0f}" if np.isfinite(a) else f"_{i}" for i, (a, b) in enumerate(xy)])
    key = key.where(~assets["sensitive"].astype(bool).to_numpy(), [f"_{i}" for i in range(len(assets))])
    first = key.map(pd.Series(np.arange(len(key)), index=key).groupby(level=0).min())
    order = np.lexsort((np.arange(len(key)), first.to_numpy()))
    return assets.iloc[order].reset_index(drop=True).assign(place=first.to_numpy()[order])


def ward_content(layers: PrintLayers, code: str, layout: PageLayout) -> WardContent:
    """Return a ward's assets, facts and wrapped index rows, with the rows put on pages of ``layout``."""
    area = layers.area
    wards = area.boundaries.assign(code=area.boundaries["code"].astype(str)).set_index("code")
    assets = _places_together(ward_assets(layers, code))
    assets = assets.assign(
        number=np.arange(1, len(assets) + 1),
        name=[display_name(n, t) for n, t in zip(assets["name"], assets["type"], strict=True)],
    )
    fs = MIN_PT * layout.font_scale
    line_mm = fs * 1.25 / PT_PER_MM
    table_w = layout.body[2]
    rows, heights = [], []
    for record in assets.itertuples(index=False):
        address = clean_text(record.address)
        if record.sensitive:
            address = f"{address} (not on the map)"
        confirmed = clean_text(record.last_confirmed) + (" (stale)" if record.stale else "")
        values = {
            "number": str(record.number),
            "name": record.name,
            "type": clean_text(record.type),
            "elements": clean_text(record.elements),
            "address": address,
            "contact": record.contact,
            "last_confirmed": confirmed,
        }
        cells = []
        for key, _, share in INDEX_COLUMNS:
            width_pt = (share * table_w - 2.4) * PT_PER_MM
            cells.append(layers.measure.wrap(values[key], width_pt, fs, bold=key == "name"))
        rows.append(cells)
        heights.append(max(len(c) for c in cells) * line_mm + 1.6)
    facts = _ward_facts(layers, code)
    first_room = layout.body[3] - facts_height(layout, len(facts)) - 8.0 * layout.font_scale
    pages = paginate(heights, first_room, layout.body[3] - 8.0 * layout.font_scale, header_row_mm(layout))
    return WardContent(
        code=code,
        name=layers.names.get(code, code),
        geometry=wards.loc[code, "geometry"],
        assets=assets,
        facts=facts,
        rows=rows,
        row_heights=heights,
        pages=pages,
    )
