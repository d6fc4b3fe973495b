"""English Indices of Deprivation: LSOA files into one canonical table.

MHCLG publishes the Indices in several files (File 1: IMD ranks and deciles;
File 2: domain ranks and deciles; File 5: scores; File 6: population
denominators; File 7: everything in one CSV) and each edition names its
columns a little differently. :func:`read_deprivation` reads any of them, or a
third party's repackaging with short names, into the same columns:

``lsoa_code``, ``lsoa_name``, ``lad_code``, ``lad_name``, then for the IMD and
each domain ``<key>_score``, ``<key>_rank``, ``<key>_decile`` (only those in the
file), then ``population``. Domain keys: :data:`assetmap.io.iod_columns.DOMAINS`.

Ranks and deciles keep the published direction: rank 1 and decile 1 are the
most deprived.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import read_table, sniff_format
from assetmap.io.iod_columns import (
    AGE_COLUMNS,
    CANONICAL_COLUMNS,
    DOMAINS,
    EDITION_BY_VINTAGE,
    LAST_2011_LSOA,
    MEASURES,
    N_NATIONAL,
    VINTAGE_BY_EDITION,
    check_same_edition,
    detect_columns,
    guess_lsoa_vintage,
    lsoa_code_number,
    small_area_vintage_of,
    vintage_from_lsoa_header,
    vintage_from_other_headers,
)

_LSOA_CODE = re.compile(r"^E01\d{6}$")
_MAX_LISTED = 20


# -- values ----------------------------------------------------------------------------


def _numbers(values: pd.Series) -> pd.Series:
    """Parse numbers written '29,199', ' 1296.00 ' or '1 296': NaN where not a number."""
    try:
        # Fast path: clean official files parse with plain float().
        return pd.Series(np.asarray(values.astype(object), dtype="float64"), index=values.index)
    except (TypeError, ValueError):
        out = pd.to_numeric(values.astype(object), errors="coerce").astype("float64")
    # Only cells that fail plain parsing go through the (slower) clean-up.
    redo = out.isna() & values.notna()
    if redo.any():
        text = values[redo].astype("string").str.strip().str.replace(r"(?<=\d)[,\s](?=\d{3}\b)", "", regex=True)
        out[redo] = pd.to_numeric(text.astype(object), errors="coerce")
    return out


def _blank(values: pd.Series) -> pd.Series:
    """Cells that are empty or only spaces."""
    return values.isna() | values.astype("string").str.fullmatch(r"\s*").fillna(True).astype(bool)


def _cell_problems(bad: pd.Series, raw: pd.Series, message: str, name: str, field: str, fix: str) -> list[Problem]:
    """One problem per bad cell (spreadsheet row numbers), then one that counts the rest."""
    rows = np.flatnonzero(bad.to_numpy())
    problems = [
        Problem(message.format(value=raw.iloc[i]), file=name, row=int(i) + 2, field=field, fix=fix)
        for i in rows[:_MAX_LISTED]
    ]
    if len(rows) > _MAX_LISTED:
        problems.append(Problem(f"{len(rows) - _MAX_LISTED} more rows like these.", file=name, field=field))
    return problems


def _check_codes(codes: pd.Series, raw: pd.Series, name: str, field: str) -> list[Problem]:
    problems = _cell_problems(
        codes.isna() | ~codes.fillna("").str.match(_LSOA_CODE),
        raw.fillna(""),
        "'{value}' is not an English LSOA code (E01 and six digits).",
        name,
        field,
        "Check that this column holds LSOA codes; delete footnote or total rows.",
    )
    dup = codes.duplicated(keep=False) & codes.notna()
    if dup.any():
        first = codes[dup].iloc[0]
        rows = (np.flatnonzero(dup.to_numpy()) + 2).tolist()
        problems.append(
            Problem(
                f"{int(codes[dup].nunique())} LSOA codes appear more than once (e.g. '{first}'), on rows "
                f"{rows[:_MAX_LISTED]}{' ...' if len(rows) > _MAX_LISTED else ''}.",
                file=name,
                row=rows[0],
                field=field,
                fix="Keep one row per LSOA; if the file is a stack of several areas or editions, load one of them.",
            )
        )
    return problems


# -- reading -----------------------------------------------------------------------------


def _check_kind(path: Path) -> str:
    """Refuse non-table files with a message about deprivation data, not map layers."""
    if path.is_file() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            head = fh.read(4096)
        if b"\x00" in head and not head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            raise DataFormatError(
                f"{path.name}: a binary file, not a table, whatever its name says. Give the Indices of "
                "Deprivation file as CSV or XLSX (for example File 7, 'File_7_..._All_IoD..._Scores...csv')."
            )
    fmt = sniff_format(path)
    if fmt not in ("csv", "xlsx"):
        raise DataFormatError(
            f"{path.name}: a {fmt} map layer, not a table. Give the Indices of Deprivation file as CSV or XLSX."
        )
    return fmt


def best_sheet(path: Path) -> str | int:
    """Pick the worksheet with an LSOA column and the most recognised columns (official XLSX open on 'Notes')."""
    try:
        sheets = pd.read_excel(path, sheet_name=None, nrows=0, engine="openpyxl")
    except (ValueError, KeyError, OSError, SyntaxError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFormatError(f"{path.name}: cannot read the workbook ({exc}). Save it again as .xlsx.") from exc
    best: tuple[int, str | int] = (0, 0)
    for sheet_name, frame in sheets.items():
        found = detect_columns([str(c).strip() for c in frame.columns], {}, path.name)
        score = len(found) if "lsoa_code" in found else 0
        if score > best[0]:
            best = (score, sheet_name)
    return best[1]


def _read_raw(path: str | Path, sheet: str | int | None) -> tuple[pd.DataFrame, str]:
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"{path}: no such file. Check the path and the file name.")
    fmt = _check_kind(path)
    if fmt == "xlsx" and sheet is None:
        sheet = best_sheet(path)
    raw = read_table(path, sheet=sheet)
    return raw, path.name


#: Other files an officer may give in the deprivation file's place, told by their headers (no IoD measure
#: among them): what the message calls each, and where it goes instead. Postcode files come first: they have
#: LSOA and ward columns too.
_OTHER_FILES: tuple[tuple[str, str, str], ...] = (
    (r"^(pcds|pcd[278]?|postcode|post code)$", "a postcode lookup", "the postcode lookup"),
    (
        r"^(wd\d{2}cd|ward\d{2}_?code|ward_?code|msoa\d{2}cd|(neighbourhood|nbhd)_?code)$",
        "an LSOA-to-ward lookup",
        "the LSOA-to-ward lookup",
    ),
)

#: Headers of the LSOA codes of one edition ("LSOA11CD", "lsoa21_code"): two of them make a lookup between editions.
_LSOA_EDITION = r"^lsoa\d{2}(cd|_?code)$"


def other_file_kind(columns: Iterable[str], found: dict[str, str]) -> tuple[str, str] | None:
    """Return what a table given as the deprivation file looks like instead, and where it goes; None if it may be one.

    A file with any deprivation score, rank or decile column is taken as a deprivation file
    (its columns may still need naming). One without is told by its headers: a postcode
    lookup, an LSOA-to-ward lookup, or the IoD population file (File 6).

    Parameters
    ----------
    columns : iterable of str
        The file's headers.
    found : dict
        Canonical name to column, as :func:`detect_columns` found them.

    Returns
    -------
    (str, str) or None
        What the file looks like ("an LSOA-to-ward lookup") and where to give it ("the LSOA-to-ward lookup";
        "" for a file no layer takes).
    """
    if any(key.endswith(tuple(f"_{m}" for m in MEASURES)) for key in found):
        return None
    headers = [str(c).replace("\ufeff", "").strip().lower() for c in columns]
    for pattern, kind, where in _OTHER_FILES:
        if any(re.match(pattern, h) for h in headers):
            return kind, where
    if len({h for h in headers if re.match(_LSOA_EDITION, h)}) > 1:
        return "a lookup between LSOA editions", ""
    # File 6: population columns alone, nothing that could be a score under a header of its own.
    rest = [h for c, h in zip(columns, headers, strict=True) if c not in found.values()]
    if "population" in found and all(re.search(r"population|aged|children|prisoners", h) for h in rest):
        return "the IoD population file (File 6)", "the population file"
    return None


def wrong_file(name: str, columns: list[str], found: dict[str, str]) -> DataFormatError | None:
    """Return the error for a file that is plainly not a deprivation file (see :func:`other_file_kind`), or None."""
    other = other_file_kind(columns, found)
    if other is None:
        return None
    shown = ", ".join(map(str, columns[:8])) + (", ..." if len(columns) > 8 else "")
    return DataFormatError(
        f"{name}: this looks like {other[0]}, not an Indices of Deprivation file: it has no deprivation score, "
        f"rank or decile column (its columns: {shown}). "
        + (f"Give it as {other[1]}, and as the deprivation file give " if other[1] else "As the deprivation file give ")
        + "the IoD file itself (File 7, with every score, rank and the population, is best)."
    )


def _no_lsoa_column(name: str, columns: list[str]) -> DataFormatError:
    return DataFormatError(
        f"{name}: no LSOA code column found among {columns}. Expected a header such as 'LSOA code (2021)', "
        "'LSOA code (2011)', 'LSOA21CD' or 'lsoa21_code'; otherwise name it on the Data page "
        "('LSOA code column'), or rename the column to 'LSOA code (2021)'."
    )


def read_deprivation(
    path: str | Path,
    *,
    columns: dict[str, str] | None = None,
    population: str | Path | pd.DataFrame | None = None,
    sheet: str | int | None = None,
    edition: str | None = None,
) -> pd.DataFrame:
    """Read an English Indices of Deprivation file into one row per LSOA in canonical columns.

    Official Files 1, 2, 5, 6 and 7 of IoD2019 and IoD2025 are recognised by
    their headers, matched by normalised prefix (so BOMs, punctuation and a
    truncated header do not matter), as is the short layout of repackaged
    files (``lsoa21_code``, ``IMD_score``, ``Income_rank``...). The file kind
    is told by content: CSV (UTF-8 with or without BOM, or Windows-1252) or XLSX.

    Parameters
    ----------
    path : str or Path
        The file.
    columns : dict, optional
        ``{canonical name: file column}`` for columns the headers do not give
        away, e.g. ``{"lsoa_code": "LSOA", "imd_score": "IMD19 score"}``.
        Anything not named is still detected.
    population : str, Path or DataFrame, optional
        Population per LSOA where the file has none, or to use instead of the
        file's own: an IoD File 6, or a table with ``lsoa_code`` and ``population``.
    sheet : str or int, optional
        Worksheet of an XLSX workbook; by default the one with an LSOA column
        and the most recognised columns.
    edition : {"IoD2019", "IoD2025"}, optional
        The edition, where neither the headers nor the codes tell it.

    Returns
    -------
    DataFrame
        ``lsoa_code`` (str), ``lsoa_name``, ``lad_code``, ``lad_name`` where
        present, ``<key>_score`` (float), ``<key>_rank`` and ``<key>_decile``
        (int) for each key in :data:`DOMAINS` the file has, and ``population``
        (float) where known. ``attrs``: ``edition`` ("IoD2019" or "IoD2025"),
        ``lsoa_vintage`` (2011 or 2021), ``n_national`` (32,844 or 33,755),
        ``source`` (file name), ``column_map`` (canonical name to file column).

    Raises
    ------
    DataFormatError
        When the file is missing, empty, not a table, or has no LSOA column.
    ValidationError
        Listing every bad cell: codes that are not E01 codes, duplicated codes,
        scores or ranks that are not numbers, deciles outside 1-10, ranks
        outside 1 to the national number of LSOAs.

    Warns
    -----
    AssetMapWarning
        When the edition had to be assumed, or some LSOAs have no population.
    """
    if edition is not None and edition not in VINTAGE_BY_EDITION:
        raise ValueError(f"edition must be one of {sorted(VINTAGE_BY_EDITION)}, not {edition!r}.")
    raw, name = _read_raw(path, sheet)
    found = detect_columns(list(raw.columns), dict(columns or {}), name)
    other = wrong_file(name, list(raw.columns), found)
    if other is not None:
        raise other
    if "lsoa_code" not in found:
        raise _no_lsoa_column(name, list(raw.columns))
    codes = raw[found["lsoa_code"]].astype("string").str.strip().str.upper()
    ranks = {c: _numbers(raw[found[c]]) for c in found if c.endswith("_rank")}
    vintage = _lsoa_vintage(edition, found, codes, ranks, name)
    out, problems = _read_values(raw, found, ranks, codes, name, vintage)
    if problems:
        raise ValidationError(problems, summary=f"{name}: the deprivation file has problems to fix:")
    df = _with_population(_canonical_frame(out), population, name, vintage)
    df.attrs.update(
        edition=EDITION_BY_VINTAGE[vintage],
        lsoa_vintage=vintage,
        n_national=N_NATIONAL[vintage],
        source=name,
        column_map={k: found[k] for k in CANONICAL_COLUMNS if k in found},
    )
    return df


def _with_population(
    df: pd.DataFrame, population: str | Path | pd.DataFrame | None, name: str, vintage: int
) -> pd.DataFrame:
    """Join the population given apart from the file (of the same edition), or warn of LSOAs without one."""
    if population is not None:
        return _join_population(df, population, name, vintage)
    if "population" in df and df["population"].isna().any():
        _warn_missing_population(df, name, None, stacklevel=4)  # the caller of read_deprivation
    return df


def _canonical_frame(columns: dict[str, Any]) -> pd.DataFrame:
    """Return the checked columns as a frame, ranks and deciles as plain integers, in canonical order."""
    df = pd.DataFrame(columns)
    for col in df.columns:
        if col.endswith(("_rank", "_decile")):
            df[col] = df[col].astype("int64")
    return df[[c for c in CANONICAL_COLUMNS if c in df.columns]]


def _code_problems(codes: pd.Series, raw_codes: pd.Series, name: str, field: str, vintage: int) -> list[Problem]:
    """List bad and repeated LSOA codes, and 2021-only codes in a file on 2011 LSOAs."""
    problems = _check_codes(codes, raw_codes, name, field)
    if vintage == 2011:
        problems += _cell_problems(
            lsoa_code_number(codes) > LAST_2011_LSOA,
            raw_codes,
            "'{value}' is a 2021 LSOA code, but the file is on 2011 LSOAs (IoD2019).",
            name,
            field,
            "Use the IoD2025 file for 2021 LSOAs, or check the edition.",
        )
    return problems


def _read_values(
    raw: pd.DataFrame, found: dict[str, str], ranks: dict[str, pd.Series], codes: pd.Series, name: str, vintage: int
) -> tuple[dict[str, Any], list[Problem]]:
    """Read every recognised column into canonical columns; list the problems with their cells, codes first."""
    raw_codes = raw[found["lsoa_code"]].astype("string")
    out: dict[str, Any] = {"lsoa_code": codes.astype(object)}
    problems = _code_problems(codes, raw_codes, name, found["lsoa_code"], vintage)
    for col in ("lsoa_name", "lad_code", "lad_name"):
        if col in found:
            out[col] = raw[found[col]].astype("string").str.strip().astype(object)
    for canonical in (f"{key}_{measure}" for key in DOMAINS for measure in MEASURES):
        if canonical in found:
            out[canonical], cell_problems = _measure(raw[found[canonical]], canonical, ranks, name, found, vintage)
            problems += cell_problems
    for column in ("population", *AGE_COLUMNS):
        if column in found:
            text = raw[found[column]]
            out[column] = values = _numbers(text)
            problems += _cell_problems(
                (values.isna() & ~_blank(text)) | (values < 0),
                text,
                "'{value}' is not a population (a number, 0 or more).",
                name,
                found[column],
                _FIX_NUMBER,
            )
    return out, problems


_FIX_NUMBER = "Correct the value; numbers may use a decimal point and thousands commas, nothing else."


def _lsoa_vintage(
    edition: str | None, found: dict[str, str], codes: pd.Series, ranks: dict[str, pd.Series], name: str
) -> int:
    """Tell the LSOA vintage: edition given, LSOA header, 2021-only codes, ranks over 32,844, other headers; else 2021."""
    vintage = VINTAGE_BY_EDITION[edition] if edition else vintage_from_lsoa_header(found)
    if vintage is None:
        vintage = guess_lsoa_vintage(codes.dropna())
    if vintage is None and any((r > N_NATIONAL[2011]).any() for r in ranks.values()):
        vintage = 2021
    if vintage is None:
        vintage = vintage_from_other_headers(found)
    if vintage is None:
        vintage = 2021
        warnings.warn(
            f"{name}: neither the headers nor the codes tell whether this is IoD2025 (2021 LSOAs) or IoD2019 "
            "(2011 LSOAs); read as IoD2025. If it is IoD2019, pass edition='IoD2019'.",
            AssetMapWarning,
            stacklevel=3,  # the caller of read_deprivation
        )
    return vintage


def _measure(
    text: pd.Series, canonical: str, ranks: dict[str, pd.Series], name: str, found: dict[str, str], vintage: int
) -> tuple[pd.Series, list[Problem]]:
    """Parse one score, rank or decile column; return its values and the problems with its cells."""
    measure = canonical.rsplit("_", 1)[1]
    field = found[canonical]
    values = ranks[canonical] if measure == "rank" else _numbers(text)
    blank = text.isna() if values.notna().all() else _blank(text)
    problems = _cell_problems(blank, text, "the value is empty.", name, field, "Fill it in from the source.")
    problems += _cell_problems(values.isna() & ~blank, text, "'{value}' is not a number.", name, field, _FIX_NUMBER)
    ok = values.notna()
    if measure == "decile":
        problems += _cell_problems(
            ok & ~values.isin(range(1, 11)),
            text,
            "decile {value} is not a whole number from 1 to 10.",
            name,
            field,
            "Deciles run from 1 (most deprived 10%) to 10.",
        )
    elif measure == "rank":
        n_national = N_NATIONAL[vintage]
        whole = values == np.floor(values)
        problems += _cell_problems(
            ok & ~(whole & values.between(1, n_national)),
            text,
            f"rank {{value}} is not a whole number from 1 to {n_national:,} (the number of "
            f"{vintage} LSOAs in England).",
            name,
            field,
            "Check the edition: IoD2019 ranks 32,844 LSOAs (2011), IoD2025 33,755 (2021).",
        )
    return (values.round().astype("Int64") if measure != "score" else values), problems


def _warn_missing_population(df: pd.DataFrame, name: str, pop_name: str | None, stacklevel: int = 3) -> None:
    missing = df.loc[df["population"].isna(), "lsoa_code"].tolist()
    where = f"in {pop_name}" if pop_name else "in the file"
    warnings.warn(
        f"{name}: {len(missing)} of {len(df)} LSOAs have no population {where} "
        f"({', '.join(missing[:10])}{', ...' if len(missing) > 10 else ''}). Summaries need a population for "
        "every LSOA: use the population file (File 6) of the same edition.",
        AssetMapWarning,
        stacklevel=stacklevel,
    )


def _join_population(df: pd.DataFrame, population: str | Path | pd.DataFrame, name: str, vintage: int) -> pd.DataFrame:
    if isinstance(population, pd.DataFrame):
        pop, pop_name = _population_from_frame(population), "the population table"
    else:
        pop = read_population(population)
        pop_name = pop.attrs["source"]
        check_same_edition(vintage, pop.attrs["lsoa_vintage"], name, pop_name)
    by_code = pop.set_index("lsoa_code")
    values = df["lsoa_code"].map(by_code["population"])
    if values.notna().sum() == 0:
        raise ValidationError(
            Problem(
                f"none of the {len(df)} LSOA codes match the {len(pop)} codes in {pop_name}.",
                file=name,
                field="lsoa_code",
                fix="Use the population file (File 6) of the same edition: IoD2019 is on 2011 LSOAs, IoD2025 on 2021.",
            )
        )
    out = df.drop(columns=["population", *AGE_COLUMNS], errors="ignore").assign(population=values.astype("float64"))
    for column in [c for c in AGE_COLUMNS if c in by_code]:  # the population file's ages replace the file's own
        out[column] = df["lsoa_code"].map(by_code[column]).astype("float64")
    if out["population"].isna().any():
        _warn_missing_population(out, name, pop_name, stacklevel=5)  # the caller of read_deprivation
    return out


def _population_from_frame(frame: pd.DataFrame) -> pd.DataFrame:
    found = detect_columns([str(c) for c in frame.columns], {}, "the population table")
    code_col = "lsoa_code" if "lsoa_code" in frame.columns else found.get("lsoa_code")
    pop_col = "population" if "population" in frame.columns else found.get("population")
    if code_col is None or pop_col is None:
        raise DataFormatError(
            f"the population table needs an LSOA code column and a population column; it has {list(frame.columns)}. "
            "Rename them 'lsoa_code' and 'population'."
        )
    return pd.DataFrame(
        {
            "lsoa_code": frame[code_col].astype("string").str.strip().str.upper().astype(object),
            "population": _numbers(frame[pop_col]),
        }
    )


def read_population(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read population per LSOA from an IoD File 6 (IoD2019 mid-2015 or IoD2025 mid-2022).

    Parameters
    ----------
    path : str or Path
        The file, CSV or XLSX. The total population column is found by its
        header (``Total population: mid 2015 (excluding prisoners)``,
        ``Total population: mid 2022``, or ``population``).
    sheet : str or int, optional
        Worksheet of an XLSX workbook; found when omitted.

    Returns
    -------
    DataFrame
        ``lsoa_code`` (str) and ``population`` (float), with ``population_0_15``, ``population_16_59``
        and ``population_60_plus`` where the file has them; ``attrs['source']`` and
        ``attrs['lsoa_vintage']`` (2011, 2021 or None where the file does not tell).

    Raises
    ------
    DataFormatError
        When the file cannot be read or has no LSOA or population column.
    ValidationError
        For bad or duplicated codes, and populations that are not numbers of 0 or more.
    """
    raw, name = _read_raw(path, sheet)
    cols = list(raw.columns)
    found = detect_columns(cols, {}, name)
    if "lsoa_code" not in found:
        raise DataFormatError(
            f"{name}: no LSOA code column found among {cols}. Expected 'LSOA code (2011)' or 'LSOA code (2021)' "
            "as in IoD File 6, or a column named lsoa_code."
        )
    if "population" not in found:
        raise DataFormatError(
            f"{name}: no total population column found among {cols}. Expected 'Total population: mid 2022' "
            "(IoD2025 File 6), 'Total population: mid 2015 (excluding prisoners)' (IoD2019) or 'population'."
        )
    raw_codes = raw[found["lsoa_code"]].astype("string")
    codes = raw_codes.str.strip().str.upper()
    problems = _check_codes(codes, raw_codes, name, found["lsoa_code"])
    out = pd.DataFrame({"lsoa_code": codes.astype(object)})
    for column in ("population", *(c for c in AGE_COLUMNS if c in found)):
        text = raw[found[column]]
        out[column] = values = _numbers(text)
        problems += _cell_problems(
            values.isna() | (values < 0),
            text.fillna(""),
            "'{value}' is not a population (a number, 0 or more).",
            name,
            found[column],
            "Correct the value; numbers may use a decimal point and thousands commas.",
        )
    if problems:
        raise ValidationError(problems, summary=f"{name}: the population file has problems to fix:")
    vintage = vintage_from_lsoa_header(found) or guess_lsoa_vintage(codes) or vintage_from_other_headers(found)
    out.attrs.update(source=name, lsoa_vintage=vintage)
    return out


