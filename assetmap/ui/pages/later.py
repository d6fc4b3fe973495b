"""Pages whose work belongs to later releases: they say so plainly rather than pretend."""

from __future__ import annotations

import streamlit as st

from assetmap.ui import common


def _not_yet(title: str, what: str) -> None:
    area = common.current_area()
    st.title(title)
    st.info(f"{what} is not available in this version of assetmap.", icon=":material/construction:")
    if area is not None:
        st.caption(f"Area on show: {common.md_text(area.name)}")


def add_group_page() -> None:
    """Draw the public Add your group page."""
    _not_yet("Add your group", "Adding a group through this form")


def moderate_page() -> None:
    """Draw the officers' Moderate page."""
    _not_yet("Moderate submissions", "Reviewing submitted groups")
