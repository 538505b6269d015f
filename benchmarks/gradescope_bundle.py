"""What one student costs inside the Gradescope bundle: wall time and peak memory of run_autograder.

    .venv/bin/python benchmarks/gradescope_bundle.py [--runs 3] [--student passes_all]

Builds the bundle (synthetic digits), unzips it into a temporary /autograder (``AUTOGRADER_ROOT``), uploads one
example student's notebooks, and runs ``run_autograder`` with this Python as Gradescope would, ``--runs`` times,
sampling the PSS of its whole process tree every 0.2 s (:class:`grading_speed.TreeSampler`). Prints each run and
the medians: the figures behind the README's Gradescope settings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grading_speed import TreeSampler  # the benchmarks folder is not a package

from autograder.batch.gradescope import build_bundle, unpack_bundle

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "submissions"


def run_once(root: Path) -> tuple[float, float, float]:
    """Runs run_autograder in ``root``; returns (wall seconds, peak PSS in MiB, score)."""
    env = {name: value for name, value in os.environ.items() if name != "MNIST_PATH"}
    env.update(AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=sys.executable)
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(root / "source" / "run_autograder")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sampler = TreeSampler(process.pid, per_child_workers=False)
    sampler.start()
    process.wait()
    peaks = sampler.stop()
    score = json.loads((root / "results" / "results.json").read_text())["score"]
    return time.perf_counter() - started, peaks.total_mib, score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--student", default="passes_all", help="an example student (examples/submissions)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gradescope-bench-") as scratch:
        root = Path(scratch)
        unpack_bundle(build_bundle(root / "bundle.zip", mnist_path="synthetic"), root)
        for notebook in (EXAMPLES / arguments.student / "mnist").glob("*.ipynb"):
            shutil.copy(notebook, root / "submission")
        walls, peaks = [], []
        for run in range(1, arguments.runs + 1):
            wall, peak, score = run_once(root)
            walls.append(wall)
            peaks.append(peak)
            print(f"run {run}: {wall:.1f} s, peak {peak:.0f} MiB PSS, score {score:g}", flush=True)
    print(
        f"median of {arguments.runs}: {statistics.median(walls):.1f} s, peak {statistics.median(peaks):.0f} MiB PSS "
        f"(largest {max(peaks):.0f} MiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
