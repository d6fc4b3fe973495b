"""Print-ready PDF maps of a ward, or of every ward as one pack, drawn with matplotlib in EPSG:27700.

Each ward gets a map page and one or more pages of facts and an asset index:

- the map: the ward outlined, its neighbours faint and labelled, the LSOAs inside shaded by
  national IMD decile (decile 1 darkest) or by the gap index of one element or pillar, the
  area's street network as an offline base (major roads heavier), approved assets numbered
  with a symbol and colour per pillar, a legend, a scale bar, a north arrow, an inset locator
  of the ward in the authority, and an optional QR code linking to the ward in the app;
- the facts box (residents, IMD score and national percentile, residents in deciles 1-2,
  access by pillar beside the whole area) and the numbered index of assets (name, type,
  elements, address, public contact, last confirmed), which flows over as many pages as it
  needs;
- every page has a footer with the data's attribution and, for the demo area, says the data
  are fictional.

The output is vector PDF (only the QR code is a tiny image). Only approved records are
printed, private contact fields never, and an asset at a sensitive location is listed by name
without its address and never drawn as a point (:func:`assetmap.analysis.profile.ward_assets`).

Rendering uses :class:`matplotlib.figure.Figure` and the PDF backend directly, never pyplot's
global state, so pages can be made in several threads at once (as inside the app). Work that
every ward of a pack shares (street segments, polygon paths, shading, the gap table, fonts) is
done once by :func:`prepare_print`.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager, ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrow, PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.patheffects import withStroke

from assetmap import settings
from assetmap._errors import AssetMapError, Problem, ValidationError
from assetmap.analysis import profile
from assetmap.analysis.gaps import check_groups, group_label, need_percentile
from assetmap.record import public_records
from assetmap.render import styles
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
    import networkx as nx

    from assetmap.area.load import Area

#: Paper sizes in millimetres, landscape (width, height).
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}

#: Orientations a page can be printed in.
ORIENTATIONS: tuple[str, ...] = ("landscape", "portrait")

#: What the LSOAs can be shaded by: national IMD decile, or the gap index of one element or pillar.
COLOUR_BY: tuple[str, ...] = ("imd", "gap")

#: Font of every word on the page: it ships with matplotlib and covers most scripts.
FONT_FAMILY: str = "DejaVu Sans"

#: Shown in place of characters the font cannot draw (emoji and the like).
PLACEHOLDER: str = "\u25a1"

#: Most lines one cell of the asset index may take; a longer text ends with an ellipsis.
MAX_CELL_LINES: int = 12

#: Street class of each OSM ``highway`` value; anything else walkable is a minor street.
HIGHWAY_CLASS: dict[str, str] = {
    **dict.fromkeys(("motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"), "major"),
    **dict.fromkeys(("secondary", "secondary_link"), "major"),
    **dict.fromkeys(("tertiary", "tertiary_link"), "medium"),
    **dict.fromkeys(("footway", "path", "cycleway", "pedestrian", "steps", "track", "bridleway", "corridor"), "path"),
}

#: Line width (points, on A4) and colour of each street class, heaviest last so it is drawn on top.
STREET_STYLES: dict[str, tuple[float, str]] = {
    "path": (0.3, "#8c8c8c"),
    "minor": (0.45, "#6f6f6f"),
    "medium": (0.85, "#555555"),
    "major": (1.5, "#3d3d3d"),
}

#: Columns of the asset index: key, heading and share of the table's width.
INDEX_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("number", "No.", 0.055),
    ("name", "Name", 0.2),
    ("type", "Type", 0.125),
    ("elements", "Elements", 0.085),
    ("address", "Address", 0.19),
    ("contact", "Public contact", 0.235),
    ("last_confirmed", "Last confirmed", 0.11),
)

_PT_PER_MM = 72.0 / 25.4
_INK = "#1a1a1a"
_MUTED = "#555555"
_RULE = "#bdbdbd"
_WARD_EDGE = "#111111"
_NEIGHBOUR_FILL = "#efefef"
_NEIGHBOUR_EDGE = "#9a9a9a"
# Characters that take no space and mean nothing without the emoji around them.
_WHOLE = "__whole_area__"
# Unhinted advances scale linearly with the size (the enum is new in matplotlib 3.10).
_NO_HINTING = ft2font.LoadFlags.NO_HINTING if hasattr(ft2font, "LoadFlags") else ft2font.LOAD_NO_HINTING
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufe00-\ufe0f\U000e0000-\U000e007f]")


# -- text: characters the font has, and widths for wrapping --------------------------------------------------


@lru_cache(maxsize=2)
def _font_file(bold: bool) -> str:
    props = font_manager.FontProperties(family=FONT_FAMILY, weight="bold" if bold else "normal")
    return font_manager.findfont(props, fallback_to_default=True)


@lru_cache(maxsize=1)
def _charmap() -> frozenset[int]:
    return frozenset(FT2Font(_font_file(False)).get_charmap())


def _advances(bold: bool, chars: str) -> dict[str, float]:
    """Return each character's advance at 1 point, in points (a fresh FreeType object: they are not thread-safe)."""
    font = FT2Font(_font_file(bold))
    font.set_size(100.0, 72)
    out = {}
    for ch in chars:
        glyph = font.load_char(ord(ch), flags=_NO_HINTING)
        out[ch] = glyph.linearHoriAdvance / 65536.0 / 100.0
    return out


