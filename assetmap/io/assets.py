"""Asset registers: CSV, XLSX, GeoJSON, GeoPackage or Shapefile into asset records.

A register may place each asset by longitude/latitude, easting/northing, a
point or polygon geometry (its representative point), or only a postcode
(looked up in the area's postcode file). Every row is checked; problems are
reported together, each with its row, field and fix.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap import settings
from assetmap._errors import AssetMapWarning, DataFormatError, Problem, ValidationError
from assetmap.io._read import VECTOR_FORMATS, ensure_crs, read_table, read_vector, sniff_format
from assetmap.io.places import Placer, as_text
from assetmap.record import FIELDS, header_key, name_candidates, normalise_columns
from assetmap.record_checks import Checks, check_records, no_value
from assetmap.taxonomy import Taxonomy, load_taxonomy


def _stable_id(name: str, postcode: str, lon: float, lat: float, extra: str = "") -> str:
    """Deterministic id from what identifies a record, so a reload gives the same ids."""
    key = f"{name.strip().lower()}|{postcode or ''}|{lon:.5f}|{lat:.5f}" + (f"|{extra}" if extra else "")
    return "A" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10].upper()


#: How to choose another column, or the type of every row, from the command line and the Data page.
NAME_COL_FIX = "give add-assets --name-col to choose another"
TYPE_FIX = (
    "Map each value to a type with --type-map (a CSV of value,type), or give every row one type with --type "
    "(on the Data page: 'Type of every asset')."
)
SKIP_FIX = "or leave such rows out with --skip-invalid (on the Data page: 'Leave out bad asset rows')."


@dataclass(frozen=True)
class RowDefaults:
    """How the rows of a register file are read beyond what their own columns say.

    Parameters
    ----------
    status : str
        Status of rows with no status given.
    source : str
        Source of rows with no source given.
    asset_type : str, optional
        Type of every row, whatever a type column says (``--type``).
    type_map : mapping, optional
        The file's own type values (any case) to type keys (``--type-map``), for
        values that are not a type's key, label or synonym.
    """

    status: str = "approved"
    source: str = "register"
    asset_type: str | None = None
    type_map: Mapping[str, str] | None = None


def read_assets(
    path: str | Path,
    *,
    postcodes: pd.DataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    columns: dict[str, str] | None = None,
    default_type: str | None = None,
    defaults: RowDefaults = RowDefaults(),
    sheet: str | int | None = None,
    on_error: Literal["raise", "skip"] = "raise",
) -> gpd.GeoDataFrame:
    """Read an asset register into validated asset records in EPSG:27700.

    Each row is held to the record rules of :func:`assetmap.record_checks.check_records`
    (a name, a known type, elements, a postcode that is one, status, yes/no and dates),
    and placed by its geometry, longitude/latitude, easting/northing or postcode.

    Parameters
    ----------
    path : str or Path
        CSV or XLSX table, or a GeoJSON/GeoPackage/Shapefile/KML point or polygon layer.
    postcodes : DataFrame, optional
        Lookup from :func:`assetmap.io.postcodes.read_postcodes`, used for rows placed only by postcode.
    taxonomy : Taxonomy, optional
        Asset types and elements (default: the shipped taxonomy).
    columns : dict, optional
        ``{record field: file column}`` where the file's names are not recognised.
    default_type : str, optional
        Type for every row of a file with no type column (e.g. ``"food_bank"``).
    defaults : RowDefaults
        Status and source of rows that give none.
    sheet : str or int, optional
        Worksheet of an XLSX file.
    on_error : {"raise", "skip"}
        ``raise``: any bad row stops the load with every problem listed.
        ``skip``: bad rows are left out and listed in a warning.

    Returns
    -------
    GeoDataFrame
        Record fields of :data:`assetmap.record.FIELDS` (``elements`` as tuples of
        ints, ``sensitive`` as bool, ``last_confirmed`` as a date), ``pillars``,
        ``location_method``, ``row`` (the source row) and point geometry.

    Raises
    ------
    DataFormatError
        Unreadable file, or no name or type column.
    ValidationError
        Bad rows (with ``on_error="raise"``), listing each with row, field and fix.
    """
    path = Path(path)
    fname = path.name
    tax = taxonomy or load_taxonomy()
    raw, geometry = _read_raw(path, sheet)
    df = _map_columns(raw, fname, columns=columns or {}, default_type=defaults.asset_type or default_type, tax=tax)
    if defaults.asset_type is not None:
        df["type"] = defaults.asset_type
    _read_types(df, tax, defaults.type_map)
    df["status"] = df["status"].str.lower().fillna(defaults.status) if "status" in df else defaults.status
    rows = df.index.to_numpy() + 2  # spreadsheet row numbers: header is row 1
    clean, problems = check_records(df, taxonomy=tax, rows=rows.tolist(), file=fname, checks=_FILE_CHECKS)
    place = Placer(df, clean, rows, fname, problems)
    place.run(geometry, postcodes)
    out = _assemble(df, clean, place, source=defaults.source)
    problems += _repeated_ids(out, df.attrs["columns"].get("asset_id"), fname)
    _give_ids(out)

    shown = _shown(problems, dict(zip(rows.tolist(), df["type"], strict=True)), fname, tax)
    bad_rows = _report(problems, shown, fname, len(df), on_error)
    out = out[~np.isin(rows, [r for r in bad_rows if r is not None])].copy()
    out["pillars"] = [tuple(tax.pillars_of(e)) if e else () for e in out["elements"]]
    points = gpd.points_from_xy(out["longitude"], out["latitude"], crs=settings.storage_crs).to_crs(
        settings.analysis_crs
    )
    gdf = gpd.GeoDataFrame(out.reset_index(drop=True), geometry=np.asarray(points), crs=settings.analysis_crs)
    gdf.attrs.update(source=fname, rows=len(df), left_out=len(bad_rows), problems=shown)
    return gdf


def _report(problems: list[Problem], shown: list[Problem], fname: str, n: int, on_error: str) -> set[int | None]:
    """Raise with every problem, or warn of the rows left out; return the rows with problems."""
    bad_rows = {p.row for p in problems}
    if problems and on_error == "raise":
        raise ValidationError(shown, summary=f"{fname}: {len(bad_rows)} of {n} rows need fixing:")
    if problems:
        warnings.warn(
            str(ValidationError(shown, summary=f"{fname}: left out {len(bad_rows)} of {n} rows:")),
            AssetMapWarning,
            stacklevel=3,
        )
    return bad_rows


def _shown(problems: list[Problem], types: dict[int, object], fname: str, tax: Taxonomy) -> list[Problem]:
    """Return the problems as they are reported: each row's, but unknown types once per value, with their rows.

    Parameters
    ----------
    problems : list of Problem
        Every row's problems (sorted here by row).
    types : dict
        Spreadsheet row to the type value it gives.
    fname : str
        The file, named in each problem.
    tax : Taxonomy
        The types, listed in the fix.
    """
    problems.sort(key=lambda p: p.row or 0)
    typed = [p for p in problems if p.field == "type" and p.row is not None]
    if not typed:
        return list(problems)
    by_value: dict[str, list[int]] = {}
    for p in typed:
        value = types.get(int(p.row or 0))
        by_value.setdefault("(blank)" if pd.isna(value) else str(value)[:60], []).append(int(p.row or 0))
    grouped = []
    for i, (value, rows) in enumerate(sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[1][0]))):
        listed = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        last = i == len(by_value) - 1
        grouped.append(
            Problem(
                f"'{value}' is not an asset type: {len(rows)} row{'s' if len(rows) != 1 else ''} ({listed}).",
                file=fname,
                row=rows[0],
                field="type",
                fix=f"{TYPE_FIX} The types are: {', '.join(tax.type_keys)}." if last else None,
            )
        )
    return [*grouped, *(p for p in problems if p not in typed)]


def _read_types(df: pd.DataFrame, tax: Taxonomy, type_map: Mapping[str, str] | None) -> None:
    """Turn the type column's values into type keys.

    A value is looked up in ``type_map`` (any case), then among the types' keys, labels and
    synonyms (:meth:`Taxonomy.normalise_type`). Values that are neither are left as they
    are, for the record checks to refuse row by row.
    """
    own = {_map_key(k): v for k, v in (type_map or {}).items()}
    values = df["type"]
    keys: dict[str, str | None] = {}
    for value in values.dropna().unique():
        keys[value] = own.get(_map_key(value)) or tax.normalise_type(value)
    known = values.map(lambda v: keys.get(v) if isinstance(v, str) else None)
    df["type"] = known.fillna(values).astype("string")


def _map_key(text: object) -> str:
    return re.sub(r"\s+", " ", str(text).strip().lower())


#: A register file meets the field rules; it is placed here, from whatever it gives.
_FILE_CHECKS = Checks(stored=False, locate=False)


def _read_raw(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Return the file's cells as text, and its geometries where it is a map layer."""
    fname = path.name
    geometry = None
    if sniff_format(path) in VECTOR_FORMATS:
        layer = ensure_crs(read_vector(path), fname)
        geometry = layer.geometry.array
        raw = pd.DataFrame(layer.drop(columns=layer.geometry.name)).astype("string")
    else:
        raw = read_table(path, sheet=sheet, max_rows=settings.max_asset_rows)
    if len(raw) > settings.max_asset_rows:  # a map layer's features; tables are counted as they are read
        raise DataFormatError(
            f"{fname}: {len(raw):,} rows, over the limit of {settings.max_asset_rows:,}. Split the file."
        )
    return raw, geometry


