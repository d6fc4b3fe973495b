"""Indices of Deprivation columns: the canonical names, matching a file's headers to them, and LSOA vintages.

Each edition of the Indices, and each repackaging of it, names its columns a
little differently; :func:`detect_columns` maps them all onto
:data:`CANONICAL_COLUMNS`, and the headers and codes tell the LSOA vintage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from assetmap._errors import DataFormatError, Problem, ValidationError

#: Number of LSOAs in England by LSOA vintage: every national rank runs from 1 to this.
N_NATIONAL: dict[int, int] = {2011: 32_844, 2021: 33_755}

#: Edition of the Indices published on each LSOA vintage.
EDITION_BY_VINTAGE: dict[int, str] = {2011: "IoD2019", 2021: "IoD2025"}
VINTAGE_BY_EDITION: dict[str, int] = {v: k for k, v in EDITION_BY_VINTAGE.items()}

#: Header of the total population column in each edition's File 6 and File 7, by LSOA vintage.
POPULATION_HEADER: dict[int, str] = {
    2011: "Total population: mid 2015 (excluding prisoners)",
    2021: "Total population: mid 2022",
}

#: Highest LSOA code of the 2011 set; 2021 LSOAs that are new (splits, merges) have higher numbers.
LAST_2011_LSOA = 33_768

#: Canonical key of the IMD and of each domain or supplementary index, with the
#: names files use for it (normalised: lower case, words only), longest first.
DOMAINS: dict[str, tuple[str, ...]] = {
    "imd": ("index of multiple deprivation imd", "index of multiple deprivation", "imd"),
    "income": ("income deprivation domain", "income domain", "income"),
    "employment": ("employment deprivation domain", "employment domain", "employment"),
    "education": (
        "education skills and training deprivation domain",
        "education skills and training domain",
        "education skills and training",
        "education skills training",
        "education",
    ),
    "health": ("health deprivation and disability domain", "health deprivation and disability", "health"),
    "crime": ("crime domain", "crime"),
    "housing": (
        "barriers to housing and services domain",
        "barriers to housing and services",
        "housing and services",
        "barriers",
        "housing",
    ),
    "environment": (
        "living environment deprivation domain",
        "living environment domain",
        "living environment",
        "environment",
    ),
    "idaci": (
        "income deprivation affecting children index idaci",
        "income deprivation affecting children index",
        "idaci",
    ),
    "idaopi": (
        "income deprivation affecting older people idaopi",
        "income deprivation affecting older people index idaopi",
        "income deprivation affecting older people index",
        "income deprivation affecting older people",
        "idaopi",
    ),
}

MEASURES = ("score", "rank", "decile")

# What follows the measure word in the official names; a truncated header may stop anywhere in it.
_MEASURE_TAILS: dict[str, tuple[str, ...]] = {
    "score": ("rate",),
    "rank": ("where 1 is most deprived",),
    "decile": ("where 1 is most deprived 10 of lsoas",),
}

_ID_PATTERNS: dict[str, tuple[str, ...]] = {
    "lsoa_code": (r"^lsoa ?(?:11|21)? ?(?:code|cd)(?: (?:2011|2021))?$", r"^lsoa(?:11|21)?$"),
    "lsoa_name": (r"^lsoa ?(?:11|21)? ?(?:name|nm)(?: (?:2011|2021))?$",),
    "lad_code": (
        r"^local authority district code(?: \d{4})?$",
        r"^(?:lad|ltla) ?(?:\d{2})? ?(?:code|cd)$",
        r"^local authority code$",
    ),
    "lad_name": (
        r"^local authority district name(?: \d{4})?$",
        r"^(?:lad|ltla) ?(?:\d{2})? ?(?:name|nm)$",
        r"^local authority name$",
    ),
    "population": (
        r"^total population(?: mid \d{4})?(?: excluding prisoners)?$",
        r"^population$",
        r"^total population\b",
    ),
    # File 6 and File 7's denominators by age: the residents an asset for one age group serves.
    "population_0_15": (r"^dependent children aged 0 15\b", r"^population(?: aged)? 0 15$"),
    "population_16_59": (r"^population aged 16 59\b", r"^population(?: aged)? 16 59$"),
    "population_60_plus": (r"^older population aged 60 and over\b", r"^population(?: aged)? 60(?: plus| and over)?$"),
}

#: The population columns by age, in order: 0-15, 16-59 and 60 and over (File 7 has no 16-59).
AGE_COLUMNS: tuple[str, ...] = ("population_0_15", "population_16_59", "population_60_plus")

_ID_COLUMNS = ("lsoa_code", "lsoa_name", "lad_code", "lad_name")

#: Every canonical column, in output order.
CANONICAL_COLUMNS: tuple[str, ...] = (
    *_ID_COLUMNS,
    *(f"{key}_{m}" for key in DOMAINS for m in MEASURES),
    "population",
    *AGE_COLUMNS,
)


# -- header matching ---------------------------------------------------------------------


def _normalise(header: object) -> str:
    """Lower-case words and digits only: 'Income Score (rate)' -> 'income score rate'."""
    text = str(header).replace("\ufeff", "").lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return " ".join(re.findall(r"[a-z0-9]+", text.replace("_", " ")))


def _match_measure(norm: str) -> str | None:
    """Canonical ``<key>_<measure>`` a normalised header names, or None.

    The header must name a domain and a measure in full; what follows the
    measure may be cut short (official files truncate one long header).
    """
    for key, stems in DOMAINS.items():
        for stem in stems:
            if not norm.startswith(stem + " "):
                continue
            rest = norm[len(stem) + 1 :].split(" ")
            measure, tail = rest[0], " ".join(rest[1:])
            if measure not in MEASURES:
                continue
            if tail == "" or any(full.startswith(tail) for full in _MEASURE_TAILS[measure]):
                return f"{key}_{measure}"
    return None


def _match_id(norm: str) -> str | None:
    for canonical, patterns in _ID_PATTERNS.items():
        if any(re.match(p, norm) for p in patterns):
            return canonical
    return None


def detect_columns(columns: Iterable[str], explicit: dict[str, str], name: str) -> dict[str, str]:
    """Map canonical names to file columns: the explicit mapping first, then by header."""
    columns = list(columns)
    unknown = sorted(set(explicit) - set(CANONICAL_COLUMNS))
    if unknown:
        raise DataFormatError(
            f"{name}: columns= names {unknown}, which are not canonical deprivation columns. Use keys among "
            f"lsoa_code, lsoa_name, lad_code, lad_name, population and <key>_score/_rank/_decile with <key> one of "
            f"{', '.join(DOMAINS)}."
        )
    missing = [col for col in explicit.values() if col not in columns]
    if missing:
        raise DataFormatError(
            f"{name}: columns= names {missing}, which the file does not have. Its columns are {columns}."
        )
    found: dict[str, str] = dict(explicit)
    taken = set(explicit.values())
    for col in columns:
        if col in taken:
            continue
        norm = _normalise(col)
        canonical = _match_id(norm) or _match_measure(norm)
        # The first column wins: File 7 lists the IMD before sub-domains with similar names.
        if canonical and canonical not in found:
            found[canonical] = col
            taken.add(col)
    return found


def vintage_from_lsoa_header(found: dict[str, str]) -> int | None:
    """LSOA vintage told by the LSOA header: 'LSOA code (2011)', 'lsoa21_code', 'LSOA11CD'."""
    lsoa = _normalise(found.get("lsoa_code", ""))
    m = re.search(r"\b(2011|2021)\b", lsoa) or re.search(r"lsoa ?(11|21)", lsoa)
    return 2000 + int(m.group(1)[-2:]) if m else None


def vintage_from_other_headers(found: dict[str, str]) -> int | None:
    """LSOA vintage told by the years of other headers: 'LAD code (2019)' or 'mid 2015' mean IoD2019."""
    lad = re.search(r"\b(20\d{2})\b", _normalise(found.get("lad_code", "")))
    if lad:
        return 2011 if int(lad.group(1)) < 2023 else 2021
    pop = re.search(r"mid (\d{4})", _normalise(found.get("population", "")))
    if pop:
        return 2011 if int(pop.group(1)) < 2020 else 2021
    return None


def lsoa_code_number(codes: pd.Series) -> pd.Series:
    """Numeric part of LSOA codes (E01033769 -> 33769); NaN where a code is not E01 + 6 digits."""
    text = codes.astype("string").str.strip()
    return pd.to_numeric(text.str.extract(r"^E01(\d{6})$", expand=False), errors="coerce")


def guess_lsoa_vintage(codes: pd.Series | Iterable[str]) -> int | None:
    """Return 2021 when any code is a 2021-only LSOA (above E01033768), else None (cannot tell).

    Most LSOA codes are the same in 2011 and 2021, so codes alone can prove 2021
    but never 2011.
    """
    numbers = lsoa_code_number(pd.Series(list(codes) if not isinstance(codes, pd.Series) else codes, dtype="string"))
    return 2021 if (numbers > LAST_2011_LSOA).any() else None


def small_area_vintage_of(
    small: pd.Series, n_dep_rows: int, dep_vintage: int | None, unmatched: list[str]
) -> int | None:
    """Tell the small areas' LSOA vintage from their codes, and from what a national deprivation file lacks."""
    vintage = guess_lsoa_vintage(small)
    national = n_dep_rows >= 0.99 * N_NATIONAL.get(dep_vintage or 0, float("inf"))
    if vintage is None and dep_vintage == 2021 and national and unmatched:
        # Codes missing from a national 2021 file, none of them 2021-only: retired 2011 codes.
        vintage = 2011
    return vintage