def clean_text(value: object) -> str:
    """Return ``value`` as one line of text the print font can draw.

    Control characters and line breaks become spaces, invisible joiners and emoji variation
    selectors go, and each run of characters the font lacks (emoji, for instance) becomes
    one visible :data:`PLACEHOLDER`, so nothing vanishes silently and no glyph warning is raised.

    Parameters
    ----------
    value : object
        Any value; None and NaN give an empty string.

    Returns
    -------
    str
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _INVISIBLE.sub("", text)
    known = _charmap()
    out: list[str] = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in "\t\r\n":
            ch = " "
        elif unicodedata.category(ch) == "Cf":
            continue
        elif ord(ch) not in known and not ch.isspace():
            if out and out[-1] == PLACEHOLDER:
                continue
            ch = PLACEHOLDER
        out.append(ch)
    return " ".join("".join(out).split())


class _Measure:
    """Widths of text in the print font, for wrapping.

    A width is the sum of the characters' advances (DejaVu Sans has little kerning, and the
    columns keep a margin), which is far quicker than laying out each trial line.
    """

    def __init__(self) -> None:
        self._advance: dict[bool, dict[str, float]] = {False: {}, True: {}}

    def width(self, text: str, size: float, bold: bool = False) -> float:
        """Return the width of ``text`` in points at ``size`` points."""
        table = self._advance[bold]
        missing = [ch for ch in set(text) if ch not in table]
        if missing:
            table.update(_advances(bold, "".join(sorted(missing))))
        return size * sum(table[ch] for ch in text)

    def wrap(
        self, text: str, width_pt: float, size: float, *, bold: bool = False, max_lines: int = MAX_CELL_LINES
    ) -> list[str]:
        """Break ``text`` into lines no wider than ``width_pt``, splitting words too long for a line.

        More than ``max_lines`` lines end with an ellipsis on the last.
        """
        words = [w for w in text.split(" ") if w]  # no-break spaces hold their words together
        if not words:
            return [""]
        lines: list[str] = []
        line = ""
        for word in words:
            trial = f"{line} {word}" if line else word
            if self.width(trial, size, bold) <= width_pt:
                line = trial
                continue
            if line:
                lines.append(line)
            line = ""
            # A word wider than the column is cut wherever it reaches the edge.
            while self.width(word, size, bold) > width_pt and len(word) > 1:
                cut = self._fit(word, width_pt, size, bold)
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
        if len(lines) > max_lines:
            last = lines[max_lines - 1]
            while last and self.width(last + "\u2026", size, bold) > width_pt:
                last = last[:-1]
            lines = [*lines[: max_lines - 1], last + "\u2026"]
        return lines

    def _fit(self, word: str, width_pt: float, size: float, bold: bool) -> int:
        lo, hi = 1, len(word)
        while lo < hi:  # the longest prefix that fits, at least one character
            mid = (lo + hi + 1) // 2
            if self.width(word[:mid], size, bold) <= width_pt:
                lo = mid
            else:
                hi = mid - 1
        return lo


# -- page geometry -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageLayout:
    """Where everything goes on one sheet, in millimetres from the bottom-left corner.

    Rectangles are ``(x, y, width, height)``.

    Attributes
    ----------
    paper, orientation : str
        As asked for.
    width, height : float
        The sheet.
    font_scale : float
        Text size relative to A4 (A3 prints a little larger).
    margin, header, footer : float
        Page margin, and the heights of the header band and the footer band.
    body : tuple
        Between the header and the footer.
    map, inset, legend, qr : tuple
        The map frame, the locator inset, the legend, the QR code (top right, in the header band).
    """

    paper: str
    orientation: str
    width: float
    height: float
    font_scale: float
    margin: float
    header: float
    footer: float
    body: tuple[float, float, float, float]
    map: tuple[float, float, float, float]
    inset: tuple[float, float, float, float]
    legend: tuple[float, float, float, float]
    qr: tuple[float, float, float, float]

    def frac(self, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Return a rectangle in millimetres as figure fractions."""
        x, y, w, h = rect
        return (x / self.width, y / self.height, w / self.width, h / self.height)


def page_layout(paper: str = "a4", orientation: str = "landscape") -> PageLayout:
    """Return the layout of a sheet of ``paper`` in ``orientation``.

    Raises
    ------
    ValidationError
        An unknown paper size or orientation.
    """
    paper = str(paper).lower()
    orientation = str(orientation).lower()
    if paper not in PAPER_MM:
        raise ValidationError(Problem(f"unknown paper size {paper!r}.", field="paper", fix="Use a4 or a3."))
    if orientation not in ORIENTATIONS:
        raise ValidationError(
            Problem(f"unknown orientation {orientation!r}.", field="orientation", fix="Use landscape or portrait.")
        )
    long, short = PAPER_MM[paper]
    width, height = (long, short) if orientation == "landscape" else (short, long)
    scale = 1.0 + 0.5 * (short / 210.0 - 1.0)
    margin, header, footer = 10.0 * scale, 17.0 * scale, 10.0 * scale
    y0 = margin + footer + 3.0
    y1 = height - margin - header - 3.0
    body = (margin, y0, width - 2 * margin, y1 - y0)
    if orientation == "landscape":
        side = 0.23 * width
        inset_h = 0.34 * body[3]
        x_side = width - margin - side
        map_rect = (margin, y0, width - 2 * margin - side - 6.0, body[3])
        inset = (x_side, y1 - inset_h, side, inset_h)
        legend = (x_side, y0, side, body[3] - inset_h - 6.0)
    else:
        band = 0.27 * body[3]
        map_rect = (margin, y0 + band + 5.0, width - 2 * margin, body[3] - band - 5.0)
        inset = (margin, y0, band, band)
        legend = (margin + band + 6.0, y0, width - 2 * margin - band - 6.0, band)
    qr = (width - margin - header, height - margin - header, header, header)
    return PageLayout(
        paper, orientation, width, height, scale, margin, header, footer, body, map_rect, inset, legend, qr
    )


# -- shared layers -------------------------------------------------------------------------------------------


@dataclass
class PrintLayers:
    """What every ward's pages share, made once per print job by :func:`prepare_print`.

    Attributes
    ----------
    area : Area
        The area printed.
    colour_by : str
        ``imd`` or ``gap``.
    group : str or None
        Element or pillar of the gap shading and of the map's asset filter-free legend title.
    shading : Classification
        Classes and colours of the LSOAs.
    shading_title : str
        Legend title of the LSOA shading.
    lsoa_paths : list of Path
        One matplotlib path per LSOA, in ``area.small_areas`` order.
    lsoa_colours : list of str
        Fill of each LSOA.
    ward_paths : dict
        Ward code to its matplotlib path.
    streets : dict
        Street class to an array of segments, shape (n, 2, 2), in EPSG:27700.
    register : _Register
        The approved records; each ward's list (:func:`assetmap.analysis.profile.ward_assets` columns plus
        ``main_pillar``, ``pillars``, ``contact``, ``x`` and ``y``, one row per asset) is made on first use.
    coverage : DataFrame or None
        The gap table by ward (None where access cannot be measured).
    access_note : str
        How access was measured, for the facts box.
    printed : date
        Date printed on every page.
    public_url : str or None
        Base address of the app for the QR code.
    """

    area: Area
    colour_by: str
    group: str | None
    shading: styles.Classification
    shading_title: str
    lsoa_paths: list[MplPath]
    lsoa_colours: list[str]
    ward_paths: dict[str, MplPath]
    streets: dict[str, np.ndarray]
    register: _Register
    coverage: pd.DataFrame | None
    access_note: str
    printed: date
    public_url: str | None
    threshold: float
    facts: pd.DataFrame | None = None
    names: dict[str, str] = field(default_factory=dict)
    measure: _Measure = field(default_factory=_Measure, repr=False)
    tiles: str | None = None
    tiles_attribution: str | None = None
    tile_failures: list[str] = field(default_factory=list)


