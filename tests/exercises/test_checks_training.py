"""Tests of the lesson 04 check train: the History's params and metrics, and how well the trained model learned.

The accuracy that scores is measured by the grader on the model train trained; the History only has to agree.
The tests at the end train a small reference network (300 synthetic digits, a few seconds each) to check that
against Keras itself: a History with made-up or edited numbers, or a model that was never trained, must fail.
"""

import keras
import numpy as np
import pytest
from support.assertions import assert_scored
from support.training import SMALL_DIGITS, fabricated_train

from autograder import reference
from autograder.exercises import observe, run_check
from autograder.exercises.describe import describe_history
from autograder.exercises.training import (
    HISTORY_TOLERANCE,
    check_train,
    history_tolerance,
    measure_val_accuracy,
    validation_rows,
)
from autograder.results import Outcome
from autograder.spec import SPEC

SAMPLES = 3000
REFERENCE_ACCURACY = 0.86


def history(epochs=20, steps=75, validation=True, final_val_accuracy=0.85):
    """describe_history()'s dict for a fit of `epochs` epochs of `steps` batches."""
    metrics = {"loss": [1.0 - 0.01 * e for e in range(epochs)], "accuracy": [0.5 + 0.01 * e for e in range(epochs)]}
    if validation:
        metrics["val_loss"] = [1.0] * epochs
        metrics["val_accuracy"] = [0.5] * (epochs - 1) + [final_val_accuracy]
    return {
        "is_history": True,
        "class_name": "History",
        "params": {"verbose": 0, "epochs": epochs, "steps": steps},
        "metrics": metrics,
    }


def test_spec_steps_per_epoch():
    """Does the spec turn 3000 samples into 2400 for training and 75 batches of 32?"""
    assert SPEC.training.training_samples(SAMPLES) == 2400
    assert SPEC.training.steps_per_epoch(SAMPLES) == 75


def check(description, measured=None, reference_accuracy=REFERENCE_ACCURACY, samples=SAMPLES, problem=""):
    """check_train on a History description; the grader's measurement defaults to what the History reports."""
    if measured is None and not problem:
        measured = (description["metrics"].get("val_accuracy") or [0.0])[-1]
    return check_train(description, samples, reference_accuracy, measured, problem)


def test_right_history_passes():
    """Do 20 epochs of 75 batches with validation, measured close to the reference accuracy, pass?"""
    result = check(history())
    assert_scored(result, "train", passed=True)
    assert result.message == (
        "On 3000 rows, train ran 20 epochs of 75 batches of 32 with a 20% validation split; the "
        "grader measured the model you trained at 85.0% on the validation rows (reference 86.0%)."
    )


def test_accuracy_within_margin_passes():
    """Does an accuracy just inside the spec's margin below the reference pass?"""
    final = REFERENCE_ACCURACY - SPEC.training.accuracy_margin + 0.001
    assert_scored(check(history(final_val_accuracy=final)), "train", passed=True)


def test_ten_epochs_fail():
    """Does a fit of 10 epochs fail, naming 10 and 20?"""
    result = check(history(epochs=10))
    assert_scored(result, "train", passed=False)
    assert result.message == "Your training ran 10 epochs; the spec asks for 20."


def test_no_validation_split_fails_explaining_steps():
    """Do 94 batches without validation fail, explaining 2400 samples and batches of 32, and the missing val metrics?"""
    result = check(history(steps=94, validation=False), measured=0.99)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert lines[0] == (
        "Each epoch ran 94 batches; with the 3000 rows the check trained on, 2400 left after the 20% validation split, "
        "and batches of 32, the spec expects 75."
    )
    assert "val_loss or val_accuracy" in lines[1]
    assert "validation_split=0.2" in result.hint and "batch_size=32" in result.hint


def test_no_validation_metrics_fails():
    """Does a History without val_loss and val_accuracy fail, naming both?"""
    result = check(history(validation=False), measured=0.85)
    assert_scored(result, "train", passed=False)
    assert result.message == "The History has no val_loss or val_accuracy; the spec holds out 20% for validation."


def test_low_measured_accuracy_fails_naming_both():
    """Does a measured accuracy far below the reference fail, naming both accuracies, the floor and who measured?"""
    result = check(history(final_val_accuracy=0.5))
    assert_scored(result, "train", passed=False)
    assert result.message == (
        "The model you trained classifies 50.0% of the 600 validation rows right (measured by the "
        "grader); the reference model reaches 86.0% on the same digits, and the spec allows 5% "
        "less (81.0%)."
    )
    assert "scaled to [0, 1]" in result.hint


