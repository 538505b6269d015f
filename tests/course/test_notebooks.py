"""The solution and lesson notebooks, run top to bottom in real Jupyter kernels."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from support.environments import TENSORFLOW_LOG_LINE, instructor_environment
from support.paths import LESSON_NAMES, LESSONS, SOLUTIONS

from autograder.lesson.instrument import is_test_cell

pytestmark = pytest.mark.slow


@pytest.mark.real_data
@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_solution_runs_top_to_bottom_on_real_digits(lesson, real_digits_npz, monkeypatch, tmp_path):
    """Does each solution run without an error on real digits, every check cell printing a pass?"""
    monkeypatch.setenv("MNIST_PATH", str(real_digits_npz))
    notebook = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute(env=instructor_environment())
    check_cells = [cell for cell in notebook.cells if is_test_cell(cell)]
    printed = ["".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout") for cell in check_cells]
    assert printed and all("passed" in text for text in printed), printed
    stderr = [o.text for cell in check_cells for o in cell.outputs if o.get("name") == "stderr"]
    assert stderr == [], "nbgrader fails a check cell that writes to stderr"
    every_stderr = "".join(
        o.text for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs if o.get("name") == "stderr"
    )
    assert TENSORFLOW_LOG_LINE.findall(every_stderr) == [], every_stderr


def test_nbgrader_validate_passes_every_solution(synthetic_digits, tmp_path):
    """Does `nbgrader validate` accept each solution notebook?"""
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    paths = [str(SOLUTIONS / f"{lesson}.ipynb") for lesson in LESSON_NAMES]
    done = subprocess.run(
        [nbgrader, "validate", *paths],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
        env=instructor_environment(),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("Success! Your notebook passes all the tests.") == len(paths), done.stdout


def test_nbgrader_validate_rejects_an_unedited_lesson(synthetic_digits, tmp_path):
    """Does `nbgrader validate` report failures on a lesson nobody has worked on?"""
    nbgrader = str(Path(sys.executable).with_name("nbgrader"))
    done = subprocess.run(
        [nbgrader, "validate", str(LESSONS / "03_build.ipynb")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=instructor_environment(),
    )
    assert "VALIDATION FAILED" in done.stdout, done.stdout


def test_optional_scaling_comparison_shows_what_no_scaling_costs(synthetic_digits, tmp_path):
    """With compare_scaling = True, does lesson 04's optional cell show a larger loss before training and a lower
    final validation accuracy for unscaled pixels (the claim lesson 02 makes)?"""
    notebook = nbformat.read(SOLUTIONS / "04_train.ipynb", as_version=4)
    [optional] = [cell for cell in notebook.cells if cell.source.startswith("compare_scaling = False")]
    optional.source = optional.source.replace("compare_scaling = False", "compare_scaling = True", 1)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute(env=instructor_environment())
    printed = "".join(o.get("text", "") for o in optional.outputs if o.get("name") == "stdout")
    line = re.compile(
        r"pixels in (\[0, 1\]|0-255)\s*: loss before training +([\d.]+), after 1 epoch +([\d.]+); "
        r"final validation accuracy ([\d.]+)%"
    )
    runs = {name: tuple(map(float, numbers)) for name, *numbers in line.findall(printed)}
    assert set(runs) == {"[0, 1]", "0-255"}, printed
    scaled, unscaled = runs["[0, 1]"], runs["0-255"]
    assert unscaled[0] > 10 * scaled[0], printed
    assert unscaled[2] < scaled[2], printed
