"""The students' pytest self-check, run the way students run it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support.paths import LESSONS, SOLUTIONS

from autograder.notebook import STYLE
from autograder.results import Outcome
from autograder.spec import SPEC

pytestmark = pytest.mark.slow


def run_selfcheck(folder, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "autograder.selfcheck", "-q", "-p", "no:cacheprovider", "-rf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**__import__("os").environ, "MNIST_LESSONS": str(folder), "MNIST_PATH": "synthetic"},
    )


def test_selfcheck_passes_every_exercise_of_the_solutions(tmp_path):
    """Does the self-check report one passing test per exercise on solutions/?

    This is also the test that each solution, graded in a fresh kernel by grade_notebook on synthetic digits, earns
    every point: the self-check grades each lesson that way and fails an exercise whose check did not pass."""
    done = run_selfcheck(SOLUTIONS, tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    assert f"{len(SPEC.points)} passed" in done.stdout


def test_selfcheck_shows_each_checks_message_on_unedited_lessons(tmp_path):
    """On the untouched lessons, does every exercise fail with the check's 'not attempted yet' message?

    This is also the test that every exercise of an untouched lesson, graded by grade_notebook in a fresh kernel,
    is not attempted and earns 0 points: each failure shows the result's outcome and points."""
    done = run_selfcheck(LESSONS, tmp_path)
    assert done.returncode == 1
    assert f"{len(SPEC.points)} failed" in done.stdout
    not_attempted = STYLE[Outcome.NOT_ATTEMPTED][1]
    for check_id, points in SPEC.points.items():
        assert f"{check_id}: {not_attempted} (0/{points:g} points)" in done.stdout, check_id
    assert "build_model() is not attempted yet" in done.stdout
    assert "Hint: Replace `raise NotImplementedError()`" in done.stdout
