"""Colours, symbols and classification shared by the web map and the printed map.

Every palette is colour-blind safe: pillar colours are from the Okabe-Ito set,
area shading from ColorBrewer's sequential schemes. Deprivation always runs
from light (least deprived) to dark (most deprived), so IMD decile 1 is the
darkest class.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Colour of each pillar's assets (Okabe-Ito), keyed by pillar key.
PILLAR_COLOURS: dict[str, str] = {
    "scaling": "#0072B2",  # blue
    "involving": "#009E73",  # bluish green
    "strengthening": "#CC79A7",  # reddish purple
    "sustaining": "#E69F00",  # orange
}

#: Colour used for a pillar the palette does not know (an edited taxonomy).
FALLBACK_COLOUR: str = "#555555"

#: Font Awesome icon name of each pillar, for map markers drawn as icons.
PILLAR_ICONS: dict[str, str] = {
    "scaling": "arrow-up-right-dots",
    "involving": "people-group",
    "strengthening": "hands-holding",
    "sustaining": "seedling",
}

#: Matplotlib marker of each pillar, so printed symbols differ by shape as well as colour.
PILLAR_MARKERS: dict[str, str] = {
    "scaling": "o",
    "involving": "s",
    "strengthening": "^",
    "sustaining": "D",
}

#: Ring round a control focused from the keyboard (the app theme's primary colour: 8:1 on white).
FOCUS_COLOUR: str = "#0b5394"

#: Fill of areas with no value.
NO_DATA_COLOUR: str = "#d9d9d9"

#: Outline of areas on every map.
BOUNDARY_COLOUR: str = "#333333"

# ColorBrewer (Cynthia Brewer, colorbrewer2.org, Apache 2.0) sequential schemes, light to dark,
# for 3 to 9 classes: the published per-count lists, not samples of one ramp.
_YLORRD: dict[int, tuple[str, ...]] = {
    3: ("#ffeda0", "#feb24c", "#f03b20"),
    4: ("#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"),
    5: ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"),
    6: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"),
    7: ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    8: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
    9: ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"),
}
_BLUES: dict[int, tuple[str, ...]] = {
    3: ("#deebf7", "#9ecae1", "#3182bd"),
    4: ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5"),
    5: ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"),
    6: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c"),
    7: ("#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
    8: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"),
    9: ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"),
}

#: Sequential palettes by name; ``"deprivation"`` is for any measure where higher means more deprived.
PALETTES: dict[str, dict[int, tuple[str, ...]]] = {"deprivation": _YLORRD, "count": _BLUES}

#: Largest number of sorted values fed to the Fisher-Jenks search; larger columns are
#: summarised by evenly spaced order statistics first (the exact search is quadratic).
JENKS_SAMPLE: int = 400


def _interpolate(colours: tuple[str, ...], n: int) -> tuple[str, ...]:
    """Spread ``n`` colours evenly along a ramp given by ``colours`` (linear in RGB)."""
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=float)
    stops = np.linspace(0.0, 1.0, len(colours))
    at = np.linspace(0.0, 1.0, n)
    channels = [np.interp(at, stops, rgb[:, j]) for j in range(3)]
    return tuple("#" + "".join(f"{round(ch[i]):02x}" for ch in channels) for i in range(n))


def palette(name: str, k: int) -> tuple[str, ...]:
    """Return ``k`` colours of a sequential palette, light to dark.

    Parameters
    ----------
    name : {"deprivation", "count"}
        ``"deprivation"`` is ColorBrewer YlOrRd, ``"count"`` ColorBrewer Blues.
    k : int
        Number of classes, at least 1. ColorBrewer's own lists serve 3 to 9
        classes; other counts are interpolated along the 9-class ramp.

    Returns
    -------
    tuple of str
        Hex colours, lightest first.
    """
    if name not in PALETTES:
        raise ValueError(f"Unknown palette '{name}'. Use one of: {', '.join(PALETTES)}.")
    if k < 1:
        raise ValueError(f"A palette needs at least one class, not {k}.")
    scheme = PALETTES[name]
    if k in scheme:
        return scheme[k]
    if k == 1:
        return (scheme[3][1],)
    if k == 2:
        return (scheme[3][0], scheme[3][2])
    return _interpolate(scheme[9], k)


def imd_decile_colours() -> dict[int, str]:
    """Return the colour of each national IMD decile; decile 1 (most deprived) is darkest.

    Returns
    -------
    dict
        ``{1: darkest, ..., 10: lightest}``.
    """
    ramp = palette("deprivation", 10)
    return {decile: ramp[10 - decile] for decile in range(1, 11)}


#: Fill of each need-by-access class ``"<need>-<access>"`` (1 low to 3 high) of the bivariate map:
#: Joshua Stevens' teal-pink 3 x 3 scheme, readable with the common colour-vision deficiencies.
#: Need runs along the pink axis and access along the teal one, so the strongest pink
#: (``"3-1"``, high need and low access) is the gap a commissioner looks for first.
BIVARIATE_COLOURS: dict[str, str] = {
    "1-1": "#e8e8e8",
    "1-2": "#ace4e4",
    "1-3": "#5ac8c8",
    "2-1": "#dfb0d6",
    "2-2": "#a5add3",
    "2-3": "#5698b9",
    "3-1": "#be64ac",
    "3-2": "#8c62aa",
    "3-3": "#3b4994",
}

#: Words for the classes of each axis of the bivariate map.
BIVARIATE_WORDS: dict[int, str] = {1: "low", 2: "medium", 3: "high"}


def bivariate(values: pd.Series | np.ndarray | list[object]) -> Classification:
    """Put need-by-access classes (``"3-1"``: high need, low access) into the nine bivariate colours.

    Parameters
    ----------
    values : Series, array or list
        ``"<need>-<access>"`` codes with each part 1 to 3, such as a gap table's
        ``bivariate_class``; missing values get the "no data" class.

    Returns
    -------
    Classification
        Nine classes in :data:`BIVARIATE_COLOURS` order; ``scheme`` is ``"bivariate"``.

    Raises
    ------
    ValueError
        When a value is not one of the nine codes.
    """
    codes = tuple(BIVARIATE_COLOURS)
    index = {code: i for i, code in enumerate(codes)}
    raw = pd.Series(np.asarray(values, dtype=object))
    present = raw.notna().to_numpy()
    bad = sorted({str(v) for v in raw[present] if v not in index})
    if bad:
        raise ValueError(f"Unknown need-by-access class {', '.join(bad)}: use '<need>-<access>' with parts 1 to 3.")
    classes = np.array([index[v] if ok else -1 for v, ok in zip(raw, present, strict=True)], dtype=int)
    labels = tuple(f"{BIVARIATE_WORDS[int(c[0])]} need, {BIVARIATE_WORDS[int(c[2])]} access" for c in codes)
    counts = tuple(int((classes == i).sum()) for i in range(len(codes)))
    return Classification(
        classes,
        tuple(BIVARIATE_COLOURS.values()),
        labels,
        tuple(float(i) for i in range(len(codes))),
        counts,
        int((~present).sum()),
        "bivariate",
    )


def pillar_colour(key: str | None) -> str:
    """Return the colour of a pillar, or a neutral grey for an unknown one."""
    return PILLAR_COLOURS.get(key or "", FALLBACK_COLOUR)


@dataclass(frozen=True)
class Classification:
    """A column's values put into classes, with what a legend needs.

    Attributes
    ----------
    classes : ndarray of int
        Class of each input value, 0-based; -1 where the value is missing.
    colours : tuple of str
        Colour of each class, lightest first.
    labels : tuple of str
        Legend text of each class: the range of its values ("12.3 to 25.0").
    bins : tuple of float
        Upper bound of each class (for deciles, the decile itself).
    counts : tuple of int
        Number of values in each class.
    n_missing : int
        Number of missing values (drawn in :data:`NO_DATA_COLOUR`).
    scheme : str
        The method used, as a legend can name it.
    """

    classes: np.ndarray
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    bins: tuple[float, ...]
    counts: tuple[int, ...]
    n_missing: int
    scheme: str

    def colour_of(self, i: int) -> str:
        """Return the fill of value number ``i`` (the no-data grey where it is missing)."""
        c = int(self.classes[i])
        return NO_DATA_COLOUR if c < 0 else self.colours[c]


def _jenks_bins(values: np.ndarray, k: int) -> np.ndarray:
    import mapclassify

    ordered = np.sort(values)
    if len(ordered) > JENKS_SAMPLE:
        # Evenly spaced order statistics keep the shape of the distribution and,
        # unlike random sampling, give the same breaks on every run.
        ordered = ordered[np.linspace(0, len(ordered) - 1, JENKS_SAMPLE).round().astype(int)]
    with warnings.catch_warnings():
        # Without numba mapclassify warns that it is slow; the sample size bounds the cost.
        warnings.simplefilter("ignore", UserWarning)
        bins = np.asarray(mapclassify.FisherJenks(ordered, k=k).bins, dtype=float)
    bins[-1] = values.max()
    return bins


def _class_label(members: np.ndarray, fmt: str) -> str:
    """Label a class by the range of its own values, so no label claims values no area has."""
    if not len(members):
        return "none"
    lo, hi = float(members.min()), float(members.max())
    if format(lo, fmt) == format(hi, fmt):
        return format(lo, fmt)
    return f"{lo:{fmt}} to {hi:{fmt}}"


def _decile_classes(y: np.ndarray, present: np.ndarray, classes: np.ndarray, n_missing: int) -> Classification:
    """Class IMD deciles 1 to 10 with the fixed decile colours (decile 1, most deprived, darkest)."""
    colours_by_decile = imd_decile_colours()
    bad = present & ~np.isin(y, np.arange(1, 11))
    if bad.any():
        raise ValueError("Deciles must be whole numbers from 1 to 10.")
    classes[present] = y[present].astype(int) - 1
    colours = tuple(colours_by_decile[d] for d in range(1, 11))
    labels = tuple(
        f"{d}" + (" (most deprived 10%)" if d == 1 else " (least deprived 10%)" if d == 10 else "")
        for d in range(1, 11)
    )
    counts = tuple(int((classes == c).sum()) for c in range(10))
    return Classification(
        classes, colours, labels, tuple(float(d) for d in range(1, 11)), counts, n_missing, "IMD decile"
    )


def classify(
    values: pd.Series | np.ndarray | list[float],
    *,
    scheme: str = "natural_breaks",
    k: int = 5,
    palette_name: str = "deprivation",
    fmt: str = ",.1f",
    reverse: bool = False,
) -> Classification:
    """Put values into classes for a choropleth and its legend.

    Parameters
    ----------
    values : Series, array or list of float
        The column to shade by; missing values get their own "no data" class.
    scheme : {"natural_breaks", "quantiles", "deciles"}
        ``natural_breaks`` is Fisher-Jenks (exact and deterministic; long columns
        are summarised by evenly spaced order statistics first), ``quantiles``
        equal-count classes, ``deciles`` the fixed IMD deciles 1 to 10 (decile 1,
        most deprived, darkest; ``k``, ``palette_name`` and ``reverse`` are ignored).
    k : int, default 5
        Number of classes wanted; fewer are made when there are fewer distinct values.
    palette_name : {"deprivation", "count"}
        Sequential palette, light to dark.
    fmt : str, default ",.1f"
        Format specification of the numbers in the labels (``".0%"`` for shares).
    reverse : bool, default False
        Darkest for the lowest values (for measures where low means more deprived, such as ranks).

    Returns
    -------
    Classification
    """
    y = pd.to_numeric(pd.Series(np.asarray(values, dtype=object)), errors="coerce").to_numpy(dtype=float)
    present = ~np.isnan(y)
    classes = np.full(len(y), -1, dtype=int)
    n_missing = int((~present).sum())

    if scheme == "deciles":
        return _decile_classes(y, present, classes, n_missing)

    if scheme not in ("natural_breaks", "quantiles"):
        raise ValueError(f"Unknown scheme '{scheme}'. Use natural_breaks, quantiles or deciles.")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}.")
    observed = y[present]
    distinct = np.unique(observed)
    if len(distinct) == 0:
        return Classification(classes, (), (), (), (), n_missing, scheme.replace("_", " "))
    k = min(k, len(distinct))
    if k == 1:
        bins = np.array([distinct[-1]])
    elif scheme == "quantiles":
        bins = np.unique(np.quantile(observed, np.linspace(0, 1, k + 1)[1:]))
    else:
        bins = np.unique(_jenks_bins(observed, k))
    k = len(bins)
    classes[present] = np.searchsorted(bins, observed, side="left").clip(0, k - 1)
    colours = palette(palette_name, k)
    if reverse:
        colours = colours[::-1]
    counts = tuple(int((classes == c).sum()) for c in range(k))
    labels = tuple(_class_label(observed[classes[present] == c], fmt) for c in range(k))
    return Classification(
        classes,
        colours,
        labels,
        tuple(float(b) for b in bins),
        counts,
        n_missing,
        "natural breaks (classes cut where the values jump most)" if scheme == "natural_breaks" else "quantiles",
    )
