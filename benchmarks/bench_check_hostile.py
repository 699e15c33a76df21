"""Benchmark: `kommo check` on hostile input stays within its time and memory budget.

Each input is a widget folder (or zip) that is valid except for one hostile file; `kommo
check` must finish every one with findings or a clean refusal (exit 0, 1 or 2, no
traceback) within 10 s and 500 MB on a two-core machine:

- script.js of 16 MB of `;`, a 10 MB one-line script, 1 MB of `1e+e+e...`;
- a manifest with 20,000 duplicate locations, one with 5,000 settings fields;
- a zip declaring a million entries (refused from its central directory);
- the worst shapes just under the JavaScript parser's token budget;
- every free text field as 1 MB of `<<<<`, `<a<a`, `%%%%`, `{{{{`, spaces, `a@....` and other
  shapes that make a backtracking regular expression quadratic.

    python benchmarks/bench_check_hostile.py
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from check_helpers import W, hostile_texts, hostile_widget  # noqa: E402

TIME_BUDGET = 10.0
MEMORY_BUDGET_MB = 500


def run_check(target: Path) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MB), exit code and stderr of `kommo check TARGET`."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", "from kommo_scaffold.cli.app import main; main()", "check",
         str(target)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.stderr is not None
    stderr = process.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    return (time.perf_counter() - start, usage.ru_maxrss / 1024,
            os.waitstatus_to_exitcode(status), stderr)


def widget_with(root: Path, change: Callable[[W], None]) -> Path:
    widget = W(root)
    change(widget)
    return widget.build()


def million_entry_zip(path: Path, count: int = 1_000_000) -> Path:
    """A real zip of ``count`` empty entries, written directly (zipfile would take minutes)."""
    with path.open("wb") as stream:
        central = bytearray()
        offset = 0
        for index in range(count):
            name = f"f{index:07d}".encode()
            local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0,
                                len(name), 0) + name
            stream.write(local)
            central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0,
                                   len(name), 0, 0, 0, 0, 0, offset) + name
            offset += len(local)
        stream.write(central)
        zip64_at = offset + len(central)
        stream.write(struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                                 len(central), offset))
        stream.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, zip64_at, 1))
        stream.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                                 0xFFFFFFFF, 0))
    return path


def cases(root: Path) -> dict[str, Path]:
    def script(text: str) -> Callable[[W], None]:
        return lambda w: setattr(w, "script", text)

    def locations(w: W) -> None:
        w.manifest["locations"] = ["lcard-1", "settings"] + ["settings"] * 20_000

    def settings(w: W) -> None:
        w.manifest["settings"] = {f"field_{i}": {"name": f"settings.field_{i}", "type": "text"}
                                  for i in range(5_000)}
        w.i18n["en"]["settings"] = {f"field_{i}": f"Field {i}" for i in range(5_000)}

    one_line = "define([], function () { var a = [" + "1," * 5_000_000 + "]; });"
    made = {
        "16 MB of ;": widget_with(root / "semicolons", script(";" * (16 * 1024 * 1024))),
        "10 MB one-line script": widget_with(root / "one-line", script(one_line)),
        "10 MB one-line code": widget_with(
            root / "one-line-code",
            script("define([], function () {" + "a.b(c, d && e[f]);" * 550_000 + "});")),
        "1 MB of 1e+e+e": widget_with(root / "exponent",
                                      script("var x = 1" + "e+" * 500_000 + "1;")),
        # the worst shapes just under the parser's token budget (jsparse.MAX_TOKENS)
        "just under budget: ;": widget_with(root / "budget-semicolons", script(";" * 499_000)),
        "just under budget: if(": widget_with(root / "budget-if", script("if(" * 249_000)),
        "20,000 duplicate locations": widget_with(root / "locations", locations),
        "5,000 settings fields": widget_with(root / "settings", settings),
        "zip of a million entries": million_entry_zip(root / "million.zip"),
    }
    # Every free text field (listing texts, a settings label, the version, the DP URL, a
    # location flag, a script comment) as 1 MB of a shape that makes backtracking quadratic.
    for shape, text in hostile_texts().items():
        made[f"1 MB text fields: {shape}"] = hostile_widget(root / f"text-{shape}", text)
    return made


def main() -> int:
    if sys.argv[1:2] == ["--make"]:
        for label, target in cases(Path(sys.argv[2])).items():
            print(f"{label}\t{target}")
        return 0
    failed = False
    with tempfile.TemporaryDirectory(prefix="kommo-bench-check-") as tmp:
        # The inputs are made by another process: Linux keeps a process's peak RSS across
        # fork and exec, so a parent holding 16 MB strings would inflate every measurement.
        made = subprocess.run([sys.executable, __file__, "--make", tmp], capture_output=True,
                              text=True, check=True)
        for line in made.stdout.splitlines():
            label, target = line.split("\t")
            seconds, megabytes, code, stderr = run_check(Path(target))
            ok = (seconds <= TIME_BUDGET and megabytes <= MEMORY_BUDGET_MB
                  and code in (0, 1, 2) and "Traceback" not in stderr)
            failed |= not ok
            print(f"{'ok  ' if ok else 'FAIL'} {label:36} {seconds:6.2f} s {megabytes:7.1f} MB "
                  f"exit {code}")
    print(f"budget: {TIME_BUDGET:.0f} s and {MEMORY_BUDGET_MB} MB per input")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
