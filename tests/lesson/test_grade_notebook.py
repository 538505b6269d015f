"""Grading one notebook when something in it breaks: only the checks that need the broken part fail."""

from __future__ import annotations

import nbformat
import pytest
from support.paths import ASSIGNMENT, EXAMPLE_SUBMISSIONS, LESSONS, SOLUTIONS

from autograder.lesson.grade import grade_notebook
from autograder.lesson.instrument import grade_id
from autograder.results import Outcome

pytestmark = pytest.mark.slow


def submission(tmp_path, lesson: str, answers: dict[str, str]):
    """The solution of ``lesson`` with some answer cells replaced, saved as a student's file."""
    notebook = nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)
    for cell in notebook.cells:
        if grade_id(cell) in answers:
            cell.source = answers[grade_id(cell)]
    path = tmp_path / f"{lesson}.ipynb"
    nbformat.write(notebook, path)
    return path


def outcomes(grade):
    return {result.check_id: result.outcome for result in grade.results}


def test_a_broken_answer_cell_fails_only_its_own_check(tmp_path, synthetic_digits):
    """With take_subset's cell a syntax error, does flatten still pass and take_subset get the error?"""
    path = submission(tmp_path, "02_reshape", {"take_subset": "def take_subset(x, y, n=3000)\n    return x[:n], y[:n]"})
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb")
    assert outcomes(grade) == {"flatten": Outcome.PASSED, "take_subset": Outcome.ERROR}
    message = grade.results[1].message
    assert "NameError" in message and "An earlier cell failed first: SyntaxError" in message


def test_a_dying_kernel_fails_the_remaining_checks_with_the_reason(tmp_path, synthetic_digits):
    """When the kernel dies in the second exercise, does the first keep its pass and the second say the kernel died?"""
    path = submission(tmp_path, "01_load", {"class_counts": "import os\nos._exit(1)"})
    grade = grade_notebook(path, release=LESSONS / "01_load.ipynb")
    assert outcomes(grade) == {"load_data": Outcome.PASSED, "class_counts": Outcome.ERROR}
    assert "kernel died" in grade.results[1].message
    assert any("kernel died" in flag for flag in grade.flags)


def test_an_unreadable_file_fails_that_lesson_with_a_clear_message(tmp_path):
    """Does a file that isn't a notebook give every check of its lesson an error saying so?"""
    path = tmp_path / "03_build.ipynb"
    path.write_text("this is not JSON")
    grade = grade_notebook(path, release=LESSONS / "03_build.ipynb")
    assert [r.outcome for r in grade.results] == [Outcome.ERROR]
    assert "could not be read as a notebook" in grade.results[0].message


def test_the_kernel_sees_no_grader_secrets_and_a_temporary_home(tmp_path, synthetic_digits, monkeypatch):
    """Does a student's kernel start without the grader's other variables and with a throwaway HOME?"""
    from pathlib import Path

    from autograder.batch.grade_class import GradingOptions, kernel_environment

    monkeypatch.setenv("GRADER_SECRET_TOKEN", "do-not-leak")
    probe = (
        "import os\n"
        "assert 'GRADER_SECRET_TOKEN' not in os.environ, 'secret leaked'\n"
        f"assert os.environ['HOME'] != {str(Path.home())!r}, 'real HOME'\n"
        "def class_counts(y):\n    return np.bincount(y, minlength=10)"
    )
    path = submission(tmp_path, "01_load", {"class_counts": probe})
    grade = grade_notebook(path, release=LESSONS / "01_load.ipynb", env=kernel_environment(GradingOptions()))
    assert [r.message for r in grade.results if not r.passed] == []


def test_grading_twice_gives_identical_results(synthetic_digits):
    """Does grading the training lesson twice give exactly the same results, accuracy figures included?"""
    from autograder.batch.grade_class import GradingOptions, kernel_environment

    example = EXAMPLE_SUBMISSIONS / "fails_learning_rate" / ASSIGNMENT / "04_train.ipynb"
    env = kernel_environment(GradingOptions())
    first, second = (grade_notebook(example, release=LESSONS / "04_train.ipynb", env=env) for _ in range(2))
    assert [r.to_dict() for r in first.results] == [r.to_dict() for r in second.results]
    assert "measured" in first.results[1].message  # the train check quotes the accuracy it measured