FIGURES = (
    "it reports a final val_accuracy of 99.0%, but the model you trained classifies 85.0% of the 600 validation "
    "rows (the last 20% of X) right, as the grader measured it; the two agree within 0.5 percentage points when "
    "fit runs as the spec says"
)


def test_history_claiming_more_than_measured_fails():
    """Does a History reporting 99% when the grader measures 85% fail, saying both and the tolerance? With fit's
    settings unknown (not recorded), does it name both possible causes rather than accuse the History?"""
    result = check(history(final_val_accuracy=0.99), measured=0.85)
    assert_scored(result, "train", passed=False)
    assert result.message == (
        "Your History's figures don't match what the grader measured on the model you trained: "
        f"{FIGURES}. Either fit ran with other settings or rows than the spec's (validation_data "
        "instead of validation_split=0.2, for example), or the History isn't the one that fit returned."
    )
    assert "Return the History of the fit that trained the model train is given, unchanged." in result.hint


def fit_call(**changes):
    """What describe_fit_call records of the spec's fit call on the 3000 rows train was given, with changes."""
    return {
        "epochs": 20,
        "batch_size": 32,
        "validation_split": 0.2,
        "validation_data": None,
        "rows": SAMPLES,
        "given_x": True,
        "callbacks": [],
        **changes,
    }


def test_mismatch_with_the_specs_fit_settings_says_the_history_is_not_this_trainings():
    """Known wrong: fit was called with the spec's settings, yet the History disagrees with the model: is it (and only
    then) said that the History was changed or comes from another training?"""
    result = check_train(history(final_val_accuracy=0.99), SAMPLES, REFERENCE_ACCURACY, 0.85, fit_calls=[fit_call()])
    assert_scored(result, "train", passed=False)
    assert result.message == (
        "Your fit call used the spec's settings, yet the History train returned doesn't match the "
        f"model it trained: {FIGURES}. That History was changed after fit returned it, or comes "
        "from another training."
    )


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        (
            {"validation_data": "a tuple of arrays with 10000 rows", "validation_split": 0.0},
            "You called fit with validation_data (a tuple of arrays with 10000 rows); "
            "the spec trains with validation_split=0.2: "
            "fit holds out the last 20% of the rows train is given, "
            "and the grader measures the model you trained on those rows.",
        ),
        (
            {"validation_split": 0.1},
            "You called fit with validation_split=0.1; the spec asks for validation_split=0.2.",
        ),
        (
            {"validation_split": 0.0},
            "You called fit with validation_split=0.0; the spec asks for validation_split=0.2.",
        ),
        ({"rows": 2000}, "You called fit on 2000 rows; train should fit all 3000 rows of the X it is given."),
        (
            {"given_x": False},
            "You called fit on 3000 rows whose values differ from the X train is given; fit X as it is.",
        ),
    ],
)
def test_mismatch_from_other_fit_settings_names_the_setting_not_the_history(changes, sentence):
    """Known wrong: fit ran with a setting or rows other than the spec's: does the message name the setting, what was
    used and what the spec says, then blame the mismatch on it, never on the History?"""
    result = check_train(
        history(final_val_accuracy=0.99), SAMPLES, REFERENCE_ACCURACY, 0.85, fit_calls=[fit_call(**changes)]
    )
    assert_scored(result, "train", passed=False)
    assert result.message.splitlines() == [
        sentence,
        f"Because your fit settings differ from the spec's, your History's validation figures aren't the grader's: "
        f"{FIGURES}.",
    ]
    assert "changed" not in result.message and "another training" not in result.message
    assert "validation_split=0.2) once, on the X and y train is given" in result.hint


def test_other_batch_size_is_named_with_the_steps():
    """Known wrong: batch_size=64: is the setting named (64 and 32) before the batches per epoch it caused?"""
    result = check_train(history(steps=38), SAMPLES, REFERENCE_ACCURACY, 0.85, fit_calls=[fit_call(batch_size=64)])
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert lines[0] == "You called fit with batch_size=64; the spec asks for batch_size=32."
    assert lines[1].startswith("Each epoch ran 38 batches")
    assert len(lines) == 2


