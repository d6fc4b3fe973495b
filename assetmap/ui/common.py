"""Cached loaders and the sidebar shared by every page of the app."""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

from assetmap import settings
from assetmap._errors import AssetMapError
from assetmap.analysis.groups import COMBINE, DEFAULT_THRESHOLDS, combine_groups, group_keys, group_label
from assetmap.area.units import UnitLabel
from assetmap.store.base import StoreError

if TYPE_CHECKING:
    from assetmap.area.load import Area
    from assetmap.store import RegisterStore

#: Session key of the folder of the area on show.
AREA_PATH_KEY: str = "area_path"

#: The app's icon (a map pin), shown by the browser beside its title.
ICON: Path = Path(__file__).with_name("icon.png")

#: Session key of the code of the ward (or neighbourhood) selected for the Ward profile.
SELECTED_AREA_KEY: str = "selected_area"

#: Session keys of the global filters, kept across pages.
GROUP_KEY: str = "groups"
COMBINE_KEY: str = "combine"
THRESHOLD_KEY: str = "threshold"
STALE_KEY: str = "include_stale"

#: Session key of the view shared by the Map and Gaps pages: ``area`` (wards) or ``lsoa``.
VIEW_KEY: str = "view"

#: Session key set once the page's address has been read into the session.
ADDRESS_READ_KEY: str = "_address_read"

#: Session key of a ward code read from the address, until the area is loaded to check it.
PENDING_WARD_KEY: str = "_address_ward"

#: Where the app's maps load Leaflet from: its own copies in ``webapp/static/`` next to the entry
#: script ``webapp/app.py``, served at ``app/static/`` (no CDN, so maps work on networks that block one).
#: Relative to streamlit-folium's frame (``component/streamlit_folium.st_folium/index.html``), so a
#: server under a base URL path finds them too.
WEB_LIBS_URL: str = "../../app/static/"

#: The elements and pillars chosen when a session starts: the framework's headline pair.
DEFAULT_GROUPS: tuple[str, ...] = ("scaling", "strengthening")

#: How the chosen groups combine when a session starts: residents within reach of an asset of every one.
DEFAULT_COMBINE: str = "all"

#: The group key of the default choice (see :func:`assetmap.analysis.groups.combine_groups`).
DEFAULT_GROUP: str = "scaling&strengthening"

#: Characters with a meaning in Markdown (all ASCII punctuation), escaped in user text.
_MARKDOWN_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")

#: The manifest that marks an area folder.
_MANIFEST: str = "area.toml"

#: Endings of files that come and go while a database is in use: not part of an area's contents.
_TRANSIENT: tuple[str, ...] = ("-wal", "-shm", "-journal", ".lock", ".tmp")


def md_text(value: object) -> str:
    """Return ``value`` as Markdown that shows exactly its text (no markup, links, HTML or maths).

    Names of areas, files and groups come from users; Streamlit renders titles,
    captions and messages as Markdown, so each punctuation mark is escaped.
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    # Keyed on the file's stat: a file is read again only when it has changed on disk.
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_file_digest_cached = functools.lru_cache(maxsize=256)(_file_digest)


def area_fingerprint(path: str | Path) -> str | None:
    """Return a digest of the contents of every file in an area folder, or None if it has no manifest.

    Two loads of the same folder share a cache entry exactly when no file in it
    changed, whatever their modification times; an edited layer (or manifest)
    gives a new entry. Each file is read only when its size or time changes.

    Parameters
    ----------
    path : str or Path
        An area folder.

    Returns
    -------
    str or None
    """
    root = Path(path)
    if not (root / _MANIFEST).is_file():
        return None
    digest = hashlib.sha256()
    # The register is left out: its records are followed by register_version, and it also
    # takes sign-in sessions and limits, which must not reload the area.
    from assetmap.store import REGISTER_FILE

    skip = root / REGISTER_FILE
    files = (p for p in root.rglob("*") if p.is_file() and not p.name.endswith(_TRANSIENT) and p != skip)
    for file in sorted(files):
        stat = file.stat()
        digest.update(str(file.relative_to(root)).encode())
        digest.update(_file_digest_cached(str(file), stat.st_size, stat.st_mtime_ns).encode())
    return digest.hexdigest()


@st.cache_resource(show_spinner="Loading the area...", max_entries=4)
def _load_area(path: str, fingerprint: str | None, register: int = 0, with_register: bool = True) -> Area:
    # A resource, not data: the Area is shared as it is (no copy per rerun) and it
    # caches its own derived tables. ``fingerprint`` and ``register`` are only part of the cache key.
    import assetmap

    return assetmap.load_area(path) if with_register else assetmap.load_area(path, register=False)


def register_version(path: str | Path) -> int:
    """Return a number that changes whenever the area's register does (0 without a register).

    New approvals may sit in SQLite's write-ahead log, which the file fingerprint
    leaves out; the register's own change counter catches them at once.
    """
    from assetmap.area.register import has_register, open_area_register

    if not has_register(path):
        return 0
    try:
        with open_area_register(path) as store:
            return store.last_change()
    except AssetMapError:
        return -1


def open_register(path: str | Path | None = None) -> RegisterStore:
    """Open the register store of the area on show (``settings.register_url`` where set); close it after use.

    Parameters
    ----------
    path : str or Path, optional
        Area folder (default: the area on show); its ``register.sqlite`` is the store.
    """
    from assetmap.area.register import open_area_register

    return open_area_register(path if path is not None else area_path())


def get_area(path: str | Path, *, register: bool = True) -> Area:
    """Return the area in ``path``, loaded once per version of its files' contents and of its register.

    Parameters
    ----------
    path : str or Path
        An area folder (with ``area.toml``).
    register : bool, default True
        Read the approved records of its register (False: its files alone).

    Returns
    -------
    Area

    Raises
    ------
    AssetMapError
        When the folder cannot be loaded (failures are not cached).
    """
    if not register:
        return _load_area(str(path), area_fingerprint(path), 0, with_register=False)
    return _load_area(str(path), area_fingerprint(path), register_version(path))


def area_path() -> str:
    """Return the folder of the area on show: the session's choice, else the configured default."""
    if AREA_PATH_KEY not in st.session_state:
        st.session_state[AREA_PATH_KEY] = str(settings.default_area_path)
    return st.session_state[AREA_PATH_KEY]


