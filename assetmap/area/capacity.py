"""Capacity against demand for a loaded area: the E2SFCA score per ward or LSOA, beside the share within reach."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from assetmap import settings
from assetmap.analysis.audience import check_audience
from assetmap.analysis.capacity import CapacityOptions, CapacityResult, capacity_access
from assetmap.analysis.groups import check_groups, group_keys
from assetmap.area.coverage import area_access, counted_assets, default_limit, walk_graph
from assetmap.taxonomy import load_taxonomy

if TYPE_CHECKING:
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
        assets = counted_assets(area, include_stale=include_stale, audience=audience)
        return capacity_access(
            access.residents, assets, groups=list(keys), graph=graph, lookup=area.lookup, options=options
        )

    return area.memo(("capacity", keys, t, include_stale, graph is not None, audience, unit), build)