def _geom_path(geom: Any) -> MplPath:
    """Return a (multi)polygon as one matplotlib path whose holes stay holes."""
    geom = shapely.orient_polygons(geom)
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            parts.append(MplPath(np.asarray(ring.coords)[:, :2], closed=True))
    if not parts:
        return MplPath(np.zeros((1, 2)))
    return MplPath.make_compound_path(*parts)


def street_segments(graph: nx.MultiDiGraph | None) -> dict[str, np.ndarray]:
    """Return the streets of a projected osmnx graph as line segments per street class.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or None
        Nodes with ``x``/``y`` in EPSG:27700; edges with ``highway`` and optionally ``geometry``.
        A street stored both ways is drawn once.

    Returns
    -------
    dict
        Class (keys of :data:`STREET_STYLES`) to an array of segments, shape (n, 2, 2); empty without a graph.
    """
    out: dict[str, list[np.ndarray]] = {k: [] for k in STREET_STYLES}
    if graph is None:
        return {k: np.empty((0, 2, 2)) for k in STREET_STYLES}
    xs = {n: (d["x"], d["y"]) for n, d in graph.nodes(data=True)}
    seen: set[tuple[Any, Any, Any]] = set()
    for u, v, data in graph.edges(data=True):
        geom = data.get("geometry")
        key = (min(u, v), max(u, v), None if geom is None else geom.wkb)
        if key in seen:
            continue
        seen.add(key)
        highway = data.get("highway")
        highway = highway[0] if isinstance(highway, list) else highway
        cls = HIGHWAY_CLASS.get(str(highway), "minor")
        coords = np.asarray(geom.coords)[:, :2] if geom is not None else np.array([xs[u], xs[v]], dtype=float)
        out[cls].append(np.stack([coords[:-1], coords[1:]], axis=1))
    return {k: (np.concatenate(v) if v else np.empty((0, 2, 2))) for k, v in out.items()}


def _street_base(area: Area) -> dict[str, np.ndarray]:
    """Return the area's street segments, made once per area (the network is read on first use)."""
    if "print_streets" not in area._cache:
        area._cache["print_streets"] = street_segments(area.network())
    return area._cache["print_streets"]


def _contact(record: pd.Series) -> str:
    parts = [clean_text(record.get(k)) for k in ("website", "email", "phone") if k in record.index]
    if len(parts) == 3:
        parts[2] = parts[2].replace(" ", "\u00a0")  # a phone number stays on one line
    return "; ".join(p for p in parts if p)


_ASSET_COLUMNS = [*profile.ASSET_COLUMNS, "main_pillar", "pillars", "contact", "x", "y", "area_code"]


@dataclass
class _Register:
    """The approved records, ready to list ward by ward (each ward's list is made when first printed)."""

    public: pd.DataFrame | None
    stale: pd.Series | None
    n_in_wards: int
    by_ward: dict[str, pd.DataFrame] = field(default_factory=dict)


def _register(area: Area) -> _Register:
    public = public_records(area.assets)
    if public is None or not len(public) or "area_code" not in public:
        return _Register(None, None, 0)
    stale = area.stale_mask() if "last_confirmed" in area.assets else None
    return _Register(public, stale, int(public["area_code"].notna().sum()))


def _ward_assets(layers: PrintLayers, code: str) -> pd.DataFrame:
    """Return one row per approved asset of a ward, in index order, with what the map and index need."""
    reg = layers.register
    if code in reg.by_ward:
        return reg.by_ward[code]
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _ASSET_COLUMNS})
    listed = profile.ward_assets(reg.public, code, stale=reg.stale) if reg.public is not None else empty
    if not len(listed):
        reg.by_ward[code] = empty
        return empty
    pillars = listed.groupby("asset_id", sort=False)["pillar"].agg(tuple)
    out = listed.drop_duplicates("asset_id").reset_index(drop=True)
    out["main_pillar"] = out["pillar"]
    out["pillars"] = out["asset_id"].map(pillars)
    out["area_code"] = code
    public = reg.public
    by_id = public.assign(asset_id=public["asset_id"].astype(str)).drop_duplicates("asset_id").set_index("asset_id")
    records = by_id.loc[out["asset_id"]]
    out["contact"] = [_contact(r) for _, r in records.iterrows()]
    xy = shapely.get_coordinates(shapely.point_on_surface(np.asarray(records.geometry.array)))
    out["x"], out["y"] = xy[:, 0], xy[:, 1]
    reg.by_ward[code] = out[_ASSET_COLUMNS]
    return reg.by_ward[code]


def _lsoa_shading(
    area: Area, colour_by: str, group: str | None, threshold: float | None, include_stale: bool
) -> tuple[styles.Classification, str]:
    if colour_by == "imd":
        decile = area.small_areas["code"].map(area.deprivation.set_index("lsoa_code")["imd_decile"])
        edition = area.vintages.get("deprivation", "")
        return styles.classify(decile, scheme="deciles"), f"IMD decile, national ({edition})" if edition else (
            "IMD decile, national"
        )
    from assetmap.render.views import map_layer

    layer = map_layer(area, group, threshold=threshold, include_stale=include_stale, by="lsoa")
    values = area.small_areas["code"].map(layer.set_index("code")["gap_index"])
    title = (
        f"Gap index by LSOA, {group_label(group)} (higher: more deprived and fewer residents "
        f"within {layer.attrs['threshold']:,.0f} m)"
    )
    return styles.classify(values, scheme="natural_breaks", k=5, fmt=".2f"), title


