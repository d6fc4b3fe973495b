"""The printed pages around the map: header and footer, QR code, facts box, asset index and contents."""

from __future__ import annotations

import re
from urllib.parse import quote

import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from assetmap.area.units import unit_title
from assetmap.render import styles
from assetmap.render.printmap.content import WardContent
from assetmap.render.printmap.layers import PrintLayers
from assetmap.render.printmap.layout import (
    INDEX_COLUMNS,
    POSTER_INDEX_ROWS,
    PageLayout,
    contents_rows_per_page,
    facts_height,
    header_row_mm,
    new_figure,
)
from assetmap.render.printmap.mappage import map_page
from assetmap.render.printmap.text import MIN_PT, MUTED, PT_PER_MM, RULE, TITLE_PT, clean_text, fmt_value, put_text


def _vintage(area: object, layer: str) -> str | None:
    """Return a layer's vintage as ``area.toml`` states it, never a file name; None where it states none."""
    v = str(getattr(area, "vintages", {}).get(layer, "") or "").strip()
    if not v or re.search(r"\.(geojson|json|gpkg|shp|zip|csv|xlsx|osm|pbf|graphml|kml)\b", v, re.I) or "/" in v:
        return None
    return clean_text(v)


def _subtitle(layers: PrintLayers) -> str:
    area = layers.area
    authority = clean_text(area.name) + (f" ({clean_text(area.code)})" if area.code else "")
    parts = [authority, f"Printed {layers.printed.isoformat()}"]
    for layer, word in (("boundaries", "Boundaries"), ("small_areas", "LSOAs"), ("deprivation", "Deprivation")):
        vintage = _vintage(area, layer)
        if vintage:
            parts.append(f"{word}: {vintage}")
    register = _vintage(area, "assets")
    parts.append(f"Assets: {register + ', ' if register else ''}as of {area.as_of.isoformat()}")
    return "  \u00b7  ".join(parts)


def header(fig: Figure, layers: PrintLayers, layout: PageLayout, title: str, qr: bool) -> None:
    """Write the page title, the line of sources under it, and the demo-data warning (leaving room for a QR code)."""
    m = layout.margin
    top = layout.height - m
    right = layout.width - m - (layout.qr[2] + 30.0 * layout.font_scale if qr else 0.0)
    flag = "FICTIONAL DEMO DATA" if layers.area.fictional else ""
    flag_w = layers.measure.width(flag, 8.0 * layout.font_scale, bold=True) / PT_PER_MM + 4.0 if flag else 0.0
    width_pt = (right - m - flag_w) * PT_PER_MM
    size = TITLE_PT
    lines = layers.measure.wrap(title, width_pt, size * layout.font_scale, bold=True, max_lines=2)
    put_text(fig, layout, m, top, "\n".join(lines), size, fontweight="bold", va="top", linespacing=1.0)
    used = len(lines) * size * 1.17 / PT_PER_MM * layout.font_scale
    sub = layers.measure.wrap(_subtitle(layers), width_pt, MIN_PT * layout.font_scale, max_lines=4 - len(lines))
    put_text(fig, layout, m, top - used - 0.8, "\n".join(sub), MIN_PT, color=MUTED, va="top", linespacing=1.15)
    if flag:
        put_text(
            fig,
            layout,
            right,
            top,
            flag,
            8.0,
            color="#b30000",
            fontweight="bold",
            ha="right",
            va="top",
        )


def footer(fig: Figure, layers: PrintLayers, layout: PageLayout, page: int, n_pages: int) -> None:
    """Write the attribution (and what became of online tiles) and the page number under a rule."""
    m = layout.margin
    y = m + layout.footer
    fig.add_artist(
        Line2D(
            [m / layout.width, (layout.width - m) / layout.width],
            [y / layout.height] * 2,
            color=RULE,
            lw=0.5,
            transform=fig.transFigure,
        )
    )
    page_text = f"Page {page} of {n_pages}"
    width_pt = (layout.width - 2 * m - 30.0 * layout.font_scale) * PT_PER_MM
    credit = layers.area.attribution
    if layers.streets.credit and layers.streets.credit not in credit:
        credit += f" Streets: {layers.streets.credit}"
    if layers.tiles and layers.tile_failures:
        credit += " Online map tiles could not be fetched; printed without them."
    elif layers.tiles and layers.tiles_attribution:
        credit += f" Map tiles: {layers.tiles_attribution}"
    lines = layers.measure.wrap(clean_text(credit), width_pt, MIN_PT * layout.font_scale, max_lines=3)
    put_text(fig, layout, m, y - 1.2, "\n".join(lines), MIN_PT, color=MUTED, va="top", linespacing=1.2)
    put_text(fig, layout, layout.width - m, y - 1.2, page_text, MIN_PT, color=MUTED, ha="right", va="top")


