"""Build a TypeScript project once: `node build.mjs` with the project's own esbuild.

`kommo check` and `kommo pack` build first, so their verdict is about the current src/.
The tools come from the project (`npm ci` installs the versions its lock file pins); this
module never installs anything, and says in one line what is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from kommo_scaffold.check.report import printable
from kommo_scaffold.errors import ScaffoldError, UsageError
from kommo_scaffold.typescript.project import BUILD_SCRIPT, TsProject

# A build of a small widget takes tens of milliseconds; this only stops a hung one.
TIMEOUT_S = 120


class BuildError(ScaffoldError):
    """The build failed (a syntax or import error in src/); the message names the first."""


@dataclass
class Message:
    text: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        if not self.file:
            return ""
        return f"{self.file}:{self.line}:{self.column}: " if self.line else f"{self.file}: "

    def __str__(self) -> str:
        return printable(self.where() + self.text)


@dataclass
class Outcome:
    ok: bool
    ms: float = 0
    modules: list[str] = field(default_factory=list)
    errors: list[Message] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        def messages(key: str) -> list[Message]:
            return [Message(str(m.get("text", "")), m.get("file"), m.get("line"),
                            m.get("column")) for m in data.get(key) or []
                    if isinstance(m, dict)]

        return cls(ok=bool(data.get("ok")), ms=float(data.get("ms") or 0),
                   modules=[str(m) for m in data.get("modules") or []],
                   errors=messages("errors"), warnings=messages("warnings"))

    def failure_line(self) -> str:
        first = str(self.errors[0]) if self.errors else "the build failed"
        more = len(self.errors) - 1
        return first + (f" (and {more} more error{'s' if more > 1 else ''})" if more > 0 else "")


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise UsageError("A TypeScript project builds with Node.js, which is not installed: "
                         "install Node.js 18 or newer with npm (Debian: apt-get install nodejs "
                         "npm), then run `npm ci` in the project")
    return found


def require_tools(project: TsProject) -> str:
    """node's path, once the project's build tools are in place; a one-line error if not."""
    if not (project.root / BUILD_SCRIPT).is_file():
        raise UsageError(f"{project.root} is a TypeScript project without its {BUILD_SCRIPT}: "
                         "restore it (git checkout -- build.mjs) or run `kommo update`")
    found = node()
    if not (project.root / "node_modules" / "esbuild" / "package.json").is_file():
        raise UsageError(f"The build tools of {project.root} are not installed: run `npm ci` "
                         "there (once; it installs the versions package-lock.json pins)")
    return found


def build(project: TsProject, release: bool = False) -> Outcome:
    """widget/script.js from src/ (with its source map unless ``release``); BuildError when
    esbuild reports errors."""
    command = [require_tools(project), BUILD_SCRIPT, "--json"] + (["--release"] if release
                                                                   else [])
    try:
        done = subprocess.run(command, cwd=project.root, capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise BuildError(f"the build did not finish in {TIMEOUT_S} s") from None
    last = (done.stdout.strip().splitlines() or [""])[-1]
    try:
        data = json.loads(last)
    except ValueError:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BuildError(f"{BUILD_SCRIPT} failed: {printable(detail)}") from None
    outcome = Outcome.from_json(data if isinstance(data, dict) else {})
    if not outcome.ok:
        raise BuildError(f"the build of src/ failed: {outcome.failure_line()}")
    return outcome
