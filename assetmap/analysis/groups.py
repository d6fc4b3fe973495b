"""The framework's groups, and the terms every access and gap run shares.

Groups are keyed ``e1`` to ``e11`` for the elements and by pillar key
(``scaling``, ``involving``, ``strengthening``, ``sustaining``). An asset
serves a group when one of its elements is the element, or one of the
pillar's elements: with bit ``i`` standing for element ``i``,
``element_masks(...) & group_masks(...)`` is not zero.

Several groups combine into one group key (:func:`combine_groups`):
``scaling&strengthening`` counts a resident as within reach when an asset of
every part is within reach (:data:`COMBINE` ``all``: the resident's distance is
the largest of the parts' distances), ``scaling|strengthening`` when an asset of
any part is (``any``: the least of them). A combination is served by every
asset serving one of its parts, so its asset count is the number of distinct
assets serving at least one part.

Distances are measured by one of :data:`METHODS` and reported at thresholds
in metres, each checked by :func:`check_thresholds`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from assetmap._errors import Problem, ValidationError
from assetmap.record import parse_elements
from assetmap.taxonomy import Taxonomy, load_taxonomy

#: Distance thresholds, in metres, reported by default (about 5, 10 and 15 minutes' walk).
DEFAULT_THRESHOLDS: tuple[float, ...] = (400.0, 800.0, 1200.0)

#: Largest threshold accepted, in metres: beyond about an hour's walk "within reach" means little.
MAX_THRESHOLD_M: float = 5_000.0

#: How several groups combine: a resident is within reach of an asset of every part, or of any part.
COMBINE: dict[str, str] = {"all": "&", "any": "|"}

#: Access methods an access run can use.
METHODS: tuple[str, ...] = ("network", "straight-line")


# -- groups ---------------------------------------------------------------------------


def group_keys(taxonomy: Taxonomy | None = None) -> list[str]:
    """Return every group key in framework order: ``e1`` to ``e11``, then the pillar keys.

    Parameters
    ----------
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    return [f"e{e.id}" for e in tax.elements] + [p.key for p in tax.pillars]


def group_parts(key: str) -> tuple[list[str], str | None]:
    """Return the parts of a group key and how they combine: ``(["scaling", "e6"], "all")``; ``([key], None)`` alone.

    The key is not checked: :func:`check_groups` does that.
    """
    for how, sign in COMBINE.items():
        if sign in key:
            return [part.strip() for part in key.split(sign)], how
    return [key], None


def combine_groups(keys: Iterable[str], how: str = "all", taxonomy: Taxonomy | None = None) -> str:
    """Return the group key of several groups combined (parts in framework order); one group is its own key.

    ``combine_groups(["strengthening", "scaling"])`` is ``"scaling&strengthening"``, and with ``how="any"``
    ``"scaling|strengthening"``.

    Parameters
    ----------
    keys : iterable of str
        Element and pillar keys (at least one).
    how : {"all", "any"}
        ``all``: within reach of an asset of every group; ``any``: of at least one.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.

    Raises
    ------
    ValidationError
        An unknown key or way of combining, or no key at all.
    """
    tax = taxonomy or load_taxonomy()
    if how not in COMBINE:
        raise ValidationError(Problem(f"cannot combine groups by {how!r}.", field="combine", fix="Use all or any."))
    parts = in_framework_order(check_groups(keys, tax), tax)
    if any(group_parts(k)[1] for k in parts):
        raise ValidationError(
            Problem("a combination of groups cannot contain another.", field="group", fix="Give elements and pillars.")
        )
    if not parts:
        raise ValidationError(Problem("no group was chosen.", field="group", fix="Choose an element or a pillar."))
    return COMBINE[how].join(parts)


