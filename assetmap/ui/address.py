"""The view in the page's address: the chosen groups, threshold, stale switch, view and selected ward.

A link such as ``/gaps?groups=scaling,strengthening&combine=all&threshold=800&stale=1&view=area&ward=E05000001``
reproduces what an officer sees, and a reload keeps it: the page is the path, the rest the query.
:func:`read_address` turns a query into choices (each bad value left out, with a short notice saying
so); :func:`address_query` turns the choices back into a query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from assetmap import settings
from assetmap.analysis.groups import COMBINE, group_keys
from assetmap.taxonomy import load_taxonomy
from assetmap.ui import common

if TYPE_CHECKING:
    from assetmap.area.load import Area

#: Query keys of the address, in the order they are written.
GROUPS, COMBINE_Q, THRESHOLD, STALE, VIEW, WARD = "groups", "combine", "threshold", "stale", "view", "ward"

#: Views of the Map and Gaps pages: the area's wards (or neighbourhoods), or LSOAs.
VIEWS: tuple[str, ...] = ("area", "lsoa")

#: Longest ward code taken from an address (real codes are 9 characters).
_MAX_CODE = 40


@dataclass
class Address:
    """Choices read from an address; ``None`` where the address gave none (or a bad one).

    Attributes
    ----------
    groups : list of str or None
        Element and pillar keys.
    combine : str or None
        ``all`` or ``any``.
    threshold : float or None
        Metres.
    include_stale : bool or None
        Whether stale records count.
    view : str or None
        ``area`` or ``lsoa``.
    ward : str or None
        The selected ward's code (checked against the area by the page).
    notices : list of str
        One short line per value left out.
    """

    groups: list[str] | None = None
    combine: str | None = None
    threshold: float | None = None
    include_stale: bool | None = None
    view: str | None = None
    ward: str | None = None
    notices: list[str] = field(default_factory=list)


def _shown(value: str) -> str:
    """Return a value from the address as quoted in a notice: printable, and short."""
    text = "".join(c for c in value if c.isprintable())
    return repr(text if len(text) <= 30 else text[:29] + "…")


def _groups(value: str, out: Address) -> None:
    known = group_keys()
    asked = [v.strip().lower() for v in value.split(",") if v.strip()]
    good = [k for k in dict.fromkeys(asked) if k in known]
    bad = [k for k in asked if k not in known]
    if bad:
        out.notices.append(
            f"Left out of the address's groups: {', '.join(_shown(b) for b in bad[:5])} "
            f"(not an element e1 to e{len(load_taxonomy().elements)} or a pillar)."
        )
    out.groups = good or None


def _threshold(value: str, choices: Sequence[float], out: Address) -> None:
    try:
        metres = float(value)
    except ValueError:
        metres = float("nan")
    if metres in choices:
        out.threshold = metres
    else:
        offered = ", ".join(f"{c:,.0f}" for c in choices)
        out.notices.append(f"The address's distance {_shown(value)} is not one offered ({offered} m): left out.")


def read_address(query: Mapping[str, str], thresholds: Sequence[float]) -> Address:
    """Return the choices in a page's query, leaving out (with a notice) every value that is not one offered.

    Parameters
    ----------
    query : mapping
        The query's keys and values (``st.query_params``); unknown keys are ignored.
    thresholds : sequence of float
        The distances offered, in metres.

    Returns
    -------
    Address
    """
    out = Address()
    if GROUPS in query:
        _groups(str(query[GROUPS]), out)
    if COMBINE_Q in query:
        value = str(query[COMBINE_Q]).strip().lower()
        if value in COMBINE:
            out.combine = value
        else:
            out.notices.append(f"The address's way of combining {_shown(value)} is not all or any: left out.")
    if THRESHOLD in query:
        _threshold(str(query[THRESHOLD]), thresholds, out)
    if STALE in query:
        value = str(query[STALE]).strip()
        if value in ("0", "1"):
            out.include_stale = value == "1"
        else:
            out.notices.append(f"The address's stale switch {_shown(value)} is not 1 or 0: left out.")
    if VIEW in query:
        value = str(query[VIEW]).strip().lower()
        if value in VIEWS:
            out.view = value
        else:
            out.notices.append(f"The address's view {_shown(value)} is not area or lsoa: left out.")
    if WARD in query:
        value = str(query[WARD]).strip()
        if value and len(value) <= _MAX_CODE and value.isprintable():
            out.ward = value
        else:
            out.notices.append(f"The address's ward {_shown(value)} is not a code: left out.")
    return out


def address_query(
    groups: Sequence[str], combine: str, threshold: float, include_stale: bool, view: str, ward: str | None
) -> dict[str, str]:
    """Return the query that reproduces these choices (the inverse of :func:`read_address`)."""
    query = {
        GROUPS: ",".join(groups),
        COMBINE_Q: combine,
        THRESHOLD: f"{threshold:g}",
        STALE: "1" if include_stale else "0",
        VIEW: view,
    }
    if ward:
        query[WARD] = ward
    return query


#: Every query key of the address.
QUERY_KEYS: tuple[str, ...] = (GROUPS, COMBINE_Q, THRESHOLD, STALE, VIEW, WARD)


# -- the session and the address ----------------------------------------------------------------


def take_address() -> None:
    """Take the choices in the page's address into the session, once per session (a new tab, a link, a reload).

    Each value that is not one offered is left out, with a short notice on the page.
    """
    state = st.session_state
    if state.get(common.ADDRESS_READ_KEY):
        return
    state[common.ADDRESS_READ_KEY] = True
    try:
        query = {k: st.query_params[k] for k in st.query_params}
    except Exception:  # no address outside a running app
        query = {}
    found = read_address(query, common.threshold_choices())
    for key, value in (
        (common.GROUP_KEY, found.groups),
        (common.COMBINE_KEY, found.combine),
        (common.THRESHOLD_KEY, found.threshold),
        (common.STALE_KEY, found.include_stale),
        (common.VIEW_KEY, found.view),
    ):
        if value is not None:
            state[key] = value
    if found.ward is not None:
        state[common.PENDING_WARD_KEY] = found.ward
    for notice in found.notices:
        st.warning(common.md_text(notice), icon=":material/link_off:")


def check_ward(area: Area) -> None:
    """Select the ward the address named, if it is one of the area's; say so if it is not."""
    code = st.session_state.pop(common.PENDING_WARD_KEY, None)
    if code is None:
        return
    if code in set(area.boundaries["code"].astype(str)):
        common.select_area(code)
    else:
        st.warning(
            f"The address's {common.md_text(area.unit_label.singular_lower)} {common.md_text(code)} is not one of this area's: "
            "left out.",
            icon=":material/link_off:",
        )


def put_address() -> None:
    """Put the session's choices in the page's address, so a link reproduces the view and a reload keeps it."""
    state = st.session_state
    query = address_query(
        state.get(common.GROUP_KEY, common.DEFAULT_GROUPS),
        state.get(common.COMBINE_KEY, common.DEFAULT_COMBINE),
        state.get(common.THRESHOLD_KEY, float(settings.walk_threshold_m)),
        state.get(common.STALE_KEY, True),
        state.get(common.VIEW_KEY, "area"),
        state.get(common.SELECTED_AREA_KEY) or state.get(common.PENDING_WARD_KEY),
    )
    try:
        current = {k: st.query_params[k] for k in st.query_params}
        if any(current.get(k) != v for k, v in query.items()) or (WARD in current) != (WARD in query):
            kept = {k: v for k, v in current.items() if k not in QUERY_KEYS}  # e.g. a QR code's ?code=
            st.query_params.from_dict({**kept, **query})
    except Exception:  # no address outside a running app
        pass