def test_two_fit_calls_are_named():
    """Known wrong: train called fit twice (the History of the second disagrees with the model): is it said?"""
    result = check_train(
        history(final_val_accuracy=0.99), SAMPLES, REFERENCE_ACCURACY, 0.85, fit_calls=[fit_call(), fit_call()]
    )
    assert_scored(result, "train", passed=False)
    assert (
        result.message.splitlines()[0] == "train called model.fit 2 times; the spec trains with one call of 20 epochs."
    )


def test_fit_settings_alone_never_fail_or_pass_the_check():
    """Known right: when the History and the measurement agree, do recorded settings add nothing (a right fit with
    batch_size left to Keras's default of 32 passes, and so does a manual split whose figures agree)?"""
    for calls in (
        [fit_call(batch_size=None)],
        [fit_call(validation_data="a tuple of arrays with 600 rows", rows=2400)],
        "not a list",
        [{"unreadable": True}],
    ):
        assert_scored(check_train(history(), SAMPLES, REFERENCE_ACCURACY, 0.85, fit_calls=calls), "train", passed=True)


def test_history_claiming_less_than_measured_fails_too():
    """Is a History that understates the measured accuracy a mismatch as well (it isn't that fit's History)?"""
    result = check(history(final_val_accuracy=0.86), measured=0.92)
    assert_scored(result, "train", passed=False)
    assert "don't match what the grader measured" in result.message


def test_float_noise_between_history_and_measurement_passes():
    """Does a gap below the tolerance (float noise, a near-tie tipped) pass?"""
    assert_scored(
        check(history(final_val_accuracy=0.85 + HISTORY_TOLERANCE * 0.9), measured=0.85), "train", passed=True
    )


def test_tolerance_is_half_a_point_or_one_row():
    """Is the tolerance 0.5 points for 600 validation rows, and one row's worth for 60?"""
    assert history_tolerance(600) == HISTORY_TOLERANCE == 0.005
    assert history_tolerance(60) == pytest.approx(1 / 60)


def test_unmeasurable_model_fails_saying_why():
    """When the grader can't measure the trained model, does the check fail, saying why, without crashing?"""
    result = check(history(), problem="the grader got back a str, not a Keras model")
    assert_scored(result, "train", passed=False)
    assert result.message == (
        "The grader could not measure the accuracy of the model you trained "
        "(the grader got back a str, not a Keras model)."
    )


def test_every_training_mistake_is_reported():
    """With 10 epochs of 94 batches and a low accuracy, is each mistake reported?"""
    result = check(history(epochs=10, steps=94, final_val_accuracy=0.3))
    assert_scored(result, "train", passed=False)
    assert "ran 10 epochs" in result.message
    assert "ran 94 batches" in result.message
    assert "30.0%" in result.message
    assert len(result.message.splitlines()) == 3


def test_history_of_two_fits_fails():
    """Does a History claiming 20 epochs but holding 40 epochs of loss fail?"""
    description = history()
    description["metrics"] = {name: values * 2 for name, values in description["metrics"].items()}
    result = check(description)
    assert_scored(result, "train", passed=False)
    assert "holds 40 epochs of loss but says it ran 20" in result.message


def test_history_without_epochs_or_steps_says_so():
    """Known wrong: a History whose params lack epochs and steps (set up by hand): is that said, instead of
    "ran None epochs" and "ran None batches"?"""
    description = history()
    description["params"] = {}
    result = check(description)
    assert_scored(result, "train", passed=False)
    assert result.message.splitlines() == [
        "Your History's params don't say how many epochs fit ran (a History from model.fit does); "
        "the spec asks for 20.",
        "Your History's params don't say how many batches each epoch ran (a History from model.fit on arrays does); "
        "the spec expects 75.",
    ]
    assert "None" not in result.message


def test_history_with_val_loss_but_no_val_accuracy_is_told_the_metric_is_missing():
    """Known wrong: a History with val_loss but no accuracy metric (from another model, compiled without metrics): is
    the missing val_accuracy put down to the metric, not to a missing validation split?"""
    description = history()
    description["metrics"] = {name: description["metrics"][name] for name in ("loss", "val_loss")}
    result = check(description, measured=0.85)
    assert_scored(result, "train", passed=False)
    assert result.message == (
        "The History has val_loss but no val_accuracy (it holds loss, val_loss): the model that "
        "fit trained had no accuracy metric. train is given a model compiled with "
        "metrics=['accuracy']; fit that one."
    )