def test_a_check_cell_an_input_transformer_blanked_is_said_to_have_run_without_recording(tmp_path, synthetic_digits):
    """Known wrong (issue 9): an answer cell registers an IPython input transformer that blanks every later check cell.
    The check cells run (as empty cells): is each said to have run without recording, not to have been "not reached",
    and does each still score 0?"""
    blank_checks = (
        "\n\ndef hide_checks(lines):\n"
        "    return [] if 'check' in ''.join(lines) or '__autograder' in ''.join(lines) else lines\n\n\n"
        "get_ipython().input_transformers_cleanup.append(hide_checks)\n"
    )
    right = nbformat.read(SOLUTIONS / "02_reshape.ipynb", as_version=4)
    flatten = next(cell.source for cell in right.cells if grade_id(cell) == "flatten")
    path = submission(tmp_path, "02_reshape", {"flatten": flatten + blank_checks})
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb")
    assert outcomes(grade) == {"flatten": Outcome.ERROR, "take_subset": Outcome.ERROR}
    for result in grade.results:
        assert result.points == 0
        assert result.message == (
            "The check cell ran without an error, but the check in it never recorded your answer: something earlier in "
            "your notebook changed what that cell runs "
            "(an IPython input transformer that rewrites or blanks cells, for "
            "example) or replaced the grader's recorder."
        )
        assert "not reached" not in result.message
    assert grade.flags == []


def test_a_check_cell_that_never_ran_still_says_why(tmp_path, synthetic_digits):
    """Known right: when the kernel dies before a check cell, is that check still "never ran", with the reason?"""
    path = submission(tmp_path, "02_reshape", {"take_subset": "import os\nos._exit(1)"})
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb")
    assert outcomes(grade) == {"flatten": Outcome.PASSED, "take_subset": Outcome.ERROR}
    assert grade.results[1].message.startswith("The check never ran: the kernel died")


def test_a_check_stopped_while_running_the_answer_says_it_started(tmp_path, synthetic_digits):
    """Known wrong: flatten ends the kernel when the check calls it. Is flatten's check said to have started and not
    finished (not "never ran"), while take_subset's, after it, never ran?

    flatten waits a second before it ends the kernel: the grader learns that a cell began from the kernel's
    execute_input message, which a kernel that dies at once may not have sent yet (its check then says "never ran").
    """
    path = submission(
        tmp_path,
        "02_reshape",
        {"flatten": "import os\nimport time\n\n\ndef flatten(images):\n    time.sleep(1)\n    os._exit(1)\n"},
    )
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb")
    assert outcomes(grade) == {"flatten": Outcome.ERROR, "take_subset": Outcome.ERROR}
    assert grade.results[0].message == (
        "The check started but never finished (its cell calls your flatten(images)): "
        "the kernel died (it crashed or was killed) while running a cell."
    )
    assert grade.results[1].message.startswith("The check never ran: the kernel died")


def test_a_check_interrupted_while_running_the_answer_says_it_started(tmp_path, synthetic_digits):
    """Known wrong: flatten sleeps for ever when the check calls it, and the check cell is interrupted at its limit.
    Does flatten's check say it started and didn't finish in time (not "could not run"), and take_subset still pass?"""
    from autograder.limits import Limits

    path = submission(
        tmp_path, "02_reshape", {"flatten": "import time\n\n\ndef flatten(images):\n    time.sleep(600)\n"}
    )
    grade = grade_notebook(path, release=LESSONS / "02_reshape.ipynb", limits=Limits(cell_timeout=5))
    assert outcomes(grade) == {"flatten": Outcome.ERROR, "take_subset": Outcome.PASSED}
    assert grade.results[0].message == (
        "The check started but didn't finish in time (its cell calls your flatten(images)): CellTimeoutError: the cell "
        "ran longer than its limit of 5 seconds and was interrupted."
    )