def prepare_print(
    area: Area,
    *,
    colour_by: str = "imd",
    group: str | None = None,
    threshold: float | None = None,
    include_stale: bool = True,
    public_url: str | None = None,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
) -> PrintLayers:
    """Make what every ward's pages share: shading, paths, streets, assets, the gap table.

    Parameters
    ----------
    area : Area
        A loaded area.
    colour_by : {"imd", "gap"}
        Shade LSOAs by national IMD decile, or by the gap index of ``group``.
    group : str, optional
        Element (``e1``..``e11``) or pillar key; needed for ``colour_by="gap"``.
    threshold : float, optional
        Metres counted as within reach (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently in access and gaps (they are listed either way).
    public_url : str, optional
        Base address of the app, for a QR code on each map (default ``settings.public_url``; none without one).
    tiles : str, optional
        An online tile address such as ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``, drawn faintly
        under the map (default: none; the street base comes from the area's own network). Where the tiles
        cannot be fetched the map prints without them and its footer says so.
    tiles_attribution : str, optional
        Credit for the tiles, printed in the footer (default: OpenStreetMap's for its tile servers).

    Returns
    -------
    PrintLayers

    Raises
    ------
    ValidationError
        An unknown ``colour_by`` or group, or ``colour_by="gap"`` without a group.
    """
    if colour_by not in COLOUR_BY:
        raise ValidationError(
            Problem(f"cannot shade by {colour_by!r}.", field="colour_by", fix="Use colour_by='imd' or 'gap'.")
        )
    if group is not None:
        group = check_groups([group], load_taxonomy())[0]
    if colour_by == "gap" and group is None:
        raise ValidationError(
            Problem(
                "shading by gap index needs an element or a pillar.",
                field="group",
                fix="Give group='e6' (an element) or a pillar key such as 'strengthening'.",
            )
        )
    shading, title = _lsoa_shading(area, colour_by, group, threshold, include_stale)
    colours = [shading.colour_of(i) for i in range(len(area.small_areas))]
    coverage, note = None, "Access cannot be measured for this area."
    t = float(settings.walk_threshold_m if threshold is None else threshold)
    try:
        gaps = area.gaps(threshold=threshold, include_stale=include_stale)
        coverage = gaps.table
        t = gaps.threshold
        how = "walking along streets" if gaps.access.method == "network" else "in a straight line (no street network)"
        note = f"Access: share of residents within {t:,.0f} m of an approved asset serving the pillar, measured {how}."
    except AssetMapError as exc:
        note = f"Access cannot be measured for this area: {exc}"
    return PrintLayers(
        area=area,
        colour_by=colour_by,
        group=group,
        shading=shading,
        shading_title=title,
        lsoa_paths=[_geom_path(g) for g in area.small_areas.geometry],
        lsoa_colours=colours,
        ward_paths={
            str(c): _geom_path(g) for c, g in zip(area.boundaries["code"], area.boundaries.geometry, strict=True)
        },
        streets=_street_base(area),
        register=_register(area),
        coverage=coverage,
        access_note=note,
        printed=date.today(),
        public_url=(public_url if public_url is not None else settings.public_url) or None,
        threshold=t,
        facts=_deprivation_facts(area),
        names={str(c): clean_text(n) for c, n in zip(area.boundaries["code"], area.boundaries["name"], strict=True)},
        tiles=tiles or None,
        tiles_attribution=tiles_attribution
        or (settings.attribution_osm if tiles and "openstreetmap" in tiles.lower() else None),
    )


# -- one ward's content --------------------------------------------------------------------------------------


@dataclass
class _WardContent:
    code: str
    name: str
    geometry: Any
    assets: pd.DataFrame  # numbered, in index order
    facts: list[tuple[str, str, str]]
    rows: list[list[list[str]]]  # index table: per asset, per column, wrapped lines
    row_heights: list[float]  # mm
    pages: list[list[int]]  # rows on each data page


def _fmt(value: float, fmt: str) -> str:
    return "not available" if value is None or not np.isfinite(value) else format(value, fmt)


#: Facts of the facts box taken from :func:`assetmap.analysis.profile.deprivation_facts`, with their words and formats.
_FACTS: tuple[tuple[str, str, str], ...] = (
    ("population", "Residents", ",.0f"),
    ("avg_score", "IMD score, population-weighted (higher is more deprived)", ".1f"),
    ("need_percentile", "National percentile of that score (100 is most deprived)", ".0f"),
    ("share_pop_decile_1_2", "Residents in the 20% most deprived LSOAs nationally", ".0%"),
)


def _deprivation_facts(area: Area) -> pd.DataFrame | None:
    """Return the facts of every ward (index: code) and of the whole area (``__whole_area__``), made at once.

    The same figures as :func:`assetmap.analysis.profile.deprivation_facts` gives ward by ward: the ward deprivation
    summary of the whole area and one national placing of its scores.
    """
    codes = area.boundaries["code"].astype(str).tolist()
    if not codes:
        return None
    try:
        whole = profile.deprivation_facts(area.deprivation, area.lookup, codes[0])["whole_area"]
        summary = area.area_summary()
    except AssetMapError:
        return None
    summary = pd.DataFrame(summary.drop(columns="geometry")).assign(code=lambda f: f["code"].astype(str))
    summary = summary.set_index("code").reindex(codes)
    nan = pd.Series(np.nan, index=summary.index)
    scores = pd.to_numeric(summary.get("avg_score", nan), errors="coerce").to_numpy(dtype="float64")
    ranks = pd.to_numeric(summary.get("avg_rank_where_1_most_deprived", nan), errors="coerce").to_numpy(dtype="float64")
    if np.isfinite(scores).any() or np.isfinite(ranks).any():
        try:
            percentile = need_percentile(scores, area.deprivation, ranks=ranks)
        except AssetMapError:
            percentile = np.full(len(codes), np.nan)
    else:
        percentile = np.full(len(codes), np.nan)
    out = pd.DataFrame(
        {
            "population": pd.to_numeric(summary.get("population", nan), errors="coerce").fillna(0.0),
            "avg_score": scores,
            "need_percentile": percentile,
            "share_pop_decile_1_2": pd.to_numeric(summary.get("share_pop_decile_1_2", nan), errors="coerce"),
        },
        index=summary.index,
    )
    out.loc[_WHOLE] = [whole.get(k, np.nan) for k in out.columns]
    return out