#: The command-line flag that names the column of each field (``add-assets``).
COLUMN_FLAGS: dict[str, str] = {
    "name": "--name-col",
    "type": "--type-col",
    "asset_id": "--id-col",
    "postcode": "--postcode-col",
    "latitude": "--lat-col",
    "longitude": "--lon-col",
    "easting": "--x-col",
    "northing": "--y-col",
    "phone": "--phone-col",
}

#: Headers of a column that may name the person to contact at a place (when its cells are names, not addresses).
_PERSON_HEADERS: frozenset[str] = frozenset(
    {"contact", "contact person", "contact officer", "main contact", "site contact", "key contact"}
)

#: A cell that cannot be a person's name: an address, a number or a web address.
_NOT_A_PERSON = re.compile(r"@|\d|://|^www\.", re.IGNORECASE)


def _names_people(values: pd.Series) -> bool:
    """Whether most of a column's filled cells read as people's names (no @, digits or web addresses)."""
    filled = [str(v) for v in values.dropna() if not no_value(v)]
    return bool(filled) and sum(not _NOT_A_PERSON.search(v) for v in filled) > len(filled) / 2


def _private_contacts(raw: pd.DataFrame, mapping: dict[str, str], given: Mapping[str, str], fname: str) -> None:
    """Keep a named contact person's details private, in place in ``mapping`` (file column to field).

    Council registers often give, per place, the officer to contact (a column ``contact`` holding
    "A. Person") beside that officer's phone and email. The person's name becomes the private
    ``contact_name``; the email found beside it the private ``contact_email``; the phone, which has no
    private field, is left out with a warning saying how to publish it. A column chosen by the user
    (``given``) is kept as chosen.
    """
    person = next(
        (
            c
            for c in raw.columns
            if header_key(c) in _PERSON_HEADERS
            and mapping.get(c) in (None, "email")
            and c not in given.values()
            and _names_people(as_text(raw[c]))
        ),
        None,
    )
    if person is None or "contact_name" in mapping.values():
        return
    mapping[person] = "contact_name"
    by_field = {field: col for col, field in mapping.items()}
    email = by_field.get("email")
    if email is not None and "email" not in given and "contact_email" not in by_field:
        mapping[email] = "contact_email"
    phone = by_field.get("phone")
    if phone is not None and "phone" not in given:
        del mapping[phone]
        warnings.warn(
            f"{fname}: column '{phone}' was not added: the file names a contact person in column '{person}', "
            "so these may be that person's own numbers, which are never published. If they are the places' "
            f"public numbers, give add-assets --phone-col {phone} (on the Data page: 'Public phone column').",
            AssetMapWarning,
            stacklevel=5,
        )


