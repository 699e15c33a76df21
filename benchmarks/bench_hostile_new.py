"""Benchmark: kommo-new on hostile input ends with a clean refusal within 10 s and 500 MB.

Each case runs `kommo-new` in a subprocess (this checkout's code, a throwaway HOME) and must
exit non-zero with exactly one `error:` line on stderr, no traceback, no folder created, in
at most 10 s of wall time and 500 MB of peak memory (RSS, from wait4).

    python benchmarks/bench_hostile_new.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MAX_SECONDS = 10.0
MAX_RSS_MB = 500
REPO = Path(__file__).resolve().parent.parent
NEW = [sys.executable, "-c", "from kommo_scaffold.cli.entry import new_main; new_main()"]


def _alias_bomb() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 12):
        prev = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, "
                     f"*{prev}, *{prev}, *{prev}, *{prev}]")
    lines.append("locations: *l")
    return "\n".join(lines) + "\n"


def _settings_fields(count: int) -> str:
    fields = ", ".join(f"{{code: f{i}, name: Field {i}, type: text, required: false}}"
                       for i in range(count))
    return f"locations: [lcard, settings]\nsettings_fields: [{fields}]\n"


# name -> (writes the data file and returns the extra arguments)
CASES: dict[str, Callable[[Path], list[str]]] = {
    "400,000-character widget name": lambda d: _file(d, "widget_name: " + "Я" * 400_000),
    "20,000 duplicate locations": lambda d: _file(
        d, "locations: [" + ", ".join(["lcard"] * 20_000) + "]"),
    "5,000 settings fields": lambda d: _file(d, _settings_fields(5_000)),
    "YAML alias bomb in --data-file": lambda d: _file(d, _alias_bomb()),
    "--data-file /dev/zero": lambda d: ["--data-file", "/dev/zero"],
    "100,000-character -d value": lambda d: ["-d", "widget_name=" + "x" * 100_000],
    "100,000-character destination name": lambda d: ["__DEST__" + "n" * 100_000],
}


def _file(folder: Path, text: str) -> list[str]:
    path = folder / "answers.yml"
    path.write_text(text + "\n", "utf-8")
    return ["--data-file", str(path)]


def _exists(path: str) -> bool:
    try:
        return os.path.lexists(path)
    except OSError:  # a name too long to exist
        return False


def run_case(name: str, make_args: Callable[[Path], list[str]], root: Path,
             env: dict[str, str]) -> tuple[bool, str]:
    work = Path(tempfile.mkdtemp(dir=root))
    args = make_args(work)
    dest = str(work / "w")
    if args and args[0].startswith("__DEST__"):
        dest, args = str(work / args[0].removeprefix("__DEST__")), args[1:]
    err_path = work / "stderr.txt"
    start = time.perf_counter()
    with err_path.open("wb") as err_file:
        process = subprocess.Popen([*NEW, dest, "--defaults", *args], env=env,
                                   stdout=subprocess.DEVNULL, stderr=err_file)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    lines = err_path.read_text("utf-8", "replace").strip().splitlines()
    ok = (code != 0 and len(lines) == 1 and lines[0].startswith("error: ")
          and not _exists(dest) and elapsed <= MAX_SECONDS and peak_mb <= MAX_RSS_MB)
    message = f"(no message, exit {code})"
    if lines:
        message = lines[0][:90] + ("..." if len(lines[0]) > 90 else "")
    return ok, f"{elapsed:6.2f} s {peak_mb:6.0f} MB  {name}: {message}"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kommo-bench-hostile-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        env = {**os.environ, "HOME": str(root / "home"),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO),
                                                           os.environ.get("PYTHONPATH")]))}
        sync = subprocess.run([sys.executable, "-c",
                               "from kommo_scaffold.cli.app import main; main()", "sync-template"],
                              env=env, capture_output=True, text=True)
        if sync.returncode != 0:
            raise SystemExit(f"sync-template failed: {sync.stderr}")
        failures = 0
        print(f"budget: {MAX_SECONDS:.0f} s and {MAX_RSS_MB} MB (peak RSS) per case")
        for name, make_args in CASES.items():
            ok, line = run_case(name, make_args, root, env)
            failures += not ok
            print(("PASS " if ok else "FAIL ") + line)
        return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