def md_unit(name: object, code: object) -> str:
    """Return a unit as Markdown text: "Northgate (E05000001)", its name and code each escaped; once if they agree."""
    from assetmap.area.units import unit_name, unit_title

    shown = unit_name(name, code)
    return md_text(shown) + (f" ({md_text(code)})" if unit_title(name, code) != shown else "")


def unit_label() -> UnitLabel:
    """Return what the area on show calls its boundaries (read from its manifest; "Wards" where it cannot be read)."""
    from assetmap.area.load import read_unit_label

    try:
        return read_unit_label(area_path())
    except AssetMapError:
        return UnitLabel()  # the page itself reports the area that cannot load


def area_sidebar(area: Area) -> None:
    """Show the area's name, whether it is fictional, its data editions and loading notes."""
    with st.sidebar:
        st.subheader(md_text(area.name))
        if area.fictional:
            st.badge("Fictional demo data", icon=":material/science:", color="orange")
            st.caption("Places, codes, figures and groups in this area are invented.")
        if area.vintages:
            # Folded away: read once, rarely again; the filters above it are used all the time.
            with st.expander("Data editions"):
                st.markdown(
                    "\n".join(
                        f"- {layer.replace('_', ' ').capitalize()}: {md_text(v)}" for layer, v in area.vintages.items()
                    )
                )
        if area.notes:
            with st.expander(f"Notes from loading ({len(area.notes)})"):
                for note in area.notes:
                    st.markdown(f"- {md_text(note)}")


#: What a visitor is told when the register cannot be read: no file name or server address.
REGISTER_DOWN: str = (
    "The register of community groups cannot be read just now, so this page cannot be shown. Please try again later."
)


def current_area(*, without_register: bool = False) -> Area | None:
    """Load the area on show and draw the sidebar; show the error and return None if it cannot load.

    Parameters
    ----------
    without_register : bool, default False
        Where the register cannot be read, load the area's files alone rather than
        refuse: for the public form, which still checks an entry and keeps it for a
        retry, and says only when saving that it could not be saved.
    """
    path = area_path()
    try:
        try:
            area = get_area(path)
        except StoreError:
            if not without_register:
                # The public learns nothing of the server; officers see the file or server where they sign in.
                st.error(REGISTER_DOWN, icon=":material/cloud_off:")
                return None
            area = get_area(path, register=False)
    except AssetMapError as exc:
        st.error(f"The area in {md_text(path)} could not be loaded.\n\n{md_text(exc)}", icon=":material/error:")
        return None
    area_sidebar(area)
    from assetmap.ui import address

    address.check_ward(area)
    return area


@dataclass(frozen=True)
class Filters:
    """The global choices made in the sidebar, shared by every page.

    Attributes
    ----------
    group : str
        The group key of the choice: an element (``"e1"`` to ``"e11"``), a pillar key, or several of them
        combined (``"scaling&strengthening"``, see :func:`assetmap.analysis.groups.combine_groups`).
    threshold : float
        Walking distance counted as within reach, in metres.
    include_stale : bool
        Whether records not confirmed for a long time are counted.
    groups : tuple of str
        The elements and pillars chosen.
    combine : str
        ``all`` (within reach of an asset of every one) or ``any``.
    """

    group: str
    threshold: float
    include_stale: bool
    groups: tuple[str, ...] = DEFAULT_GROUPS
    combine: str = DEFAULT_COMBINE

    @property
    def label(self) -> str:
        """The chosen elements and pillars in words."""
        return group_label(self.group)


