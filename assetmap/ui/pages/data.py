"""Data page (officers): the area on show, switching areas, and creating an area from uploaded files."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit_folium import st_folium

from assetmap import settings
from assetmap._errors import AssetMapError, ValidationError
from assetmap.analysis.assign import check_buffer_m
from assetmap.analysis.note import distance_words
from assetmap.area import create
from assetmap.area.units import DEFAULT_LABEL
from assetmap.io import uploads
from assetmap.render import webmap
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import auth, common

if TYPE_CHECKING:
    from assetmap.area.load import Area

#: Session key of the folder of the area just created (its summary and preview are shown).
CREATED_KEY: str = "data_created"

#: Session key of the files whose columns must be chosen: layer to :class:`uploads.ColumnCheck`.
MAPPING_KEY: str = "data_mapping"

#: Session key of the form's generation: a new one empties the uploaders after an area is created.
FORM_KEY: str = "data_form"

#: The uploaders, in order: layer, label, help.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("boundaries", "Ward or neighbourhood boundaries", "A code and a name per area (WD23CD/WD23NM or your own)."),
    ("small_areas", "LSOA boundaries", "LSOA 2021 for IoD2025, LSOA 2011 for IoD2019."),
    ("deprivation", "Indices of Deprivation file", "IoD File 7 is best; File 1, 2 or 5 with the population file."),
    ("population", "Population (IoD File 6)", "Only where the deprivation file has no population column."),
    ("lookup", "LSOA-to-ward lookup", "ONS best-fit lookup; without one, LSOAs are placed by their boundaries."),
    (
        "network",
        "Street network",
        "An OpenStreetMap extract (.osm or .osm.pbf), OS Open Roads (GeoPackage) or GraphML, for walking distances.",
    ),
    ("postcodes", "Postcode lookup", "ONS NSPL/ONSPD or OS Code-Point Open, to place assets by postcode."),
    ("assets", "Asset registers", "Spreadsheets or map layers of community assets."),
)

#: Height of the preview map in pixels.
MAP_HEIGHT: int = 480

_NO_TYPE = "(the files have a type column)"

#: The controls of the form whose values are checked, by what the messages call them.
LABEL_CONTROL: str = "What the areas are called"
BUFFER_CONTROL: str = "Border buffer for assets (metres)"


#: The command line's and the library's words in the loaders' messages, and this form's words for each.
_FORM_WORDS: tuple[tuple[str, str], ...] = (
    (r"(?:init-area )?--[\w-]+(?: or --[\w-]+)? \(on the Data page: ('[^']*')\)", r"\1"),
    (r"init-area \(on the Data page: ('[^']*')\)", r"\1"),
    (r"--[\w-]+ on init-area, or ('[^']*') on the Data page", r"\1"),
    (r"on the Data page \(('[^']*')\)", r"in \1"),
    (
        r"Name it with init-area --lookup-[\w-]+, or use the ONS lookup, whose columns are named as ONS names them",
        "Rename that column as ONS names it, or use the ONS lookup",
    ),
    (r" \(given with --[\w-]+\)", ""),
    (r"with init-area --network or build-network", "as the 'Street network' file"),
    (r"\bcode_col\b", "'Code column'"),
    (r"\bname_col\b", "'Name column'"),
    (r"columns= names", "the columns chosen name"),
    (r"pass edition='IoD2019'", "name its LSOA code column 'LSOA code (2011)'"),
    (r"Name it with ('[^']*')", r"Choose it in \1"),
    (r"name the LSOA code column with ('[^']*')", r"choose the LSOA code column in \1"),
)


def form_words(text: str) -> str:
    """Return a loader's message in the words of this form: flags and keywords become the controls that do the same."""
    for pattern, words in _FORM_WORDS:
        text = re.sub(pattern, words, text)
    return text


def _default_buffer() -> float | None:
    """Return the border buffer of the settings in metres (None where the setting is not a distance)."""
    try:
        return check_buffer_m(settings.asset_buffer_m, field="ASSETMAP_ASSET_BUFFER_M")
    except ValidationError:
        return None