def _ward_facts(layers: PrintLayers, code: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    facts = layers.facts
    if facts is not None and code in facts.index:
        for key, label, fmt in _FACTS:
            rows.append((label, _fmt(facts.loc[code, key], fmt), _fmt(facts.loc[_WHOLE, key], fmt)))
    n = len(_ward_assets(layers, code))
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
                        _fmt(r["ward_access_share"], ".0%"),
                        _fmt(r["whole_area_access_share"], ".0%"),
                    )
                )
    return rows


def _ward_content(layers: PrintLayers, code: str, layout: PageLayout) -> _WardContent:
    area = layers.area
    wards = area.boundaries.assign(code=area.boundaries["code"].astype(str)).set_index("code")
    assets = _ward_assets(layers, code)
    assets = assets.assign(number=np.arange(1, len(assets) + 1))
    fs = 7.0 * layout.font_scale
    line_mm = fs * 1.25 / _PT_PER_MM
    table_w = layout.body[2]
    rows, heights = [], []
    for record in assets.itertuples(index=False):
        address = clean_text(record.address)
        if record.sensitive:
            address = f"{address} (not on the map)"
        confirmed = clean_text(record.last_confirmed) + (" (stale)" if record.stale else "")
        values = {
            "number": str(record.number),
            "name": clean_text(record.name),
            "type": clean_text(record.type),
            "elements": clean_text(record.elements),
            "address": address,
            "contact": record.contact,
            "last_confirmed": confirmed,
        }
        cells = []
        for key, _, share in INDEX_COLUMNS:
            width_pt = (share * table_w - 2.4) * _PT_PER_MM
            cells.append(layers.measure.wrap(values[key], width_pt, fs, bold=key == "name"))
        rows.append(cells)
        heights.append(max(len(c) for c in cells) * line_mm + 1.6)
    facts = _ward_facts(layers, code)
    first_room = layout.body[3] - _facts_height(layout, len(facts)) - 8.0 * layout.font_scale
    pages = _paginate(heights, first_room, layout.body[3] - 8.0 * layout.font_scale, _header_row_mm(layout))
    return _WardContent(
        code=code,
        name=layers.names.get(code, code),
        geometry=wards.loc[code, "geometry"],
        assets=assets,
        facts=facts,
        rows=rows,
        row_heights=heights,
        pages=pages,
    )


def _header_row_mm(layout: PageLayout) -> float:
    return 7.0 * layout.font_scale * 1.25 / _PT_PER_MM + 2.4


def _facts_height(layout: PageLayout, n_rows: int) -> float:
    line = 7.5 * layout.font_scale * 1.45 / _PT_PER_MM
    return (n_rows + 1) * line + 10.0 * layout.font_scale


def _paginate(heights: Sequence[float], first_room: float, room: float, header: float) -> list[list[int]]:
    """Put table rows on pages: as many as fit under the table heading; at least one row per page."""
    pages: list[list[int]] = [[]]
    left = first_room - header
    for i, h in enumerate(heights):
        if pages[-1] and h > left:
            pages.append([])
            left = room - header
        pages[-1].append(i)
        left -= h
    return pages


# -- drawing -------------------------------------------------------------------------------------------------


def _new_figure(layout: PageLayout) -> Figure:
    fig = Figure(figsize=(layout.width / 25.4, layout.height / 25.4))
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot, safe in any thread
    return fig


def _text(fig: Figure, layout: PageLayout, x: float, y: float, s: str, size: float, **kwargs: Any) -> Any:
    """Write ``s`` at (x, y) millimetres; user text is never parsed as maths."""
    kwargs.setdefault("color", _INK)
    return fig.text(
        x / layout.width,
        y / layout.height,
        s,
        fontsize=size * layout.font_scale,
        fontfamily=FONT_FAMILY,
        parse_math=False,
        **kwargs,
    )


def _subtitle(layers: PrintLayers) -> str:
    area = layers.area
    v = area.vintages
    authority = clean_text(area.name) + (f" ({clean_text(area.code)})" if area.code else "")
    parts = [
        authority,
        f"Printed {layers.printed.isoformat()}",
        f"Boundaries: {clean_text(v.get('boundaries', 'not stated'))}",
        f"Deprivation: {clean_text(v.get('deprivation', 'not stated'))}",
        f"Register: {clean_text(v.get('assets', 'none loaded'))}, as of {area.as_of.isoformat()}",
    ]
    return "  \u00b7  ".join(parts)


def _header(fig: Figure, layers: PrintLayers, layout: PageLayout, title: str, qr: bool) -> None:
    m = layout.margin
    top = layout.height - m
    right = layout.width - m - (layout.qr[2] + 30.0 * layout.font_scale if qr else 0.0)
    width_pt = (right - m) * _PT_PER_MM
    size = 15.0
    lines = layers.measure.wrap(title, width_pt, size * layout.font_scale, bold=True, max_lines=2)
    if len(lines) > 1:
        size = 12.0
        lines = layers.measure.wrap(title, width_pt, size * layout.font_scale, bold=True, max_lines=2)
    _text(fig, layout, m, top, "\n".join(lines), size, fontweight="bold", va="top", linespacing=1.05)
    used = len(lines) * size * 1.2 / _PT_PER_MM * layout.font_scale
    sub = layers.measure.wrap(_subtitle(layers), width_pt, 7.0 * layout.font_scale, max_lines=3 - len(lines) + 1)
    _text(fig, layout, m, top - used - 0.8, "\n".join(sub), 7.0, color=_MUTED, va="top", linespacing=1.2)
    if layers.area.fictional:
        _text(
            fig,
            layout,
            right,
            top,
            "FICTIONAL DEMO DATA",
            7.5,
            color="#b30000",
            fontweight="bold",
            ha="right",
            va="top",
        )


def _add_tiles(ax: Any, layers: PrintLayers) -> None:
    """Draw online tiles faintly under the map; on failure, note it for the footer and go on without them."""
    import contextily

    try:
        contextily.add_basemap(
            ax, source=layers.tiles, crs=settings.analysis_crs, attribution=False, alpha=0.5, zorder=0.5
        )
    except Exception as exc:  # any network or image error: the map is still worth printing
        layers.tile_failures.append(f"{type(exc).__name__}: {exc}")