def qr_code(fig: Figure, layers: PrintLayers, layout: PageLayout, code: str) -> None:
    """Draw a QR code of the ward's address in the app, top right."""
    import segno

    assert layers.public_url is not None  # drawn only where the app has an address

    url = f"{layers.public_url.rstrip('/')}/ward?code={quote(code)}"
    matrix = np.array(list(segno.make(url, error="m").matrix_iter(scale=1, border=1)), dtype=float)
    ax = fig.add_axes(layout.frac(layout.qr))
    ax.imshow(1.0 - matrix, cmap="gray", interpolation="none", vmin=0, vmax=1)
    ax.set_axis_off()
    x, y, _, h = layout.qr
    label = f"Scan to open\nthis {layers.area.unit_label.singular_lower} online"
    put_text(fig, layout, x - 1.5, y + h / 2, label, MIN_PT, ha="right", va="center", color=MUTED)


def _data_page(
    fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, page_index: int, rows: list[int]
) -> None:
    fs = layout.font_scale
    x0, y0, w, h = layout.body
    top = y0 + h
    if page_index == 0:
        top = _facts_box(fig, layers, ward, layout, top)
    heading = "Asset index" if page_index == 0 else "Asset index (continued)"
    if page_index == 0 and not len(ward.rows):
        put_text(fig, layout, x0, top, heading, 9.0, fontweight="bold", va="top")
        empty = f"No approved assets are recorded in this {layers.area.unit_label.singular_lower}."
        put_text(fig, layout, x0, top - 6.0 * fs, empty, 7.5, va="top")
        return
    put_text(fig, layout, x0, top, heading, 9.0, fontweight="bold", va="top")
    top -= 6.0 * fs
    size = MIN_PT
    line_mm = size * fs * 1.25 / PT_PER_MM
    header_h = header_row_mm(layout)
    fig.add_artist(
        Rectangle(
            (x0 / layout.width, (top - header_h) / layout.height),
            w / layout.width,
            header_h / layout.height,
            facecolor="#e6e6e6",
            edgecolor="none",
            transform=fig.transFigure,
        )
    )
    xs = np.cumsum([0.0, *[share * w for _, _, share in INDEX_COLUMNS]])[:-1] + x0
    for (_, title, _), cx in zip(INDEX_COLUMNS, xs, strict=True):
        put_text(fig, layout, cx + 1.2, top - 1.2, title, size, fontweight="bold", va="top")
    top -= header_h
    for n, i in enumerate(rows):
        rh = ward.row_heights[i]
        if n % 2:
            fig.add_artist(
                Rectangle(
                    (x0 / layout.width, (top - rh) / layout.height),
                    w / layout.width,
                    rh / layout.height,
                    facecolor="#f5f5f5",
                    edgecolor="none",
                    transform=fig.transFigure,
                )
            )
        record = ward.assets.iloc[i]
        for k, (cells, cx) in enumerate(zip(ward.rows[i], xs, strict=True)):
            key = INDEX_COLUMNS[k][0]
            if key == "number":
                _index_symbol(fig, layout, cx + 1.8, top - 0.8 - line_mm / 2, record)
                put_text(fig, layout, cx + 4.0 * fs, top - 0.8, cells[0], size, va="top", fontweight="bold")
                continue
            put_text(
                fig,
                layout,
                cx + 1.2,
                top - 0.8,
                "\n".join(cells),
                size,
                va="top",
                linespacing=1.25,
                fontweight="bold" if key == "name" else "normal",
            )
        top -= rh
    fig.add_artist(Line2D([x0 / layout.width, (x0 + w) / layout.width], [top / layout.height] * 2, color=RULE, lw=0.5))