def plain(text: str) -> str:
    """Escape Markdown in a message, so file names and cell values show as they are."""
    return re.sub(r"([\\`*_{}\[\]<>()#+\-.!|~$])", r"\\\1", text)


def show_error(exc: AssetMapError, *, words: Callable[[str], str] | None = None) -> None:
    """Show a loader's error: its summary and one line per problem, never a traceback.

    ``words`` rewrites each line in the words of the controls on show (a flag becomes a control's label).
    """
    say = words or (lambda text: text)
    if isinstance(exc, ValidationError) and exc.summary:
        lines = [plain(say(exc.summary)), ""] + [f"- {plain(say(str(p)))}" for p in exc.problems[:20]]
        if len(exc.problems) > 20:
            lines.append(f"- ... and {len(exc.problems) - 20} more.")
        st.error("\n".join(lines), icon=":material/error:")
    else:
        lines = [plain(say(line)) for line in str(exc).splitlines() if line.strip()]
        st.error("\n\n".join(lines), icon=":material/error:")


def _show(path: str) -> None:
    st.session_state[common.AREA_PATH_KEY] = path
    st.session_state.pop(CREATED_KEY, None)


def page() -> None:
    """Draw the Data page (officers only)."""
    auth.require_officer()
    st.title("Data: areas and their layers")
    if CREATED_KEY in st.session_state:
        _created(st.session_state[CREATED_KEY])
    st.subheader("Area on show")
    _area_on_show(common.current_area())
    _switch()
    st.subheader("Create an area from your files")
    _form()
    from assetmap.ui.pages.data_assets import add_assets_section  # it draws its errors with show_error

    add_assets_section()
    osm_import_section()


def _counts(area: Area) -> None:
    a, b, c, d = st.columns(4)
    a.metric(area.unit_label.plural, f"{len(area.boundaries):,}")
    b.metric("LSOAs", f"{len(area.small_areas):,}")
    c.metric("Residents", f"{area.deprivation['population'].sum():,.0f}")
    d.metric("Assets", f"{len(area.assets):,}")


def _area_on_show(area: Area | None) -> None:
    if area is None:
        return
    st.markdown(f"**{plain(area.name)}**" + (" (fictional demo data)" if area.fictional else ""))
    st.caption(
        f"Folder: {plain(str(area.path or common.area_path()))}. Assets within "
        f"{plain(distance_words(area.asset_buffer_m))} beyond the boundary are kept."
    )
    _counts(area)


def _switch() -> None:
    on_show = common.area_path()
    demo = str(settings.demo_area_path)
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    left.button(
        "Show the demo area",
        on_click=_show,
        args=(demo,),
        disabled=on_show == demo,
        icon=":material/science:",
        key="data_show_demo",
    )
    kept = create.list_areas(settings.areas_dir)
    if not kept:
        right.caption(f"No areas created yet (they are kept in {plain(str(settings.areas_dir))}).")
        return
    paths = [str(entry.path) for entry in kept]
    names = {str(entry.path): entry.name for entry in kept}
    with right:
        chosen = st.selectbox(
            "Areas created from files",
            paths,
            index=paths.index(on_show) if on_show in paths else 0,
            format_func=lambda p: f"{names[p]} ({Path(p).name})",
            key="data_kept",
        )
        st.button("Show this area", on_click=_show, args=(chosen,), disabled=chosen == on_show, key="data_show_kept")


def _created(path: str) -> None:
    try:
        area = common.get_area(path)
    except AssetMapError as exc:
        show_error(exc)
        return
    st.success(f"Created **{plain(area.name)}**: it is now on show on every page.", icon=":material/check_circle:")
    if area.vintages:
        st.markdown(
            "\n".join(f"- {layer.replace('_', ' ').capitalize()}: {plain(v)}" for layer, v in area.vintages.items())
        )
    for note in area.notes:
        st.info(plain(form_words(note)), icon=":material/info:")
    with st.spinner("Drawing the preview map..."):
        summary = area.area_summary()
        value = next((k for k in ("avg_score", "population") if k in summary.columns), "n_assets")
        fmap = webmap.area_map(
            summary,
            area.assets,
            value=value,
            attribution=area.attribution,
            fictional=area.fictional,
            display=webmap.MapDisplay(libs_url=common.WEB_LIBS_URL),
        )
    # returned_objects=[]: panning and zooming need nothing back, so they do not rerun the page.
    st_folium(fmap, returned_objects=[], height=MAP_HEIGHT, use_container_width=True, key="data_preview_map")


