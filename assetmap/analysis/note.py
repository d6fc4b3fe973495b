"""The method note: how a gap table was made, in plain English, for pasting beside it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from assetmap import settings
from assetmap.analysis.groups import check_groups, check_thresholds, group_parts, resolve_method
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Walking pace used to put thresholds in minutes (4.8 km/h).
WALK_METRES_PER_MINUTE: float = 80.0


@dataclass(frozen=True)
class NoteOptions:
    """Optional wording of a method note.

    Attributes
    ----------
    caveats : iterable of str
        Further caveats, one sentence each (LSOAs apportioned between areas, residents no asset can be
        reached from...).
    placement : str, optional
        How residents were placed, to replace the default wording for the method.
    stale_after_days : int, optional
        Age of a stale record (default :data:`assetmap.settings.stale_after_days`).
    units : str
        What the table's rows are, plural as inside a sentence ("wards", "localities", "LSOAs").
    boundaries : str
        What the area's boundaries are called, plural as inside a sentence ("wards", "localities").
    buffer_m : float, optional
        Metres beyond the boundary within which assets were kept; where given, the note says how
        many counted assets lie there (``n_beyond``) and how many records lay further out (``n_left_out``).
    n_beyond : int
        Counted assets beyond the boundary, within ``buffer_m``: in the access figures, in no area's counts.
    n_left_out : int
        Records further out than ``buffer_m``, left out altogether.
    measures : iterable of str
        Further bullets, in Markdown, one per measure beside the presence-based share (the audience, the
        capacity score), placed before the data editions.
    """

    caveats: Iterable[str] = ()
    placement: str | None = None
    stale_after_days: int | None = None
    units: str = "areas"
    boundaries: str = "areas"
    buffer_m: float | None = None
    n_beyond: int = 0
    n_left_out: int = 0
    measures: Iterable[str] = ()


def _short_label(key: str, tax: Taxonomy) -> str:
    parts, how = group_parts(key)
    if how is not None:
        return (" and " if how == "all" else " or ").join(_short_label(p, tax) for p in parts)
    if re.fullmatch(r"e\d+", key):
        element = tax.element(int(key[1:]))
        return f"element {element.id} ({element.name})"
    return f"the {tax.pillar(key).name} pillar"


def _metres(t: float) -> str:
    return f"{t:,.0f} m" if float(t).is_integer() else f"{t:,.1f} m"


def _minutes(t: float) -> str:
    return f"about {round(t / WALK_METRES_PER_MINUTE):.0f} minutes' walk"


def _distance_text(method: str) -> str:
    """Return how distance was measured, for the Distance bullet."""
    if method == "network":
        return (
            "**walking distance along the street network** from each resident point to the nearest asset of "
            "each element or pillar."
        )
    return (
        "**straight-line distance** (as the crow flies, in British National Grid metres) from each resident "
        "point to the nearest asset of each element or pillar. No street network was used: real walks are "
        "longer, so these figures overstate access."
    )


def distance_words(metres: float) -> str:
    """Return a distance as a reader says it: "2 km", "1.5 km", "500 m"."""
    return f"{metres / 1000:g} km" if metres >= 1000 else _metres(metres)


def _border_text(opts: NoteOptions) -> str:
    """Return what the Assets bullet says of assets beyond the boundary ("" where no buffer is given)."""
    if opts.buffer_m is None:
        return ""
    band = distance_words(opts.buffer_m)
    beyond = (
        f"{opts.n_beyond:,} of them {'lies' if opts.n_beyond == 1 else 'lie'} beyond the area's boundary, "
        f"within {band}: residents near the border "
        "use them, so they count for walking access, but in no area's asset counts"
        if opts.n_beyond
        else f"none of them lies beyond the area's boundary (assets within {band} of it would count for "
        "walking access only)"
    )
    one = opts.n_left_out == 1
    left = f"{opts.n_left_out:,} record{'' if one else 's'} further out {'was' if one else 'were'} left out"
    return f" {beyond[0].upper()}{beyond[1:]}; {left}."


def _bullets(
    method: str, t: float, ths: list[float], include_stale: bool, n_assets: dict[str, int], opts: NoteOptions
) -> list[str]:
    """Return the heading and one bullet per topic: assets, residents, distance, reach, need, gap, classes."""
    days = settings.stale_after_days if opts.stale_after_days is None else opts.stale_after_days
    counted = f"{n_assets['all']:,} approved records" if "all" in n_assets else "Approved records"
    stale = (
        f"records not confirmed in the last {days:,} days are included"
        if include_stale
        else f"records not confirmed in the last {days:,} days (stale) are left out"
    )
    placement = opts.placement
    if placement is None:
        placement = (
            "spread evenly over the street-network junctions inside it"
            if method == "network"
            else "spread over resident points inside it"
        )
    others = [_metres(x) for x in ths if x != t]
    listed = " and ".join([", ".join(others[:-1]), others[-1]] if len(others) > 1 else others)
    shown = f"; shares within {listed} are shown beside it" if others else ""
    return [
        "### How these figures were made",
        "",
        f"- **Assets counted:** {counted} from the asset register; pending, rejected and withdrawn records "
        f"never count, and {stale}. An asset counts once for each element it serves, and once for a pillar "
        "however many of that pillar's elements it serves." + _border_text(opts),
        f"- **Residents:** each LSOA's population is {placement}. An LSOA split between {opts.boundaries} counts in each "
        "in proportion to its population there.",
        f"- **Distance:** {_distance_text(method)}",
        f"- **Within reach:** within {_metres(t)} ({_minutes(t)}){shown}. Residents exactly at the "
        "threshold count as within it.",
        "- **Need:** the area's population-weighted average IMD score, placed among all LSOAs in England as a "
        "national percentile (100 = most deprived, 50 = the median LSOA).",
        f"- **Gap index:** need percentile / 100 × (1 − share of residents within {_metres(t)}), from 0 (no gap) "
        f"to 1 (most deprived, nobody within reach). {opts.units[:1].upper()}{opts.units[1:]} are ranked on it, "
        "1 = largest gap.",
        "- **Classes:** need and access are each split into thirds (need by national percentile below 33.3, "
        "below 66.7, above; access by share within reach below 1/3, below 2/3, above) for the 3 × 3 map.",
    ]


def _combined_text(key: str, tax: Taxonomy) -> str:
    """Return the bullet that says how a combination of groups is measured and counted."""
    how = group_parts(key)[1]
    names = _short_label(key, tax)
    if how == "all":
        rule = (
            f"a resident counts as within reach of {names} only when an asset of each of them is within reach "
            "(the distance is the furthest of the nearest assets of each)"
        )
    else:
        rule = (
            f"a resident counts as within reach of {names} when an asset of at least one of them is within reach "
            "(the distance is to the nearest asset of any of them)"
        )
    return (
        f"- **Groups combined:** {rule}. Its asset count is the number of distinct assets serving at least one "
        "of them, each counted once; a what-if or suggested site is taken to serve all of them."
    )


def _caveats(groups: list[str], n_assets: dict[str, int], caveats: Iterable[str], tax: Taxonomy) -> list[str]:
    """Return the caveats, led by the groups no approved asset serves."""
    empty = [g for g in groups if int(n_assets[g]) == 0]
    notes = list(caveats)
    if empty:
        names = "; ".join(_short_label(g, tax) for g in empty)
        notes.insert(
            0,
            f"No approved asset serves {names}: access there is 0 by definition. Check whether the register "
            "is missing such assets or the area lacks them.",
        )
    return notes


#: The terms the pages, tables and maps use, one line each: the note's glossary (the pages show the same lines
#: where each term is first met).
GLOSSARY: dict[str, str] = {
    "VCSE": "the voluntary, community and social enterprise sector: charities, community groups, social "
    "enterprises and volunteers.",
    "Framework elements": "the 11 parts of community-centred public health (Public Health England, 2020), in "
    "4 pillars: Scaling (1-2), Involving (3-5), Strengthening (6-8) and Sustaining (9-11). Each asset serves "
    "one or more of them.",
    "Access share": "the share of an area's residents within walking reach (the distance chosen) of at least "
    "one asset of the chosen group.",
    "Need percentile": "where an area's population-weighted IMD score sits among all LSOAs in England, from 1 "
    "(least deprived) to 100 (most deprived).",
    "Gap index": "need percentile / 100 × (1 − access share): 0 means no gap, 1 the most deprived with nobody "
    "within reach. Rank 1 is the largest gap.",
    "Need-and-access class": "the bivariate class of the 3 × 3 map: need (low, medium, high) by access (low, "
    'medium, high), each split into thirds. "High need, low access" is where commissioners look first.',
    "Natural breaks": "map shading classes cut where the values jump most (the Fisher-Jenks method), so that "
    "similar areas share a colour.",
}


def glossary_lines() -> list[str]:
    """Return the glossary as Markdown lines: a heading, then one bullet per term."""
    return ["", "### Glossary", ""] + [f"- **{term}:** {text}" for term, text in GLOSSARY.items()]


def method_note(
    *,
    method: str,
    threshold: float,
    thresholds: Iterable[float],
    include_stale: bool,
    vintages: dict[str, str],
    n_assets: dict[str, int],
    options: NoteOptions | None = None,
    taxonomy: Taxonomy | None = None,
) -> str:
    """Return a plain-English note, in Markdown, of how a gap table was made.

    For pasting beside the table in a commissioning paper: what was counted,
    how residents were placed, how distance was measured (labelled network or
    straight-line), the thresholds, need and the gap index, the data editions
    and the caveats.

    Parameters
    ----------
    method : {"network", "straight-line"}
        How distances were measured.
    threshold : float
        Distance in metres used for the access share and the gap index.
    thresholds : iterable of float
        Every distance the table reports.
    include_stale : bool
        Whether records not confirmed recently were counted.
    vintages : dict
        Layer name to edition, e.g. ``{"deprivation": "IoD2025", "boundaries": "Wards May 2024"}``.
    n_assets : dict
        Group key to the number of approved assets counted for it; the key
        ``"all"``, where given, is the number of distinct approved assets.
        Groups with 0 are named among the caveats.
    options : NoteOptions, optional
        Further caveats, how residents were placed, and the age of a stale record
        (default: ``NoteOptions()``).
    taxonomy : Taxonomy, optional
        For the names of the groups (default: the shipped taxonomy).

    Returns
    -------
    str
        Markdown: a heading, one bullet per topic, the caveats, then the glossary of terms.

    Raises
    ------
    ValidationError
        An unknown method or group key, or thresholds out of range.
    """
    tax = taxonomy or load_taxonomy()
    opts = options or NoteOptions()
    method = resolve_method(method, pd.DataFrame())
    ths = check_thresholds(thresholds)
    t = check_thresholds([threshold])[0]
    groups = check_groups([k for k in n_assets if k != "all"], tax)
    lines = _bullets(method, t, ths, include_stale, n_assets, opts)
    lines += [_combined_text(k, tax) for k in groups if group_parts(k)[1] is not None]
    lines += list(opts.measures)
    if vintages:
        editions = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in vintages.items())
        lines.append(f"- **Data:** {editions}.")
    notes = _caveats(groups, n_assets, opts.caveats, tax)
    if notes:
        lines += ["", "**Caveats**", ""] + [f"- {c}" for c in notes]
    lines += glossary_lines()
    return "\n".join(lines) + "\n"
