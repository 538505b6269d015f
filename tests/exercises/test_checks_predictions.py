"""Tests of the lesson 05 checks: predict_digit and plot_predictions."""

import matplotlib

matplotlib.use("Agg")

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from support.assertions import assert_scored

from autograder import reference
from autograder.exercises import probes, run_check
from autograder.exercises.predictions import check_predict_digit
from autograder.kernel.serialize import round_trip
from autograder.results import Outcome
from autograder.spec import SPEC


@pytest.fixture(autouse=True)
def close_figures():
    """Closes every figure a test left open."""
    yield
    plt.close("all")


def probabilities(model, rows):
    """The model's (k, 10) output for a batch of rows, as NumPy."""
    return keras.ops.convert_to_numpy(model(rows))


def predict_digit(model, image):
    """A right predict_digit: (int label, the model's 10 probabilities)."""
    p = probabilities(model, image[np.newaxis])[0]
    return int(np.argmax(p)), p


def build_with_25_units():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            keras.layers.Dense(100, activation="relu", name="layer1"),
            keras.layers.Dense(25, activation="relu", name="layer2"),
            keras.layers.Dense(10, activation="softmax", name="layer3"),
        ]
    )


def plot_predictions(model, X, y, n=8, seed=None, *, grid=(2, 4), swap=False, reshape=(28, 28), scale=1, drawn=None):
    """A right plot_predictions, with switches for the usual mistakes; appends (P, T) per panel to drawn."""
    picks = np.random.default_rng(seed).choice(len(X), n, replace=False)
    predicted = probabilities(model, X[picks]).argmax(axis=1)
    fig, axes = plt.subplots(*grid)
    for ax, i, p in zip(np.ravel(axes), picks, predicted, strict=False):
        ax.imshow(X[i].reshape(reshape) * scale)
        ax.set_title(f"P: {y[i]}  T: {p}" if swap else f"P: {p}  T: {y[i]}")
        if drawn is not None:
            drawn.append((int(p), int(y[i])))
    return fig


# predict_digit


def test_predict_digit_right_answer_passes():
    """Does (int(argmax), probabilities) pass with the spec's points?"""
    assert_scored(run_check("predict_digit", predict_digit, reference.build_model), "predict_digit", passed=True)


def test_predict_digit_with_model_predict_passes():
    """Does the lesson's solution, model.predict(image[np.newaxis])[0], pass?"""

    def solution(model, image):
        p = model.predict(image[np.newaxis], verbose=0)[0]
        return int(np.argmax(p)), p

    assert_scored(run_check("predict_digit", solution, reference.build_model), "predict_digit", passed=True)


def test_numpy_int_label_passes():
    """Is a NumPy integer label (np.argmax without int()) accepted?

    It is, twice over: the round trip turns NumPy scalars into Python ints (np.generic -> .item()),
    and check_predict_digit itself accepts np.integer labels.
    """

    def numpy_label(model, image):
        p = probabilities(model, image[np.newaxis])[0]
        return np.argmax(p), p

    assert_scored(run_check("predict_digit", numpy_label, reference.build_model), "predict_digit", passed=True)
    assert type(round_trip({"label": np.int64(3)})["label"]) is int
    digits, _ = probes.prediction_digits()
    expected = reference.forward(reference.reference_weights(), digits)
    answers = [(np.int64(np.argmax(p)), p) for p in expected]
    assert_scored(check_predict_digit(answers, expected), "predict_digit", passed=True)


def test_float_label_fails():
    """Is a float label rejected, asking for a Python int?"""
    result = run_check(
        "predict_digit", lambda m, i: (float(predict_digit(m, i)[0]), predict_digit(m, i)[1]), reference.build_model
    )
    assert_scored(result, "predict_digit", passed=False)
    assert "the label is a float; expected a Python int" in result.message


def test_unnormalised_scores_fail():
    """Do log-probabilities (scores that don't sum to 1) fail, saying what they sum to?"""

    def scores(model, image):
        label, p = predict_digit(model, image)
        return label, np.log(p)

    result = run_check("predict_digit", scores, reference.build_model)
    assert_scored(result, "predict_digit", passed=False)
    assert "sum to" in result.message and "expected 1" in result.message


def test_wrong_label_fails():
    """Does returning the least probable digit fail, naming the label and the argmax?"""

    def argmin(model, image):
        _, p = predict_digit(model, image)
        return int(np.argmin(p)), p

    result = run_check("predict_digit", argmin, reference.build_model)
    assert_scored(result, "predict_digit", passed=False)
    assert "the most probable digit is" in result.message and "expected the argmax" in result.message


def test_other_models_probabilities_fail():
    """Do probabilities from a different model (not the one passed in) fail, saying they differ?"""
    other = reference.build_model()

    result = run_check("predict_digit", lambda model, image: predict_digit(other, image), reference.build_model)
    assert_scored(result, "predict_digit", passed=False)
    assert "differ" in result.message and "largest gap" in result.message


