"""Error and warning classes.

Every error names the file, row or field at fault and what to do about it, so
that the app and the CLI can show the message as it is, with no traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as possible.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    file : str or None
        The file at fault, by name.
    row : int or None
        Row number as a spreadsheet shows it (the header is row 1, the first record row 2).
    field : str or None
        The column or form field at fault.
    fix : str or None
        What the user should do about it.
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    fix: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.fix:
            text += f" {self.fix}"
        return text


class AssetMapError(Exception):
    """Base class of every error assetmap raises on purpose."""


class DataFormatError(AssetMapError, ValueError):
    """A file cannot be read as the kind of data it should hold."""


class CRSError(AssetMapError, ValueError):
    """A layer's coordinate reference system is missing or unusable."""


class AreaError(AssetMapError):
    """An area folder or its manifest is missing or inconsistent."""


class ValidationError(AssetMapError, ValueError):
    """Input was read but its content is not acceptable.

    Parameters
    ----------
    problems : list of Problem
        Every problem found, not only the first, so the user can fix them in one go.
    summary : str, optional
        One line that introduces the list.
    """

    def __init__(self, problems: list[Problem] | Problem, summary: str | None = None):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        self.summary = summary
        super().__init__(self._format())

    def _format(self, limit: int = 20) -> str:
        lines = [self.summary] if self.summary else []
        shown = self.problems[:limit]
        if self.summary:
            lines += [f"  - {p}" for p in shown]
        else:
            lines += [str(p) for p in shown]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more problems of the same kind.")
        return "\n".join(lines)


class AssetMapWarning(UserWarning):
    """Something was repaired or assumed on the way in; the user should know."""
