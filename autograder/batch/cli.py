"""Command line for grading a class: a thin layer over :func:`autograder.batch.grade_class.grade_class`.

mnist-grade SUBMITTED [--output DIR] [--jobs N] [--force] ...
python -m autograder SUBMITTED ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.batch.grade_class import (
    DEFAULT_OUTPUT,
    GradingOptions,
    grade_class,
    use_threads,
)
from autograder.batch.reports import StudentRecord, most_failed
from autograder.kernel.isolation import describe_isolation
from autograder.limits import Limits
from autograder.spec import SPEC

DEFAULTS = GradingOptions()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mnist-grade",
        description="Grade the MNIST course's lesson notebooks for a class.",
        epilog="Each notebook's kernel is kept from the following (README: 'What a submission can and cannot do').\n"
        + describe_isolation(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "source",
        type=Path,
        help="nbgrader's submitted/ folder (<student>/mnist/*.ipynb), "
        "a folder of one student's notebooks, or one notebook",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="output folder (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="students graded at once (default: %(default)s)")
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="grade on a Dask cluster: a scheduler's address "
        "(tcp://host:8786), or local:N for N worker processes on this machine (README: 'On a cluster')",
    )
    parser.add_argument("--force", action="store_true", help="regrade students whose results are up to date")
    parser.add_argument(
        "--release", type=Path, default=DEFAULTS.release, help="released lessons (default: %(default)s)"
    )
    limits = DEFAULTS.limits
    for option, kind, default, help_text in (
        ("--cell-timeout", float, limits.cell_timeout, "seconds per cell"),
        ("--notebook-timeout", float, limits.notebook_timeout, "seconds per notebook"),
        ("--memory-limit", float, limits.memory_bytes / 2**30, "GB of memory per notebook's kernel and its processes"),
        ("--max-processes", int, limits.max_processes, "processes a notebook's kernel may start"),
        ("--output-limit", float, limits.output_bytes / 2**20, "MB of output kept per notebook"),
        ("--disk-limit", float, limits.disk_bytes / 2**20, "MB a notebook's kernel may write to disk"),
    ):
        parser.add_argument(option, type=kind, default=default, help=f"{help_text} (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser.parse_args(argv)


def print_gradebook(records: list[StudentRecord], output: Path) -> None:
    """Prints the gradebook as a table, the most-failed checks, and where the reports are."""
    header = ["student", *SPEC.lessons, "total"]
    rows = [
        [
            r["student"],
            *(f"{r['lessons'][lesson]['points']:g}/{r['lessons'][lesson]['max_points']:g}" for lesson in SPEC.lessons),
            f"{r['total']:g}/{r['max_total']:g}",
        ]
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    failing = most_failed(records)
    if failing:
        print("\nMost-failed checks: " + ", ".join(f"{check} ({count})" for _, check, count in failing[:5]))
    print(
        f"\nGradebook: {output / 'gradebook.csv'}\nFeedback:  {output / 'feedback'}/<student>.html"
        f"\nResults:   {output / 'results'}/<student>.json, Gradescope: {output / 'gradescope'}/<student>/results.json"
        f"\nSummary:   {output / 'summary'}/score_histogram.png and most_failed.md"
    )


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    use_threads(DEFAULTS.kernel_threads)  # before TensorFlow starts in this process or in a worker
    limits = Limits(
        cell_timeout=arguments.cell_timeout,
        notebook_timeout=arguments.notebook_timeout,
        memory_bytes=int(arguments.memory_limit * 2**30),
        max_processes=arguments.max_processes,
        output_bytes=int(arguments.output_limit * 2**20),
        disk_bytes=int(arguments.disk_limit * 2**20),
    )
    options = GradingOptions(release=arguments.release, limits=limits)
    try:
        records = grade_class(
            arguments.source,
            output=arguments.output,
            jobs=arguments.jobs,
            force=arguments.force,
            options=options,
            progress=not arguments.no_progress,
            dask=arguments.dask,
        )
    except (FileNotFoundError, ValueError) as error:
        print(f"mnist-grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nmnist-grade: stopped. The students graded before the stop are kept in {arguments.output}; "
            "run the same command again to grade the rest.",
            file=sys.stderr,
        )
        return 130  # the shells' status for a command stopped by Ctrl-C
    print_gradebook(records, arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