# -- matching against the area's small areas -------------------------------------------


def check_lsoa_match(
    deprivation: pd.DataFrame,
    small_area_codes: pd.Series | Iterable[str],
    *,
    file: str | None = None,
    min_share: float = 0.5,
    small_area_vintage: int | None = None,
) -> dict[str, Any]:
    """Check that the deprivation rows cover the area's small areas, and say why not.

    Parameters
    ----------
    deprivation : DataFrame
        As returned by :func:`read_deprivation` (``lsoa_code``; ``attrs`` used).
    small_area_codes : Series or iterable of str
        LSOA codes of the area's small areas. A Series may carry
        ``attrs['lsoa_vintage']``; otherwise the vintage is told from the codes where possible.
    file : str, optional
        Deprivation file name for the message (default ``attrs['source']``).
    min_share : float
        Smallest share of small areas that must have a deprivation row.
    small_area_vintage : int, optional
        2011 or 2021, where known.

    Returns
    -------
    dict
        ``n_small_areas``, ``n_matched``, ``share``, ``unmatched`` (sorted codes),
        ``deprivation_vintage``, ``small_area_vintage`` (None where unknown).

    Raises
    ------
    ValidationError
        When fewer than ``min_share`` of the small areas have a deprivation row,
        or when some have none and the two sides are known to be on different
        LSOA vintages (2011 and 2021 codes mostly agree, so a mixed pair can
        match most codes and still be wrong). The message says which vintage
        each side is on and what to use instead.

    Warns
    -----
    AssetMapWarning
        When some, but not too many, small areas have no deprivation row.
    """
    file = file or deprivation.attrs.get("source") or "the deprivation file"
    small = pd.Series(list(small_area_codes), dtype="string").str.strip().str.upper().dropna().drop_duplicates()
    if small_area_vintage is None and isinstance(small_area_codes, pd.Series):
        small_area_vintage = small_area_codes.attrs.get("lsoa_vintage")
    dep_codes = set(deprivation["lsoa_code"].astype(str))
    matched = small.isin(dep_codes)
    unmatched = sorted(small[~matched].tolist())
    dep_vintage = deprivation.attrs.get("lsoa_vintage") or guess_lsoa_vintage(deprivation["lsoa_code"])
    if small_area_vintage is None:
        small_area_vintage = small_area_vintage_of(small, len(deprivation), dep_vintage, unmatched)
    n, k = len(small), int(matched.sum())
    share = k / n if n else 0.0
    report = {
        "n_small_areas": n,
        "n_matched": k,
        "share": share,
        "unmatched": unmatched,
        "deprivation_vintage": dep_vintage,
        "small_area_vintage": small_area_vintage,
    }
    if n == 0:
        raise ValidationError(
            Problem("the area has no small areas to match.", file=file, fix="Load the LSOA boundaries of the area.")
        )
    mixed = bool(unmatched) and bool(dep_vintage and small_area_vintage and dep_vintage != small_area_vintage)
    if share < min_share or mixed:
        raise ValidationError(_mismatch_problem(deprivation, report, file))
    if unmatched:
        warnings.warn(
            f"{file}: {len(unmatched)} of {n} small areas have no deprivation row "
            f"({', '.join(unmatched[:10])}{', ...' if len(unmatched) > 10 else ''}); they are left out of the "
            "deprivation summaries.",
            AssetMapWarning,
            stacklevel=2,
        )
    return report