def group_label(key: str, taxonomy: Taxonomy | None = None) -> str:
    """Return a group's label: "Element 6: Thriving VCSE sector and volunteering" or "Pillar: Strengthening".

    A combination reads "Scaling and Strengthening (both within reach)" or "Scaling or Strengthening (either
    within reach)"; with more parts, "(all within reach)" or "(any within reach)".

    Raises
    ------
    ValidationError
        When the key is not a group of the taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    key = check_groups([key], tax)[0]
    parts, how = group_parts(key)
    if how is None:
        if re.fullmatch(r"e\d+", key):
            element = tax.element(int(key[1:]))
            return f"Element {element.id}: {element.name}"
        return f"Pillar: {tax.pillar(key).name}"
    names = [
        f"Element {k[1:]}: {tax.element(int(k[1:])).name}" if k.startswith("e") else tax.pillar(k).name for k in parts
    ]
    joined = ", ".join(names[:-1]) + (" and " if how == "all" else " or ") + names[-1]
    if how == "all":
        word = "both" if len(parts) == 2 else "all"
    else:
        word = "either" if len(parts) == 2 else "any"
    return f"{joined} ({word} within reach)"


def group_short_label(key: str, taxonomy: Taxonomy | None = None) -> str:
    """Return a group's label for narrow places: "6 VCSE and volunteering" or "Strengthening (pillar)".

    Raises
    ------
    ValidationError
        When the key is not a group of the taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    check_groups([key], tax)
    if re.fullmatch(r"e\d+", key):
        return tax.element(int(key[1:])).short
    return f"{tax.pillar(key).name} (pillar)"


def check_groups(keys: Iterable[str], tax: Taxonomy, what: str = "group") -> list[str]:
    """Return the keys as text, once checked to be groups of ``tax``; a combination's parts in framework order.

    Raises
    ------
    ValidationError
        Naming the unknown keys; ``what`` names the field ("group").
    """
    keys = [str(k) for k in keys]
    known = group_keys(tax)
    out, unknown = [], []
    for key in keys:
        parts, how = group_parts(key)
        bad = [p for p in parts if p not in known]
        unknown += bad
        if how is None or bad:
            out.append(key)
        elif len(set(parts)) < 2 or any(sign in key for sign in COMBINE.values() if sign != COMBINE[how]):
            unknown.append(key)  # one part alone, or "&" and "|" mixed
        else:
            out.append(COMBINE[how].join(in_framework_order(parts, tax)))
    if unknown:
        raise ValidationError(
            Problem(
                f"unknown {what} key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}.",
                field=what,
                fix=f"Use e1 to e{len(tax.elements)} for the elements or a pillar key ({', '.join(p.key for p in tax.pillars)}), "
                "or two or more of them joined by & (within reach of every one) or | (of any one).",
            )
        )
    return out


