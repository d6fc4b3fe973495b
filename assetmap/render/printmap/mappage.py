"""The map page of a ward: LSOA shading, streets, numbered assets, neighbours, scale, north arrow, inset and legend."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke

from assetmap import settings
from assetmap.render import styles
from assetmap.render.printmap.content import WardContent
from assetmap.render.printmap.layers import STREET_STYLES, PrintLayers
from assetmap.render.printmap.layout import PageLayout
from assetmap.render.printmap.text import FONT_FAMILY, INK, MUTED, PT_PER_MM, clean_text, put_text
from assetmap.taxonomy import load_taxonomy

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


def _segments_in(segments: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    if not len(segments):
        return segments
    x, y = segments[:, :, 0], segments[:, :, 1]
    keep = (x.max(1) >= box[0]) & (x.min(1) <= box[2]) & (y.max(1) >= box[1]) & (y.min(1) <= box[3])
    return segments[keep]


def _place_numbers(fig: Figure, ax: Any, assets: pd.DataFrame, size: float, offset_m: float) -> list[Any]:
    """Write each asset's number beside its symbol, moved apart where they would collide."""
    from adjustText import adjust_text

    texts = [
        ax.text(
            x + offset_m,
            y + offset_m,
            str(n),
            fontsize=size,
            fontweight="bold",
            fontfamily=FONT_FAMILY,
            color=INK,
            ha="left",
            va="bottom",
            zorder=7,
            parse_math=False,
            # A box, not a stroked halo: stroked text is drawn as outlines, several times slower in PDF.
            bbox={"boxstyle": "square,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.8},
        )
        for x, y, n in zip(assets["x"], assets["y"], assets["number"], strict=True)
    ]
    if len(texts) > 1:
        # Only the markers and numbers exist yet, so the draw this needs is cheap; iterations, not time,
        # bound the work so the same ward always prints the same way.
        adjust_text(
            texts,
            x=assets["x"].to_numpy(),
            y=assets["y"].to_numpy(),
            ax=ax,
            iter_lim=120,
            expand=(1.15, 1.3),
            ensure_inside_axes=True,
            min_arrow_len=4,
            arrowprops={"arrowstyle": "-", "color": "#444444", "lw": 0.4, "shrinkA": 0, "shrinkB": 2},
        )
    return texts


def map_page(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout) -> None:
    """Draw a ward's map, its scale bar, north arrow, inset locator and legend on ``fig``."""
    fs = layout.font_scale
    shown = ward.assets[~ward.assets["sensitive"].astype(bool)] if len(ward.assets) else ward.assets
    ax, box = _map_axes(fig, layout, ward, shown)
    if layers.tiles:
        _add_tiles(ax, layers)

    # Assets and their numbers first: placing the numbers needs a draw, cheapest with nothing else there.
    _draw_assets(fig, ax, shown, fs, (box[2] - box[0]) / layout.map[2])

    # Neighbouring wards, faint, and the ward's LSOAs shaded inside its outline only.
    wards = layers.area.boundaries
    view = shapely.box(*box)
    near = wards[wards.geometry.intersects(view).to_numpy() & wards["code"].astype(str).ne(ward.code).to_numpy()]
    _draw_shading(ax, layers, ward, near)
    _draw_streets(ax, layers, box, fs)
    ax.add_patch(
        PathPatch(layers.ward_paths[ward.code], facecolor="none", edgecolor=_WARD_EDGE, linewidth=2.0 * fs, zorder=4)
    )
    _label_neighbours(ax, layers, near, box, fs)

    _scale_bar(ax, fs)
    _north_arrow(ax, fs)
    _inset(fig, layers, ward, layout, box)
    _legend(fig, layers, ward, layout, has_sensitive=bool(len(ward.assets) and ward.assets["sensitive"].any()))


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


def _draw_assets(fig: Figure, ax: Any, shown: pd.DataFrame, fs: float, metres_per_mm: float) -> None:
    """Draw each asset drawn on the map with its pillar's symbol, and its number beside it."""
    for pillar, rows in shown.groupby("main_pillar", sort=False) if len(shown) else []:
        ax.scatter(
            rows["x"],
            rows["y"],
            s=(6.5 * fs) ** 2,
            marker=styles.PILLAR_MARKERS.get(pillar, "o"),
            c=styles.pillar_colour(pillar),
            edgecolors="white",
            linewidths=0.7,
            zorder=6,
        )
    if len(shown):
        _place_numbers(fig, ax, shown, 6.5 * fs, 1.6 * metres_per_mm)


def _draw_shading(ax: Any, layers: PrintLayers, ward: WardContent, near: pd.DataFrame) -> None:
    """Draw the neighbouring wards faintly, and the ward's LSOAs shaded inside its outline only."""
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
        edgecolors="white",
        linewidths=0.5,
        zorder=2,
    )
    ax.add_collection(lsoas)
    lsoas.set_clip_path(ward_patch)


