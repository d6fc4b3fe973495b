"""The notebooks run top to bottom on the demo area, so they cannot rot."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_cells_run(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    namespace: dict = {}
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, "a notebook with no code"
    for cell in code:
        exec(compile("".join(cell["source"]), f"{path.name}", "exec"), namespace)
    assert "area" in namespace and len(namespace["area"].boundaries) > 0