def group_masks(keys: Sequence[str], taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return, per group key, the bit mask of the elements it covers (bit ``i`` for element ``i``).

    An asset serves a group when ``element_masks(...) & group_masks(...)`` is not zero.

    Raises
    ------
    ValidationError
        When a key is not a group of the taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    masks = []
    for key in check_groups(keys, tax):
        mask = 0
        for part in group_parts(key)[0]:  # a combination is served by every asset serving one of its parts
            if re.fullmatch(r"e\d+", part):
                mask |= 1 << int(part[1:])
            else:
                mask |= sum(1 << i for i in tax.elements_of_pillar(part))
        masks.append(mask)
    return np.asarray(masks, dtype=np.int64)


def part_unserved(masks: np.ndarray, keys: Sequence[str], taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return, per group key, whether it combines groups by ``all`` and no asset serves one of its parts.

    Nobody is then within reach of every part, though the assets serving the other parts are counted.

    Parameters
    ----------
    masks : ndarray of int64
        The element masks of the assets (:func:`element_masks`), or of each distinct kind of them.
    keys : sequence of str
        Checked group keys.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.
    """
    tax = taxonomy or load_taxonomy()
    out = np.zeros(len(keys), bool)
    for i, key in enumerate(keys):
        parts, how = group_parts(key)
        if how == "all":
            out[i] = any(not ((masks & bits) != 0).any() for bits in group_masks(parts, tax))
    return out


def in_framework_order(keys: Iterable[str], tax: Taxonomy) -> list[str]:
    """Return the distinct keys in framework order: elements ``e1`` to ``e11``, then the pillars, then combinations."""
    order = {k: i for i, k in enumerate(group_keys(tax))}
    return sorted(
        dict.fromkeys(keys), key=lambda k: (order.get(k, len(order)), [order.get(p, 0) for p in group_parts(k)[0]])
    )


# -- choosing groups by name -------------------------------------------------------------


def resolve_groups(
    element: int | str | Iterable[int | str] | None = None,
    pillar: str | Iterable[str] | None = None,
    groups: Iterable[str] | None = None,
    combine: str = "all",
) -> list[str] | None:
    """Return the group keys asked for by element numbers, pillar names or keys, or a list; None for all.

    Several elements and pillars together are one combined group (``["scaling&strengthening"]``), within
    reach of an asset of every one (``combine="all"``) or of any one (``"any"``).

    Raises
    ------
    ValidationError
        An element that does not exist, an unknown pillar or way of combining.
    """
    tax = load_taxonomy()
    elements = [] if element is None else [element] if isinstance(element, int | str) else list(element)
    pillars = [] if pillar is None else [pillar] if isinstance(pillar, str) else list(pillar)
    if combine not in COMBINE:
        raise ValidationError(
            Problem(f"cannot combine groups by {combine!r}.", field="combine", fix="Use --combine all or any.")
        )
    keys = [_element_key(e, tax) for e in elements] + [_pillar_key(p, tax) for p in pillars]
    if keys:
        return [combine_groups(keys, combine, tax)]
    return None if groups is None else check_groups(groups, tax)


def _element_key(element: int | str, tax: Taxonomy) -> str:
    text = str(element).strip().lower().removeprefix("e")
    if not text.isdigit() or int(text) not in {e.id for e in tax.elements}:
        raise ValidationError(
            Problem(
                f"element {element!r} does not exist.",
                field="element",
                fix=f"Elements are numbered 1 to {len(tax.elements)}.",
            )
        )
    return f"e{int(text)}"


def _pillar_key(pillar: str, tax: Taxonomy) -> str:
    text = str(pillar).strip().lower()
    for p in tax.pillars:
        if text in (p.key, p.name.lower()):
            return p.key
    raise ValidationError(
        Problem(
            f"pillar {pillar!r} does not exist.",
            field="pillar",
            fix=f"Choose one of {', '.join(p.name for p in tax.pillars)}.",
        )
    )


# -- thresholds and methods -----------------------------------------------------------


def check_thresholds(thresholds: float | Iterable[float]) -> list[float]:
    """Return the distinct thresholds, in metres, sorted, once checked to be from 1 to :data:`MAX_THRESHOLD_M`.

    Raises
    ------
    ValidationError
        When none is given, or one is not a number in that range.
    """
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)  # type: ignore[arg-type]
    if not values:
        raise ValidationError(
            Problem("no distance thresholds were given.", field="thresholds", fix="Give at least one, e.g. (800,).")
        )
    out = []
    for value in values:
        try:
            t = float(value)  # type: ignore[arg-type]  # anything float() takes
        except (TypeError, ValueError):
            t = float("nan")
        if not np.isfinite(t) or t <= 0 or t > MAX_THRESHOLD_M:
            raise ValidationError(
                Problem(
                    f"distance threshold {value!r} is not a distance from 1 to {MAX_THRESHOLD_M:,.0f} metres.",
                    field="thresholds",
                    fix="Give thresholds in metres, such as 400, 800 and 1200 (5, 10 and 15 minutes' walk).",
                )
            )
        out.append(t)
    return sorted(set(out))


def resolve_method(method: str | None, distance: pd.DataFrame) -> str:
    """Return ``method``, or by default ``distance.attrs['method']``, once checked to be one of :data:`METHODS`.

    Raises
    ------
    ValidationError
        When it is neither.
    """
    method = method if method is not None else distance.attrs.get("method")
    if method not in METHODS:
        raise ValidationError(
            Problem(
                f"access method {method!r} is not one of {', '.join(METHODS)}.",
                field="method",
                fix="Pass method='network' for walking distances along streets, or method='straight-line'.",
            )
        )
    return str(method)


# -- element masks ----------------------------------------------------------------------------


def _mask_of(value: object, valid: set[int]) -> int:
    """Return the bit mask of one asset's elements: a tuple or list of numbers, one number, or text like "1;6"."""
    if value is None or (isinstance(value, float) and value != value):
        return 0
    try:
        if isinstance(value, str):
            numbers: tuple[int, ...] = parse_elements(value, valid) or ()
        elif isinstance(value, int | np.integer):
            numbers = (int(value),)
        else:
            numbers = tuple(int(v) for v in value)  # type: ignore[attr-defined]  # any other iterable
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            Problem(
                f"the assets' elements include {value!r}, which is not a list of element numbers ({exc}).",
                field="elements",
                fix="Give each asset its elements as a tuple such as (1, 6), as read_assets returns them.",
            )
        ) from exc
    unknown = sorted(set(numbers) - valid)
    if unknown:
        raise ValidationError(
            Problem(
                f"the assets name elements that do not exist: {unknown}.",
                field="elements",
                fix=f"Elements are numbered {min(valid)} to {max(valid)}.",
            )
        )
    return sum(1 << i for i in set(numbers))


def _element_kinds(elements: pd.Series, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Return each asset's kind (position among the distinct element lists) and each kind's bit mask.

    A register repeats a few hundred combinations of elements, so each distinct
    combination is read once rather than each of a million records. Assets with
    no elements get the last kind, of mask 0.
    """
    values = elements.to_numpy(dtype=object)
    try:
        kinds, distinct = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # lists or arrays, which cannot be hashed
        values = np.fromiter(
            (tuple(v) if isinstance(v, list | np.ndarray) else v for v in values), dtype=object, count=len(values)
        )
        kinds, distinct = pd.factorize(values, use_na_sentinel=True)
    valid = {e.id for e in tax.elements}
    masks = np.zeros(len(distinct) + 1, dtype=np.int64)
    masks[:-1] = [_mask_of(v, valid) for v in distinct]
    return np.where(kinds < 0, len(distinct), kinds), masks


def element_masks(elements: pd.Series | Sequence[object], taxonomy: Taxonomy | None = None) -> np.ndarray:
    """Return, per asset, the bit mask of the elements it serves: bit ``i`` set for element ``i``.

    Computing it once lets a large register be matched to groups (with
    :func:`group_masks`) and counted by :func:`~assetmap.analysis.gaps.gap_table` (as an
    ``element_mask`` column) without reading the element lists again.

    Parameters
    ----------
    elements : Series or sequence
        Per asset, a tuple of element numbers (as ``read_assets`` gives), one
        number, text such as ``"1;6"``, or None.
    taxonomy : Taxonomy, optional
        Default: the shipped taxonomy.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    ValidationError
        When a value is not a list of element numbers or names an unknown element.
    """
    series = elements if isinstance(elements, pd.Series) else pd.Series(list(elements), dtype=object)
    kinds, masks = _element_kinds(series, taxonomy or load_taxonomy())
    return masks[kinds]


def _kinds_from_masks(values: pd.Series, tax: Taxonomy) -> tuple[np.ndarray, np.ndarray]:
    """Return kinds and masks from an ``element_mask`` column, checked."""
    allowed = sum(1 << e.id for e in tax.elements)
    if pd.api.types.is_integer_dtype(values.dtype) and not values.hasnans:
        mask = values.to_numpy(dtype=np.int64)
        bad = (mask & ~allowed) != 0  # a negative mask has the high bits set
    else:
        number = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(number) & (number >= 0) & (number == np.round(number))
        mask = np.where(whole, number, 0).astype(np.int64)
        bad = ~whole | ((mask & ~allowed) != 0)
    if bad.any():
        raise ValidationError(
            Problem(
                f"{int(bad.sum())} element masks are missing or name elements that do not exist.",
                field="element_mask",
                fix="Build the column with element_masks(), or drop it and give the elements.",
            )
        )
    kinds, distinct = pd.factorize(mask)
    return kinds, np.append(np.asarray(distinct, dtype=np.int64), 0)


def asset_kinds(assets: pd.DataFrame, taxonomy: Taxonomy | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return each asset's kind and each kind's bit mask, from ``element_mask`` where present, else ``elements``.

    A kind is a distinct combination of elements, so a large register is matched to groups one
    combination at a time: asset ``i`` serves the elements of ``masks[kinds[i]]``.

    Raises
    ------
    ValidationError
        When a mask or an element list names an element that does not exist.
    """
    tax = taxonomy or load_taxonomy()
    if "element_mask" in assets:
        return _kinds_from_masks(assets["element_mask"], tax)
    return _element_kinds(assets["elements"], tax)
