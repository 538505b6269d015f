"""Finding submissions in nbgrader's layout, a flat folder, or one notebook."""

from __future__ import annotations

import shutil

import pytest

from autograder.submissions import find_submissions, safe_key
from conftest import LESSONS


def test_nbgrader_layout_gives_one_submission_per_student(tmp_path):
    """Does submitted/<student>/mnist/*.ipynb give one submission per student with its lessons?"""
    for student in ("alice", "bob"):
        shutil.copytree(LESSONS, tmp_path / student / "mnist")
    found = find_submissions(tmp_path)
    assert [s.student for s in found] == ["alice", "bob"]
    assert sorted(found[0].notebooks) == ["01_load", "02_reshape", "03_build", "04_train", "05_predict"]


def test_flat_folder_is_one_student(tmp_path):
    """Is a flat folder of notebooks one student's submission, named after the folder?"""
    folder = tmp_path / "carol"
    shutil.copytree(LESSONS, folder)
    (found,) = find_submissions(folder)
    assert found.student == "carol" and len(found.notebooks) == 5


def test_one_notebook_is_one_lesson(tmp_path):
    """Can a single notebook be graded on its own?"""
    (found,) = find_submissions(LESSONS / "03_build.ipynb")
    assert list(found.notebooks) == ["03_build"]


def test_a_notebook_that_is_not_a_lesson_is_reported(tmp_path):
    """Is a notebook with another name reported rather than graded as some lesson?"""
    folder = tmp_path / "dave"
    folder.mkdir()
    shutil.copy(LESSONS / "03_build.ipynb", folder / "my_work.ipynb")
    (found,) = find_submissions(folder)
    assert found.notebooks == {} and "my_work.ipynb is not one of the lessons" in found.problems[0]


def test_missing_source_is_a_clear_error(tmp_path):
    """Does a path that doesn't exist give an error saying what to pass?"""
    with pytest.raises(FileNotFoundError, match="submitted/ folder"):
        find_submissions(tmp_path / "nowhere")


@pytest.mark.parametrize("name", ["a b", "../../etc", "émile", "x/y", ".hidden"])
def test_unsafe_student_names_get_safe_distinct_file_names(name):
    """Do spaces, path traversal and unicode in a student folder name give a plain file name?"""
    key = safe_key(name)
    assert "/" not in key and ".." not in key and " " not in key and key.isascii()
    assert key != safe_key(name + "2")


def test_safe_names_are_kept():
    """Is an already safe name left as it is?"""
    assert safe_key("student_01") == "student_01"