def _map_columns(
    raw: pd.DataFrame, fname: str, *, columns: dict[str, str], default_type: str | None, tax: Taxonomy
) -> pd.DataFrame:
    """Return the file's columns renamed to record fields (as stripped text, blank as NA).

    ``attrs["columns"]`` holds ``{field: file column}``.
    """
    mapping = normalise_columns(list(raw.columns))
    for fieldname, col in columns.items():
        if col not in raw.columns:
            flag = COLUMN_FLAGS.get(fieldname, f"the column for {fieldname}")
            raise DataFormatError(
                f"{fname}: no column '{col}' (given with {flag}). The columns are {list(raw.columns)}."
            )
        mapping = {k: v for k, v in mapping.items() if v != fieldname and k != col}
        mapping[col] = fieldname
    _private_contacts(raw, mapping, columns, fname)
    df = pd.DataFrame({field: as_text(raw[col]) for col, field in mapping.items()}, index=raw.index)
    if "name" not in df:
        raise DataFormatError(
            f"{fname}: no name column found among {list(raw.columns)}. Give the name column with --name-col "
            "(or call it 'name')."
        )
    candidates = name_candidates(list(raw.columns))
    if "name" not in columns and len(candidates) > 1:
        chosen = next(c for c, f in mapping.items() if f == "name")
        others = ", ".join(f"'{c}'" for c in candidates if c != chosen)
        warnings.warn(
            f"{fname}: used '{chosen}' as the name ({others} could be too); {NAME_COL_FIX}.",
            AssetMapWarning,
            stacklevel=4,
        )
    if "type" not in df:
        if default_type is None:
            raise DataFormatError(
                f"{fname}: no type column found among {list(raw.columns)}. Give the type column with --type-col, "
                f"or say what every row is with --type (on the Data page: 'Type of every asset'), one of: "
                f"{', '.join(tax.type_keys)}."
            )
        df["type"] = default_type
    df.attrs["columns"] = {field: col for col, field in mapping.items()}
    return df


