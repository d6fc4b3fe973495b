"""A register's own type values and the asset type each stands for: the ``--type-map`` CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from assetmap._errors import DataFormatError, Problem, ValidationError
from assetmap.taxonomy import Taxonomy, load_taxonomy


def read_type_map(path: str | Path, taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Read a two-column CSV of a register's own type values and the type each stands for.

    Each row is ``value,type`` (a header row ``value,type`` may come first); the type
    may be written as a key, label or synonym of the taxonomy.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    taxonomy : Taxonomy, optional
        Asset types (default: the shipped taxonomy).

    Returns
    -------
    dict
        Value as written to type key.

    Raises
    ------
    ValidationError
        A row without two cells, or naming a type that is not one, each by row.
    """
    path = Path(path)
    tax = taxonomy or load_taxonomy()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFormatError(
            f"{path.name}: cannot read the type map ({exc}). Give a CSV file with --type-map."
        ) from exc
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    for number, cells in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            problems.append(Problem("the row needs two cells: value,type.", file=path.name, row=number))
            continue
        key = tax.normalise_type(cells[1])
        if key is None and number == 1:
            continue  # a header row
        if key is None:
            problems.append(
                Problem(
                    f"'{cells[1][:60]}' is not an asset type.",
                    file=path.name,
                    row=number,
                    fix=f"Use one of: {', '.join(tax.type_keys)}.",
                )
            )
            continue
        mapping[cells[0]] = key
    if problems:
        raise ValidationError(problems, summary=f"{path.name}: the type map has {len(problems)} bad rows:")
    return mapping
