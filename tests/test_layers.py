"""The package's layers import downward only, and no module reaches into another's private names.

Every import in every module is walked, those inside functions included, so a lazy
import cannot hide a layer breach. The layers, lowest first, are drawn in
docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "assetmap"

#: Each layer and the layers it may import (its own included).
CORE = {
    "assetmap._errors",
    "assetmap.settings",
    "assetmap.taxonomy",
    "assetmap.record",
    "assetmap.record_checks",
    "assetmap.lonlat",
}
LAYERS: dict[str, set[str]] = {
    "core": {"core"},
    "io": {"core", "io"},
    "analysis": {"core", "analysis"},
    "store": {"core", "store"},
    "datasets": {"datasets"},
    "area": {"core", "io", "analysis", "store", "datasets", "area"},
    "render": {"core", "io", "analysis", "store", "datasets", "area", "render"},
    "auth": {"core", "auth"},
    "top": {"core", "io", "analysis", "store", "datasets", "area", "render", "auth", "top", "ui"},
    "ui": {"core", "io", "analysis", "store", "datasets", "area", "render", "auth", "top", "ui"},
}
#: The lazy public API and the command line reach into every layer by design.
EXEMPT = {"assetmap", "assetmap.cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    if module in CORE:
        return "core"
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in {"io", "analysis", "store", "datasets", "area", "render", "ui"}:
        return parts[1]
    if module == "assetmap.auth":
        return "auth"
    return "top"


def imports_of(path: Path) -> list[tuple[int, str, list[str]]]:
    """Every ``assetmap`` import in a file: (line, module, names imported from it)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names if a.name.split(".")[0] == "assetmap"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "assetmap":
                found.append((node.lineno, target, [a.name for a in node.names]))
    return found


def resolve(target: str, names: list[str]) -> list[str]:
    """The modules an import reaches: ``from assetmap.io import osm`` reaches ``assetmap.io.osm``."""
    reached = []
    for name in names or [""]:
        candidate = f"{target}.{name}" if name else target
        as_path = PACKAGE.parent / candidate.replace(".", "/")
        reached.append(candidate if as_path.with_suffix(".py").is_file() or as_path.is_dir() else target)
    return reached


FILES = sorted(PACKAGE.rglob("*.py"))


def test_the_walk_sees_imports_inside_functions() -> None:
    # The lazy imports count: a test that saw only the top of each file could not fail on them.
    lazy = [
        target
        for path in FILES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("assetmap")
        for target in [inner.module]
    ]
    assert lazy, "no imports inside functions were found, so the walk below would miss them"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_each_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    module = module_name(path)
    if module in EXEMPT:
        return
    allowed = LAYERS[layer_of(module)]
    breaches = [
        f"line {line}: {module} ({layer_of(module)}) imports {reached} ({layer_of(reached)})"
        for line, target, names in imports_of(path)
        for reached in resolve(target, names)
        if layer_of(reached) not in allowed
    ]
    assert not breaches, "\n".join(breaches)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_no_module_imports_another_packages_private_names(path: Path) -> None:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    private = []
    for line, target, names in imports_of(path):
        owner = target.rpartition(".")[0]
        # A private module (io._read) is shared within its own package, and _errors by the whole package.
        if target.rpartition(".")[2].startswith("_") and not package.startswith(owner) and target != "assetmap._errors":
            private.append(f"line {line}: {target}")
        private += [
            f"line {line}: {name} from {target}"
            for name in names
            if name.startswith("_") and name != "__version__" and target != module
        ]
    assert not private, "\n".join(private)
