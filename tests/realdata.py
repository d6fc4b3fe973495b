"""Where the real public data lives for the optional real-data tests.

Set ASSETMAP_REAL_DATA to the folder; otherwise ``../shared/data/real`` beside
the repository is used when it exists. Tests that need it skip cleanly without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assetmap import settings


def real_data_dir() -> Path | None:
    """Return the real data folder, or None where there is none."""
    candidates = [settings.real_data_path, Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"]
    for folder in candidates:
        if folder is not None and (folder / "MANIFEST.md").is_file():
            return folder
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    folder = real_data_dir()
    if folder is None:
        pytest.skip("real public data folder not found (set ASSETMAP_REAL_DATA)")
    return folder
