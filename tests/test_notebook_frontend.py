"""What a student sees in the notebook when a check runs, in a real kernel."""

from __future__ import annotations

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.notebook import CheckFailed, check, format_result, hint
from autograder.results import CheckResult, Outcome
from conftest import LESSONS


# What TensorFlow writes to the process's standard error while it starts and trains, line by line.
TENSORFLOW_LOG_LINE = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cuda drivers|cuInit|cpu_feature_guard|^[IWEF]\d{4} \d\d:\d\d", re.M)


def run_cells(*sources: str, cwd, env: dict[str, str] | None = None) -> list[nbformat.NotebookNode]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute(**({"env": env} if env is not None else {}))
    return notebook.cells


def text_of(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


def stderr_of(cells) -> str:
    return "".join(output.text for cell in cells for output in cell.outputs if output.get("name") == "stderr")


def student_environment() -> dict[str, str]:
    """The environment without pytest's marker: with PYTEST_CURRENT_TEST set, ipykernel stops forwarding what
    libraries write to the process's stderr, and this test would see nothing either way."""
    return {name: value for name, value in os.environ.items() if name not in ("PYTEST_CURRENT_TEST", "TF_CPP_MIN_LOG_LEVEL")}


def test_failed_check_shows_the_message_not_the_graders_frames(tmp_path):
    """Does a failing check print its message and raise CheckFailed without the grader's own frames?"""
    cells = run_cells(
        "from autograder.notebook import check, hint\n"
        "def flatten(images):\n    return images.reshape(len(images), 784)",
        'check("flatten", flatten)',
        'hint("flatten")',
        cwd=tmp_path,
    )
    assert "not yet" in text_of(cells[1]) and "expected them scaled to [0, 1]" in text_of(cells[1])
    error = next(output for output in cells[1].outputs if output.output_type == "error")
    assert error.ename == "CheckFailed"
    assert "float32" in error.evalue
    traceback = "\n".join(error.traceback)
    assert "exercises.py" not in traceback and "notebook.py" not in traceback
    assert "Divide by 255" in text_of(cells[2])


def test_failed_check_shows_its_message_once_with_the_hint_pointer(tmp_path):
    """Is a failed check's message shown once in the cell (printed, not again in the CheckFailed line), with the
    pointer to hint()?"""
    cells = run_cells(
        "from autograder.notebook import check\n"
        "def flatten(images):\n    return images.reshape(len(images), 784)",
        'check("flatten", flatten)',
        cwd=tmp_path,
    )
    error = next(output for output in cells[1].outputs if output.output_type == "error")
    shown = text_of(cells[1]) + "\n".join(error.traceback)
    assert shown.count("expected them scaled to [0, 1]") == 1, shown
    assert shown.count("hint('flatten')") == 1, shown
    assert "flatten did not pass yet" in "\n".join(error.traceback)
    assert "expected them scaled to [0, 1]" in error.evalue  # nbgrader and pytest still get the whole message


@pytest.mark.slow
def test_lesson_set_up_shows_no_tensorflow_log_lines(tmp_path):
    """Does lesson 05's set-up cell (which imports TensorFlow and trains) write none of TensorFlow's log lines to the
    notebook, in a kernel that shows what libraries write to stderr?"""
    setup = next(cell.source for cell in nbformat.read(LESSONS / "05_predict.ipynb", as_version=4).cells
                 if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup")
    env = {**student_environment(), "MNIST_PATH": "synthetic"}
    cells = run_cells(setup, cwd=tmp_path, env=env)
    assert "Ready." in text_of(cells[0]) and not any(o.output_type == "error" for o in cells[0].outputs)
    assert TENSORFLOW_LOG_LINE.findall(stderr_of(cells)) == [], stderr_of(cells)


@pytest.mark.slow
def test_tensorflow_imported_plainly_does_log_in_such_a_kernel(tmp_path):
    """Does the same kernel show TensorFlow's log lines when it is imported plainly (so the test above can see them)?"""
    cells = run_cells("import tensorflow", cwd=tmp_path, env=student_environment())
    assert "absl::InitializeLog" in stderr_of(cells)


def test_unfinished_exercise_says_not_attempted(tmp_path):
    """Does an exercise that still raises NotImplementedError say 'not attempted yet' instead of a traceback of its own?"""
    cells = run_cells(
        "from autograder.notebook import check\n"
        "def build_model():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
        'check("build_model", build_model)',
        cwd=tmp_path,
    )
    assert "not attempted yet" in text_of(cells[1])
    error = next(output for output in cells[1].outputs if output.output_type == "error")
    assert "NotImplementedError" not in "\n".join(error.traceback).split("CheckFailed")[0]


def test_passing_check_prints_and_returns_quietly(capsys):
    """Does a passing check print a green line and raise nothing?"""
    import numpy as np

    check("class_counts", lambda y: np.bincount(y, minlength=10))
    printed = capsys.readouterr().out
    assert "\033[32m" in printed and "passed" in printed


def test_failing_check_raises_check_failed_an_assertion_error(capsys):
    """Is CheckFailed an AssertionError, so nbgrader and pytest count it as a failed test?"""
    with pytest.raises(AssertionError, match="class_counts returned 9 counts"):
        check("class_counts", lambda y: __import__("numpy").unique(y, return_counts=True)[1])
    hint("class_counts")
    assert "np.bincount" in capsys.readouterr().out
    assert issubclass(CheckFailed, AssertionError)


def test_format_result_without_colour_for_reports():
    """Can a result be shown without terminal colours, with its hint?"""
    result = CheckResult("flatten", Outcome.FAILED, 0, 2, "found X; expected Y", "try Z")
    shown = format_result(result, with_hint=True, colour=False)
    assert shown == "flatten: ✘ not yet (0/2 points)\n  found X; expected Y\n  Hint: try Z"