def test_batch_shaped_probabilities_fail():
    """Do (1, 10) probabilities (row 0 not taken) fail, naming the shape?"""

    def batch(model, image):
        label, p = predict_digit(model, image)
        return label, p[np.newaxis]

    result = run_check("predict_digit", batch, reference.build_model)
    assert_scored(result, "predict_digit", passed=False)
    assert "shape (1, 10)" in result.message


def test_probabilities_alone_fail():
    """Does returning only the probabilities fail, asking for a pair?"""
    result = run_check("predict_digit", lambda m, i: predict_digit(m, i)[1], reference.build_model)
    assert_scored(result, "predict_digit", passed=False)
    assert "expected a pair (label, probabilities)" in result.message


def test_predict_digit_reports_every_mistake():
    """With a float label and unnormalised scores, are both mistakes reported?"""

    def two_mistakes(model, image):
        label, p = predict_digit(model, image)
        return float(label), np.log(p)

    result = run_check("predict_digit", two_mistakes, reference.build_model)
    assert "expected a Python int" in result.message
    assert "sum to" in result.message


def test_wrong_architecture_is_error_mentioning_lesson_03():
    """Is a build_model with 25 units an error (the fixed weights don't fit), pointing to lesson 03?"""
    result = run_check("predict_digit", predict_digit, build_with_25_units)
    assert result.outcome is Outcome.ERROR
    assert (result.points, result.max_points) == (0, SPEC.points["predict_digit"])
    assert "lesson 03" in result.message
    assert "(100, 25)" in result.message and "(100, 30)" in result.message


# plot_predictions


def test_plot_predictions_right_answer_passes():
    """Does a right plot_predictions (2x4 grid, 28x28 images, 'P: p  T: t') pass with the spec's points?"""
    result = run_check("plot_predictions", plot_predictions, reference.build_model)
    assert_scored(result, "plot_predictions", passed=True)


def test_plot_predictions_unscaled_images_pass():
    """Are panels drawn at 0-255 rather than 0-1 still recognised as the digits passed in?"""
    result = run_check("plot_predictions", lambda *a, **k: plot_predictions(*a, **k, scale=255), reference.build_model)
    assert_scored(result, "plot_predictions", passed=True)


def test_swapped_titles_fail_for_every_differing_panel():
    """With P and T swapped, is every panel whose P and T differ reported for both?"""
    drawn = []
    result = run_check(
        "plot_predictions", lambda *a, **k: plot_predictions(*a, **k, swap=True, drawn=drawn), reference.build_model
    )
    assert_scored(result, "plot_predictions", passed=False)
    differing = [(number, p, t) for number, (p, t) in enumerate(drawn, start=1) if p != t]
    assert differing, "the probe should show some digits the fixed weights get wrong"
    for number, p, t in differing:
        assert f"Panel {number} says P: {t}, but the model predicts {p} for that digit." in result.message
        assert f"Panel {number} says T: {p}, but that digit's true label is {t}." in result.message
    assert len(result.message.splitlines()) == 2 * len(differing)


def test_seven_panels_fail():
    """Does a figure with 7 panels fail, naming 7 and 8?"""
    result = run_check(
        "plot_predictions",
        lambda model, X, y, n=8, seed=None: plot_predictions(model, X, y, n - 1, seed),
        reference.build_model,
    )
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message == "Your figure has 7 image panels; the spec asks for 8."


def test_unreshaped_images_fail_for_every_panel():
    """Do images left as (1, 784) rows fail, naming the shape for each of the 8 panels?"""
    result = run_check(
        "plot_predictions", lambda *a, **k: plot_predictions(*a, **k, reshape=(1, 784)), reference.build_model
    )
    assert_scored(result, "plot_predictions", passed=False)
    for number in range(1, 9):
        assert f"Panel {number} shows an image of shape (1, 784); expected a 28x28 digit." in result.message
    assert "reshape(28, 28)" in result.hint


