"""The example students (examples/submissions), what each is expected to get, and their grades, once per session.

Grading one student (five notebooks, each in a fresh kernel; lesson 04 trains three times) takes about a minute,
so :func:`grade_student` grades each student once per session and batch/test_examples.py and
batch/test_nbgrader_agreement.py share the result. It grades each distinct notebook once: the examples share all
their notebooks but the one with their mistake with passes_all, so the 40 notebooks are 12. The batch tests that
need a fresh `mnist-grade --jobs 2` run of a class share one too: conftest.py's ``small_class_graded`` grades
:data:`SMALL_CLASS` once per session.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest

from autograder.batch import grade_class as class_grader
from autograder.batch.grade_class import GradingOptions, grade_class, kernel_environment
from autograder.lesson.grade import NotebookGrade, grade_notebook
from autograder.results import Outcome
from support.paths import ASSIGNMENT, EXAMPLE_SUBMISSIONS, LESSON_NAMES, LESSONS

FAILED, NOT_ATTEMPTED = Outcome.FAILED, Outcome.NOT_ATTEMPTED

# student -> {check that does not pass: (its outcome, fragments its message must contain)}.
# Every check not listed must pass with full points.
EXPECTED: dict[str, dict[str, tuple[Outcome, tuple[str, ...]]]] = {
    "passes_all": {},
    "fails_layer_name": {"build_model": (FAILED, ("hidden2", "layer2"))},
    "fails_units_25": {"build_model": (FAILED, ("layer2 has 25 units; the spec asks for 30.",))},
    "fails_learning_rate": {"compile_model": (FAILED, ("0.01", "0.001"))},
    "fails_no_scaling": {"flatten": (FAILED, ("[0, 1]",))},
    "fails_from_logits": {
        "compile_model": (FAILED, ("from_logits=True", "your output layer applies softmax", "from_logits=False"))
    },
    "fails_scrambled_pixels": {"flatten": (FAILED, ("transposed",))},
    "unfinished_train": {"compile_model": (NOT_ATTEMPTED, ()), "train": (NOT_ATTEMPTED, ())},
}
STUDENTS = sorted(EXPECTED)


@functools.cache
def grade_student(student: str) -> tuple[NotebookGrade, ...]:
    """Grades one example student's five notebooks on the synthetic digits, once per session.

    The kernels get the class grader's environment (:func:`autograder.batch.grade_class.kernel_environment`),
    so these grades are the ones ``mnist-grade`` gives, down to the last digit of a trained accuracy.

    A notebook byte for byte the same as one already graded this session gets that grade (:func:`grade_bytes`):
    grade_notebook's grade is a function of the notebook's bytes, the released lesson and the environment, and
    says nothing about the student (test_examples.py's twice test checks that grading again gives the same bytes).

    Args:
        student: The student's folder name under examples/submissions.

    Returns:
        One grade per lesson, in lesson order.
    """
    folder = EXAMPLE_SUBMISSIONS / student / ASSIGNMENT
    return tuple(grade_bytes(folder / f"{lesson}.ipynb") for lesson in LESSON_NAMES)


_graded: dict[tuple[str, str], NotebookGrade] = {}  # (lesson, SHA-256 of the notebook's bytes) -> its grade


def grade_bytes(path: Path) -> NotebookGrade:
    """The grade of the lesson notebook at ``path``, graded as :func:`grade_student` says unless a notebook of the
    same lesson with the same bytes was graded this session: then that grade."""
    key = (path.stem, hashlib.sha256(path.read_bytes()).hexdigest())
    if key not in _graded:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("MNIST_PATH", "synthetic")
            env = kernel_environment(GradingOptions())
            _graded[key] = grade_notebook(path, release=LESSONS / f"{path.stem}.ipynb", env=env)
    return _graded[key]


# The class the batch tests grade afresh (conftest.py's small_class_graded), on a Dask cluster and through the
# Gradescope bundle: one student who passes everything (every lesson's checks pass, lesson 04's trained model
# included) and one who fails a check (a message, a hint, 0 points), so with --jobs 2 each of two workers grades
# a student, and the gradebook and summary have a row that differs.
SMALL_CLASS = ("fails_units_25", "passes_all")


def run_outputs(output: Path) -> dict[str, bytes]:
    """The files a class run writes that must not depend on the run: ``results/*.json`` and ``gradebook.csv``,
    by path relative to ``output``."""
    files = [*sorted((output / "results").glob("*.json")), output / "gradebook.csv"]
    return {path.relative_to(output).as_posix(): path.read_bytes() for path in files}


def write_from_cache(submitted: Path, output: Path) -> None:
    """Runs the real ``grade_class`` on ``submitted`` (example students' folders, each holding ASSIGNMENT/), with
    each notebook's grade taken from :func:`grade_student`'s cache instead of graded again, into ``output``."""

    def from_cache(path, **_):
        path = Path(path)
        return grade_student(path.parent.parent.name)[LESSON_NAMES.index(path.stem)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MNIST_PATH", "synthetic")
        patch.setattr(class_grader, "grade_notebook", from_cache)
        grade_class(submitted, output=output, jobs=1, force=True, progress=False)
