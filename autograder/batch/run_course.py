"""The main job: rebuild the lessons, run every solution, then grade the example class.

    python -m autograder.batch.run_course        (or: make run)

1. ``nbgrader generate_assignment`` rebuilds lessons/ from solutions/;
2. every solution notebook runs in a fresh kernel and is checked: a table per lesson;
3. the example submissions in examples/submissions are graded like a class (``--jobs 2``):
   the gradebook is printed and the reports are written to grading-output/.

Offline, with no MNIST source configured, it uses the synthetic digits and says so.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from autograder.batch.cli import print_gradebook
from autograder.batch.grade_class import grade_class
from autograder.kernel.course_copy import data_source
from autograder.lesson.grade import grade_notebook
from autograder.quiet import import_tensorflow_quietly
from autograder.spec import ASSIGNMENT, PROJECT_ROOT, SPEC

EXAMPLES = PROJECT_ROOT / "examples" / "submissions"
OUTPUT = PROJECT_ROOT / "grading-output"


def choose_data_source() -> str:
    """Uses MNIST_PATH if set, else Keras's cached mnist.npz, else the synthetic digits; says which."""
    source = data_source()
    if source:
        return f"{source} (MNIST_PATH)" if os.environ.get("MNIST_PATH") else f"Keras's cached {source}"
    os.environ["MNIST_PATH"] = "synthetic"
    return (
        "SYNTHETIC digits: no MNIST_PATH is set and Keras has no cached mnist.npz, so this run uses "
        "digits rendered from fonts (MNIST_PATH=synthetic). Set MNIST_PATH to real MNIST for real results"
    )


def generate_lessons(root: Path = PROJECT_ROOT) -> None:
    """Runs ``nbgrader generate_assignment`` so lessons/ is rebuilt from solutions/.

    Raises:
        RuntimeError: With nbgrader's output when it fails.
    """
    command = [str(Path(sys.executable).with_name("nbgrader")), "generate_assignment", ASSIGNMENT, "--no-db", "--force"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="students graded at once (default: %(default)s)")
    arguments = parser.parse_args(argv)
    import_tensorflow_quietly()  # before anything here loads it: no TensorFlow start-up lines in the terminal
    print(f"Data: {choose_data_source()}.")
    generate_lessons()
    print(
        f"Lessons: {PROJECT_ROOT / 'lessons' / ASSIGNMENT} regenerated from {PROJECT_ROOT / 'solutions' / ASSIGNMENT} "
        "by nbgrader."
    )
    print("Running each solution notebook in a fresh Jupyter kernel and checking it ...\n")
    rows, all_passed = [], True
    for notebook in sorted((PROJECT_ROOT / "solutions" / ASSIGNMENT).glob("*.ipynb")):
        started = time.perf_counter()
        results = grade_notebook(notebook).results
        seconds = time.perf_counter() - started
        earned, possible = sum(r.points for r in results), sum(r.max_points for r in results)
        failed = [r for r in results if not r.passed]
        all_passed &= not failed
        status = "pass" if not failed else "FAIL: " + "; ".join(f"{r.check_id} ({r.outcome.value})" for r in failed)
        rows.append((notebook.stem, f"{earned:g}/{possible:g}", f"{seconds:.1f}", status))
        for result in failed:
            print(f"{notebook.stem} {result.check_id}: {result.message}")
    header = ("lesson", "points", "seconds", "checks")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
    total = sum(float(row[1].split("/")[0]) for row in rows)
    print(
        f"\nTotal {total:g}/{SPEC.total_points} points: {'every lesson passes' if all_passed else 'SOME LESSONS FAIL'}."
    )
    print(f"\nGrading the example class in {EXAMPLES} (each student is named by the result it should get) ...")
    records = grade_class(EXAMPLES, output=OUTPUT, jobs=arguments.jobs, force=True)
    print()
    print_gradebook(records, OUTPUT)
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