def _remember(key: str) -> None:
    # Widget state is dropped when a page that does not draw the widget runs; a plain
    # session key survives, so each filter keeps its value across pages.
    st.session_state[key] = st.session_state[f"_w_{key}"]


def _widget_kwargs(key: str) -> dict[str, Any]:
    return {"key": f"_w_{key}", "on_change": _remember, "args": (key,)}


def threshold_choices() -> list[float]:
    """Return the walking thresholds offered, in metres (the reported ones and the configured default)."""
    return sorted({*DEFAULT_THRESHOLDS, float(settings.walk_threshold_m)})


def filters() -> Filters:
    """Draw the global filters in the sidebar and return the choices.

    Returns
    -------
    Filters
    """
    from assetmap.ui import address

    address.take_address()
    state = st.session_state
    keys = group_keys()
    state.setdefault(GROUP_KEY, list(DEFAULT_GROUPS))
    state.setdefault(COMBINE_KEY, DEFAULT_COMBINE)
    state.setdefault(THRESHOLD_KEY, float(settings.walk_threshold_m))
    state.setdefault(STALE_KEY, True)
    choices = threshold_choices()
    if not isinstance(state[GROUP_KEY], list | tuple) or not set(state[GROUP_KEY]) <= set(keys):
        state[GROUP_KEY] = list(DEFAULT_GROUPS)
    if state[COMBINE_KEY] not in COMBINE:
        state[COMBINE_KEY] = DEFAULT_COMBINE
    if state[THRESHOLD_KEY] not in choices:
        state[THRESHOLD_KEY] = float(settings.walk_threshold_m)
    with st.sidebar:
        st.markdown("**Filters**")
        chosen = st.multiselect(
            "Elements and pillars",
            keys,
            default=list(state[GROUP_KEY]),
            format_func=group_label,
            help="The national framework for community-centred public health names 11 elements in four pillars "
            "(Scaling, Involving, Strengthening, Sustaining); VCSE is the voluntary, community and social "
            "enterprise sector. Choose one or more: several are combined as chosen below.",
            **_widget_kwargs(GROUP_KEY),
        )
        combine = st.radio(
            "Residents count as within reach of",
            list(COMBINE),
            index=list(COMBINE).index(state[COMBINE_KEY]),
            format_func={"all": "every one chosen", "any": "any one chosen"}.__getitem__,
            horizontal=True,
            disabled=len(chosen) < 2,
            help="Every one: an asset of each chosen element or pillar within reach. Any one: at least one asset "
            "of any of them.",
            **_widget_kwargs(COMBINE_KEY),
        )
        threshold = st.select_slider(
            "Within reach (walk)",
            options=choices,
            value=state[THRESHOLD_KEY],
            format_func=lambda t: f"{t:,.0f} m",
            **_widget_kwargs(THRESHOLD_KEY),
        )
        include_stale = st.checkbox(
            "Count stale records",
            value=state[STALE_KEY],
            help=f"Records not confirmed for more than {settings.stale_after_days:,} days.",
            **_widget_kwargs(STALE_KEY),
        )
    if not chosen:
        st.warning(
            "No element or pillar is chosen in the sidebar: showing Scaling and Strengthening.",
            icon=":material/filter_alt_off:",
        )
    groups = tuple(chosen) or DEFAULT_GROUPS
    address.put_address()
    return Filters(
        group=combine_groups(groups, combine),
        threshold=float(threshold),
        include_stale=bool(include_stale),
        groups=groups,
        combine=str(combine),
    )


def title(text: str, chosen: Filters) -> None:
    """Draw a page's title with the chosen groups, distance and stale switch in a caption under it."""
    st.title(text)
    stale = "stale records counted" if chosen.include_stale else "stale records left out"
    st.caption(f"Showing {md_text(chosen.label)}; within {chosen.threshold:,.0f} m; {stale}.")


def view_choice(unit: UnitLabel, key: str) -> str:
    """Draw the Areas choice (wards or LSOAs) shared by the Map and Gaps pages; return ``area`` or ``lsoa``."""
    from assetmap.ui.address import VIEWS, put_address

    state = st.session_state
    if state.get(VIEW_KEY) not in VIEWS:
        state[VIEW_KEY] = "area"
    if state.get(key) != state[VIEW_KEY]:
        state[key] = state[VIEW_KEY]  # chosen on the other page, or read from the address
    view = st.radio(
        "Areas",
        list(VIEWS),
        format_func={"area": unit.plural, "lsoa": "LSOAs (hyper-local)"}.__getitem__,
        horizontal=True,
        key=key,
        on_change=lambda: state.__setitem__(VIEW_KEY, state[key]),
    )
    put_address()
    return str(view)