def _mismatch_problem(deprivation: pd.DataFrame, report: dict[str, Any], file: str) -> Problem:
    """Say why too few small areas have a deprivation row: another LSOA vintage, or another place."""
    dep_vintage, small_area_vintage = report["deprivation_vintage"], report["small_area_vintage"]
    k, n, unmatched = report["n_matched"], report["n_small_areas"], report["unmatched"]
    edition = deprivation.attrs.get("edition") or (EDITION_BY_VINTAGE.get(dep_vintage) if dep_vintage else None)
    if dep_vintage and small_area_vintage and dep_vintage != small_area_vintage:
        other = EDITION_BY_VINTAGE[small_area_vintage]
        message = (
            f"the {edition} file is on {dep_vintage} LSOAs but your small areas are {small_area_vintage} "
            f"LSOAs: {k} of {n} codes match."
        )
        fix = f"Use the {other} file or {dep_vintage} LSOA boundaries."
    else:
        message = (
            f"only {k} of {n} small-area codes have a row in the deprivation file "
            f"(e.g. {', '.join(unmatched[:5])} are missing)."
        )
        fix = (
            "Check that the deprivation file covers this area and uses the same LSOA vintage as the small "
            "areas (IoD2019: 2011 LSOAs; IoD2025: 2021 LSOAs)."
        )
    return Problem(message, file=file, field="lsoa_code", fix=fix)
