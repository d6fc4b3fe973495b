"""Page geometry of the printed pack: where the map, inset, legend, tables and QR code go on a sheet."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from assetmap._errors import Problem, ValidationError
from assetmap.render.printmap.text import PT_PER_MM

#: Paper sizes in millimetres, landscape (width, height).
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (297.0, 210.0), "a3": (420.0, 297.0)}

#: Orientations a page can be printed in.
ORIENTATIONS: tuple[str, ...] = ("landscape", "portrait")

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


def new_figure(layout: PageLayout) -> Figure:
    """Return a blank sheet of ``layout``'s size with a canvas of its own."""
    fig = Figure(figsize=(layout.width / 25.4, layout.height / 25.4))
    FigureCanvasAgg(fig)  # a canvas of its own: no pyplot, safe in any thread
    return fig


def header_row_mm(layout: PageLayout) -> float:
    """Return the height of the asset index's heading row, in millimetres."""
    return 7.0 * layout.font_scale * 1.25 / PT_PER_MM + 2.4


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
