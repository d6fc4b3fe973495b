"""Capacity against demand for a loaded area: the E2SFCA score per ward or LSOA, beside the share within reach."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from assetmap import settings
from assetmap.analysis.audience import AGE_COLUMN, check_audience, residents_for
from assetmap.analysis.capacity import CapacityOptions, CapacityResult, capacity_access, capacity_note
from assetmap.analysis.groups import check_groups, group_keys
from assetmap.area.coverage import area_access, counted_assets, default_limit, walk_graph
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
    from assetmap.area.coverage import GapAnalysis
    from assetmap.area.load import Area


def area_capacity(
    area: Area,
    *,
    groups: Iterable[str] | None = None,
    threshold: float | None = None,
    include_stale: bool = True,
    network: bool = True,
    audience: str | None = None,
    unit: str = "sessions_week",
) -> CapacityResult:
    """Return the E2SFCA score of each group for an area's residents, per LSOA and per ward.

    Parameters
    ----------
    area : Area
        A loaded area.
    groups : iterable of str, optional
        Group keys (default: every element and pillar).
    threshold : float, optional
        Catchment size, metres (default ``settings.walk_threshold_m``).
    include_stale : bool
        Count records not confirmed recently (default True).
    network : bool
        Walk along the area's street network where it has one (default).
    audience : str, optional
        One group of residents (``children``, ``working_age``, ``older``): its residents as demand, and the
        assets that serve it as supply. Default ``everyone``.
    unit : {"sessions_week", "places"}
        The capacity counted; records without one in this unit count as ``settings.default_capacity``.

    Returns
    -------
    CapacityResult
        Kept on the area, so a second call with the same arguments costs nothing.
    """
    keys = tuple(group_keys() if groups is None else check_groups(groups, load_taxonomy()))
    audience = check_audience(audience)
    t = float(settings.walk_threshold_m if threshold is None else threshold)
    options = CapacityOptions(threshold=t, unit=unit, default_capacity=float(settings.default_capacity))
    # The residents of the presence run (the gap table's, kept on the area): the same points and audience.
    limit = max(t, default_limit())
    access = area_access(area, include_stale=include_stale, network=network, limit=limit, audience=audience)
    graph = walk_graph(area) if network else None

    def build() -> CapacityResult:
        # Supply is every asset the group can use; each is shared among all the residents it serves.
        assets = counted_assets(area, include_stale=include_stale, audience=audience)
        sharing = None
        if audience != "everyone":
            everyone = area_access(area, include_stale=include_stale, network=network, limit=limit).residents
            sharing = pd.DataFrame(
                {g: residents_for(everyone, area.deprivation, g)["population"] for g in AGE_COLUMN},
                index=access.residents.index,
            )
        return capacity_access(
            access.residents,
            assets,
            groups=list(keys),
            graph=graph,
            lookup=area.lookup,
            options=options,
            sharing=sharing,
        )

    return area.memo(("capacity", keys, t, include_stale, graph is not None, audience, unit), build)


def gaps_with_capacity(area: Area, result: GapAnalysis, unit: str, options: dict[str, Any]) -> tuple[pd.DataFrame, str]:
    """Return the gap table with its ``capacity_per_1000`` column, and the method note with the score's bullet.

    Parameters
    ----------
    area : Area
        The area the gap analysis is of.
    result : GapAnalysis
        From :func:`~assetmap.area.coverage.analyse_gaps`.
    unit : {"sessions_week", "places"}
        The capacity counted.
    options : dict
        ``include_stale``, ``network`` and ``audience``, as given to the gap analysis.
    """
    groups = list(dict.fromkeys(result.table["group"]))
    scores = area_capacity(area, groups=groups, threshold=result.threshold, unit=unit, **options)
    by = scores.by_area if result.by == "area" else scores.by_lsoa
    assert by is not None  # an area always has its lookup
    table = result.table.merge(by[["code", "group", "capacity_per_1000"]], on=["code", "group"], how="left")
    # The whole authority: the population-weighted mean of its wards.
    for group, rows in by.groupby("group"):
        mean = (rows["capacity_per_1000"].fillna(0) * rows["population"]).sum() / max(rows["population"].sum(), 1e-9)
        table.loc[table["whole_area"] & table["group"].eq(group), "capacity_per_1000"] = mean
    lines = result.note.split("\n")
    at = next((i for i, line in enumerate(lines) if line.startswith("- **Data:**")), len(lines))
    return table, "\n".join(lines[:at] + list(capacity_note(scores)) + lines[at:])
