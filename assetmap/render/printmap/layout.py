"""Page geometry of the printed pack: where the map, inset, legend, tables and QR code go on a sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from assetmap._errors import Problem, ValidationError
from assetmap.render.printmap.text import MIN_PT, PT_PER_MM

#: Paper sizes in millimetres, landscape (width, height).
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0), "a2": (594.0, 420.0)}

#: Orientations a page can be printed in.
ORIENTATIONS: tuple[str, ...] = ("landscape", "portrait")

#: Page layouts: ``standard`` (the map page, then facts and the full asset index) or ``poster`` (one sheet for
#: a wall: the map filling it, the legend and the first ten assets of the index in a side panel).
LAYOUTS: tuple[str, ...] = ("standard", "poster")

#: Assets listed in a poster's side panel.
POSTER_INDEX_ROWS = 10

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
        Text size relative to A4, in proportion to the sheet (A3 1.41, A2 2): read at the same distance
        as A4 from further away.
    margin, header, footer : float
        Page margin, and the heights of the header band and the footer band.
    body : tuple
        Between the header and the footer.
    map, inset, legend, qr : tuple
        The map frame, the locator inset, the legend, the QR code (top right, in the header band).
    kind : str
        ``standard`` or ``poster``.
    panel : tuple or None
        A poster's list of its first assets (None on a standard page); where it is the legend's own frame
        the list starts below the legend.
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
    kind: str = "standard"
    panel: tuple[float, float, float, float] | None = None

    def frac(self, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Return a rectangle in millimetres as figure fractions."""
        x, y, w, h = rect
        return (x / self.width, y / self.height, w / self.width, h / self.height)


def page_layout(paper: str = "a4", orientation: str = "landscape", kind: str = "standard") -> PageLayout:
    """Return the layout of a sheet of ``paper`` in ``orientation``, as a standard page or a poster.

    Raises
    ------
    ValidationError
        An unknown paper size, orientation or layout.
    """
    paper, orientation, kind = str(paper).lower(), str(orientation).lower(), str(kind).lower()
    if paper not in PAPER_MM:
        raise ValidationError(Problem(f"unknown paper size {paper!r}.", field="paper", fix="Use a4, a3 or a2."))
    if orientation not in ORIENTATIONS:
        raise ValidationError(
            Problem(f"unknown orientation {orientation!r}.", field="orientation", fix="Use landscape or portrait.")
        )
    if kind not in LAYOUTS:
        raise ValidationError(Problem(f"unknown layout {kind!r}.", field="layout", fix="Use standard or poster."))
    long, short = PAPER_MM[paper]
    width, height = (long, short) if orientation == "landscape" else (short, long)
    scale = short / 210.0
    # The header holds a title of up to two lines and two lines of sources under it.
    margin, header, footer = 8.0 + 2.0 * scale, 24.0 * scale, 9.0 * scale
    y0 = margin + footer + 3.0
    y1 = height - margin - header - 3.0
    body = (margin, y0, width - 2 * margin, y1 - y0)
    qr = (width - margin - header, height - margin - header, header, header)
    panel = None
    if orientation == "landscape":
        side = (0.27 if kind == "poster" else 0.23) * width
        inset_h = (0.2 if kind == "poster" else 0.34) * body[3]
        x_side = width - margin - side
        map_rect = (margin, y0, width - 2 * margin - side - 6.0, body[3])
        inset = (x_side, y1 - inset_h, side, inset_h)
        legend = (x_side, y0, side, body[3] - inset_h - 6.0)
        if kind == "poster":
            panel = legend  # the first assets follow the legend down the side, however long it is
    else:
        band = (0.24 if kind == "poster" else 0.27) * body[3]
        map_rect = (margin, y0 + band + 5.0, width - 2 * margin, body[3] - band - 5.0)
        inset = (margin, y0, band, band)
        legend = (margin + band + 6.0, y0, width - 2 * margin - band - 6.0, band)
        if kind == "poster":
            rest = legend[2]
            legend = (legend[0], y0, 0.5 * rest - 3.0, band)
            panel = (legend[0] + legend[2] + 6.0, y0, rest - legend[2] - 6.0, band)
    return PageLayout(
        paper, orientation, width, height, scale, margin, header, footer, body, map_rect, inset, legend, qr, kind, panel
    )


def new_figure(layout: PageLayout) -> Figure:
    """Return a blank sheet of ``layout``'s size with a canvas of its own."""
    fig = Figure(figsize=(layout.width / 25.4, layout.height / 25.4))
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot, safe in any thread
    return fig


def header_row_mm(layout: PageLayout) -> float:
    """Return the height of the asset index's heading row, in millimetres."""
    return MIN_PT * layout.font_scale * 1.25 / PT_PER_MM + 2.4


def facts_height(layout: PageLayout, n_rows: int) -> float:
    """Return the height of a facts box of ``n_rows`` rows, in millimetres."""
    line = 7.5 * layout.font_scale * 1.45 / PT_PER_MM
    return (n_rows + 1) * line + 10.0 * layout.font_scale


def paginate(heights: Sequence[float], first_room: float, room: float, header: float) -> list[list[int]]:
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


def contents_rows_per_page(layout: PageLayout) -> int:
    """Return how many wards one contents page lists."""
    return max(5, int((layout.body[3] - 12.0 * layout.font_scale) / (6.0 * layout.font_scale)))
