"""The print jobs: one ward's PDF, a pack of wards, a zip of ward PDFs, and a preview image of a map page."""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from matplotlib.backends.backend_pdf import PdfPages

from assetmap._errors import Problem, ValidationError
from assetmap.area.units import unit_title
from assetmap.render.printmap.content import ward_content
from assetmap.render.printmap.layers import PrintLayers, prepare_print
from assetmap.render.printmap.layout import contents_rows_per_page, new_figure, page_layout
from assetmap.render.printmap.mappage import map_page
from assetmap.render.printmap.pages import contents_pages, footer, header, qr_code, render_ward
from assetmap.render.printmap.text import clean_text

if TYPE_CHECKING:
    from assetmap.area.load import Area


def _ward_codes(area: Area, codes: Iterable[str] | str | None) -> list[str]:
    """Return the codes of the units ``codes`` names (by code or name; default every unit, by name)."""
    known = area.boundaries.sort_values(["name", "code"], kind="stable")["code"].astype(str).tolist()
    if codes is None:
        return known
    wanted = area.find_units([str(c) for c in ([codes] if isinstance(codes, str) else codes)])
    if not wanted:
        label = area.unit_label.singular_lower
        raise ValidationError(Problem(f"no {label} was chosen.", field="code", fix=f"Choose at least one {label}."))
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
    ward = ward_content(layers, code, layout)
    buf = io.BytesIO()
    with PdfPages(buf, metadata=_metadata(layers, unit_title(ward.name, code))) as pdf:
        render_ward(pdf, layers, ward, layout, 1, 1 + len(ward.pages))
    return buf.getvalue()


ProgressCallback = Callable[[int, int, str], None]


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
    wards = [ward_content(layers, code, layout) for code in wanted]
    n_contents = max(1, math.ceil(len(wards) / contents_rows_per_page(layout)))
    entries, page = [], n_contents + 1
    for ward in wards:
        entries.append((ward, page))
        page += 1 + len(ward.pages)
    total_pages = page - 1
    buf = io.BytesIO()
    pack_title = f"{area.unit_label.singular} pack: {clean_text(area.name)}"
    with PdfPages(buf, metadata=_metadata(layers, pack_title)) as pdf:
        contents_pages(pdf, layers, layout, entries, total_pages)
        for i, (ward, first) in enumerate(entries):
            render_ward(pdf, layers, ward, layout, first, total_pages)
            if progress is not None:
                progress(i + 1, len(entries), unit_title(ward.name, ward.code))
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
    ward = ward_content(layers, code, layout)
    fig = new_figure(layout)
    map_page(fig, layers, ward, layout)
    header(fig, layers, layout, unit_title(ward.name, ward.code), layers.public_url is not None)
    if layers.public_url is not None:
        qr_code(fig, layers, layout, ward.code)
    footer(fig, layers, layout, 1, 1 + len(ward.pages))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
