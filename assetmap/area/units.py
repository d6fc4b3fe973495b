"""An area's units (its wards, localities or neighbourhoods): what they are called, and finding one by code or name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from assetmap._errors import AreaError, Problem, ValidationError

#: What an area's boundaries are called where its manifest does not say.
DEFAULT_LABEL: str = "Wards"

#: Most close matches a message lists.
_MAX_SUGGESTIONS: int = 5


def _tidy(text: str) -> str:
    """Return ``text`` with its spaces collapsed and trimmed."""
    return " ".join(str(text).split())


def singular_of(plural: str) -> str:
    """Return the singular of an English plural label: "Localities" -> "Locality", "Wards" -> "Ward".

    Only the last word changes ("PCN neighbourhoods" -> "PCN neighbourhood"); a label that does not
    end in "s" is returned as it is.
    """
    head, _, last = _tidy(plural).rpartition(" ")
    if last.lower().endswith("ies") and len(last) > 3:
        last = last[:-3] + ("Y" if last[-3].isupper() else "y")
    elif last.lower().endswith(("sses", "ches", "shes", "xes")):
        last = last[:-2]
    elif last.lower().endswith("s") and not last.lower().endswith("ss"):
        last = last[:-1]
    return f"{head} {last}" if head else last


def _lower_first(text: str) -> str:
    """Return ``text`` for use inside a sentence: "Wards" -> "wards", but "PCN areas" stays as it is."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


@dataclass(frozen=True)
class UnitLabel:
    """What an area calls its boundaries: "Wards", "Localities", "Neighbourhoods", "PCN neighbourhoods".

    Attributes
    ----------
    plural : str
        The heading form, capitalised: "Wards".
    singular : str
        One of them, capitalised: "Ward".
    """

    plural: str = DEFAULT_LABEL
    singular: str = "Ward"

    @classmethod
    def of(cls, plural: str | None, singular: str | None = None, *, source: str = "boundary_label") -> UnitLabel:
        """Return the label for ``plural`` (default "Wards"), its singular derived where not given.

        Raises
        ------
        AreaError
            ``plural`` or ``singular`` is given but blank; the message names ``source``.
        """
        if plural is None:
            plural = DEFAULT_LABEL
        plural = _tidy(plural)
        if not plural:
            raise AreaError(
                f"{source} is blank. Say what the boundaries are called, e.g. Wards, Localities or Neighbourhoods."
            )
        plural = plural[0].upper() + plural[1:]
        one = _tidy(singular) if singular is not None else singular_of(plural)
        if not one:
            raise AreaError(f"{source}_singular is blank. Give the singular of {plural!r}, or leave it out.")
        return cls(plural=plural, singular=one[0].upper() + one[1:])

    @property
    def plural_lower(self) -> str:
        """The plural inside a sentence: "wards"."""
        return _lower_first(self.plural)

    @property
    def singular_lower(self) -> str:
        """The singular inside a sentence: "ward"."""
        return _lower_first(self.singular)


def _text(value: object) -> str:
    """Return a cell as tidy text; a missing one (None, NaN) as ""."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else _tidy(str(value))


def unit_name(name: object, code: object) -> str:
    """Return a unit's name, or its code where it has none."""
    return _text(name) or _text(code)


def unit_title(name: object, code: object) -> str:
    """Return how one unit is named on a page: "Northgate (E05000001)", or once where the name is its code or blank."""
    code_text, name_text = _text(code), _text(name)
    if not name_text or name_text.casefold() == code_text.casefold():
        return code_text or name_text
    if not code_text:
        return name_text
    return f"{name_text} ({code_text})"


def find_unit(
    boundaries: pd.DataFrame, text: str, *, label: UnitLabel | None = None, area_name: str = "", flag: str | None = None
) -> str:
    """Return the code of the unit ``text`` names: its code or its name, in any case, spaces ignored.

    An exact code wins, then an exact name, then the one name that contains ``text``.

    Parameters
    ----------
    boundaries : DataFrame
        The area's units: ``code`` and ``name``.
    text : str
        What the user typed.
    label : UnitLabel, optional
        What the units are called (default wards), for the message.
    area_name : str
        The area's name, for the message.
    flag : str, optional
        The option or control the text came from (``--ward``), named in the message.

    Returns
    -------
    str
        The unit's code.

    Raises
    ------
    ValidationError
        No unit, or several, match; the message lists the close matches and the fix.
    """
    label = label or UnitLabel()
    codes = boundaries["code"].astype(str).tolist()
    names = boundaries["name"].fillna("").astype(str).tolist()
    wanted = _tidy(text).casefold()
    by_code = [c for c in codes if _tidy(c).casefold() == wanted] if wanted else []
    if len(by_code) == 1:
        return by_code[0]
    by_name = [c for c, n in zip(codes, names, strict=True) if _tidy(n).casefold() == wanted] if wanted else []
    if not by_name and wanted:
        by_name = [c for c, n in zip(codes, names, strict=True) if wanted in _tidy(n).casefold()]
    if len(by_name) == 1:
        return by_name[0]
    titles = dict(zip(codes, (unit_title(n, c) for c, n in zip(codes, names, strict=True)), strict=True))
    where = f"{flag} {_tidy(text)!r}: " if flag else ""
    one, many = label.singular_lower, label.plural_lower
    if by_name:
        listed = ", ".join(titles[c] for c in by_name[:_MAX_SUGGESTIONS])
        more = f" and {len(by_name) - _MAX_SUGGESTIONS} more" if len(by_name) > _MAX_SUGGESTIONS else ""
        message = f"{where}{len(by_name)} {many} have a name with {_tidy(text)!r} in it."
        fix = f"Did you mean: {listed}{more}? Give the {one}'s code or its full name."
    else:
        in_area = f" in {area_name}" if area_name else ""
        message = f"{where}no {one} with code or name {_tidy(text)!r}{in_area}."
        close = _close_matches(wanted, codes, names)
        example = ", ".join(titles[c] for c in (close or codes[:3]))
        fix = f"Did you mean: {example}?" if close else f"Use the code or name of one of its {many}, such as {example}."
    raise ValidationError(Problem(message, fix=fix))


def _close_matches(wanted: str, codes: list[str], names: list[str]) -> list[str]:
    """Return the codes of the units whose name or code is close to ``wanted`` (difflib), best first."""
    keys = {_tidy(n).casefold(): c for c, n in zip(codes, names, strict=True) if _tidy(n)}
    keys.update({c.casefold(): c for c in codes})
    found = difflib.get_close_matches(wanted, list(keys), n=_MAX_SUGGESTIONS * 2, cutoff=0.6)
    return list(dict.fromkeys(keys[k] for k in found))[:_MAX_SUGGESTIONS]


def find_units(
    boundaries: pd.DataFrame,
    texts: Iterable[str],
    *,
    label: UnitLabel | None = None,
    area_name: str = "",
    flag: str | None = None,
) -> list[str]:
    """Return the codes of the units ``texts`` name, in order and without repeats: see :func:`find_unit`.

    Raises
    ------
    ValidationError
        Any text that names no unit or several; every such text is listed.
    """
    found: list[str] = []
    problems: list[Problem] = []
    for text in texts:
        try:
            found.append(find_unit(boundaries, text, label=label, area_name=area_name, flag=flag))
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    return list(dict.fromkeys(found))
