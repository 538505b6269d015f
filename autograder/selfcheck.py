"""Students' self-check with pytest: one test per exercise, each failure showing the check's message.

    .venv/bin/python -m pytest --pyargs autograder.selfcheck          (or: make check)

It grades the notebooks in ``lessons/mnist`` (or the folder in ``$MNIST_LESSONS``) exactly as the
batch grader does: each lesson runs top to bottom in a fresh kernel, and the checks run here.
Save your notebooks first: it reads what is on disk.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from autograder.kernel.factory import factory_starting
from autograder.lesson.grade import NotebookGrade, grade_notebook, kernel_base_environment
from autograder.notebook import format_result
from autograder.quiet import import_tensorflow_quietly
from autograder.spec import RELEASED_LESSONS, SPEC

LESSONS_ENV_VAR = "MNIST_LESSONS"


def lessons_folder() -> Path:
    """The notebooks to check: ``$MNIST_LESSONS``, else the course's lessons/mnist."""
    return Path(os.environ.get(LESSONS_ENV_VAR) or RELEASED_LESSONS)


@functools.cache
def graded(lesson: str) -> NotebookGrade:
    """Each lesson is run once, however many of its exercises are tested."""
    path = lessons_folder() / f"{lesson}.ipynb"
    if not path.exists():
        pytest.fail(
            f"{path} doesn't exist; set {LESSONS_ENV_VAR} to the folder holding your lesson notebooks.", pytrace=False
        )
    with factory_starting(kernel_base_environment()):  # the kernels' factory starts while TensorFlow loads here
        import_tensorflow_quietly()  # else TensorFlow's start-up lines would show as a failing test's captured stderr
    return grade_notebook(path)


@pytest.mark.parametrize(
    ("lesson", "check_id"), [(lesson, check) for lesson, checks in SPEC.lessons.items() for check in checks]
)
def test_exercise(lesson: str, check_id: str) -> None:
    """Does this exercise pass its check?"""
    result = next(r for r in graded(lesson).results if r.check_id == check_id)
    if not result.passed:
        pytest.fail(format_result(result, with_hint=True, colour=False), pytrace=False)
