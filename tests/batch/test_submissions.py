"""Finding submissions in nbgrader's layout, a flat folder, or one notebook."""

from __future__ import annotations

import re
import shutil

import pytest
from support.paths import LESSONS

from autograder.batch.submissions import find_submissions, safe_key


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


def lesson_files(folder, *names):
    """Copies lesson 03_build into ``folder`` under each of ``names`` (which may hold subfolders)."""
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(LESSONS / "03_build.ipynb", folder / name)


def test_the_exact_name_wins_over_copies_and_nested_copies_are_reported(tmp_path):
    """With 03_build.ipynb, two copies, one in a subfolder and Jupyter's checkpoint, is 03_build.ipynb graded and
    each other copy reported (the checkpoint, which Jupyter made, silently left out)?"""
    folder = tmp_path / "erin"
    lesson_files(
        folder,
        "03_build.ipynb",
        "03_build (1).ipynb",
        "03_build-Copy1.ipynb",
        "old/03_build.ipynb",
        ".ipynb_checkpoints/03_build-checkpoint.ipynb",
    )
    (found,) = find_submissions(folder)
    assert found.notebooks == {"03_build": folder / "03_build.ipynb"}
    assert found.problems == [
        f"{name} looks like a second copy of 03_build; 03_build.ipynb was graded, not this copy. "
        "Keep one notebook per lesson, named 03_build.ipynb."
        for name in ("03_build (1).ipynb", "03_build-Copy1.ipynb", "old/03_build.ipynb")
    ]


def test_a_lesson_only_in_a_subfolder_is_graded_and_the_student_told(tmp_path):
    """Is work/03_build.ipynb graded when there is no top-level one, the shallowest copy chosen, and both reported?"""
    folder = tmp_path / "gus"
    lesson_files(folder, "work/03_build.ipynb", "work/deeper/03_build.ipynb")
    shutil.copy(LESSONS / "01_load.ipynb", folder / "01_load.ipynb")
    (found,) = find_submissions(folder)
    assert found.notebooks == {"01_load": folder / "01_load.ipynb", "03_build": folder / "work" / "03_build.ipynb"}
    assert found.problems == [
        "03_build was graded from work/03_build.ipynb, which is in a subfolder; next time put your notebooks "
        "directly in the folder you submit.",
        "work/deeper/03_build.ipynb looks like a second copy of 03_build; work/03_build.ipynb was graded, not this "
        "copy. Keep one notebook per lesson, named 03_build.ipynb.",
    ]


def test_a_lone_copy_is_not_graded_and_the_student_told_to_rename_it(tmp_path):
    """Is '03_build (1).ipynb' (or 04_TRAIN.ipynb), with no exact name, reported with what to rename it to?"""
    folder = tmp_path / "hal"
    lesson_files(folder, "03_build (1).ipynb", "04_TRAIN.ipynb")
    shutil.copy(LESSONS / "01_load.ipynb", folder / "01_load.ipynb")
    (found,) = find_submissions(folder)
    assert list(found.notebooks) == ["01_load"]
    assert found.problems == [
        "03_build (1).ipynb looks like your 03_build notebook, but only a file named exactly 03_build.ipynb is "
        "graded, so 03_build was not graded. Rename it to 03_build.ipynb.",
        "04_TRAIN.ipynb looks like your 04_train notebook, but only a file named exactly 04_train.ipynb is "
        "graded, so 04_train was not graded. Rename it to 04_train.ipynb.",
    ]


def test_folders_named_like_notebooks_and_deep_folders_are_left_out(tmp_path):
    """Is a folder called 02_reshape.ipynb ignored, and a notebook more than three folders down not searched for?"""
    folder = tmp_path / "ida"
    (folder / "02_reshape.ipynb").mkdir(parents=True)
    shutil.copy(LESSONS / "01_load.ipynb", folder / "01_load.ipynb")
    lesson_files(folder, "a/b/c/d/03_build.ipynb")
    (found,) = find_submissions(folder)
    assert list(found.notebooks) == ["01_load"] and found.problems == []


