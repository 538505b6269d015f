"""What a student sees in the notebook when a check runs, in a real kernel."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient
from support.environments import TENSORFLOW_LOG_LINE, student_environment
from support.paths import LESSONS

from autograder.notebook import CheckFailed, ExerciseUnfinished, check, format_result, hint, require
from autograder.results import CheckResult, Outcome


def run_cells(*sources: str, cwd, env: dict[str, str] | None = None) -> list[nbformat.NotebookNode]:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(cwd)}}
    ).execute(**({"env": env} if env is not None else {}))
    return notebook.cells


def text_of(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs)


def stderr_of(cells) -> str:
    return "".join(output.text for cell in cells for output in cell.outputs if output.get("name") == "stderr")


@pytest.mark.kernel
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


@pytest.mark.kernel
def test_failed_check_shows_its_message_once_with_the_hint_pointer(tmp_path):
    """Is a failed check's message shown once in the cell (printed, not again in the CheckFailed line), with the
    pointer to hint()?"""
    cells = run_cells(
        "from autograder.notebook import check\ndef flatten(images):\n    return images.reshape(len(images), 784)",
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
    setup = next(
        cell.source
        for cell in nbformat.read(LESSONS / "05_predict.ipynb", as_version=4).cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "setup"
    )
    env = {**student_environment(), "MNIST_PATH": "synthetic"}
    cells = run_cells(setup, cwd=tmp_path, env=env)
    assert "Ready." in text_of(cells[0]) and not any(o.output_type == "error" for o in cells[0].outputs)
    assert TENSORFLOW_LOG_LINE.findall(stderr_of(cells)) == [], stderr_of(cells)


@pytest.mark.slow
def test_tensorflow_imported_plainly_does_log_in_such_a_kernel(tmp_path):
    """Does the same kernel show TensorFlow's log lines when it is imported plainly (so the test above can see them)?"""
    cells = run_cells("import tensorflow", cwd=tmp_path, env=student_environment())
    assert "absl::InitializeLog" in stderr_of(cells)


@pytest.mark.kernel
def test_unfinished_exercise_says_not_attempted(tmp_path):
    """Does an exercise that still raises NotImplementedError say 'not attempted yet' instead of a traceback of its
    own?"""
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


def run_in_namespace(source: str, **names):
    """Runs ``source`` as a notebook cell would, with ``names`` as the notebook's variables."""
    exec(compile(source, "<cell>", "exec"), {"require": require, **names})


def unfinished(*args):
    raise NotImplementedError()


def test_require_names_the_unfinished_exercise_by_its_number():
    """Does a given cell using a function that still raises NotImplementedError say 'Finish exercise 2 above first'?"""
    with pytest.raises(ExerciseUnfinished) as caught:
        run_in_namespace('with require("class_counts"):\n    class_counts([1, 2])', class_counts=unfinished)
    assert str(caught.value) == (
        "Finish exercise 2 above first: this cell uses your class_counts(y), which still raises NotImplementedError. "
        "Run the exercise's cell, then this cell again."
    )


def test_require_stops_before_running_on_arrays_still_none():
    """Does a given cell stop before `None.shape` when the load exercise left the arrays None?"""
    with pytest.raises(
        ExerciseUnfinished,
        match="Finish exercise 1 above first: this cell uses the arrays it loads, and x_train is still None",
    ):
        run_in_namespace(
            'with require("load_data"):\n    x_train.shape', x_train=None, y_train=None, x_test=None, y_test=None
        )


def test_require_says_when_the_answer_cell_has_not_run():
    """When the exercise's cell was never run, does the message say its answer isn't defined yet?"""
    with pytest.raises(ExerciseUnfinished, match="take_subset isn't defined yet"):
        run_in_namespace('with require("flatten", "take_subset"):\n    pass', flatten=len)


def test_require_names_the_exercise_that_raised_among_several():
    """With two exercises required, is the one whose function raised named, by its number?"""

    def take_subset(x, y):
        raise NotImplementedError()

    with pytest.raises(ExerciseUnfinished, match="^Finish exercise 2 above first: this cell uses your take_subset"):
        run_in_namespace(
            'with require("flatten", "take_subset"):\n    take_subset(flatten([1]), [1])',
            flatten=list,
            take_subset=take_subset,
        )


