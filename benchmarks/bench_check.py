"""Benchmark: `kommo check` speed on a 1.6 MB bundle and on a generated widget.

1. A widget whose script.js is lodash plus react-dom inside an AMD wrapper (about 1.6 MB):
   `kommo check` against `node --check` of the same file. Target: at most 3x node.
   The two libraries come from the npm registry (`npm pack`, cached under
   ~/.cache/kommo-scaffold-bench); without npm a synthetic bundle of the same size is used.
2. The re-check `kommo dev` runs after a save of that bundle (a warm process, its V8 page
   started in advance as the watcher does): at most 1x a cold `node --check`.
3. A widget made by `kommo-new --defaults`: `kommo check` under 0.3 s in-process (the
   checker's own cost) and the whole CLI run reported too.

    python benchmarks/bench_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from check_helpers import W  # noqa: E402

TARGET_RATIO = 3.0
TARGET_RECHECK = 1.0
TARGET_GENERATED = 0.3
CACHE = Path.home() / ".cache" / "kommo-scaffold-bench"
PACKAGES = {"lodash@4.17.21": "package/lodash.js",
            "react-dom@18.3.1": "package/umd/react-dom.development.js"}


def library_sources() -> list[str] | None:
    """lodash.js and react-dom's UMD build, from the npm registry (cached)."""
    sources = []
    for spec, member in PACKAGES.items():
        cached = CACHE / (spec.replace("@", "-") + ".js")
        if not cached.exists():
            if not shutil.which("npm"):
                return None
            CACHE.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory() as tmp:
                packed = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp,
                                        capture_output=True, text=True, check=False)
                if packed.returncode != 0:
                    return None
                with tarfile.open(Path(tmp) / packed.stdout.strip().splitlines()[-1]) as tar:
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        return None
                    cached.write_bytes(extracted.read())
        sources.append(cached.read_text("utf-8"))
    return sources


def synthetic_library(size: int) -> str:
    chunk = ("function f_{i}(a, b) {{ var r = /[(]/.test(a) ? `x${{a}}` : b?.c ?? {{}};\n"
             "  for (let k = 0; k < 3; k++) {{ r = r + k / 2; }} return r; }}\n")
    parts, total, i = [], 0, 0
    while total < size:
        piece = chunk.format(i=i)
        parts.append(piece)
        total += len(piece)
        i += 1
    return "".join(parts)


def bundle() -> tuple[str, str]:
    libraries = library_sources()
    label = "lodash + react-dom"
    if libraries is None:
        libraries, label = [synthetic_library(1_600_000)], "synthetic (no npm)"
    body = "\n".join(libraries)
    script = ("define(['jquery'], function ($) {\nvar module = {exports: {}}, "
              "exports = module.exports;\n" + body + "\nreturn function () {\n"
              "  this.callbacks = {render: function () { return true; }, "
              "init: function () { return true; }, bind_actions: function () { return true; },"
              " settings: function () {}, onSave: function () { return true; }};\n"
              "  return this;\n};\n});\n")
    return script, label


def best_of(argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def dev_recheck(folder: Path, script: str, runs: int) -> float:
    """Best time from a save of script.js to the watcher's findings, as kommo dev runs it."""
    from kommo_scaffold.dev.watch import next_page, run_checker

    times = []
    page = next_page()
    for run in range(runs):
        (folder / "script.js").write_text(script + f"\n// save {run}\n", "utf-8")
        start = time.perf_counter()
        run_checker(folder, page)
        times.append(time.perf_counter() - start)
        page = next_page()  # the watcher starts the next page while it waits
        time.sleep(0.5)
    page.close()
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # As the installed console script runs it (pyproject.toml: kommo = cli.entry:main).
    kommo = [sys.executable, "-c", "from kommo_scaffold.cli.entry import main; main()"]
    ok = True
    with tempfile.TemporaryDirectory(prefix="kommo-bench-check-") as tmp:
        root = Path(tmp)
        script, label = bundle()
        widget = W(root / "bundle")
        widget.script = script
        folder = widget.build()
        size = len(script.encode("utf-8")) / 1024 / 1024
        if shutil.which("node"):
            node = best_of(["node", "--check", str(folder / "script.js")], args.runs, env)
            check = best_of([*kommo, "check", str(folder)], args.runs, env)
            ratio = check / node
            ok &= ratio <= TARGET_RATIO
            print(f"bundle ({label}, {size:.1f} MB): node --check {node:.2f} s, kommo check "
                  f"{check:.2f} s = {ratio:.1f}x (target <= {TARGET_RATIO:.0f}x)")
            from kommo_scaffold import check as checker

            checker.check_path(folder)  # warm: the query is compiled once per process
            start = time.perf_counter()
            checker.check_path(folder)
            print(f"  of which the checker itself (in-process, warm): "
                  f"{time.perf_counter() - start:.2f} s; the rest is Python and CLI start-up")
            recheck = dev_recheck(folder, script, args.runs)
            ok &= recheck / node <= TARGET_RECHECK
            print(f"kommo dev re-check after a save: {recheck:.2f} s = {recheck / node:.1f}x "
                  f"a cold node --check (target <= {TARGET_RECHECK:.0f}x)")
        else:
            print("node not installed: bundle comparison skipped")

        os.environ["HOME"] = str(root / "home")
        (root / "home").mkdir()
        from kommo_scaffold import check as checker
        from kommo_scaffold.scaffold import generate

        project = root / "generated"
        generate.create(project, {}, defaults=True)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            checker.check_path(project)
            times.append(time.perf_counter() - start)
        in_process = min(times)
        cli = best_of([*kommo, "check", str(project)], args.runs,
                      {**env, "HOME": str(root / "home")})
        ok &= in_process <= TARGET_GENERATED
        print(f"generated widget: check {in_process:.3f} s in-process (target <= "
              f"{TARGET_GENERATED} s), {cli:.2f} s for the whole CLI run")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