def test_not_a_history_fails():
    """Does returning something other than a History (is_history False) fail, naming what it was?"""
    result = check({"is_history": False, "class_name": "Sequential", "params": {}, "metrics": {}}, measured=0.85)
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
    result = check(description, measured=0.85)
    assert result.outcome is Outcome.FAILED


# Against real Keras models and Histories, on small_digits (the conftest's fixture: SMALL_DIGITS synthetic digits).


@pytest.fixture(scope="module")
def real_fit(small_digits):
    """The reference network trained the reference way on the small digits: (model, History)."""
    X, y = small_digits
    keras.utils.set_random_seed(SPEC.data.seed)
    model = reference.build_model()
    reference.compile_model(model)
    return model, reference.train(model, X, y)


@pytest.mark.slow  # trains the network
def test_validation_rows_are_the_last_fifth_as_keras_holds_them_out(real_fit, small_digits):
    """Does the grader's measurement on the last 20% of rows equal the History's final val_accuracy exactly?"""
    model, history = real_fit
    X, y = small_digits
    X_val, y_val = validation_rows(X, y)
    assert len(X_val) == SMALL_DIGITS - SPEC.training.training_samples(SMALL_DIGITS) == 60
    np.testing.assert_array_equal(X_val, X[-60:])
    measured, problem = measure_val_accuracy(model, X, y)
    assert problem == ""
    assert measured == pytest.approx(history.history["val_accuracy"][-1], abs=1e-6)


@pytest.mark.slow  # trains the network
def test_reference_train_passes_measured_by_the_grader(small_digits):
    """Known right: does the reference train pass on real Keras objects, with the measured accuracy in the message?"""
    result = run_check("train", reference.train, *small_digits)
    assert_scored(result, "train", passed=True)
    assert "20 epochs of 8 batches" in result.message
    assert "the grader measured the model you trained at" in result.message


@pytest.mark.slow  # the check trains the reference network to compare
def test_fabricated_perfect_history_without_training_fails(small_digits):
    """Known wrong: a hand-made History with perfect numbers and no training: mismatch, and the accuracy is too low."""
    result = run_check("train", fabricated_train, *small_digits)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "train never called model.fit on the model it was given, so the History it returned "
        "doesn't come from training that model: it reports a final val_accuracy of 100.0%"
    )
    assert lines[1].startswith("The model you trained classifies ")


@pytest.mark.slow  # trains the network
def test_real_history_edited_upward_fails(small_digits):
    """Known wrong: a real fit whose History was then edited up by 5 points: a mismatch (the model itself is fine)."""

    def train(model, X, y):
        history = reference.train(model, X, y)
        history.history["val_accuracy"] = [min(1.0, value + 0.05) for value in history.history["val_accuracy"]]
        return history

    result = run_check("train", train, *small_digits)
    assert_scored(result, "train", passed=False)
    assert result.message.startswith(
        "Your fit call used the spec's settings, yet the History train returned doesn't match the model it trained"
    )
    assert result.message.endswith("That History was changed after fit returned it, or comes from another training.")
    assert len(result.message.splitlines()) == 1


@pytest.mark.slow  # the check trains the reference network to compare
def test_untrained_model_with_a_copied_history_fails(real_fit, small_digits):
    """Known wrong: train returns a History from a real run of another model and leaves its own model untrained."""
    _, copied = real_fit
    result = run_check("train", lambda model, X, y: copied, *small_digits)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "train never called model.fit on the model it was given, so the History it returned "
        "doesn't come from training that model"
    )
    assert lines[1].startswith("The model you trained classifies ")
    assert "train fits the model it is given" in result.hint


def test_early_stopping_is_named_not_called_two_fits(small_digits):
    """Known wrong: an EarlyStopping callback (restoring the best weights) ends fit after a few epochs: is the
    callback named, the early end said as such (not "return the History of one fit call"), and the History not
    accused?"""

    def train(model, X, y):
        stop = keras.callbacks.EarlyStopping(
            monitor="val_accuracy", min_delta=0.5, patience=2, restore_best_weights=True
        )
        return model.fit(X, y, epochs=20, batch_size=32, validation_split=0.2, verbose=0, callbacks=[stop])

    result = run_check("train", train, *small_digits)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert lines[0].startswith("You called fit with callbacks (EarlyStopping); the spec's fit has none")
    assert lines[1] == (
        "Your History holds 3 epochs of loss though fit was set to run 20: training ended early (an "
        "EarlyStopping callback or initial_epoch, for example); the spec trains all 20 epochs."
    )
    assert "one fit call" not in result.message and "another training" not in result.message