def check_same_edition(dep_vintage: int, pop_vintage: int | None, dep_name: str, pop_name: str) -> None:
    """Refuse a population file of another edition than the deprivation file, naming both and the file to give.

    Parameters
    ----------
    dep_vintage : int
        LSOA vintage of the deprivation file (2011 or 2021).
    pop_vintage : int or None
        LSOA vintage of the population file; None where the file does not tell (nothing is refused).
    dep_name, pop_name : str
        The two files' names, for the message.

    Raises
    ------
    ValidationError
        When the two are on different LSOA vintages: their LSOAs differ, so the population would be
        missing or wrong for many of them.
    """
    if pop_vintage is None or pop_vintage == dep_vintage:
        return
    edition, other = EDITION_BY_VINTAGE[dep_vintage], EDITION_BY_VINTAGE[pop_vintage]
    raise ValidationError(
        Problem(
            f"this is the {other} population (on {pop_vintage} LSOAs) but the deprivation file {dep_name} is "
            f"{edition} (on {dep_vintage} LSOAs). The two editions cannot be mixed: their LSOAs differ, so many "
            "would have a wrong population or none.",
            file=pop_name,
            fix=f"Give the {edition} population file instead (File 6 of {edition}, with the column "
            f"'{POPULATION_HEADER[dep_vintage]}'), or give the {edition} File 7 as the deprivation file, "
            "which includes the population and needs no population file.",
        )
    )
