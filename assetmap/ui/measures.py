"""Controls and columns for the measures beyond presence: the audience (Gaps and Map pages) and the capacity score."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from assetmap.analysis.audience import RESIDENT_LABELS
from assetmap.taxonomy import RESIDENT_GROUPS

#: The page's names of the extra columns.
CAPACITY_COLUMN = "Capacity per 1,000 (E2SFCA)"
AUDIENCE_POPULATION_COLUMN = "Residents of the audience"


def audience_select(key: str = "gaps_audience", *, column: Any = st) -> str:
    """Draw the "Audience" select and return the group of residents chosen (``everyone`` by default).

    Parameters
    ----------
    key : str
        The control's key (one per page).
    column : Streamlit container, optional
        Where to draw it (default: the page).
    """
    return column.selectbox(
        "Audience",
        list(RESIDENT_GROUPS),
        format_func=lambda key: RESIDENT_LABELS[key][:1].upper() + RESIDENT_LABELS[key][1:],
        key=key,
        help="Access for one group of residents, by the IoD population by age, to the assets that are for them.",
    )


def with_capacity(area: object, result: object, audience: str, include_stale: bool) -> tuple[pd.DataFrame, str]:
    """Return the gap table with the capacity score (sessions a week per 1,000 residents), and its method note.

    Where the score cannot be measured, the table and note come back as they were and the page says why.
    """
    from assetmap._errors import AssetMapError
    from assetmap.area.capacity import gaps_with_capacity

    options = {"include_stale": include_stale, "network": True, "audience": audience}
    try:
        return gaps_with_capacity(area, result, "sessions_week", options)  # type: ignore[arg-type]
    except AssetMapError as exc:
        from assetmap.ui.common import md_text

        st.caption(f"The capacity score could not be measured: {md_text(exc)}")
        return result.table, result.note  # type: ignore[attr-defined]


def extra_columns() -> dict[str, str]:
    """Return the gap table's columns for the audience and the capacity score, by the page's names."""
    return {"audience_population": AUDIENCE_POPULATION_COLUMN, "capacity_per_1000": CAPACITY_COLUMN}
