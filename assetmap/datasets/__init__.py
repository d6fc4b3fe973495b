"""Area folders shipped with the package, found wherever it is installed.

``eastbrook`` is the built-in demo area: a fictional inner-city borough (every
place, code and figure is invented). The folders are package data and may sit
in a read-only place: what the app and the command line keep for them (the
register, prepared street networks) goes to ``settings.cache_dir`` instead.

Examples
--------
>>> import assetmap
>>> from assetmap.datasets import get_path
>>> area = assetmap.load_area(get_path("eastbrook"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

#: The folder holding one area folder per dataset.
DATASETS_DIR: Path = Path(__file__).resolve().parent

#: Names of the shipped datasets.
DATASETS: tuple[str, ...] = ("eastbrook",)


def get_path(name: str = "eastbrook") -> Path:
    """Return the folder of a shipped area dataset.

    Parameters
    ----------
    name : str, default "eastbrook"
        The dataset; one of :data:`DATASETS`.

    Returns
    -------
    Path
        The area folder (it holds ``area.toml``); treat it as read-only.

    Raises
    ------
    ValueError
        When ``name`` is not a shipped dataset; the message names those that are.
    """
    if name not in DATASETS:
        raise ValueError(f"no dataset named {name!r}; the datasets shipped with assetmap are: {', '.join(DATASETS)}.")
    return DATASETS_DIR / name