def _footer(fig: Figure, layers: PrintLayers, layout: PageLayout, page: int, n_pages: int) -> None:
    m = layout.margin
    y = m + layout.footer
    fig.add_artist(
        Line2D(
            [m / layout.width, (layout.width - m) / layout.width],
            [y / layout.height] * 2,
            color=_RULE,
            lw=0.5,
            transform=fig.transFigure,
        )
    )
    page_text = f"Page {page} of {n_pages}"
    width_pt = (layout.width - 2 * m - 30.0 * layout.font_scale) * _PT_PER_MM
    credit = layers.area.attribution
    if layers.tiles and layers.tile_failures:
        credit += " Online map tiles could not be fetched; printed without them."
    elif layers.tiles and layers.tiles_attribution:
        credit += f" Map tiles: {layers.tiles_attribution}"
    lines = layers.measure.wrap(clean_text(credit), width_pt, 6.0 * layout.font_scale, max_lines=3)
    _text(fig, layout, m, y - 1.2, "\n".join(lines), 6.0, color=_MUTED, va="top", linespacing=1.2)
    _text(fig, layout, layout.width - m, y - 1.2, page_text, 6.5, color=_MUTED, ha="right", va="top")


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
            color=_INK,
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


def _map_page(fig: Figure, layers: PrintLayers, ward: _WardContent, layout: PageLayout) -> None:
    area = layers.area
    fs = layout.font_scale
    ax = fig.add_axes(layout.frac(layout.map))
    # The view holds the ward and every asset drawn in it (a register may place one just outside);
    # not a sensitive one, whose place is not drawn and must not pull the frame towards it.
    extent = ward.geometry
    shown = ward.assets[~ward.assets["sensitive"].astype(bool)] if len(ward.assets) else ward.assets
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
    if layers.tiles:
        _add_tiles(ax, layers)

    # Assets and their numbers first: placing the numbers needs a draw, cheapest with nothing else there.
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
    metres_per_mm = (box[2] - box[0]) / layout.map[2]
    if len(shown):
        _place_numbers(fig, ax, shown, 6.5 * fs, 1.6 * metres_per_mm)

    # Neighbouring wards, faint, and the ward's LSOAs shaded inside its outline only.
    wards = area.boundaries
    view = shapely.box(*box)
    near = wards[wards.geometry.intersects(view).to_numpy() & wards["code"].astype(str).ne(ward.code).to_numpy()]
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
    ax.add_patch(
        PathPatch(layers.ward_paths[ward.code], facecolor="none", edgecolor=_WARD_EDGE, linewidth=2.0 * fs, zorder=4)
    )
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

    _scale_bar(ax, fs)
    _north_arrow(ax, fs)
    _inset(fig, layers, ward, layout, box)
    _legend(fig, layers, ward, layout, has_sensitive=bool(len(ward.assets) and ward.assets["sensitive"].any()))


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
            color=_INK,
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
    fig: Figure, layers: PrintLayers, ward: _WardContent, layout: PageLayout, box: tuple[float, float, float, float]
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
    label = "\n".join(layers.measure.wrap(f"Location in {name}", w * _PT_PER_MM, 7.0 * layout.font_scale))
    _text(fig, layout, x, y + h, label, 7.0, fontweight="bold", va="top")


def _legend(fig: Figure, layers: PrintLayers, ward: _WardContent, layout: PageLayout, has_sensitive: bool) -> None:
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
    width_pt = layout.legend[2] * _PT_PER_MM * (0.5 if layout.orientation == "portrait" else 1.0) - 4
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
    labels.append(f"{ward.name} (this ward)")
    handles.append(Rectangle((0, 0), 1, 1, facecolor=_NEIGHBOUR_FILL, edgecolor=_NEIGHBOUR_EDGE, lw=0.6))
    labels.append("Neighbouring ward")
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
        text = "\n".join(layers.measure.wrap(" ".join(notes), width_pt, 6.0 * fs, max_lines=4))
        ax.text(0, 0, text, transform=ax.transAxes, fontsize=6.0 * fs, color=_MUTED, va="bottom", parse_math=False)


def _qr(fig: Figure, layers: PrintLayers, layout: PageLayout, code: str) -> None:
    import segno

    url = f"{layers.public_url.rstrip('/')}/ward?code={quote(code)}"
    matrix = np.array(list(segno.make(url, error="m").matrix_iter(scale=1, border=1)), dtype=float)
    ax = fig.add_axes(layout.frac(layout.qr))
    ax.imshow(1.0 - matrix, cmap="gray", interpolation="none", vmin=0, vmax=1)
    ax.set_axis_off()
    x, y, _, h = layout.qr
    label = "Scan to open\nthis ward online"
    _text(fig, layout, x - 1.5, y + h / 2, label, 6.5, ha="right", va="center", color=_MUTED)