def _draw_streets(ax: Any, layers: PrintLayers, box: tuple[float, float, float, float], fs: float) -> None:
    """Draw the streets in view, each class as one path over a pale casing."""
    for cls, (width, colour) in STREET_STYLES.items():
        segs = _segments_in(layers.streets[cls], box)
        if len(segs):
            # One path per street class: a collection of thousands of segments is written one by one.
            codes = np.tile(np.array([MplPath.MOVETO, MplPath.LINETO], dtype=MplPath.code_type), len(segs))
            path = MplPath(segs.reshape(-1, 2), codes)
            # A pale casing keeps grey streets readable over the darkest deciles.
            for lw, colour_, alpha, z in ((width + 0.7, "white", 0.55, 2.9), (width, colour, 0.85, 3.0)):
                ax.add_patch(
                    PathPatch(
                        path,
                        fill=False,
                        linewidth=lw * fs,
                        edgecolor=colour_,
                        alpha=alpha,
                        zorder=z,
                        capstyle="round",
                        joinstyle="round",
                    )
                )


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
        label = "\n".join(layers.measure.wrap(layers.names.get(str(code), str(code)), 70.0, 6.5 * fs, max_lines=2))
        ax.text(
            at.x,
            at.y,
            label,
            fontsize=6.5 * fs,
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
            font_properties={"size": 7.0 * fs, "family": FONT_FAMILY},
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
    label = "\n".join(layers.measure.wrap(f"Location in {name}", w * PT_PER_MM, 7.0 * layout.font_scale))
    put_text(fig, layout, x, y + h, label, 7.0, fontweight="bold", va="top")


def _legend(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, has_sensitive: bool) -> None:
    fs = layout.font_scale
    ax = fig.add_axes(layout.frac(layout.legend))
    ax.set_axis_off()
    handles: list[Any] = []
    labels: list[str] = []
    bold: list[int] = []

    def heading(text: str) -> None:
        bold.append(len(labels))
        handles.append(Rectangle((0, 0), 0, 0, fill=False, edgecolor="none", visible=False))
        labels.append(text)

    sh = layers.shading
    width_pt = layout.legend[2] * PT_PER_MM * (0.5 if layout.orientation == "portrait" else 1.0) - 4
    heading("\n".join(layers.measure.wrap(clean_text(layers.shading_title), width_pt, 7 * fs, bold=True)))
    for colour, label in zip(sh.colours, sh.labels, strict=True):
        handles.append(Rectangle((0, 0), 1, 1, facecolor=colour, edgecolor="#999999", lw=0.3))
        labels.append(label)
    if sh.n_missing:
        handles.append(Rectangle((0, 0), 1, 1, facecolor=styles.NO_DATA_COLOUR, edgecolor="#999999", lw=0.3))
        labels.append("no data")
    heading("Assets (number: see the index)")
    for p in load_taxonomy().pillars:
        handles.append(
            Line2D(
                [],
                [],
                marker=styles.PILLAR_MARKERS.get(p.key, "o"),
                color=styles.pillar_colour(p.key),
                markeredgecolor="white",
                linestyle="none",
                markersize=6.5 * fs,
            )
        )
        labels.append(p.name)
    heading("Boundaries and streets")
    handles.append(Line2D([], [], color=_WARD_EDGE, lw=2.0 * fs))
    unit = layers.area.unit_label
    labels.append(f"{str(ward.name).strip() or ward.code} (this {unit.singular_lower})")
    handles.append(Rectangle((0, 0), 1, 1, facecolor=_NEIGHBOUR_FILL, edgecolor=_NEIGHBOUR_EDGE, lw=0.6))
    labels.append(f"Neighbouring {unit.singular_lower}")
    if any(len(v) for v in layers.streets.values()):
        handles.append(Line2D([], [], color=STREET_STYLES["major"][1], lw=STREET_STYLES["major"][0] * fs))
        labels.append("Main road")
        handles.append(Line2D([], [], color=STREET_STYLES["minor"][1], lw=STREET_STYLES["minor"][0] * fs))
        labels.append("Street or path")
    legend = ax.legend(
        handles,
        labels,
        loc="upper left",
        frameon=False,
        fontsize=6.8 * fs,
        ncols=2 if layout.orientation == "portrait" else 1,
        handlelength=1.6,
        handleheight=0.9,
        labelspacing=0.28,
        borderaxespad=0.0,
        borderpad=0.0,
        columnspacing=1.2,
        alignment="left",
        prop={"family": FONT_FAMILY, "size": 6.8 * fs},
    )
    for i, text in enumerate(legend.get_texts()):
        if i in bold:
            text.set_fontweight("bold")
    notes = []
    if has_sensitive:
        notes.append("Assets at a sensitive location are listed in the index but not shown on the map.")
    if notes:
        note = "\n".join(layers.measure.wrap(" ".join(notes), width_pt, 6.0 * fs, max_lines=4))
        ax.text(0, 0, note, transform=ax.transAxes, fontsize=6.0 * fs, color=MUTED, va="bottom", parse_math=False)
