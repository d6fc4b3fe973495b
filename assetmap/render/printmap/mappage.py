"""The map page of a ward: LSOA shading, streets, numbered assets, neighbours, scale, north arrow, inset and legend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.patheffects import withStroke

from assetmap import settings
from assetmap.render import styles
from assetmap.render.printmap.base import MapFrame, draw_streets, label_places, label_streets
from assetmap.render.printmap.content import WardContent
from assetmap.render.printmap.labels import Occupied, leader_end, place_labels
from assetmap.render.printmap.layers import PrintLayers
from assetmap.render.printmap.layout import PageLayout
from assetmap.render.printmap.legend import SHADING_ALPHA, LegendContent, legend
from assetmap.render.printmap.text import FONT_FAMILY, INK, MIN_PT, PT_PER_MM, clean_text, put_text

#: Size of the asset numbers on the map at A4, in points (10 at A3).
NUMBER_PT = MIN_PT

_WARD_EDGE = "#111111"
_NEIGHBOUR_FILL = "#efefef"
_NEIGHBOUR_EDGE = "#9a9a9a"


def _add_tiles(ax: Any, layers: PrintLayers) -> None:
    """Draw online tiles faintly under the map; on failure, note it for the footer and go on without them."""
    import contextily

    try:
        contextily.add_basemap(
            ax, source=layers.tiles, crs=settings.analysis_crs, attribution=False, alpha=0.5, zorder=0.5
        )
    except Exception as exc:  # any network or image error: the map is still worth printing
        layers.tile_failures.append(f"{type(exc).__name__}: {exc}")


def _view_box(
    geom: Any, rect: tuple[float, float, float, float], *, pad: float = 1.12, min_span: float = 500.0
) -> tuple[float, float, float, float]:
    """Return map limits around ``geom`` that fill a frame of ``rect``'s shape (at least ``min_span`` m across)."""
    minx, miny, maxx, maxy = shapely.bounds(geom)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    w = max(maxx - minx, 1.0) * pad
    h = max(maxy - miny, 1.0) * pad
    aspect = rect[2] / rect[3]
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    if w < min_span:
        w, h = min_span, min_span / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _map_axes(
    fig: Figure, layout: PageLayout, ward: WardContent, shown: pd.DataFrame
) -> tuple[Any, tuple[float, float, float, float]]:
    """Return the map's axes, framed on the ward and the assets drawn, and the limits of its view."""
    ax = fig.add_axes(layout.frac(layout.map))
    # The view holds the ward and every asset drawn in it (a register may place one just outside);
    # not a sensitive one, whose place is not drawn and must not pull the frame towards it.
    extent = ward.geometry
    if len(shown):
        extent = shapely.union(extent, shapely.multipoints(shown[["x", "y"]].to_numpy(dtype="float64")))
    box = _view_box(extent, layout.map)
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.6)
        spine.set_color("#666666")
    return ax, box


def _label_neighbours(
    ax: Any, layers: PrintLayers, near: pd.DataFrame, box: tuple[float, float, float, float], fs: float
) -> None:
    """Name each neighbouring ward that shows enough of itself inside the frame."""
    inner = shapely.box(*box).buffer(-0.04 * (box[2] - box[0]))
    for code, geom in zip(near["code"], near.geometry, strict=True):
        piece = shapely.intersection(geom, inner)
        if piece.is_empty or piece.area < 0.01 * inner.area:
            continue
        at = piece.representative_point()
        label = "\n".join(
            layers.measure.wrap(layers.names.get(str(code), str(code)), 70.0 * fs, MIN_PT * fs, max_lines=2)
        )
        ax.text(
            at.x,
            at.y,
            label,
            fontsize=MIN_PT * fs,
            fontstyle="italic",
            color="#6a6a6a",
            ha="center",
            va="center",
            zorder=5,
            fontfamily=FONT_FAMILY,
            parse_math=False,
            path_effects=[withStroke(linewidth=2, foreground="white")],
        )


def _scale_bar(ax: Any, fs: float) -> None:
    from matplotlib_scalebar.scalebar import ScaleBar

    ax.add_artist(
        ScaleBar(
            1.0,
            units="m",
            location="lower left",
            length_fraction=0.22,
            box_alpha=0.85,
            pad=0.5,
            border_pad=0.8,
            font_properties={"size": MIN_PT * fs, "family": FONT_FAMILY},
            width_fraction=0.008,
        )
    )