@pytest.mark.slow  # trains the network
def test_validation_data_instead_of_validation_split_names_the_setting(small_digits):
    """Known wrong (issue 9): train fits all of X with validation_data= (other digits) instead of validation_split=: is
    validation_data named against the spec's validation_split, and the mismatch put down to it, not to the History?"""
    from digits.synthetic import make_digits

    images, labels = make_digits(100, seed=5)
    other = (reference.flatten(images), labels)

    def train(model, X, y):
        return model.fit(X, y, epochs=20, batch_size=32, validation_data=other, verbose=0)

    result = run_check("train", train, *small_digits)
    assert_scored(result, "train", passed=False)
    lines = result.message.splitlines()
    assert lines[0] == (
        "You called fit with validation_data (a tuple of arrays with 100 rows); the spec trains with "
        "validation_split=0.2: fit holds out the last 20% of the rows train is given, and the grader "
        "measures the model you trained on those rows."
    )
    assert lines[-1].startswith(
        "Because your fit settings differ from the spec's, your History's validation figures aren't the grader's"
    )
    assert "changed" not in result.message and "another training" not in result.message


def test_fit_calls_are_recorded_and_fit_is_keras_own_again(small_digits):
    """Does observe record each fit call's settings and rows, and leave the model's fit as Keras's own afterwards?"""
    X, y = small_digits

    def train(model, X, y):
        return model.fit(X[:100], y[:100], epochs=1, batch_size=50, validation_split=0.5, verbose=0)

    observation = observe("train", train, X, y)
    assert observation["fit_calls"] == [
        {
            "epochs": 1,
            "batch_size": 50,
            "validation_split": 0.5,
            "validation_data": None,
            "rows": 100,
            "given_x": False,
            "callbacks": [],
        }
    ]
    assert "fit" not in vars(observation["model"])
    right = observe("train", lambda model, X, y: model.fit(X, y, epochs=1, verbose=0), X, y)["fit_calls"]
    assert right == [
        {
            "epochs": 1,
            "batch_size": None,
            "validation_split": 0.0,
            "validation_data": None,
            "rows": SMALL_DIGITS,
            "given_x": True,
            "callbacks": [],
        }
    ]


def test_an_untrained_network_is_far_below_the_floor(small_digits):
    """Is "the weights must have changed" already implied by the accuracy floor: does the untrained network,
    measured the grader's way, sit near chance, far below the reference minus the margin?"""
    X, y = small_digits
    untrained = observe("train", fabricated_train, X, y)["model"]
    keras.utils.set_random_seed(SPEC.data.seed)
    initial = reference.build_model()
    for kept, fresh in zip(untrained.get_weights(), initial.get_weights(), strict=True):
        np.testing.assert_array_equal(kept, fresh)  # the model observe kept is the untouched, seeded network
    measured, _ = measure_val_accuracy(untrained, X, y)
    floor = reference.reference_val_accuracy(X, y) - SPEC.training.accuracy_margin
    assert measured < 0.3 < floor


def test_measuring_something_that_is_not_a_model_says_so(small_digits):
    """Does measure_val_accuracy report, rather than raise, when it gets no Keras model?"""
    assert measure_val_accuracy(None, *small_digits) == (None, "the grader got back a NoneType, not a Keras model")


@pytest.mark.slow
def test_train_end_to_end_on_synthetic_digits():
    """Given the lesson's 3000 synthetic digits, does the reference train pass (tried on the first 800 of them),
    and a train with epochs=2 fail?"""
    from digits.synthetic import make_digits

    images, labels = make_digits(3000, seed=0)
    X = reference.flatten(images)

    result = run_check("train", reference.train, X, labels)
    assert_scored(result, "train", passed=True)
    assert result.message.startswith("On 800 rows, train ran 20 epochs of 20 batches of 32")

    def two_epochs(model, X, y):
        return model.fit(X, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0)

    result = run_check("train", two_epochs, X, labels)
    assert_scored(result, "train", passed=False)
    assert "Your training ran 2 epochs; the spec asks for 20." in result.message
