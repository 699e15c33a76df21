"""Benchmark: `kommo-new PATH --defaults` against plain `copier copy --defaults`.

Both render the same template version from the same store, so the difference is what the
wrapper adds (answer checks, store sync, logos, git init and commit). Target: the wrapper
costs at most 20% more wall time. Also reports `kommo-new --help` (must stay light) and peak
memory. Runs in a throwaway HOME so it never touches your template store.

    python benchmarks/bench_new.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.20


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    kommo_new = shutil.which("kommo-new")
    copier = shutil.which("copier")
    if not kommo_new or not copier:
        raise SystemExit("install the project first: pip install -e '.[test]'")
    with tempfile.TemporaryDirectory(prefix="kommo-bench-") as tmp:
        root = Path(tmp)
        env = {**os.environ, "HOME": str(root / "home")}
        (root / "home").mkdir()
        sync = subprocess.run([kommo_new.replace("kommo-new", "kommo"), "sync-template"],
                              env=env, capture_output=True, text=True, check=True)
        tag = sync.stdout.rsplit("template ", 1)[1].rstrip(")\n")
        store = "~/.kommo-scaffold/template"
        results: dict[str, list[tuple[float, int]]] = {"kommo-new": [], "copier copy": [],
                                                       "kommo-new --help": []}
        for run in range(args.runs):  # interleaved, so drift affects both alike
            results["kommo-new"].append(
                timed([kommo_new, f"k{run}", "--defaults"], env, root))
            results["copier copy"].append(
                timed([copier, "copy", "--quiet", "--defaults", "--vcs-ref", tag, store,
                       f"c{run}"], env, root))
            results["kommo-new --help"].append(timed([kommo_new, "--help"], env, root))
    print(f"{'command':<18} {'median s':>9} {'min s':>7} {'peak MiB':>9}   ({args.runs} runs)")
    for name, samples in results.items():
        times = [t for t, _ in samples]
        print(f"{name:<18} {statistics.median(times):>9.3f} {min(times):>7.3f} "
              f"{max(m for _, m in samples) / 1024:>9.1f}")
    ratio = (statistics.median(t for t, _ in results["kommo-new"])
             / statistics.median(t for t, _ in results["copier copy"]))
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"kommo-new / copier copy = {ratio:.2f} ({verdict} the {TARGET_RATIO:.2f} target)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
