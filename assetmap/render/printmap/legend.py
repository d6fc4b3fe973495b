"""The legend of a printed map: only what the map shows, in sections a column never splits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from assetmap.render import styles
from assetmap.render.printmap.base import STREET_STYLES, STREET_WORDS
from assetmap.render.printmap.content import WardContent
from assetmap.render.printmap.layers import PrintLayers
from assetmap.render.printmap.layout import PageLayout
from assetmap.render.printmap.text import MIN_PT, MUTED, PT_PER_MM, clean_text, put_text
from assetmap.taxonomy import load_taxonomy

#: Opacity of the LSOA shading: streets and LSOA edges show through even the darkest decile.
SHADING_ALPHA = 0.62

_WARD_EDGE = "#111111"
_NEIGHBOUR_FILL = "#efefef"
_NEIGHBOUR_EDGE = "#9a9a9a"


@dataclass(frozen=True)
class LegendContent:
    """What the map drew: the shading classes of its LSOAs, the pillars of its symbols, the street classes."""

    classes: list[int]
    pillars: list[str]
    streets: list[str]
    has_sensitive: bool


# An item: (kind, style, label); kind is "box" (fill, edge), "line" (colour, width) or "marker" (pillar).
Item = tuple[str, Any, str]


def _faded(colour: str, alpha: float = SHADING_ALPHA) -> str:
    """Return ``colour`` as it shows at ``alpha`` over white paper, for a legend swatch that matches the map."""
    r, g, b = to_rgb(colour)
    return to_hex((1 - alpha + alpha * r, 1 - alpha + alpha * g, 1 - alpha + alpha * b))


def _sections(layers: PrintLayers, ward: WardContent, shown: LegendContent) -> list[tuple[str, list[Item]]]:
    sh = layers.shading
    shading: list[Item] = []
    for k in shown.classes:
        if k < 0:
            shading.append(("box", (_faded(styles.NO_DATA_COLOUR), "#999999"), "no data"))
        else:
            shading.append(("box", (_faded(sh.colours[k]), "#999999"), sh.labels[k]))
    names = {p.key: p.name for p in load_taxonomy().pillars}
    assets: list[Item] = [("marker", p, names.get(p, p.title())) for p in shown.pillars]
    unit = layers.area.unit_label
    bounds: list[Item] = [
        ("line", (_WARD_EDGE, 2.2), f"{str(ward.name).strip() or ward.code} (this {unit.singular_lower})"),
        ("box", (_NEIGHBOUR_FILL, _NEIGHBOUR_EDGE), f"Neighbouring {unit.singular_lower}"),
    ]
    streets: list[Item] = [("line", STREET_STYLES[c][::-1], STREET_WORDS[c]) for c in reversed(shown.streets)]
    out = [(clean_text(layers.shading_title), shading)]
    if assets:
        out.append(("Assets (numbers: see the index)", assets))
    if streets:
        source = layers.streets.source
        out.append((f"Boundaries and streets{f' ({source})' if source else ''}", bounds + streets))
    else:
        out.append(("Boundaries", bounds))
    return out


def _notes(layers: PrintLayers, shown: LegendContent) -> list[str]:
    notes = []
    if not shown.streets and not layers.tiles:
        notes.append(f"No street map covers this {layers.area.unit_label.singular_lower}: only boundaries are drawn.")
    if shown.has_sensitive:
        notes.append("Assets at a sensitive location are listed in the index but not shown on the map.")
    return notes


def _columns(blocks: list[float], room: float, n_cols: int) -> list[int] | None:
    """Return the column of each block (a heading with its items) when they fit in ``n_cols``; else None."""
    out, col, left = [], 0, room
    for need in blocks:
        if need > left and left < room:
            col, left = col + 1, room  # a section is never split from its heading: it starts the next column
        if col >= n_cols or need > left:
            return None
        out.append(col)
        left -= need
    return out


def legend(fig: Figure, layers: PrintLayers, ward: WardContent, layout: PageLayout, shown: LegendContent) -> float:
    """Draw the legend in its frame: sections in as few columns as fit, a heading always with its items, then notes.

    Returns
    -------
    float
        How far down the page the legend reached (mm from the bottom).
    """
    fs = layout.font_scale
    size = MIN_PT
    x0, y0, w, h = layout.legend
    swatch = 6.0 * fs
    sections = _sections(layers, ward, shown)
    notes = _notes(layers, shown)
    label_w = max(layers.measure.width(t, size * fs) for _, items in sections for _, _, t in items) / PT_PER_MM
    col_w = min(w, swatch + 2.0 + label_w + 4.0 * fs)
    n_max = max(1, int(w // col_w))
    note_lines = layers.measure.wrap(" ".join(notes), w * PT_PER_MM, size * fs, max_lines=4) if notes else []
    notes_h = len(note_lines) * size * fs * 1.4 / PT_PER_MM + (2.0 if note_lines else 0.0)
    # A poster's legend shares its column with the list of assets: it first tries to keep to half of it.
    shares = (0.5, 1.0) if layout.panel == layout.legend else (1.0,)
    cols = None
    for share, spacing in ((sh, sp) for sh in shares for sp in (1.45, 1.3, 1.2)):  # tighter lines if short
        line = size * fs * spacing / PT_PER_MM
        for n_cols in range(1, n_max + 1):
            heading_w = (w / n_cols - 2.0) * PT_PER_MM
            wrapped = [(layers.measure.wrap(t, heading_w, size * fs, bold=True, max_lines=3), it) for t, it in sections]
            blocks = [(len(hd) + len(it)) * line + 1.5 * fs for hd, it in wrapped]
            cols = _columns(blocks, share * h - notes_h, n_cols)
            if cols is not None:
                break
        if cols is not None:
            break
    if cols is None:  # nothing fits: as many columns as there is room for, the last running long
        cols = _columns(blocks, float("inf"), 1) or [0] * len(blocks)
        if n_cols > 1:
            cols = [min(k, n_cols - 1) for k in range(len(wrapped))]
    col_w = w / n_cols
    tops = [y0 + h] * n_cols
    for (heading, items), col in zip(wrapped, cols, strict=True):
        x, top = x0 + col * col_w, tops[col]
        put_text(fig, layout, x, top, "\n".join(heading), size, fontweight="bold", va="top", linespacing=1.15)
        top -= len(heading) * line
        for kind, style, label in items:
            _swatch(fig, layout, kind, style, (x, top - line * 0.85, swatch, line * 0.7))
            put_text(fig, layout, x + swatch + 2.0, top - line / 2, label, size, va="center")
            top -= line
        tops[col] = top - 1.5 * fs
    bottom = min(tops)
    if note_lines:
        put_text(fig, layout, x0, bottom, "\n".join(note_lines), size, color=MUTED, va="top", linespacing=1.2)
        bottom -= len(note_lines) * size * fs * 1.4 / PT_PER_MM
    return bottom


def _swatch(fig: Figure, layout: PageLayout, kind: str, style: Any, rect: tuple[float, float, float, float]) -> None:
    x, y, w, h = (v / d for v, d in zip(rect, (layout.width, layout.height, layout.width, layout.height), strict=True))
    fs = layout.font_scale
    if kind == "box":
        fig.add_artist(
            Rectangle((x, y), w, h, facecolor=style[0], edgecolor=style[1], lw=0.4, transform=fig.transFigure)
        )
    elif kind == "line":
        colour, width = style
        fig.add_artist(Line2D([x, x + w], [y + h / 2] * 2, color=colour, lw=width * fs, transform=fig.transFigure))
    else:
        fig.add_artist(
            Line2D(
                [x + w / 2],
                [y + h / 2],
                marker=styles.PILLAR_MARKERS.get(style, "o"),
                color=styles.pillar_colour(style),
                markeredgecolor="white",
                markersize=6.5 * fs,
                linestyle="none",
                transform=fig.transFigure,
            )
        )
