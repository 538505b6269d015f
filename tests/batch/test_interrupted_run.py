"""Killing a grading run halfway loses no finished student, and a re-run grades the rest."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from support.paths import EXAMPLE_SUBMISSIONS

pytestmark = pytest.mark.slow

STUDENTS = ("fails_layer_name", "fails_units_25", "passes_all")
LESSONS_KEPT = ("01_load", "03_build")  # two quick lessons per student keep the test short


def small_class(root):
    for student in STUDENTS:
        folder = root / "submitted" / student / "mnist"
        folder.mkdir(parents=True)
        for lesson in LESSONS_KEPT:
            shutil.copy(EXAMPLE_SUBMISSIONS / student / "mnist" / f"{lesson}.ipynb", folder)
    return root / "submitted"


def grade(submitted, output, **popen):
    command = [sys.executable, "-m", "autograder", str(submitted), "--output", str(output), "--no-progress"]
    return subprocess.Popen(
        command,
        env={**os.environ, "MNIST_PATH": "synthetic"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **popen,
    )


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_run_keeps_finished_students_byte_for_byte(tmp_path, how):
    """After SIGINT or SIGKILL mid-class, do finished students keep their exact results, and does a re-run finish
    the rest?"""
    submitted, output = small_class(tmp_path), tmp_path / "out"
    run = grade(submitted, output, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list((output / "results").glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(run.pid, how)
    run.wait(timeout=120)
    finished = {path.name: path.read_bytes() for path in (output / "results").glob("*.json")}
    assert 1 <= len(finished) < len(STUDENTS), "the kill should land between students"
    assert not list(output.rglob("*.tmp")) or how is signal.SIGKILL  # SIGINT cleans its temporary files

    assert grade(submitted, output).wait(timeout=600) == 0
    for name, content in finished.items():
        assert (output / "results" / name).read_bytes() == content
    assert not list(output.rglob("*.tmp"))
    with open(output / "gradebook.csv", newline="") as handle:
        assert sorted(row["student"] for row in csv.DictReader(handle)) == list(STUDENTS)