def _mapping(check: uploads.ColumnCheck, generation: int) -> None:
    if check.missing:
        st.error(plain(form_words(check.message or check.file)), icon=":material/error:")
    st.caption(f"Choose the columns of {plain(check.file)}, then press **Create the area** again.")
    for role in check.roles:
        found = check.found.get(role)
        st.selectbox(
            uploads.ROLE_LABELS[role] + (" (required)" if role in check.missing else ""),
            check.columns,
            index=check.columns.index(found) if found in check.columns else None,
            placeholder="Choose a column",
            key=f"data_map_{check.layer}_{role}_{generation}",
        )


def _form() -> None:
    state = st.session_state
    generation = state.setdefault(FORM_KEY, 0)
    pending: dict[str, uploads.ColumnCheck] = state.get(MAPPING_KEY, {})
    st.caption(
        "Boundaries, LSOA boundaries and the deprivation file are required. Files are checked by their "
        "content; nothing is kept unless every layer loads."
    )
    with st.form(f"data_create_{generation}"):
        name = st.text_input("Area name", max_chars=80, placeholder="e.g. Manchester", key=f"data_name_{generation}")
        for i, (layer, label, help_text) in enumerate(FIELDS):
            if i == 3:
                st.markdown("**Optional layers**")
            limit = uploads.upload_limit_mb(layer)
            st.file_uploader(
                label,
                type=[t.lstrip(".") for t in uploads.UPLOAD_TYPES[layer]],
                accept_multiple_files=layer in uploads.MULTIPLE_LAYERS,
                help=f"{help_text} Up to {limit:g} MB.",
                # The browser refuses larger files at once; area_from_uploads checks again on the server.
                max_upload_size=max(1, math.ceil(limit)),
                key=f"data_upload_{layer}_{generation}",
            )
            if layer in pending:
                _mapping(pending[layer], generation)
        taxonomy = load_taxonomy()
        asset_type = st.selectbox(
            "Type of every asset, for registers with no type column",
            [_NO_TYPE, *taxonomy.type_keys],
            format_func=lambda key: key if key == _NO_TYPE else taxonomy.asset_type(key).label,
            key=f"data_type_{generation}",
        )
        skip = st.checkbox("Leave out bad asset rows (listed in the notes)", key=f"data_skip_{generation}")
        label, buffer_m = _area_settings(generation)
        replace = st.checkbox("Replace an area of the same name", key=f"data_replace_{generation}")
        submitted = st.form_submit_button("Create the area", type="primary", icon=":material/upload:")
    if not submitted:
        return
    files = {
        layer: [uploads.Upload(f.name, f.getvalue()) for f in _as_list(state.get(f"data_upload_{layer}_{generation}"))]
        for layer, _, _ in FIELDS
    }
    columns = {
        layer: {role: state.get(f"data_map_{layer}_{role}_{generation}") for role in check.roles}
        for layer, check in pending.items()
    }
    _create(
        files,
        name=name,
        columns=columns,
        replace=replace,
        choices=create.UploadChoices(
            asset_type=None if asset_type == _NO_TYPE else asset_type,
            skip_invalid_assets=skip,
            boundary_label=label,
            asset_buffer_m=buffer_m,
            fields={"boundary_label": LABEL_CONTROL, "asset_buffer_m": BUFFER_CONTROL},
        ),
    )