def _north_arrow(ax: Any, fs: float) -> None:
    # British National Grid's north is within a degree or two of true north across England.
    x, y = 0.955, 0.86
    ax.add_patch(
        FancyArrow(
            x,
            y,
            0,
            0.075,
            width=0.012,
            head_width=0.035,
            head_length=0.035,
            length_includes_head=True,
            transform=ax.transAxes,
            color=INK,
            zorder=8,
        )
    )
    ax.text(
        x,
        y - 0.012,
        "N",
        transform=ax.transAxes,
        ha="center",
        va="top",
        fontsize=9 * fs,
        fontweight="bold",
        fontfamily=FONT_FAMILY,
        zorder=8,
        path_effects=[withStroke(linewidth=2.5, foreground="white")],
    )


def _inset(
    fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, box: tuple[float, float, float, float]
) -> None:
    area = layers.area
    x, y, w, h = layout.inset
    title_h = 5.0 * layout.font_scale
    rect = (x, y, w, h - title_h)
    ax = fig.add_axes(layout.frac(rect))
    whole = _view_box(shapely.box(*area.boundaries.total_bounds), rect, pad=1.08, min_span=0.0)
    ax.set_xlim(whole[0], whole[2])
    ax.set_ylim(whole[1], whole[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
        spine.set_color("#888888")
    ax.add_collection(
        PathCollection(
            list(layers.ward_paths.values()), facecolors="#f4f4f4", edgecolors="#9a9a9a", linewidths=0.3, zorder=1
        )
    )
    ax.add_patch(PathPatch(layers.ward_paths[ward.code], facecolor="#404040", edgecolor=_WARD_EDGE, lw=0.6, zorder=2))
    ax.add_patch(
        Rectangle((box[0], box[1]), box[2] - box[0], box[3] - box[1], fill=False, edgecolor="#d7301f", lw=0.9, zorder=3)
    )
    name = clean_text(area.name)
    label = "\n".join(layers.measure.wrap(f"Location in {name}", w * PT_PER_MM, MIN_PT * layout.font_scale))
    put_text(fig, layout, x, y + h, label, MIN_PT, fontweight="bold", va="top")


def map_page(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout) -> float:
    """Draw a ward's map, its scale bar, north arrow, inset locator and legend on ``fig``; return the legend's foot (mm)."""
    fs = layout.font_scale
    shown = ward.assets[~ward.assets["sensitive"].astype(bool)] if len(ward.assets) else ward.assets
    ax, box = _map_axes(fig, layout, ward, shown)
    frame = MapFrame(box, layout.map)
    if layers.tiles:
        _add_tiles(ax, layers)
    occupied = Occupied()
    _furniture(occupied, layout)

    # Neighbouring wards, faint, and the ward's LSOAs shaded inside its outline only.
    wards = layers.area.boundaries
    view = shapely.box(*box)
    near = wards[wards.geometry.intersects(view).to_numpy() & wards["code"].astype(str).ne(ward.code).to_numpy()]
    classes = _draw_shading(ax, layers, ward, near)
    drawn = draw_streets(ax, layers.streets, box, fs)
    if not drawn and not layers.tiles:
        layers.without_streets.append(ward.code)
    ax.add_patch(
        PathPatch(layers.ward_paths[ward.code], facecolor="none", edgecolor=_WARD_EDGE, linewidth=2.2 * fs, zorder=4)
    )
    with_names = 0 < len(ward.assets) <= settings.print_names_up_to
    pillars = _draw_assets(ax, shown, frame, occupied, layers.measure, fs, with_names)
    label_places(ax, layers.streets, frame, occupied, 8.0 * fs, layers.measure)
    label_streets(ax, layers.streets, frame, occupied, MIN_PT * fs, layers.measure)
    _label_neighbours(ax, layers, near, box, fs)

    _scale_bar(ax, fs)
    _north_arrow(ax, fs)
    _inset(fig, layers, ward, layout, box)
    has_sensitive = bool(len(ward.assets) and ward.assets["sensitive"].any())
    return legend(fig, layers, ward, layout, LegendContent(classes, pillars, drawn, has_sensitive))


def _furniture(occupied: Occupied, layout: PageLayout) -> None:
    """Keep labels off the scale bar (lower left) and the north arrow (upper right)."""
    x, y, w, h = layout.map
    fs = layout.font_scale
    occupied.add((x, y, x + 0.22 * w + 14.0 * fs, y + 14.0 * fs))
    occupied.add((x + 0.92 * w, y + 0.76 * h, x + w, y + h))


def number_text(numbers: list[int]) -> str:
    """Return the label of the assets at one place: "7", or a range "12-15" of consecutive numbers."""
    if len(numbers) == 1:
        return str(numbers[0])
    return f"{numbers[0]}\u2013{numbers[-1]}"


def _draw_assets(
    ax: Any, shown: pd.DataFrame, frame: MapFrame, occupied: Occupied, measure: Any, fs: float, with_names: bool
) -> list[str]:
    """Draw one symbol per place and its numbers (and names, for a ward of few assets); return the pillars drawn."""
    if not len(shown):
        return []
    places = shown.groupby("place", sort=False)
    first = places.head(1)
    for pillar, rows in first.groupby("main_pillar", sort=False):
        ax.scatter(
            rows["x"],
            rows["y"],
            s=(6.5 * fs) ** 2,
            marker=styles.PILLAR_MARKERS.get(pillar, "o"),
            c=styles.pillar_colour(pillar),
            edgecolors="white",
            linewidths=0.8,
            zorder=6,
        )
    size = NUMBER_PT * fs
    xy = frame.to_mm(first[["x", "y"]].to_numpy(dtype="float64"))
    r = 6.5 * fs / 2 / PT_PER_MM
    for px, py in xy:  # every symbol is an obstacle to every label
        occupied.add((px - r, py - r, px + r, py + r))
    texts = []
    for _, rows in places:
        label = number_text(rows["number"].astype(int).tolist())
        if with_names:
            name = " / ".join(rows["name"].astype(str))
            label = f"{label}  {measure.wrap(name, 48.0 * PT_PER_MM * fs, size, max_lines=1)[0]}"
        texts.append(label)
    pad = 0.15 * size / PT_PER_MM + 0.15
    sizes = [(measure.width(t, size, bold=True) / PT_PER_MM + 2 * pad, size * 1.2 / PT_PER_MM + 2 * pad) for t in texts]
    r_ = frame.rect
    placed = place_labels(xy, sizes, (r_[0], r_[1], r_[0] + r_[2], r_[1] + r_[3]), occupied, gap=r + 0.3)
    for (px, py), text, spot in zip(xy, texts, placed, strict=True):
        if spot is None:
            continue
        b = spot.box
        cx, cy = frame.to_ground((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        if spot.leader:
            ex, ey = frame.to_ground(*leader_end(px, py, b))
            gx, gy = frame.to_ground(px, py)
            ax.plot([gx, ex], [gy, ey], color="#333333", lw=0.5 * fs, zorder=6.5, solid_capstyle="butt")
        ax.text(
            cx,
            cy,
            text,
            fontsize=size,
            fontweight="bold",
            fontfamily=FONT_FAMILY,
            color=INK,
            ha="center",
            va="center",
            zorder=7,
            parse_math=False,
            # A white box for a halo: stroked text is drawn as outlines, several times slower in PDF.
            bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "#888888", "lw": 0.3, "alpha": 0.9},
        )
    return list(dict.fromkeys(first["main_pillar"].astype(str)))


def _draw_shading(ax: Any, layers: PrintLayers, ward: WardContent, near: pd.DataFrame) -> list[int]:
    """Draw the neighbouring wards faintly and the ward's LSOAs shaded inside its outline; return the classes shown.

    The shading is part-transparent with white LSOA edges, so a ward all in one decile still shows its LSOAs
    and the streets through them.
    """
    area = layers.area
    neighbour_paths = [layers.ward_paths[str(c)] for c in near["code"]]
    ax.add_collection(
        PathCollection(
            neighbour_paths, facecolors=_NEIGHBOUR_FILL, edgecolors=_NEIGHBOUR_EDGE, linewidths=0.6, zorder=1
        )
    )
    ward_patch = PathPatch(layers.ward_paths[ward.code], facecolor="white", edgecolor="none", zorder=1.5)
    ax.add_patch(ward_patch)
    inside = np.flatnonzero(area.small_areas.geometry.intersects(ward.geometry).to_numpy())
    lsoas = PathCollection(
        [layers.lsoa_paths[i] for i in inside],
        facecolors=[layers.lsoa_colours[i] for i in inside],
        edgecolors="none",
        alpha=SHADING_ALPHA,
        zorder=2,
    )
    edges = PathCollection(
        [layers.lsoa_paths[i] for i in inside], facecolors="none", edgecolors="white", linewidths=1.1, zorder=2.1
    )
    for coll in (lsoas, edges):
        ax.add_collection(coll)
        coll.set_clip_path(ward_patch)
    return sorted({int(c) for c in np.asarray(layers.shading.classes)[inside]})
