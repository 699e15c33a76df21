"""Benchmark: `kommo add-area digital_pipeline` against the same change by plain `copier update`.

Both run on fresh copies of one committed project and render the same template version
from the same store. kommo does more (a private copy of the project, checks before and
after, the lock, logos); it also does once what copier repeats (the template clone, git's
answers about it, Jinja compilation, kept between commands). Target: kommo add-area takes
no longer than plain copier update. Runs in a throwaway HOME so it never touches your
template store or caches.

    python benchmarks/bench_update.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 1.0
AREAS = ["lcard", "settings"]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time, and CPU time of the command and its children (git...): the CPU time
    hardly changes with the machine's load."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}: {done.stderr.strip()}")
    return elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    kommo, kommo_new, copier = (shutil.which(name) for name in ("kommo", "kommo-new", "copier"))
    if not kommo or not kommo_new or not copier:
        raise SystemExit("install the project first: pip install -e '.[test]'")
    with tempfile.TemporaryDirectory(prefix="kommo-bench-") as tmp:
        root = Path(tmp)
        (root / "home").mkdir()
        env = {**os.environ, "HOME": str(root / "home"), "GIT_AUTHOR_NAME": "bench",
               "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
               "GIT_COMMITTER_EMAIL": "bench@example.com"}
        env.pop("KOMMO_SCAFFOLD_CACHE", None)
        subprocess.run([kommo_new, "base", "--defaults", "-d",
                        f"locations=[{', '.join(AREAS)}]"], cwd=root, env=env,
                       capture_output=True, check=True)
        copier_data = f"locations=[{', '.join([*AREAS, 'digital_pipeline'])}]"
        results: dict[str, list[float]] = {"kommo add-area": [], "copier update": []}
        cpu: dict[str, list[float]] = {name: [] for name in results}
        for run in range(args.runs):  # interleaved, so drift affects both alike
            for name in results:
                project = root / f"{name.split()[0]}-{run}"
                shutil.copytree(root / "base", project, symlinks=True)
                if name == "kommo add-area":
                    argv = [kommo, "add-area", "digital_pipeline", "--defaults"]
                else:
                    argv = [copier, "update", "--quiet", "--defaults", "--vcs-ref=:current:",
                            "-d", copier_data]
                wall, used = timed(argv, env, project)
                results[name].append(wall)
                cpu[name].append(used)
    print(f"{'command':<16} {'median s':>9} {'min s':>7} {'CPU s':>7}   ({args.runs} runs)")
    for name, times in results.items():
        print(f"{name:<16} {statistics.median(times):>9.3f} {min(times):>7.3f} "
              f"{statistics.median(cpu[name]):>7.3f}")
    ratio = statistics.median(results["kommo add-area"]) / statistics.median(
        results["copier update"])
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"kommo add-area / copier update = {ratio:.2f} ({verdict} the {TARGET_RATIO:.2f} "
          "target)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