def _area_settings(generation: int) -> tuple[str, float | None]:
    """Draw the controls for what the areas are called and the border buffer; return their values."""
    left, right = st.columns(2)
    label = left.text_input(
        LABEL_CONTROL,
        value=DEFAULT_LABEL,
        max_chars=40,
        help="In the plural, as every page and print will say it: e.g. Localities, Neighbourhoods, PCN neighbourhoods.",
        key=f"data_label_{generation}",
    )
    buffer_m = right.number_input(
        BUFFER_CONTROL,
        value=_default_buffer(),
        step=100.0,
        format="%.0f",
        help="Assets this far beyond the boundary are kept: residents near the border use them, so they count "
        "for walking access though in no area's counts. Assets further out are left out. 0 keeps only assets "
        "inside.",
        key=f"data_buffer_{generation}",
    )
    return label, buffer_m


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def create_area(files: dict[str, list[uploads.Upload]], *, name: str, **options: Any) -> Area | None:
    """Create an area from uploads with progress shown; show the error and return None on failure.

    Parameters
    ----------
    files : dict
        Layer to its uploads.
    name : str
        The area's name.
    **options
        Passed to :func:`assetmap.area.create.area_from_uploads` (``columns``, ``replace``...).

    Returns
    -------
    Area or None
        None when the files could not be used; when columns must be chosen, the page
        is drawn again with the choices instead.
    """
    status = st.status("Creating the area...", expanded=True)
    try:
        area = create.area_from_uploads(files, name=name, areas_dir=settings.areas_dir, on_step=status.write, **options)
    except uploads.ColumnsNotDetected as exc:
        status.update(label="Some columns could not be told from their headers", state="error")
        # Layers mapped before keep their choices; those still missing get their (new) columns.
        st.session_state[MAPPING_KEY] = {**st.session_state.get(MAPPING_KEY, {}), **exc.checks}
        st.rerun()  # draw the column choices inside the form
    except AssetMapError as exc:
        status.update(label="The area was not created", state="error")
        show_error(exc, words=form_words)
        return None
    status.update(label=f"Created {area.name}", state="complete", expanded=False)
    return area


def _create(files: dict[str, list[uploads.Upload]], *, name: str, **options: Any) -> None:
    area = create_area(files, name=name, **options)
    if area is None:
        return
    state = st.session_state
    state.pop(MAPPING_KEY, None)
    state[FORM_KEY] = state.get(FORM_KEY, 0) + 1  # fresh, empty uploaders
    state[CREATED_KEY] = str(area.path)
    state[common.AREA_PATH_KEY] = str(area.path)
    st.rerun()


# -- OpenStreetMap import (officers) ---------------------------------------------------------------


def osm_import_section() -> None:
    """Import community places from an OpenStreetMap file into the register of the area on show."""
    import tempfile

    from assetmap.area.sources import import_osm_to_area

    st.subheader("Import community places from OpenStreetMap (file)")
    st.caption(
        "Community centres, halls, food banks, libraries, places of worship, allotments, community gardens and "
        "clubs are read from an OpenStreetMap export (.osm) by the tag mapping in osm_tags.toml; private places "
        "and homes are left out. Importing the same file again changes nothing. " + settings.attribution_osm
    )
    path = common.area_path()
    if Path(path).resolve() == settings.demo_area_path.resolve():
        st.info("Switch to an area of your own to import into its register.", icon=":material/info:")
        return
    with st.form("data_osm_import"):
        upload = st.file_uploader("OpenStreetMap export (.osm)", type=["osm", "xml"], key="data_osm_file")
        status = st.radio(
            "New places go in as",
            ["pending", "approved"],
            format_func={"pending": "Pending (review them first)", "approved": "Approved (publish now)"}.__getitem__,
            horizontal=True,
            key="data_osm_status",
        )
        go = st.form_submit_button("Import from OpenStreetMap", icon=":material/map:")
    if not go or upload is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        xml = Path(folder) / "upload.osm"
        xml.write_bytes(upload.getvalue())
        try:
            actor = auth.current_officer() or "officer (Data page)"  # the audit log names who imported
            result = import_osm_to_area(path, xml=xml, status=status, actor=actor)
        except AssetMapError as exc:
            show_error(exc)
            return
    a, b, c, d = st.columns(4)
    a.metric("Added", f"{len(result.added):,}")
    b.metric("Updated", f"{len(result.updated):,}")
    c.metric("Unchanged", f"{len(result.unchanged):,}")
    d.metric("Matched to existing records", f"{len(result.matched):,}")
    if result.skipped:
        with st.expander(f"{len(result.skipped)} features left out"):
            st.markdown("\n".join(f"- {plain(line)}" for line in result.skipped[:200]))
