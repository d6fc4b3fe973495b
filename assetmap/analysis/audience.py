"""Access for the people an asset serves: residents by age, and the assets that are for them.

The English Indices of Deprivation publish, beside each LSOA's total population, its
children aged 0-15 and its people aged 60 and over (File 6 and File 7), and File 6
its people aged 16-59. Access for one group of residents (:data:`RESIDENT_GROUPS`)
counts only those residents, each resident point carrying its LSOA's share of them,
and only the assets whose audiences serve them (:class:`~assetmap.taxonomy.Audience`):
an asset for everyone serves every group, one for families serves children and
people of working age. Access for ``everyone`` is the presence-based measure itself:
every resident, every asset.

Every function is pure: inputs are not changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assetmap._errors import Problem, ValidationError
from assetmap.taxonomy import RESIDENT_GROUPS, Taxonomy, load_taxonomy

#: Each group of residents and the population column counting it (File 7 has no 16-59: it is the rest).
AGE_COLUMN: dict[str, str] = {
    "children": "population_0_15",
    "working_age": "population_16_59",
    "older": "population_60_plus",
}

#: How each group of residents is named in tables, notes and controls.
RESIDENT_LABELS: dict[str, str] = {
    "everyone": "everyone",
    "children": "children and young people (0-15)",
    "working_age": "people of working age (16-59)",
    "older": "older people (60+)",
}


def check_audience(audience: str | None) -> str:
    """Return a group of residents (``everyone`` where None), refusing one not of :data:`RESIDENT_GROUPS`."""
    key = "everyone" if audience is None else str(audience).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in RESIDENT_GROUPS:
        raise ValidationError(
            Problem(
                f"unknown audience '{str(audience)[:40]}'.",
                field="audience",
                fix=f"Choose one of: {', '.join(RESIDENT_GROUPS)}.",
            )
        )
    return key


def audience_share(deprivation: pd.DataFrame, audience: str) -> pd.Series:
    """Return, per LSOA code, the share of its residents in one group (1 for ``everyone``).

    Parameters
    ----------
    deprivation : DataFrame
        ``lsoa_code``, ``population`` and the age columns of :data:`AGE_COLUMN` as
        :func:`assetmap.io.deprivation.read_deprivation` reads them. Where the file has no
        16-59 column (File 7), people of working age are the total less 0-15 and 60+.
    audience : str
        One of :data:`~assetmap.taxonomy.RESIDENT_GROUPS`.

    Raises
    ------
    ValidationError
        When the deprivation table has no population by age.
    """
    audience = check_audience(audience)
    total = pd.to_numeric(deprivation["population"], errors="coerce")
    if audience == "everyone":
        return pd.Series(1.0, index=deprivation["lsoa_code"].to_numpy())
    column = AGE_COLUMN[audience]
    if column in deprivation:
        count = pd.to_numeric(deprivation[column], errors="coerce")
    elif audience == "working_age" and {"population_0_15", "population_60_plus"} <= set(deprivation.columns):
        others = deprivation["population_0_15"].astype(float) + deprivation["population_60_plus"].astype(float)
        count = (total - others).clip(lower=0)
    else:
        raise ValidationError(
            Problem(
                f"the deprivation table has no population of {RESIDENT_LABELS[audience]}.",
                field="audience",
                fix="Give the area the IoD population file (File 6), or File 7, which count residents by age; "
                "or choose the audience 'everyone'.",
            )
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (count / total.where(total > 0)).fillna(0.0).clip(0, 1)
    return pd.Series(share.to_numpy(float), index=deprivation["lsoa_code"].to_numpy())


def residents_for(residents: pd.DataFrame, deprivation: pd.DataFrame, audience: str) -> pd.DataFrame:
    """Return resident points carrying only one group's residents (a copy; ``everyone`` returns them as they are).

    Each point's population is scaled by its LSOA's share of the group (:func:`audience_share`), so the
    points of an LSOA add up to its residents of that group.
    """
    audience = check_audience(audience)
    if audience == "everyone":
        return residents
    share = audience_share(deprivation, audience)
    share = share[~share.index.duplicated()]
    factor = residents["lsoa_code"].map(share).fillna(0.0).to_numpy(float)
    out = residents.assign(population=residents["population"].to_numpy(float) * factor)
    out.attrs.update(residents.attrs, audience=audience)
    return out


def serves_audience(assets: pd.DataFrame, audience: str, taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return which assets serve one group of residents (all of them for ``everyone``).

    An asset's audiences are its ``audience_groups`` ("children;families"); where blank, those its own
    words (``audience``) name, else its type's default (:meth:`~assetmap.taxonomy.Taxonomy.audiences_of`).
    Audiences the taxonomy does not know are ignored.
    """
    audience = check_audience(audience)
    if audience == "everyone":
        return np.ones(len(assets), dtype=bool)
    tax = taxonomy or load_taxonomy()
    serving = {a.key for a in tax.audiences if audience in a.serves}
    given = assets["audience_groups"] if "audience_groups" in assets else pd.Series(None, index=assets.index)
    words = assets["audience"] if "audience" in assets else pd.Series(None, index=assets.index)
    types = assets["type"] if "type" in assets else pd.Series(None, index=assets.index)
    known_types = set(tax.type_keys)
    seen: dict[tuple[object, object, object], bool] = {}  # a register repeats a few combinations
    out = np.zeros(len(assets), dtype=bool)
    for i, key in enumerate(zip(given, words, types, strict=True)):
        if key not in seen:
            listed, said, kind = key
            text = str(listed) if isinstance(listed, str) and listed.strip() else None
            if text is None:
                known = kind if kind in known_types else None
                text = tax.audiences_of((), known, said if isinstance(said, str) else None) or "everyone"
            seen[key] = bool(serving & set(text.split(";")))
        out[i] = seen[key]
    return out


def audience_note(audience: str) -> tuple[str, ...]:
    """Return the method note's bullet on the audience (none for everyone)."""
    if audience == "everyone":
        return ()
    return (
        f"- **Audience:** access for {RESIDENT_LABELS[audience]} only. Residents are this group alone, by the "
        "IoD population by age of each LSOA (people of working age are the total less those aged 0-15 and 60 "
        "and over where the file has no 16-59 column), spread over its resident points as the total is; assets "
        "count where they are for this group: for everyone, for it, or for families (children and working age). "
        "A record's audiences are those it lists, else those its own words name, else its type's.",
    )