def _assemble(df: pd.DataFrame, clean: pd.DataFrame, place: Placer, *, source: str) -> pd.DataFrame:
    """Every row as a record of the file's text and the checked values."""
    out = pd.DataFrame(index=df.index)
    for fieldname in FIELDS:
        out[fieldname] = df[fieldname] if fieldname in df else pd.Series(pd.NA, index=df.index, dtype="string")
    out["type"] = clean["type"].astype("string")
    out["elements"] = clean["elements"]
    out["postcode"] = clean["postcode"].astype("string")
    out["longitude"] = place.lon
    out["latitude"] = place.lat
    out["status"] = clean["status"].astype("string").fillna(df["status"])
    out["source"] = out["source"].fillna(source)
    out["sensitive"] = clean["sensitive"].map(bool).to_numpy(bool)  # a refused value (None) is not sensitive
    out["last_confirmed"] = pd.to_datetime(clean["last_confirmed"]).dt.date
    out["location_method"] = place.method
    out["row"] = place.rows
    return out


def _repeated_ids(out: pd.DataFrame, column: str | None, fname: str) -> list[Problem]:
    """Return a problem for each row whose id (from the file's id column) another row also has."""
    ids = out["asset_id"]
    repeated = ids.notna() & ids.duplicated(keep=False)
    if not repeated.any():
        return []
    rows_of = out.loc[repeated].groupby("asset_id")["row"].apply(list).to_dict()
    problems = []
    for value, row in zip(ids[repeated], out.loc[repeated, "row"], strict=True):
        others = ", ".join(str(r) for r in rows_of[value] if r != row)
        problems.append(
            Problem(
                f"id '{value}' is also on row {others}.",
                file=fname,
                row=int(row),
                field="asset_id",
                fix=f"Give each row its own id in column '{column}', choose another id column with --id-col, "
                f"{SKIP_FIX}",
            )
        )
    return problems


