"""pyproject.toml declares exactly the libraries kommo_scaffold imports."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata

from conftest import REPO


def imported_top_level_modules() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "kommo_scaffold").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {name for name in names
            if name not in sys.stdlib_module_names and name != "kommo_scaffold"}


def declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower() for spec in specs}


def test_runtime_dependencies_are_what_the_code_imports():
    distributions = metadata.packages_distributions()
    needed = set()
    for module in imported_top_level_modules():
        assert module in distributions, f"{module} is imported but not installed"
        needed.update(name.lower() for name in distributions[module])
    assert needed == declared()


def test_test_extras_are_installed_tools():
    for name in declared("test"):
        metadata.version(name)  # raises when pyproject lists something not installable here