def _index_symbol(fig: Figure, layout: PageLayout, x: float, y: float, record: pd.Series) -> None:
    pillar = record["main_pillar"]
    fig.add_artist(
        Line2D(
            [x / layout.width],
            [y / layout.height],
            marker=styles.PILLAR_MARKERS.get(pillar, "o"),
            color=styles.pillar_colour(pillar),
            markersize=5.0 * layout.font_scale,
            markeredgecolor="white",
            markeredgewidth=0.4,
            linestyle="none",
            transform=fig.transFigure,
        )
    )


def _facts_box(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, top: float) -> float:
    """Draw the ward facts beside the whole area; return where the page continues (mm from the bottom)."""
    fs = layout.font_scale
    x0, _, w, _ = layout.body
    size = 7.5
    line = size * fs * 1.45 / PT_PER_MM
    box_w = min(w, 175.0 * fs)
    height = facts_height(layout, len(ward.facts))
    fig.add_artist(
        Rectangle(
            (x0 / layout.width, (top - height) / layout.height),
            box_w / layout.width,
            height / layout.height,
            facecolor="#fafafa",
            edgecolor=RULE,
            lw=0.6,
            transform=fig.transFigure,
        )
    )
    unit = layers.area.unit_label
    put_text(fig, layout, x0 + 3, top - 2.5, f"{unit.singular} facts", 9.0, fontweight="bold", va="top")
    y = top - 2.5 - 6.0 * fs
    cols = (x0 + 3, x0 + box_w * 0.64, x0 + box_w * 0.79)
    authority = "\n".join(
        layers.measure.wrap(clean_text(layers.area.name), box_w * 0.19 * PT_PER_MM, MIN_PT * fs, bold=True, max_lines=2)
    )
    put_text(
        fig, layout, cols[1], y, f"This {unit.singular_lower}", MIN_PT, fontweight="bold", va="bottom", color=MUTED
    )
    put_text(fig, layout, cols[2], y, authority, MIN_PT, fontweight="bold", va="bottom", color=MUTED)
    y -= 1.0
    for label, ward_value, whole in ward.facts:
        put_text(fig, layout, cols[0], y, label, size, va="top")
        put_text(fig, layout, cols[1], y, ward_value, size, va="top", fontweight="bold")
        put_text(fig, layout, cols[2], y, whole, size, va="top")
        y -= line
    note = (
        f"{layers.access_note} National percentile places the {unit.singular_lower}'s score among all LSOAs in England."
    )
    note_x = x0 + box_w + 6.0
    note_w = w - box_w - 6.0
    if note_w > 40.0:
        lines = layers.measure.wrap(note, note_w * PT_PER_MM, MIN_PT * fs, max_lines=10)
        put_text(fig, layout, note_x, top - 2.5, "\n".join(lines), MIN_PT, va="top", color=MUTED, linespacing=1.3)
        return top - height - 5.0 * fs
    lines = layers.measure.wrap(note, w * PT_PER_MM, MIN_PT * fs, max_lines=3)
    put_text(fig, layout, x0, top - height - 1.5, "\n".join(lines), MIN_PT, va="top", color=MUTED, linespacing=1.3)
    return top - height - 3.0 - len(lines) * MIN_PT * fs * 1.3 / PT_PER_MM


def map_title(ward: WardContent) -> str:
    """Return the title of a ward's map page: its subject, then the ward."""
    return f"Community assets and deprivation: {unit_title(ward.name, ward.code)}"


def render_ward(
    pdf: PdfPages,
    layers: PrintLayers,
    ward: WardContent,
    layout: PageLayout,
    first_page: int,
    n_pages: int,
) -> None:
    """Add a ward's map page and its facts and index pages to ``pdf``, numbered from ``first_page`` of ``n_pages``.

    A poster is the map page alone, with the first assets of the index in its side panel.
    """
    qr = layers.public_url is not None
    fig = new_figure(layout)
    legend_foot = map_page(fig, layers, ward, layout)
    header(fig, layers, layout, map_title(ward), qr)
    if qr:
        qr_code(fig, layers, layout, ward.code)
    if layout.panel is not None:
        poster_index(fig, layers, ward, layout, legend_foot)
    footer(fig, layers, layout, first_page, n_pages)
    pdf.savefig(fig)
    if layout.kind == "poster":
        return
    for k, rows in enumerate(ward.pages):
        fig = new_figure(layout)
        header(fig, layers, layout, f"{unit_title(ward.name, ward.code)}: facts and asset index", False)
        _data_page(fig, layers, ward, layout, k, rows)
        footer(fig, layers, layout, first_page + 1 + k, n_pages)
        pdf.savefig(fig)