def test_linked_notebooks_and_folders_are_refused(tmp_path):
    """Are a linked notebook, a linked student folder and a linked assignment folder reported and not graded?"""
    outside = tmp_path / "outside"
    shutil.copytree(LESSONS, outside / "mnist")
    submitted = tmp_path / "submitted"
    (submitted / "jo" / "mnist").mkdir(parents=True)
    shutil.copy(LESSONS / "01_load.ipynb", submitted / "jo" / "mnist" / "01_load.ipynb")
    (submitted / "jo" / "mnist" / "03_build.ipynb").symlink_to(outside / "mnist" / "03_build.ipynb")
    (submitted / "kim").symlink_to(outside, target_is_directory=True)
    (submitted / "lee").mkdir()
    (submitted / "lee" / "mnist").symlink_to(outside / "mnist", target_is_directory=True)
    jo, kim, lee = find_submissions(submitted)
    assert list(jo.notebooks) == ["01_load"] and jo.problems == [
        "03_build.ipynb is a link to another place, not a notebook; the grader does not follow links, so it was not "
        "graded. Submit the notebook itself (ask your instructor if you didn't make the link)."
    ]
    for student in (kim, lee):
        assert student.notebooks == {}
        assert student.problems == [
            f"Your submission folder ({student.student}/mnist) is a link to another place, not "
            "a folder; the grader does not follow links, so it was not graded. Submit the "
            "folder itself (ask your instructor if you didn't make the link)."
        ]


def test_names_differing_only_by_case_get_keys_differing_ignoring_case(tmp_path):
    """Do Alice and alice get output names that differ on a case-insensitive file system too?"""
    for student in ("Alice", "alice", "bob"):
        (tmp_path / student / "mnist").mkdir(parents=True)
        shutil.copy(LESSONS / "01_load.ipynb", tmp_path / student / "mnist" / "01_load.ipynb")
    keys = [s.key for s in find_submissions(tmp_path)]
    assert keys[2] == "bob" and keys[0].startswith("Alice-") and keys[1].startswith("alice-")
    assert len({key.casefold() for key in keys}) == 3


def test_a_folder_name_that_is_not_utf8_is_shown_readably(tmp_path):
    """Is a student folder whose name isn't UTF-8 shown with U+FFFD, and given an ASCII key?"""
    import os

    os.makedirs(bytes(tmp_path) + b"/jos\xe9/mnist")
    shutil.copy(LESSONS / "01_load.ipynb", tmp_path / "jos\udce9" / "mnist" / "01_load.ipynb")
    (found,) = find_submissions(tmp_path)
    assert found.student == "jos\ufffd" and found.key.startswith("jos-") and found.key.isascii()
    found.student.encode("utf-8")  # the gradebook and results can be written


def test_the_fingerprint_changes_when_a_copy_appears(tmp_path):
    """Does adding a second copy of a lesson change the fingerprint, so the re-run reports it?"""
    from autograder.spec import SPEC

    folder = tmp_path / "max"
    lesson_files(folder, "03_build.ipynb")
    (before,) = find_submissions(folder)
    lesson_files(folder, "03_build (1).ipynb")
    (after,) = find_submissions(folder)
    assert before.fingerprint(SPEC, LESSONS) != after.fingerprint(SPEC, LESSONS)


@pytest.mark.parametrize("name", ["..", "../evil", "a/../../b", "-rf", ".", "x" * 300, "Zoë Ñúñez", "名前"])
def test_hostile_names_give_one_plain_file_name(name):
    """Does every name give a short ASCII file name starting with a letter or digit, with no '..' or '/'?"""
    key = safe_key(name)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", key) and ".." not in key and len(key) <= 69
    assert safe_key("Zoë Ñúñez").startswith("Zoe_Nunez-")
