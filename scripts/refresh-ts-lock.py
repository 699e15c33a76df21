"""Maintainers: rewrite the package-lock.json that the template ships to TypeScript projects.

The template's package.json pins esbuild, typescript and @types/jquery; this script renders
that package.json for a sample widget, asks npm for its lock file (no install, no scripts)
and writes it into the template with the widget's name templated again, so every generated
project's `npm ci` installs exactly these bytes (npm checks each package's integrity hash).
Run it after changing a pin: python scripts/refresh-ts-lock.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import jinja2

PROJECT = Path(__file__).resolve().parents[1] / "templates" / "widget" / "project"
PACKAGE = PROJECT / "package.json.jinja"
LOCK = PROJECT / "{% if is_typescript %}package-lock.json{% endif %}.jinja"
SAMPLE = "kommo-scaffold-sample-widget"


def main() -> int:
    npm = shutil.which("npm")
    if npm is None:
        print("npm is not installed (apt-get install npm)", file=sys.stderr)
        return 1
    text = jinja2.Template(PACKAGE.read_text("utf-8")).render(
        widget_code=SAMPLE, is_typescript=True, is_javascript=False)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "package.json").write_text(text, "utf-8")
        subprocess.run([npm, "install", "--package-lock-only", "--ignore-scripts",
                        "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
        lock = json.loads((Path(folder) / "package-lock.json").read_text("utf-8"))
    if lock.get("name") != SAMPLE or lock["packages"][""].get("name") != SAMPLE:
        print("npm wrote an unexpected lock file (no sample name)", file=sys.stderr)
        return 1
    written = json.dumps(lock, indent=2, ensure_ascii=False) + "\n"
    name = json.dumps(SAMPLE)
    templated = written.replace(f'"name": {name}', '"name": {{ widget_code | lower | tojson }}')
    LOCK.write_text(templated, "utf-8")
    print(f"wrote {LOCK.relative_to(PROJECT.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
