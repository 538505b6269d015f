"""Rebuilding a submission on the released lesson: only the answers are the student's."""

from __future__ import annotations

import copy

import nbformat
import pytest
from support.paths import LESSONS

from autograder.lesson.instrument import grade_id, is_test_cell
from autograder.lesson.restore import restore_from_release

RELEASE = LESSONS / "03_build.ipynb"


@pytest.fixture
def release():
    return nbformat.read(RELEASE, as_version=4)


def answered(release):
    """A submission: the release with build_model answered."""
    submission = copy.deepcopy(release)
    for cell in submission.cells:
        if grade_id(cell) == "build_model":
            cell.source = cell.source.replace("raise NotImplementedError()", "return 'my answer'")
    return submission


def cell(notebook, identity):
    return next(c for c in notebook.cells if grade_id(c) == identity)


def test_an_honest_submission_keeps_its_answer_and_raises_no_flag(release):
    """Is an untouched-but-answered submission graded with its answer and no flags?"""
    graded, flags = restore_from_release(answered(release), release)
    assert "return 'my answer'" in cell(graded, "build_model").source
    assert flags == []


def test_an_edited_check_cell_is_put_back_and_flagged(release):
    """Does an edited check cell get the released source back, with a flag naming it?"""
    submission = answered(release)
    cell(submission, "check_build_model").source = "pass  # no check here"
    graded, flags = restore_from_release(submission, release)
    assert cell(graded, "check_build_model").source == cell(release, "check_build_model").source
    assert flags == ["The read-only cell 'check_build_model' was changed; the released one was used."]


def test_a_deleted_check_cell_is_restored(release):
    """Is a deleted check cell back in the graded notebook?"""
    submission = answered(release)
    submission.cells = [c for c in submission.cells if grade_id(c) != "check_build_model"]
    graded, flags = restore_from_release(submission, release)
    assert sum(is_test_cell(c) for c in graded.cells) == 1
    assert "'check_build_model' was missing" in flags[0]


def test_a_check_cell_retyped_to_markdown_is_restored_as_code(release):
    """Does re-typing the check cell as markdown (so it wouldn't run) change nothing?"""
    submission = answered(release)
    check_cell = cell(submission, "check_build_model")
    check_cell.cell_type = "markdown"
    del check_cell["outputs"], check_cell["execution_count"]
    graded, flags = restore_from_release(submission, release)
    assert cell(graded, "check_build_model").cell_type == "code"
    assert "changed" in flags[0]


def test_added_cells_are_dropped_and_flagged(release):
    """Are cells the student added left out, and counted in a flag?"""
    submission = answered(release)
    submission.cells.insert(2, nbformat.v4.new_code_cell("import autograder; autograder.cheat = True"))
    graded, flags = restore_from_release(submission, release)
    assert all("cheat" not in c.source for c in graded.cells)
    assert len(graded.cells) == len(release.cells)
    assert flags == ["You added 1 cell(s); they were not run when grading. Put your answers in the answer cells."]


def test_a_duplicated_answer_cell_grades_the_first(release):
    """With the answer cell duplicated, is the first copy graded and the duplicate flagged?"""
    submission = answered(release)
    duplicate = copy.deepcopy(cell(submission, "build_model"))
    duplicate.source = "def build_model():\n    return 'second'"
    submission.cells.append(duplicate)
    graded, flags = restore_from_release(submission, release)
    assert "my answer" in cell(graded, "build_model").source
    assert "appears more than once" in flags[0]
