"""Print page: a print-ready PDF map of one ward with a preview, or a ward pack of every ward."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import streamlit as st

from assetmap._errors import AssetMapError
from assetmap.analysis.groups import group_label
from assetmap.area.units import unit_title
from assetmap.render import printmap
from assetmap.ui import common

if TYPE_CHECKING:
    from assetmap.area.load import Area

#: Session keys of the page's widgets.
WARD_KEY: str = "print_ward"
PAPER_KEY: str = "print_paper"
ORIENTATION_KEY: str = "print_orientation"
COLOUR_KEY: str = "print_colour_by"
PACK_KIND_KEY: str = "print_pack_kind"
LAYOUT_KEY: str = "print_layout"

#: Page layouts, in words.
LAYOUT_CHOICES: dict[str, str] = {
    "standard": "Map, then facts and the full index",
    "poster": "Poster: one sheet, map with legend and first ten assets",
}

#: Session key of the last ward pack made: its options and bytes.
PACK_RESULT_KEY: str = "print_pack_result"

#: How the LSOAs can be shaded, in words.
COLOUR_CHOICES: dict[str, str] = {"imd": "IMD decile (national)", "gap": "Gap index of the sidebar's element or pillar"}

#: Kinds of ward pack, in words.
PACK_KINDS: dict[str, str] = {"pdf": "One PDF with a contents page", "zip": "A zip of one PDF per ward"}

md_text = common.md_text


def _options(paper: str, orientation: str, layout: str, colour_by: str, chosen: common.Filters) -> dict[str, Any]:
    return {
        "paper": paper,
        "orientation": orientation,
        "layout": layout,
        "colour_by": colour_by,
        "group": chosen.group if colour_by == "gap" else None,
        "threshold": chosen.threshold,
        "include_stale": chosen.include_stale,
    }


# Cached on the area folder's contents and the options; the area itself is not hashed.
@st.cache_data(show_spinner=False, max_entries=16)
def _ward_pdf(_area: Area, area_key: tuple[str, str | None, int], code: str, **options: Any) -> bytes:
    return printmap.print_ward(_area, code, **options)


@st.cache_data(show_spinner=False, max_entries=16)
def _ward_png(_area: Area, area_key: tuple[str, str | None, int], code: str, **options: Any) -> bytes:
    return printmap.ward_preview_png(_area, code, **options)


def _choose_ward(area: Area) -> str | None:
    wards = area.boundaries.sort_values(["name", "code"], kind="stable")
    labels = {str(c): unit_title(n, c) for c, n in zip(wards["code"], wards["name"], strict=True)}
    if not labels:
        return None
    wanted = common.selected_area_code()
    if wanted in labels:
        st.session_state[WARD_KEY] = wanted
    elif st.session_state.get(WARD_KEY) not in labels:
        st.session_state[WARD_KEY] = next(iter(labels))
    return st.selectbox(
        md_text(area.unit_label.singular),
        list(labels),
        format_func=labels.__getitem__,
        key=WARD_KEY,
        on_change=lambda: common.select_area(st.session_state[WARD_KEY]),
    )


def page() -> None:
    """Draw the Print page."""
    chosen = common.filters()
    area = common.current_area()
    if area is None:
        return
    one = md_text(area.unit_label.singular_lower)
    common.title(f"Print {one} maps: {md_text(area.name)}", chosen)
    st.caption(
        f"Print-ready PDF maps for walls and meetings: the {one} with its LSOAs shaded, numbered assets by pillar, "
        f"a legend, scale bar, north arrow and locator, then the {one}'s facts and an index of its assets. "
        "Maps are drawn from the area's own data and need no internet. Groups at a sensitive location are listed "
        "without their address and never drawn."
    )
    code = _choose_ward(area)
    if code is None:
        st.info(f"This area has no {md_text(area.unit_label.plural_lower)} to print.")
        return
    left, middle, right = st.columns(3)
    paper = left.radio("Paper", ["a4", "a3", "a2"], format_func=str.upper, horizontal=True, key=PAPER_KEY)
    orientation = middle.radio(
        "Orientation", ["landscape", "portrait"], format_func=str.capitalize, horizontal=True, key=ORIENTATION_KEY
    )
    layout = left.radio("Layout", list(LAYOUT_CHOICES), format_func=LAYOUT_CHOICES.__getitem__, key=LAYOUT_KEY)
    colour_by = right.radio(
        "Shade LSOAs by", list(COLOUR_CHOICES), format_func=COLOUR_CHOICES.__getitem__, key=COLOUR_KEY
    )
    if colour_by == "gap":
        st.caption(f"Gap index of {md_text(group_label(chosen.group))} (choose another in the sidebar).")
    path = common.area_path()
    area_key = (str(path), common.area_fingerprint(path), common.register_version(path))
    options = _options(paper, orientation, layout, colour_by, chosen)
    _street_note(area, one)

    st.subheader(f"One {one}")
    try:
        with st.spinner("Drawing the map..."):
            preview = _ward_png(area, area_key, code, **options)
    except AssetMapError as exc:
        st.error(f"This {one} cannot be printed.\n\n{md_text(exc)}", icon=":material/error:")
        return
    name = area.boundaries.set_index(area.boundaries["code"].astype(str)).loc[code, "name"]
    # The text alternative says what the picture shows, for a reader who cannot see it.
    alt = (
        f"Preview of the printed map page of {' '.join(str(name).split())} ({code}): its LSOAs shaded by "
        f"{COLOUR_CHOICES[colour_by].lower()}, with the community assets and the key."
    )
    st.image(preview, caption=f"Preview of the map page: {unit_title(name, code)}", width="stretch", alt=alt)
    st.download_button(
        f"Download {one} map (PDF)",
        data=functools.partial(_ward_pdf, area, area_key, code, **options),
        file_name=printmap.ward_file_name(code, str(name)),
        mime="application/pdf",
        key="print_download_ward",
        type="primary",
    )
    _pack(area, area_key, options)


def _street_note(area: Area, one: str) -> None:
    """Say when the maps will print with no streets under them, and how to give them some."""
    try:
        empty = printmap.street_base(area).empty
    except AssetMapError as exc:
        st.warning(f"The area's streets cannot be read, so maps print without them.\n\n{md_text(exc)}")
        return
    if empty:
        st.warning(
            f"This area has no street network, so each {one} map prints with boundaries only. Add a street "
            "network to the area (an OpenStreetMap extract) on the Data page, or print from the command line "
            "with `--streets FILE`."
        )


def _pack(area: Area, area_key: tuple[str, str | None, int], options: dict[str, Any]) -> None:
    unit = area.unit_label
    one, many = md_text(unit.singular_lower), md_text(unit.plural_lower)
    st.subheader(f"{md_text(unit.singular)} pack")
    n = len(area.boundaries)
    kind = st.radio("Pack as", list(PACK_KINDS), format_func=PACK_KINDS.__getitem__, key=PACK_KIND_KEY)
    st.caption(f"Every {one} of the area ({n:,}), sorted by name, with the options above.")
    wanted = (area_key, kind, tuple(sorted(options.items())))
    if st.button(f"Make the {one} pack ({n:,} {many})", key="print_make_pack"):
        bar = st.progress(0.0, text="Preparing the shared layers...")

        def progress(done: int, total: int, message: str) -> None:
            bar.progress(done / total, text=f"Drawn {done} of {total}: {message}")

        make = printmap.print_pack_zip if kind == "zip" else printmap.print_pack
        try:
            data = make(area, progress=progress, **options)
        except AssetMapError as exc:
            st.error(f"The {one} pack cannot be printed.\n\n{md_text(exc)}", icon=":material/error:")
            return
        bar.progress(1.0, text=f"Done: {n:,} {many}.")
        st.session_state[PACK_RESULT_KEY] = (wanted, data)
    made = st.session_state.get(PACK_RESULT_KEY)
    if made is not None and made[0] == wanted:
        data = made[1]
        st.download_button(
            f"Download {one} pack ({'zip' if kind == 'zip' else 'PDF'}, {len(data) / 1024:,.0f} KB)",
            data=data,
            file_name=f"ward_pack.{kind}",
            mime="application/zip" if kind == "zip" else "application/pdf",
            key="print_download_pack",
        )
