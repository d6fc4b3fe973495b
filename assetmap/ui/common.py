"""Cached loaders and the sidebar shared by every page of the app."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from assetmap import settings
from assetmap._errors import AssetMapError

if TYPE_CHECKING:
    from assetmap.workspace import Area

#: Session key of the folder of the area on show.
AREA_PATH_KEY: str = "area_path"

#: The manifest whose modification time invalidates a cached area.
_MANIFEST: str = "area.toml"


def _manifest_mtime(path: str) -> int | None:
    try:
        return (Path(path) / _MANIFEST).stat().st_mtime_ns
    except OSError:
        return None


@st.cache_resource(show_spinner="Loading the area...", max_entries=4)
def _load_area(path: str, mtime_ns: int | None) -> Area:
    # A resource, not data: the Area is shared as it is (no copy per rerun) and it
    # caches its own derived tables. ``mtime_ns`` is only part of the cache key.
    import assetmap

    return assetmap.load_area(path)


def get_area(path: str | Path) -> Area:
    """Return the area in ``path``, loaded once per version of its manifest.

    Parameters
    ----------
    path : str or Path
        An area folder (with ``area.toml``).

    Returns
    -------
    Area

    Raises
    ------
    AssetMapError
        When the folder cannot be loaded (failures are not cached).
    """
    return _load_area(str(path), _manifest_mtime(str(path)))


def area_path() -> str:
    """Return the folder of the area on show: the session's choice, else the configured default."""
    if AREA_PATH_KEY not in st.session_state:
        st.session_state[AREA_PATH_KEY] = str(settings.default_area_path)
    return st.session_state[AREA_PATH_KEY]


def area_sidebar(area: Area) -> None:
    """Show the area's name, whether it is fictional, its data editions and loading notes."""
    with st.sidebar:
        st.subheader(area.name)
        if area.fictional:
            st.badge("Fictional demo data", icon=":material/science:", color="orange")
            st.caption("Places, codes, figures and groups in this area are invented.")
        if area.vintages:
            st.markdown("**Data editions**")
            st.markdown(
                "\n".join(f"- {layer.replace('_', ' ').capitalize()}: {v}" for layer, v in area.vintages.items())
            )
        if area.notes:
            with st.expander(f"Notes from loading ({len(area.notes)})"):
                for note in area.notes:
                    st.markdown(f"- {note}")


def current_area() -> Area | None:
    """Load the area on show and draw the sidebar; show the error and return None if it cannot load."""
    path = area_path()
    try:
        area = get_area(path)
    except AssetMapError as exc:
        st.error(f"The area in {path} could not be loaded.\n\n{exc}", icon=":material/error:")
        return None
    area_sidebar(area)
    return area
