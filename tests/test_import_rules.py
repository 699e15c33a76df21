"""Which part of kommo_scaffold may import what, read from the source (every import statement,
those inside functions too):

* ``check`` and ``dev`` never import copier, not even through modules of ours they import
  (they must start fast and work without copier's machinery);
* ``catalog`` imports nothing of ours but itself (every other part derives from it);
* nothing outside ``cli`` imports ``kommo_scaffold.cli``;
* private modules of copier, plumbum and questionary are imported only in ``engine``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = "kommo_scaffold"
# The modules of each dependency that are its public API; every other one is an internal.
PUBLIC = {"copier": {"copier", "copier.errors"}, "plumbum": {"plumbum", "plumbum.cmd"},
          "questionary": {"questionary"}}


def imports(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (under ``root``) and the modules it imports, by full name
    (``from a import b`` counts as importing ``a``, and ``a.b`` where ``a`` is ours or ``b``
    is private: either may be a module)."""
    found: dict[str, set[str]] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        name = ".".join(parts)
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package up
                    anchor = parts if is_package else parts[:-1]
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names
                             if base.split(".")[0] == package or alias.name.startswith("_"))
        found[name] = names
    return found


def _part(module: str) -> str:
    """``kommo_scaffold.check.js.parser`` -> ``check``; top-level modules are their own."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


def _private(module: str) -> bool:
    top = module.split(".")[0]
    return top in PUBLIC and module not in PUBLIC[top]


def violations(root: Path, package: str = PACKAGE) -> list[str]:
    graph = imports(root, package)
    ours = {name: {target for target in targets if target in graph}
            for name, targets in graph.items()}
    found = []
    for name, targets in sorted(graph.items()):
        part = _part(name)
        if part in ("check", "dev"):
            seen, todo = {name}, [name]
            while todo:  # every module of ours it imports, directly or through others
                for target in ours[todo.pop()] - seen:
                    seen.add(target)
                    todo.append(target)
            for module in sorted(seen):
                if any(t == "copier" or t.startswith("copier.") for t in graph[module]):
                    via = "" if module == name else f" (through {module})"
                    found.append(f"{name} imports copier{via}")
        if part == "catalog":
            found += [f"{name} imports {target}" for target in sorted(ours[name])
                      if _part(target) != "catalog" and target != package]
        if part != "cli":
            found += [f"{name} imports {target}" for target in sorted(targets)
                      if target == f"{package}.cli" or target.startswith(f"{package}.cli.")]
        if part != "engine":
            found += [f"{name} imports the internal {target}" for target in sorted(targets)
                      if _private(target)]
    return found


def test_kommo_scaffold_keeps_its_import_rules() -> None:
    assert violations(REPO) == []


def test_every_kind_of_violation_is_found(tmp_path: Path) -> None:
    """A made-up package that breaks each rule once, and once through another module."""
    files = {
        "__init__.py": "",
        "errors.py": "",
        "catalog/__init__.py": "",
        "catalog/areas.py": ("from kommo_scaffold.catalog import labels\n"
                             "import kommo_scaffold.errors\n"),
        "catalog/labels.py": "from . import areas\n",
        "check/__init__.py": "def f():\n    from kommo_scaffold.scaffold import helper\n",
        "dev/__init__.py": "",
        "dev/server.py": "import copier\n",
        "scaffold/__init__.py": "",
        "scaffold/helper.py": "from copier import run_copy\n",
        "scaffold/hook.py": "from copier import _main\nfrom ..cli import app\n",
        "engine/__init__.py": "",
        "engine/runner.py": "from plumbum.commands import base\nimport copier._main\n",
        "cli/__init__.py": "",
        "cli/app.py": "from kommo_scaffold.cli import helpformat\n",
    }
    for name, text in files.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    assert violations(tmp_path) == [
        "kommo_scaffold.catalog.areas imports kommo_scaffold.errors",
        "kommo_scaffold.check imports copier (through kommo_scaffold.scaffold.helper)",
        "kommo_scaffold.dev.server imports copier",
        "kommo_scaffold.scaffold.hook imports kommo_scaffold.cli",
        "kommo_scaffold.scaffold.hook imports kommo_scaffold.cli.app",
        "kommo_scaffold.scaffold.hook imports the internal copier._main",
    ]