def test_require_explains_a_name_an_earlier_stopped_cell_never_defined():
    """After a given cell stopped on an unfinished exercise, does a later cell needing its variables say which
    exercise to finish, instead of a NameError; and once the exercise is done, is a NameError itself again?"""
    with pytest.raises(ExerciseUnfinished):
        run_in_namespace('with require("take_subset"):\n    X_train = take_subset([1], [1])', take_subset=unfinished)
    with pytest.raises(
        ExerciseUnfinished,
        match="^Finish exercise 2 above first: .*, so an earlier cell stopped before defining X_train",
    ):
        run_in_namespace('with require("take_subset"):\n    X_train[0]', take_subset=unfinished)
    run_in_namespace('with require("take_subset"):\n    X_train = take_subset([1])', take_subset=len)
    with pytest.raises(NameError):
        run_in_namespace('with require("take_subset"):\n    X_train[0]', take_subset=len)


def test_require_in_a_one_exercise_lesson_says_the_exercise():
    """In lesson 03, with one exercise, does the message say 'the exercise above'?"""
    with pytest.raises(ExerciseUnfinished, match="^Finish the exercise above first: this cell uses your build_model()"):
        run_in_namespace('with require("build_model"):\n    build_model()', build_model=unfinished)


def test_require_lets_finished_answers_run_and_other_errors_through():
    """With the exercise done, does the cell run; and does an error of its own show as itself?"""
    seen = []
    run_in_namespace('with require("flatten"):\n    seen.append(flatten([1, 2]))', flatten=len, seen=seen)
    assert seen == [2]
    with pytest.raises(ZeroDivisionError):
        run_in_namespace('with require("flatten"):\n    flatten([1]) / 0', flatten=len)


def test_require_refuses_an_unknown_exercise():
    """Is a misspelled exercise name an error that lists the exercises?"""
    with pytest.raises(ValueError, match="No such exercise: flaten"):
        require("flaten")


@pytest.mark.slow
def test_untouched_lesson_shows_finish_the_exercise_not_tracebacks(tmp_path):
    """Run top to bottom untouched, does lesson 01 stop each given cell with 'Finish exercise N above first', one
    line, and show no other error than the exercises' own placeholders and the checks' verdicts?"""
    notebook = nbformat.read(LESSONS / "01_load.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute(env={**os.environ, "MNIST_PATH": "synthetic"})
    errors = {
        cell.metadata.nbgrader.grade_id: output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    }
    assert {grade_id: error.ename for grade_id, error in errors.items()} == {
        "load": "NotImplementedError",
        "check_load_data": "CheckFailed",
        "explore": "ExerciseUnfinished",
        "show_digit": "ExerciseUnfinished",
        "check_class_counts": "CheckFailed",
        "plot_counts": "ExerciseUnfinished",
    }
    for grade_id, number in (("explore", 1), ("show_digit", 1), ("plot_counts", 2)):
        shown = "\n".join(errors[grade_id].traceback)
        assert f"Finish exercise {number} above first" in shown and len(errors[grade_id].traceback) == 1, shown


def test_synthetic_digits_notice_is_one_plain_line_and_other_warnings_are_untouched(capsys):
    """In a lesson, is the synthetic-digits notice one 'Note:' line on stdout (no red box with a temporary file
    name), while any other warning still shows as a warning?"""
    import warnings

    from autograder.notebook import show_course_notices_plainly
    from digits.errors import SyntheticDigitsWarning

    with warnings.catch_warnings(record=True) as still_warnings:
        warnings.simplefilter("always")
        show_course_notices_plainly()
        warnings.warn("Using synthetic digits rendered from fonts", SyntheticDigitsWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
    assert capsys.readouterr().out == "Note: Using synthetic digits rendered from fonts\n"
    assert [(w.category, str(w.message)) for w in still_warnings] == [(UserWarning, "something else")]