def test_returning_none_fails():
    """Does a plot_predictions that draws but returns None fail, asking for a Figure?"""

    def no_return(*args, **kwargs):
        plot_predictions(*args, **kwargs)

    result = run_check("plot_predictions", no_return, reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message == "plot_predictions returned a NoneType; expected a matplotlib Figure."
    assert "plt.subplots(2, 4)" in result.hint


def test_one_by_eight_grid_fails_naming_2x4():
    """Does a 1x8 grid fail, naming 1x8 and 2x4?"""
    result = run_check(
        "plot_predictions", lambda *a, **k: plot_predictions(*a, **k, grid=(1, 8)), reference.build_model
    )
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message == "Your panels sit in a 1x8 layout; the spec asks for a 2x4 grid."


def test_several_figure_mistakes_are_all_reported():
    """With 6 panels in a 2x3 grid, are both the count and the grid reported?"""

    def small(model, X, y, n=8, seed=None):
        return plot_predictions(model, X, y, 6, seed, grid=(2, 3))

    result = run_check("plot_predictions", small, reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert "6 image panels" in result.message
    assert "2x3 layout" in result.message and "2x4 grid" in result.message


def test_titles_without_labels_fail():
    """Do titles without P and T numbers fail, quoting the title and the expected form?"""

    def untitled(model, X, y, n=8, seed=None):
        fig = plot_predictions(model, X, y, n, seed)
        for ax in fig.get_axes():
            ax.set_title("a digit")
        return fig

    result = run_check("plot_predictions", untitled, reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert "Panel 1 is titled 'a digit'" in result.message and "'P: 3  T: 3'" in result.message
    assert len(result.message.splitlines()) == 8


def test_plot_predictions_wrong_architecture_is_error():
    """Is plot_predictions with a 25-unit build_model an error pointing to lesson 03?"""
    result = run_check("plot_predictions", plot_predictions, build_with_25_units)
    assert result.outcome is Outcome.ERROR
    assert "lesson 03" in result.message


def titled(make_title):
    """A right plot_predictions whose panel titles are make_title(p, t) instead of 'P: p  T: t'."""

    def plot(model, X, y, n=8, seed=None):
        drawn = []
        fig = plot_predictions(model, X, y, n, seed, drawn=drawn)
        for ax, (p, t) in zip(fig.get_axes(), drawn, strict=True):
            ax.set_title(make_title(p, t))
        return fig

    return plot


def test_probability_in_title_is_quoted_not_read_as_a_digit():
    """Known wrong: 'P: 0.87  T: 7' (the top probability after P): is the title quoted and P asked to be the digit,
    never 'says P: 0' from the 0 before the point?"""
    result = run_check("plot_predictions", titled(lambda p, t: f"P: 0.87  T: {t}"), reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    lines = result.message.splitlines()
    assert len(lines) == 8
    assert lines[0].startswith("Panel 1 is titled 'P: 0.87  T: ")
    assert lines[0].endswith(
        ": P should be the predicted digit (an integer 0-9), not a probability. Expected a title like 'P: 3  T: 3'."
    )
    assert "says P: 0" not in result.message


def test_percentage_and_word_labels_are_quoted():
    """Known wrong: 'P: 87%' and 'T: seven': are both quoted back as not being an integer digit?"""
    result = run_check("plot_predictions", titled(lambda p, t: "P: 87%  T: seven"), reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message.splitlines()[0] == (
        "Panel 1 is titled 'P: 87%  T: seven': P should be the predicted digit (an integer 0-9), not a probability; "
        "T should be the true label (an integer 0-9), not 'seven'. Expected a title like 'P: 3  T: 3'."
    )


def test_lowercase_keys_are_quoted_asking_for_capital_p_and_t():
    """Known wrong: 'pred=3' (no capital P, no T at all): is the title quoted, with the expected form?"""
    result = run_check("plot_predictions", titled(lambda p, t: f"pred={p}"), reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message.splitlines()[0].startswith("Panel 1 is titled 'pred=")
    assert "like 'P: 3  T: 3' (a capital P and T, each followed by the digit)." in result.message


def test_a_title_without_t_says_t_is_missing():
    """Known wrong: 'P: 3' alone: does the message say the title has no T, rather than that it has no labels?"""
    result = run_check("plot_predictions", titled(lambda p, t: f"P: {p}"), reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert ": it has no T (the true label). Expected a title like 'P: 3  T: 3'." in result.message.splitlines()[0]


@pytest.mark.parametrize(
    "make_title",
    [
        lambda p, t: f"Pred={p}, True={t}",
        lambda p, t: f"P:{p} T:{t}",
        lambda p, t: f"Prob: 0.87  Pred: {p}  T: {t}",  # a probability as well as the digit: the digit is read
        lambda p, t: f"P: {p}.  T: {t}.",
    ],
    ids=["pred-true", "no-spaces", "probability-too", "full-stops"],
)
def test_other_right_title_forms_pass(make_title):
    """Known right: titles that give both digits as whole integers after a P... and a T... word pass."""
    assert_scored(
        run_check("plot_predictions", titled(make_title), reference.build_model), "plot_predictions", passed=True
    )


def test_a_word_that_starts_with_p_is_not_quoted_as_a_label():
    """Known wrong: titles 'Panel' (no labels at all): is it the no-label message, not "P should be ..., not 'l'"?"""
    result = run_check("plot_predictions", titled(lambda p, t: "Panel"), reference.build_model)
    assert_scored(result, "plot_predictions", passed=False)
    assert result.message.splitlines()[0] == (
        "Panel 1 is titled 'Panel'; expected the predicted and true label, like "
        "'P: 3  T: 3' (a capital P and T, each followed by the digit)."
    )
