"""Tests of the lesson 04 check train: the History's params and metrics, and how well the model learned."""

import pytest

from autograder import reference
from autograder.checks.training import check_train
from autograder.describe import describe_history
from autograder.exercises import run_check
from autograder.results import Outcome
from autograder.spec import SPEC
from conftest import assert_scored

SAMPLES = 3000
REFERENCE_ACCURACY = 0.86




def history(epochs=20, steps=75, validation=True, final_val_accuracy=0.85):
    """describe_history()'s dict for a fit of `epochs` epochs of `steps` batches."""
    metrics = {"loss": [1.0 - 0.01 * e for e in range(epochs)], "accuracy": [0.5 + 0.01 * e for e in range(epochs)]}
    if validation:
        metrics["val_loss"] = [1.0] * epochs
        metrics["val_accuracy"] = [0.5] * (epochs - 1) + [final_val_accuracy]
    return {"is_history": True, "class_name": "History", "params": {"verbose": 0, "epochs": epochs, "steps": steps},
            "metrics": metrics}


def test_spec_steps_per_epoch():
    """Does the spec turn 3000 samples into 2400 for training and 75 batches of 32?"""
    assert SPEC.training.training_samples(SAMPLES) == 2400
    assert SPEC.training.steps_per_epoch(SAMPLES) == 75


def test_right_history_passes():
    """Do 20 epochs of 75 batches with validation, close to the reference accuracy, pass?"""
    result = check_train(history(), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=True)
    assert "85.0%" in result.message and "86.0%" in result.message


def test_accuracy_within_margin_passes():
    """Does an accuracy just inside the spec's margin below the reference pass?"""
    final = REFERENCE_ACCURACY - SPEC.training.accuracy_margin + 0.001
    assert_scored(check_train(history(final_val_accuracy=final), SAMPLES, REFERENCE_ACCURACY), "train", passed=True)


def test_ten_epochs_fail():
    """Does a fit of 10 epochs fail, naming 10 and 20?"""
    result = check_train(history(epochs=10), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert result.message == "Your training ran 10 epochs; the spec asks for 20."


def test_no_validation_split_fails_explaining_steps():
    """Do 94 batches without validation fail, explaining 2400 samples and batches of 32, and the missing val metrics?"""
    result = check_train(history(steps=94, validation=False), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert lines[0] == ("Each epoch ran 94 batches; with 3000 samples, 2400 left after the 20% validation split, "
                        "and batches of 32, the spec expects 75.")
    assert "val_loss or val_accuracy" in lines[1]
    assert "validation_split=0.2" in result.hint and "batch_size=32" in result.hint


def test_no_validation_metrics_fails():
    """Does a History without val_loss and val_accuracy fail, naming both?"""
    result = check_train(history(validation=False), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert result.message == "The History has no val_loss or val_accuracy; the spec holds out 20% for validation."


def test_low_accuracy_fails_naming_both():
    """Does a final validation accuracy far below the reference fail, naming both accuracies and the floor?"""
    result = check_train(history(final_val_accuracy=0.5), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert "Your final validation accuracy is 50.0%" in result.message
    assert "the reference model reaches 86.0%" in result.message
    assert "(81.0%)" in result.message
    assert "scaled to [0, 1]" in result.hint


def test_every_training_mistake_is_reported():
    """With 10 epochs of 94 batches and a low accuracy, is each mistake reported?"""
    result = check_train(history(epochs=10, steps=94, final_val_accuracy=0.3), SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert "ran 10 epochs" in result.message
    assert "ran 94 batches" in result.message
    assert "30.0%" in result.message
    assert len(result.message.splitlines()) == 3


def test_history_of_two_fits_fails():
    """Does a History claiming 20 epochs but holding 40 epochs of loss fail?"""
    description = history()
    description["metrics"] = {name: values * 2 for name, values in description["metrics"].items()}
    result = check_train(description, SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert "holds 40 epochs of loss but says it ran 20" in result.message


def test_not_a_history_fails():
    """Does returning something other than a History (is_history False) fail, naming what it was?"""
    result = check_train({"is_history": False, "class_name": "Sequential", "params": {}, "metrics": {}},
                         SAMPLES, REFERENCE_ACCURACY)
    assert_scored(result, "train", passed=False)
    assert result.message == "train returned a Sequential; expected the History that model.fit returns."
    assert "return model.fit" in result.hint


def test_describe_history_of_a_non_history():
    """Does describe_history say a non-History is not one, with empty params and metrics?"""
    assert describe_history(None) == {"is_history": False, "class_name": "NoneType", "params": {}, "metrics": {}}


def test_empty_val_accuracy_fails_without_crashing():
    """Does a History whose val_accuracy list is empty fail with a message rather than crash?"""
    description = history()
    description["metrics"]["val_accuracy"] = []
    result = check_train(description, SAMPLES, REFERENCE_ACCURACY)
    assert result.outcome is Outcome.FAILED


@pytest.mark.slow
def test_train_end_to_end_on_synthetic_digits():
    """Does the reference train pass on 3000 synthetic digits, and a train with epochs=2 fail?"""
    from digits.synthetic import make_digits

    images, labels = make_digits(3000, seed=0)
    X = reference.flatten(images)

    result = run_check("train", reference.train, X, labels)
    assert_scored(result, "train", passed=True)
    assert "20 epochs of 75 batches" in result.message

    def two_epochs(model, X, y):
        return model.fit(X, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0)

    result = run_check("train", two_epochs, X, labels)
    assert_scored(result, "train", passed=False)
    assert "Your training ran 2 epochs; the spec asks for 20." in result.message