def _data_page(
    fig: Figure, layers: PrintLayers, ward: _WardContent, layout: PageLayout, page_index: int, rows: list[int]
) -> None:
    fs = layout.font_scale
    x0, y0, w, h = layout.body
    top = y0 + h
    if page_index == 0:
        top = _facts_box(fig, layers, ward, layout, top)
    heading = "Asset index" if page_index == 0 else "Asset index (continued)"
    if page_index == 0 and not len(ward.rows):
        _text(fig, layout, x0, top, heading, 9.0, fontweight="bold", va="top")
        _text(fig, layout, x0, top - 6.0 * fs, "No approved assets are recorded in this ward.", 7.5, va="top")
        return
    _text(fig, layout, x0, top, heading, 9.0, fontweight="bold", va="top")
    top -= 6.0 * fs
    size = 7.0
    line_mm = size * fs * 1.25 / _PT_PER_MM
    header_h = _header_row_mm(layout)
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
        _text(fig, layout, cx + 1.2, top - 1.2, title, size, fontweight="bold", va="top")
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
                _text(fig, layout, cx + 4.0 * fs, top - 0.8, cells[0], size, va="top", fontweight="bold")
                continue
            _text(
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
    fig.add_artist(Line2D([x0 / layout.width, (x0 + w) / layout.width], [top / layout.height] * 2, color=_RULE, lw=0.5))


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


def _facts_box(fig: Figure, layers: PrintLayers, ward: _WardContent, layout: PageLayout, top: float) -> float:
    """Draw the ward facts beside the whole area; return where the page continues (mm from the bottom)."""
    fs = layout.font_scale
    x0, _, w, _ = layout.body
    size = 7.5
    line = size * fs * 1.45 / _PT_PER_MM
    box_w = min(w, 175.0 * fs)
    height = _facts_height(layout, len(ward.facts))
    fig.add_artist(
        Rectangle(
            (x0 / layout.width, (top - height) / layout.height),
            box_w / layout.width,
            height / layout.height,
            facecolor="#fafafa",
            edgecolor=_RULE,
            lw=0.6,
            transform=fig.transFigure,
        )
    )
    _text(fig, layout, x0 + 3, top - 2.5, "Ward facts", 9.0, fontweight="bold", va="top")
    y = top - 2.5 - 6.0 * fs
    cols = (x0 + 3, x0 + box_w * 0.64, x0 + box_w * 0.79)
    authority = "\n".join(
        layers.measure.wrap(clean_text(layers.area.name), box_w * 0.19 * _PT_PER_MM, 6.5 * fs, bold=True, max_lines=2)
    )
    _text(fig, layout, cols[1], y, "This ward", 6.5, fontweight="bold", va="bottom", color=_MUTED)
    _text(fig, layout, cols[2], y, authority, 6.5, fontweight="bold", va="bottom", color=_MUTED)
    y -= 1.0
    for label, ward_value, whole in ward.facts:
        _text(fig, layout, cols[0], y, label, size, va="top")
        _text(fig, layout, cols[1], y, ward_value, size, va="top", fontweight="bold")
        _text(fig, layout, cols[2], y, whole, size, va="top")
        y -= line
    note = f"{layers.access_note} National percentile places the ward's score among all LSOAs in England."
    note_x = x0 + box_w + 6.0
    note_w = w - box_w - 6.0
    if note_w > 40.0:
        lines = layers.measure.wrap(note, note_w * _PT_PER_MM, 6.5 * fs, max_lines=10)
        _text(fig, layout, note_x, top - 2.5, "\n".join(lines), 6.5, va="top", color=_MUTED, linespacing=1.3)
        return top - height - 5.0 * fs
    lines = layers.measure.wrap(note, w * _PT_PER_MM, 6.5 * fs, max_lines=3)
    _text(fig, layout, x0, top - height - 1.5, "\n".join(lines), 6.5, va="top", color=_MUTED, linespacing=1.3)
    return top - height - 3.0 - len(lines) * 6.5 * fs * 1.3 / _PT_PER_MM


def _render_ward(
    pdf: PdfPages,
    layers: PrintLayers,
    ward: _WardContent,
    layout: PageLayout,
    first_page: int,
    n_pages: int,
) -> None:
    title = f"{ward.name} ({ward.code})"
    qr = layers.public_url is not None
    fig = _new_figure(layout)
    _map_page(fig, layers, ward, layout)
    _header(fig, layers, layout, title, qr)
    if qr:
        _qr(fig, layers, layout, ward.code)
    _footer(fig, layers, layout, first_page, n_pages)
    pdf.savefig(fig)
    for k, rows in enumerate(ward.pages):
        fig = _new_figure(layout)
        _header(fig, layers, layout, f"{title}: facts and asset index", False)
        _data_page(fig, layers, ward, layout, k, rows)
        _footer(fig, layers, layout, first_page + 1 + k, n_pages)
        pdf.savefig(fig)


# -- public entry points -------------------------------------------------------------------------------------


def _ward_codes(area: Area, codes: Iterable[str] | str | None) -> list[str]:
    known = area.boundaries.sort_values(["name", "code"], kind="stable")["code"].astype(str).tolist()
    if codes is None:
        return known
    wanted = [str(c).strip() for c in ([codes] if isinstance(codes, str) else codes)]
    wanted = list(dict.fromkeys(wanted))
    unknown = [c for c in wanted if c not in set(known)]
    if unknown:
        raise ValidationError(
            Problem(
                f"no ward with code {', '.join(map(repr, unknown[:5]))} in {area.name}.",
                field="code",
                fix=f"Use one of the area's ward codes, such as {', '.join(known[:3])}.",
            )
        )
    if not wanted:
        raise ValidationError(Problem("no ward was chosen.", field="code", fix="Choose at least one ward."))
    return wanted


def _metadata(layers: PrintLayers, title: str) -> dict[str, str]:
    return {"Title": title, "Subject": f"Community assets and deprivation: {clean_text(layers.area.name)}"}


def print_ward(
    area: Area,
    code: str,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    layers: PrintLayers | None = None,
    **options: Any,
) -> bytes:
    """Return a print-ready PDF of one ward: the map, then its facts and the index of its assets.

    Parameters
    ----------
    area : Area
        A loaded area.
    code : str
        The ward's code.
    paper : {"a4", "a3"}
        Paper size (default A4).
    orientation : {"landscape", "portrait"}
        Default landscape.
    layers : PrintLayers, optional
        From :func:`prepare_print`, to share the preparation between several wards.
    **options
        ``colour_by`` (LSOAs shaded by national IMD decile, decile 1 darkest, or by the gap
        index of ``group``), ``group``, ``threshold``, ``include_stale``, ``public_url`` (the
        map then carries a QR code of ``<public_url>/ward?code=<code>``), ``tiles``,
        ``tiles_attribution``: as for :func:`prepare_print`, when ``layers`` is not given.

    Returns
    -------
    bytes
        The PDF.

    Raises
    ------
    ValidationError
        An unknown ward, paper size, orientation, shading or group.
    """
    layout = page_layout(paper, orientation)
    (code,) = _ward_codes(area, [code])
    layers = layers or prepare_print(area, **options)
    ward = _ward_content(layers, code, layout)
    buf = io.BytesIO()
    with PdfPages(buf, metadata=_metadata(layers, f"{ward.name} ({code})")) as pdf:
        _render_ward(pdf, layers, ward, layout, 1, 1 + len(ward.pages))
    return buf.getvalue()


ProgressCallback = Callable[[int, int, str], None]


def _contents_rows_per_page(layout: PageLayout) -> int:
    return max(5, int((layout.body[3] - 12.0 * layout.font_scale) / (6.0 * layout.font_scale)))


def _contents_pages(
    fig_pages: PdfPages, layers: PrintLayers, layout: PageLayout, entries: list[tuple[_WardContent, int]], n: int
) -> None:
    fs = layout.font_scale
    per_page = _contents_rows_per_page(layout)
    chunks = [entries[i : i + per_page] for i in range(0, len(entries), per_page)] or [[]]
    area = layers.area
    summary = area.area_summary().assign(code=lambda f: f["code"].astype(str)).set_index("code")
    x0, y0, w, h = layout.body
    cols = (
        ("Ward", 0.0),
        ("Code", 0.45),
        ("Residents", 0.6),
        ("IMD score", 0.72),
        ("Assets", 0.83),
        ("Page", 0.93),
    )
    for k, chunk in enumerate(chunks):
        fig = _new_figure(layout)
        _header(fig, layers, layout, f"Ward pack: {clean_text(area.name)}", False)
        top = y0 + h
        heading = "Contents" if k == 0 else "Contents (continued)"
        _text(fig, layout, x0, top, heading, 10.0, fontweight="bold", va="top")
        top -= 8.0 * fs
        for label, at in cols:
            _text(fig, layout, x0 + at * w, top, label, 7.5, fontweight="bold", va="top", color=_MUTED)
        top -= 6.0 * fs
        for ward, page in chunk:
            row = summary.loc[ward.code] if ward.code in summary.index else None
            pop = _fmt(float(row["population"]), ",.0f") if row is not None else ""
            score = _fmt(float(row["avg_score"]), ".1f") if row is not None and "avg_score" in row else ""
            name = layers.measure.wrap(ward.name, 0.44 * w * _PT_PER_MM, 8.0 * fs, max_lines=1)[0]
            values = (name, ward.code, pop, score, f"{len(ward.assets):,}", str(page))
            for (_, at), value in zip(cols, values, strict=True):
                _text(fig, layout, x0 + at * w, top, value, 8.0, va="top")
            top -= 6.0 * fs
        _footer(fig, layers, layout, k + 1, n)
        fig_pages.savefig(fig)


def print_pack(
    area: Area,
    codes: Iterable[str] | None = None,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    progress: ProgressCallback | None = None,
    layers: PrintLayers | None = None,
    **options: Any,
) -> bytes:
    """Return one PDF of several wards (default every ward, by name) after a contents page.

    Parameters
    ----------
    area : Area
        A loaded area.
    codes : iterable of str, optional
        Ward codes, printed in this order (default: every ward, sorted by name).
    paper, orientation
        As for :func:`print_ward`.
    progress : callable, optional
        Called as ``progress(done, total, message)`` after each ward is laid out and drawn.
    layers : PrintLayers, optional
        From :func:`prepare_print`, when they are already made.
    **options
        As for :func:`print_ward`: passed to :func:`prepare_print`, called once for the whole pack.

    Returns
    -------
    bytes
        The PDF: contents page(s), then each ward's map, facts and index pages.
    """
    layout = page_layout(paper, orientation)
    wanted = _ward_codes(area, codes)
    layers = layers or prepare_print(area, **options)
    wards = [_ward_content(layers, code, layout) for code in wanted]
    n_contents = max(1, math.ceil(len(wards) / _contents_rows_per_page(layout)))
    entries, page = [], n_contents + 1
    for ward in wards:
        entries.append((ward, page))
        page += 1 + len(ward.pages)
    total_pages = page - 1
    buf = io.BytesIO()
    with PdfPages(buf, metadata=_metadata(layers, f"Ward pack: {clean_text(area.name)}")) as pdf:
        _contents_pages(pdf, layers, layout, entries, total_pages)
        for i, (ward, first) in enumerate(entries):
            _render_ward(pdf, layers, ward, layout, first, total_pages)
            if progress is not None:
                progress(i + 1, len(entries), f"{ward.name} ({ward.code})")
    return buf.getvalue()


def ward_file_name(code: str, name: str) -> str:
    """Return a safe PDF file name for one ward: ``ward_<code>_<name>.pdf`` in ASCII."""
    slug = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", slug).strip("_")[:60]
    safe_code = re.sub(r"[^A-Za-z0-9]+", "_", code)
    return f"ward_{safe_code}{'_' + slug if slug else ''}.pdf"


def print_pack_zip(
    area: Area,
    codes: Iterable[str] | None = None,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    progress: ProgressCallback | None = None,
    layers: PrintLayers | None = None,
    **options: Any,
) -> bytes:
    """Return a zip archive of one PDF per ward (as :func:`print_ward` makes), sharing one preparation.

    Parameters
    ----------
    area, codes, paper, orientation, progress, layers, **options
        As for :func:`print_pack`.

    Returns
    -------
    bytes
        The zip archive; members are named by :func:`ward_file_name`.
    """
    wanted = _ward_codes(area, codes)
    layout = page_layout(paper, orientation)
    layers = layers or prepare_print(area, **options)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, code in enumerate(wanted):
            data = print_ward(area, code, paper=paper, orientation=layout.orientation, layers=layers)
            zf.writestr(ward_file_name(code, layers.names.get(code, code)), data)
            if progress is not None:
                progress(i + 1, len(wanted), f"{layers.names.get(code, code)} ({code})")
    return buf.getvalue()


def ward_preview_png(
    area: Area,
    code: str,
    *,
    paper: str = "a4",
    orientation: str = "landscape",
    dpi: float = 80,
    layers: PrintLayers | None = None,
    **kwargs: Any,
) -> bytes:
    """Return the ward's map page as a PNG image, for a preview on screen.

    Parameters
    ----------
    area : Area
        A loaded area.
    code : str
        The ward's code.
    paper, orientation
        As for :func:`print_ward`.
    dpi : float
        Resolution of the image (default 80: a screen preview).
    layers : PrintLayers, optional
        From :func:`prepare_print`.
    **kwargs
        ``colour_by``, ``group``, ``threshold``, ``include_stale``, ``public_url`` for :func:`prepare_print`.

    Returns
    -------
    bytes
        PNG.
    """
    layout = page_layout(paper, orientation)
    (code,) = _ward_codes(area, [code])
    layers = layers or prepare_print(area, **kwargs)
    ward = _ward_content(layers, code, layout)
    fig = _new_figure(layout)
    _map_page(fig, layers, ward, layout)
    _header(fig, layers, layout, f"{ward.name} ({ward.code})", layers.public_url is not None)
    if layers.public_url is not None:
        _qr(fig, layers, layout, ward.code)
    _footer(fig, layers, layout, 1, 1 + len(ward.pages))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
