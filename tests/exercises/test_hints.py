"""Tests of the exercises' first hints: hint() before or after a check, the spec's numbers, and the lessons' Hint
blocks."""

from __future__ import annotations

import re

import nbformat
import numpy as np
import pytest
from support.paths import LESSON_NAMES, LESSONS, SOLUTIONS

from autograder.exercises import EXERCISES, first_hint
from autograder.lesson.instrument import check_call, is_test_cell
from autograder.notebook import CheckFailed, check, hint
from autograder.spec import DEFAULT_SPEC_PATH, SPEC, load_spec

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def solution_lines() -> set[str]:
    """Every line of every reference answer with at least four letters or digits (lone brackets skipped)."""
    lines = set()
    for lesson in LESSON_NAMES:
        for cell in nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4).cells:
            for region in SOLUTION_REGION.findall(cell.source):
                lines |= {line.strip() for line in region.splitlines() if sum(c.isalnum() for c in line) >= 4}
    return lines


def test_every_exercise_has_a_first_hint():
    """Does every exercise in the spec have a first hint, and no hint an exercise that doesn't exist?"""
    assert set(EXERCISES) == set(SPEC.points) and all(callable(exercise.hint) for exercise in EXERCISES.values())


def test_first_hints_hold_no_solution_code():
    """Is no line of any reference answer part of a first hint?"""
    answers = solution_lines()
    leaked = [(check_id, line) for check_id in EXERCISES for line in answers if line in first_hint(check_id)]
    assert leaked == []


def test_first_hints_take_their_numbers_from_the_spec(tmp_path):
    """With 20x20 images, a 3x3 grid and other settings changed in the spec, do the hints say the new numbers only?"""
    text = DEFAULT_SPEC_PATH.read_text()
    for old, new in (
        ("image_shape = [28, 28]", "image_shape = [20, 20]"),
        ("input_size = 784", "input_size = 400"),
        ("subset_size = 3000", "subset_size = 1500"),
        ("grid = [2, 4]", "grid = [3, 3]"),
        ("epochs = 20", "epochs = 7"),
        ("batch_size = 32", "batch_size = 64"),
    ):
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "spec.toml"
    path.write_text(text)
    spec = load_spec(path)
    hints = {check_id: first_hint(check_id, spec) for check_id in EXERCISES}
    assert "20x20" in hints["flatten"] and "400 pixels" in hints["flatten"]
    assert "1500" in hints["take_subset"]
    assert "400 pixels" in hints["build_model"] and "(400,)" in hints["predict_digit"]
    assert "7 epochs" in hints["train"] and "batches of 64" in hints["train"]
    assert "3x3 grid" in hints["plot_predictions"] and "20x20" in hints["plot_predictions"]
    everything = " ".join(hints.values())
    for default in ("784", "28x28", "2x4", "3000", "20 epochs", "batches of 32"):
        assert default not in everything, default


def test_hint_works_before_any_check(capsys):
    """Does hint() print the exercise's idea, with the spec's numbers, when its check was never run?"""
    hint("plot_predictions")
    printed = capsys.readouterr().out
    rows, columns = SPEC.predictions.grid
    assert printed.startswith("Hint for plot_predictions(model, X, y, n, seed): ")
    assert f"{rows}x{columns} grid" in printed
    assert "last check" not in printed


def test_hint_after_a_failed_check_adds_what_the_check_found(capsys):
    """After a check that did not pass, does hint() give the idea and then the check's own hint?"""
    with pytest.raises(CheckFailed):
        check("flatten", lambda images: images.reshape(len(images), -1).astype("float32"))
    capsys.readouterr()
    hint("flatten")
    printed = capsys.readouterr().out
    assert printed.startswith("Hint for flatten(images): Two steps.")
    assert "From your last check: " in printed and f"Divide by {SPEC.data.pixel_max}" in printed


def test_hint_after_a_passed_check_says_so(capsys):
    """After a check that passed, does hint() still give the idea and say the check passed?"""
    check("class_counts", lambda y: np.bincount(y, minlength=SPEC.data.num_classes))
    capsys.readouterr()
    hint("class_counts")
    assert capsys.readouterr().out.endswith("Your last check of it passed.\n")


def test_hint_for_an_unknown_exercise_lists_them(capsys):
    """Does hint() with a misspelled name list the exercises' names?"""
    hint("flaten")
    assert capsys.readouterr().out == f"There is no exercise 'flaten'; the exercises are {', '.join(EXERCISES)}.\n"


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_each_exercise_text_has_a_collapsible_hint(lesson):
    """Does the text above each check cell hold a collapsed Hint that names hint("<exercise>")?"""
    last_text = None
    for cell in nbformat.read(LESSONS / f"{lesson}.ipynb", as_version=4).cells:
        if cell.cell_type == "markdown":
            last_text = cell.source
        elif is_test_cell(cell):
            check_id = check_call(cell.source)[0]
            assert "<details><summary>Hint</summary>" in last_text and "</details>" in last_text, check_id
            assert f'hint("{check_id}")' in last_text


@pytest.mark.parametrize("lesson", LESSON_NAMES)
def test_lesson_text_holds_no_solution_code(lesson):
    """Is no line of any reference answer in a lesson's text (its hints included)?"""
    text = "\n".join(
        cell.source
        for cell in nbformat.read(LESSONS / f"{lesson}.ipynb", as_version=4).cells
        if cell.cell_type == "markdown"
    )
    assert [line for line in solution_lines() if line in text] == []
