"""The house's imports run one way (DESIGN.md): no module imports a higher layer, not even inside a function.

`lint-imports` (import-linter, in .ci/run) holds the contracts written in pyproject.toml; this test reads the same
contracts and checks every import statement with `ast`, so the order holds without import-linter too, and the two
cannot drift apart. Imports under ``if TYPE_CHECKING:`` count like any other: a type hint naming a higher layer's
class is knowledge of that layer.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _layers(contract: dict) -> list[list[str]]:
    """Top to bottom; each layer a list of module names (parentheses: may not exist yet)."""
    return [[name.strip().strip("()") for name in layer.replace("|", ":").split(":")] for layer in contract["layers"]]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[str, int]]:
    """(imported module or name, line) for every import statement, at any depth: functions, TYPE_CHECKING."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
    return found


def _within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def violations(contract: dict, sources: dict[str, tuple[str, bool]]) -> list[str]:
    layers = _layers(contract)
    ignored = {tuple(part.strip() for part in rule.split("->")) for rule in contract.get("ignore_imports", [])}

    def level(name: str) -> int | None:
        for index, layer in enumerate(layers):
            if any(_within(name, module) for module in layer):
                return index
        return None

    found = []
    for module, (source, is_package) in sorted(sources.items()):
        own = level(module)
        if own is None:
            continue
        for imported, line in imports_of(source, module, is_package):
            other = level(imported)
            if other is None or other >= own:
                continue  # outside the contract, the same layer, or below (a smaller index is higher)
            if any(_within(module, src) and _within(imported, dst) for src, dst in ignored):
                continue
            found.append(f"{module}:{line} imports {imported}, a higher layer")
    return found


def _our_sources() -> dict[str, tuple[str, bool]]:
    tops = {name.split(".")[0] for contract in CONTRACTS for layer in _layers(contract) for name in layer}
    sources = {}
    for top in sorted(tops):
        for path in sorted((ROOT / top).rglob("*.py")) if (ROOT / top).is_dir() else ():
            sources[_module_name(path)] = (path.read_text(encoding="utf-8"), path.name == "__init__.py")
    return sources


def test_no_import_runs_up_a_layer():
    sources = _our_sources()
    assert "app.citizens.service" in sources and "benefits.verification" in sources
    for contract in CONTRACTS:
        found = violations(contract, sources)
        assert not found, contract["name"] + ":\n" + "\n".join(found)


def test_the_check_sees_imports_inside_functions_and_type_checking_blocks():
    contract = {"layers": ["app.scoring", "app.records", "(app.not_yet)"]}
    lower = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from app.scoring.models import Score\n"
        "def rescore():\n"
        "    from app.scoring import service\n"
        "    from ..scoring.service import recompute\n"
    )
    higher = "from app.records.models import Record\n"
    found = violations(contract, {"app.records.service": (lower, False), "app.scoring.service": (higher, False)})
    assert found == ["app.records.service:3 imports app.scoring.models.Score, a higher layer",
                     "app.records.service:5 imports app.scoring.service, a higher layer",
                     "app.records.service:6 imports app.scoring.service.recompute, a higher layer"]
