"""`kommo dev` in a TypeScript project: one long-lived `node build.mjs --serve` that
rebuilds (incrementally, in one esbuild context) on every save under src/, and a
`tsc --noEmit` run after each build whose type errors are shown without stopping the loop."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Callable

from kommo_scaffold.typescript import build
from kommo_scaffold.typescript.build import BuildError, Message, Outcome
from kommo_scaffold.typescript.project import BUILD_SCRIPT, TsProject

# tsc --pretty false: `src/kit.ts(12,5): error TS2551: Property ...`.
_TSC_LINE = re.compile(r"^(?P<file>[^()\n]+)\((?P<line>\d+),(?P<column>\d+)\): "
                       r"error (?P<code>TS\d+): (?P<text>.*)$")


class Builder:
    """The build process; rebuild() is one build, answered on one JSON line."""

    def __init__(self, ts: TsProject) -> None:
        self.ts = ts
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        node = build.require_tools(self.ts)
        self._process = subprocess.Popen(
            [node, BUILD_SCRIPT, "--serve"], cwd=self.ts.root, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def rebuild(self) -> Outcome:
        with self._lock:
            process = self._process
            if process is None or process.stdin is None or process.stdout is None:
                raise BuildError("the build process is not running")
            try:
                process.stdin.write("build\n")
                process.stdin.flush()
                line = process.stdout.readline()
            except (OSError, ValueError):
                line = ""
            if not line:
                raise BuildError(f"the build process ({BUILD_SCRIPT} --serve) ended; "
                                 "restart kommo dev")
            data = json.loads(line)
            return Outcome.from_json(data if isinstance(data, dict) else {})

    def close(self) -> None:
        with self._lock:
            process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()  # build.mjs ends at the end of its input
            process.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()


def type_errors(ts: TsProject, timeout: float = 120) -> list[tuple[str, Message]]:
    """(TS code, message) for each error of `tsc --noEmit` on the project."""
    tsc = ts.root / "node_modules" / ".bin" / "tsc"
    if not tsc.exists():
        return [("TS", Message("TypeScript is not installed: run `npm ci`"))]
    try:
        done = subprocess.run([str(tsc), "--noEmit", "-p", "tsconfig.json", "--pretty", "false"],
                              cwd=ts.root, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return [("TS", Message(f"tsc did not run: {error}"))]
    found = []
    for line in done.stdout.splitlines():
        match = _TSC_LINE.match(line.strip())
        if match:
            found.append((match["code"], Message(match["text"], match["file"],
                                                 int(match["line"]), int(match["column"]))))
    if done.returncode and not found:
        last = (done.stdout.strip() or done.stderr.strip() or "no output").splitlines()[-1]
        found.append(("TS", Message(f"tsc failed: {last}")))
    return found


class TypeCheck:
    """Runs type_errors() in a thread after each build; a build during a run asks for one
    more run, so the last result is always about the last save."""

    def __init__(self, ts: TsProject,
                 report: Callable[[list[tuple[str, Message]]], None]) -> None:
        self.ts = ts
        self.report = report
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._stopped = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._running:
                self._again = True
                return
            self._running = True
        self._thread = threading.Thread(target=self._run, name="kommo-dev-tsc", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            errors = type_errors(self.ts)
            with self._lock:
                if self._stopped:
                    self._running = False
                    return
                again, self._again = self._again, False
                if not again:
                    self._running = False
            self.report(errors)
            if not again:
                return

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        thread = self._thread
        if thread is not None:
            thread.join(timeout=10)