def selected_area_code() -> str | None:
    """Return the code of the ward selected on the Map (or on the Ward profile), if any."""
    return st.session_state.get(SELECTED_AREA_KEY)


def select_area(code: str | None) -> None:
    """Select the ward (or neighbourhood) with this code for the Ward profile (and put it in the address)."""
    st.session_state[SELECTED_AREA_KEY] = code
    if st.session_state.get(ADDRESS_READ_KEY):
        from assetmap.ui.address import put_address

        put_address()


def table_download(label: str, frame: Any, fmt: str, *, file_name: str, key: str, layer: str = "table") -> None:
    """Offer a table as a download, written only when the button is clicked and with no rerun after.

    Parameters
    ----------
    label : str
        The button's text.
    frame : DataFrame or GeoDataFrame
        The table; CSV and XLSX cells are neutralised against spreadsheet formulas.
    fmt : {"csv", "xlsx", "geojson", "gpkg"}
        File format.
    file_name : str
        Name offered to the browser.
    key : str
        Widget key.
    layer : str
        Layer name inside a GeoPackage.
    """
    import functools

    from assetmap.io.export import MEDIA_TYPES, table_bytes

    st.download_button(
        label,
        # Made only when clicked: writing files on every rerun would slow each filter change.
        data=functools.partial(table_bytes, frame, fmt, layer=layer),
        file_name=file_name,
        mime=MEDIA_TYPES[fmt],
        key=key,
        on_click="ignore",
    )


# -- limits that outlive a reload ------------------------------------------------------------------


def open_limits() -> RegisterStore:
    """Open the register that keeps officer sign-in sessions and limits; close it after use.

    The shared register where one is set, else the default area's: the same for
    every page, visitor and app instance whatever area is on show, so switching
    areas neither signs an officer out nor resets a limit.
    """
    return open_register(settings.default_area_path)


def client_address_key() -> str:
    """Return the limit key of the visitor's client address (``local`` where Streamlit gives none, as on localhost)."""
    try:
        address = st.context.ip_address
    except Exception:  # no client context outside a running server
        address = None
    # Only text is an address (a test harness may give a stand-in object).
    if not (isinstance(address, str) and address):
        return "address:local"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"address:{address}"
    # One IPv6 client holds a whole /64 and can change address within it at will.
    return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False)}" if ip.version == 6 else f"address:{ip}"


def cookie(name: str) -> str | None:
    """Return the value of a cookie the browser sent, or None (and None outside a running server)."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no client context outside a running server (AppTest)
        return None
    return value if isinstance(value, str) else None


def client_keys() -> list[str]:
    """Return the limit keys of the visitor: the client address and, where the browser has one, its cookie."""
    from assetmap import auth

    keys = [client_address_key()]
    browser = auth.browser_id(cookie(auth.BROWSER_COOKIE))
    if browser:
        keys.append(f"browser:{browser}")
    return keys


def take_turn(store: RegisterStore, kind: str, keys: list[str], *, limit: int, window_s: float) -> tuple[float, float]:
    """Count one more event of ``kind`` for every key; return the seconds to wait were it one too many, and its time.

    Counting before checking, rather than after the work is done, keeps sessions run in
    parallel from all passing the check before any of them is counted: each sees at
    least its own event and every one counted before it, so no more than ``limit`` go on.
    The time returned lets a caller forget this one event later (``store.clear_events(at=...)``).

    Returns
    -------
    wait : float
        Seconds to wait (0: go on).
    at : float
        When the event was counted.
    """
    import time

    now = time.time()
    store.note_event(kind, keys, keep_s=window_s, at=now)
    return limit_wait(store, kind, keys, limit=limit + 1, window_s=window_s, now=now), now


def limit_wait(
    store: RegisterStore, kind: str, keys: list[str], *, limit: int, window_s: float, now: float | None = None
) -> float:
    """Return the seconds to wait before one more event of ``kind`` is allowed for every key (0: allowed now).

    Each key is counted on its own by :func:`assetmap.ui.forms.throttle_wait`; the longest wait wins.
    """
    import time

    from assetmap.ui.forms import throttle_wait

    now = time.time() if now is None else now
    times = store.recent_events(kind, keys, window_s=window_s, now=now)
    return max((throttle_wait(t, now, limit=limit, window_s=window_s) for t in times.values()), default=0.0)