def _give_ids(out: pd.DataFrame) -> None:
    """Make ids for rows that have none, the same on every read of the file and different for each row.

    The id is a hash of the name, postcode and place; rows that share these (two
    pharmacies in one building) add their other fields, and rows alike in every field
    add their place among those rows.
    """
    missing = out["asset_id"].isna()
    if not missing.any():
        return
    rows = out.loc[missing]
    text = rows[[f for f in FIELDS if f not in ("asset_id", "longitude", "latitude")]].astype("string").fillna("")
    base = (
        rows["name"].astype("string").fillna("").str.strip().str.lower()
        + "|"
        + text["postcode"]
        + "|"
        + rows["longitude"].map("{:.5f}".format)
        + "|"
        + rows["latitude"].map("{:.5f}".format)
    )
    shared = base.duplicated(keep=False)
    extra = pd.Series("", index=rows.index, dtype=object)
    if shared.any():
        whole = text.loc[shared].agg("|".join, axis=1)
        nth = whole.groupby(whole).cumcount()
        extra[shared] = whole + nth.map(lambda k: f"#{k}" if k else "")
    out.loc[missing, "asset_id"] = [
        _stable_id(str(nm), pc, x, y, ex)
        for nm, pc, x, y, ex in zip(
            rows["name"], text["postcode"], rows["longitude"], rows["latitude"], extra, strict=True
        )
    ]


def flag_duplicates(assets: gpd.GeoDataFrame, *, distance_m: float = 50.0) -> pd.DataFrame:
    """Find likely duplicate records: the same name (ignoring case and punctuation) near each other or at one postcode.

    Parameters
    ----------
    assets : GeoDataFrame
        Records in a projected CRS (metres).
    distance_m : float
        Distance within which two same-named records count as one place.

    Returns
    -------
    DataFrame
        ``asset_id``, ``duplicate_of`` (the first record of the group), ``reason``.
    """
    key = assets["name"].astype("string").str.lower().str.replace(r"[^a-z0-9]+", "", regex=True)
    pairs = []
    geoms = assets.geometry.array
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=distance_m)
    near = (left < right) & (key.to_numpy()[left] == key.to_numpy()[right])
    pairs += [(i, j, f"same name within {distance_m:.0f} m") for i, j in zip(left[near], right[near], strict=True)]
    if "postcode" in assets:
        pc = assets["postcode"].astype("string")
        frame = pd.DataFrame({"key": key, "pc": pc, "i": np.arange(len(assets))}).dropna()
        for _, grp in frame.groupby(["key", "pc"]):
            idx = grp["i"].to_numpy()
            pairs += [(idx[0], j, "same name and postcode") for j in idx[1:]]
    seen: dict[int, tuple[int, str]] = {}
    for i, j, reason in sorted(pairs):
        if j not in seen and j != i:
            seen[j] = (seen.get(i, (i, ""))[0], reason)
    ids = assets["asset_id"].to_numpy()
    return pd.DataFrame(
        [{"asset_id": ids[j], "duplicate_of": ids[i], "reason": reason} for j, (i, reason) in sorted(seen.items())],
        columns=["asset_id", "duplicate_of", "reason"],
    )
