"""What a student sees in the notebook when a check runs, in a real kernel."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.notebook import CheckFailed, check, format_result, hint
from autograder.results import CheckResult, Outcome


def run_cells(*sources: str, cwd) -> list[nbformat.NotebookNode]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return notebook.cells


def text_of(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


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
