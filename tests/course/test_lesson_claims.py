"""Every number a lesson's text quotes is the spec's, or derived from it (no kernel, no training).

The measured ones (accuracies with and without scaling, on real and synthetic digits) are re-measured by
test_reference_accuracy.py.
"""

from __future__ import annotations

import re

import nbformat
from support.lesson_text import lesson_text
from support.paths import SOLUTIONS

from autograder.spec import SPEC


def given_cell(lesson: str, grade_id: str) -> str:
    """The source of a lesson's given cell, found by its nbgrader grade_id."""
    for cell in nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise AssertionError(f"{lesson} has no cell {grade_id!r}")


def test_lesson_03_parameter_table_adds_up_to_the_spec():
    """Does every row of lesson 03's parameter table, and its total, follow from the spec's layers?"""
    text = lesson_text("03_build")
    inputs = SPEC.model.input_size
    for layer in SPEC.model.layers:
        weights = inputs * layer.units
        row = f"| {layer.name} | {inputs} x {layer.units} = {weights:,} | {layer.units} | {weights + layer.units:,} |"
        assert row in text
        inputs = layer.units
    assert f"**{SPEC.model.parameters:,}**" in text
    assert f"## Where do {SPEC.model.parameters:,} parameters come from?" in text


def test_lesson_04_fit_arithmetic_follows_from_the_spec():
    """Are lesson 04's 600 held-back digits, 2400 training digits and 75 updates per epoch the spec's?"""
    text = lesson_text("04_train")
    training = SPEC.training
    held_back = round(SPEC.data.subset_size * training.validation_split)
    learned_from = SPEC.data.subset_size - held_back
    updates = -(-learned_from // training.batch_size)
    fit_call = (
        f"model.fit(X, y, epochs={training.epochs}, batch_size={training.batch_size}, "
        f"validation_split={training.validation_split})"
    )
    assert fit_call in text
    assert f"the last {training.validation_split:.0%} of the {SPEC.data.subset_size} digits\n({held_back})" in text
    assert (
        f"batch of {training.batch_size} of\nthe other {learned_from}: {updates} updates per epoch, "
        f"for {training.epochs} epochs" in text
    )


def test_lesson_04_loss_experiment_is_described_as_it_runs():
    """Does lesson 04 say '5 epochs on 300 digits' where its cell trains 5 epochs on 300 digits?"""
    code = given_cell("04_train", "logits_measured")
    assert "X_train[:300], y_train[:300], epochs=5" in code
    assert "trained for\n5 epochs on 300 digits" in lesson_text("04_train")


def test_lesson_02_and_03_sizes_are_the_spec():
    """Do lessons 02 and 03 quote the spec's 784 pixels and 3000 training digits?"""
    text = lesson_text("02_reshape")
    assert f"a row of {SPEC.model.input_size} pixels" in text
    assert f"keep the first {SPEC.data.subset_size} digits" in text
    assert re.search(rf"`take_subset\(x, y, n={SPEC.data.subset_size}\)`", text)