def poster_index(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, legend_foot: float) -> None:
    """Write a poster's side panel: the first assets of the index, numbered as on the map.

    Where the panel shares the legend's frame, the list starts below the legend (``legend_foot``, mm).
    """
    assert layout.panel is not None  # a poster has a panel
    x0, y0, w, h = layout.panel
    fs = layout.font_scale
    line = MIN_PT * fs * 1.35 / PT_PER_MM
    top = legend_foot - 5.0 * fs if layout.panel == layout.legend else y0 + h
    put_text(fig, layout, x0, top, "Assets on this map", 9.0, fontweight="bold", va="top")
    top -= 9.0 * fs * 1.4 / PT_PER_MM
    rows = ward.assets.head(POSTER_INDEX_ROWS)
    shown = 0
    for number, name in zip(rows["number"], rows["name"], strict=True):
        lines = layers.measure.wrap(f"{number}  {name}", w * PT_PER_MM, MIN_PT * fs, max_lines=2)
        if top - (len(lines) + 1) * line < y0:
            break
        put_text(fig, layout, x0, top, "\n".join(lines), MIN_PT, va="top", linespacing=1.2)
        top -= len(lines) * line
        shown += 1
    rest = len(ward.assets) - shown
    if rest > 0:
        more = f"and {rest:,} more: print the standard layout for the full index."
        put_text(fig, layout, x0, top - 1.0, more, MIN_PT, va="top", color=MUTED)


def contents_pages(
    fig_pages: PdfPages, layers: PrintLayers, layout: PageLayout, entries: list[tuple[WardContent, int]], n: int
) -> None:
    """Add the pack's contents pages: each ward with its residents, IMD score, assets and first page."""
    fs = layout.font_scale
    per_page = contents_rows_per_page(layout)
    chunks = [entries[i : i + per_page] for i in range(0, len(entries), per_page)] or [[]]
    area = layers.area
    summary = area.area_summary().assign(code=lambda f: f["code"].astype(str)).set_index("code")
    x0, y0, w, h = layout.body
    cols = (
        (area.unit_label.singular, 0.0),
        ("Code", 0.45),
        ("Residents", 0.6),
        ("IMD score", 0.72),
        ("Assets", 0.83),
        ("Page", 0.93),
    )
    for k, chunk in enumerate(chunks):
        fig = new_figure(layout)
        header(fig, layers, layout, f"{area.unit_label.singular} pack: {clean_text(area.name)}", False)
        top = y0 + h
        heading = "Contents" if k == 0 else "Contents (continued)"
        put_text(fig, layout, x0, top, heading, 10.0, fontweight="bold", va="top")
        top -= 8.0 * fs
        for label, at in cols:
            put_text(fig, layout, x0 + at * w, top, label, 7.5, fontweight="bold", va="top", color=MUTED)
        top -= 6.0 * fs
        for ward, page in chunk:
            row = summary.loc[ward.code] if ward.code in summary.index else None
            pop = fmt_value(float(row["population"]), ",.0f") if row is not None else ""
            score = fmt_value(float(row["avg_score"]), ".1f") if row is not None and "avg_score" in row else ""
            name = layers.measure.wrap(ward.name, 0.44 * w * PT_PER_MM, 8.0 * fs, max_lines=1)[0]
            values = (name, ward.code, pop, score, f"{len(ward.assets):,}", str(page))
            for (_, at), value in zip(cols, values, strict=True):
                put_text(fig, layout, x0 + at * w, top, value, 8.0, va="top")
            top -= 6.0 * fs
        footer(fig, layers, layout, k + 1, n)
        fig_pages.savefig(fig)
