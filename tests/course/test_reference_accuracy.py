"""Does the course's network, trained the course's way, actually learn to read digits, as well as the lessons say?

The lessons quote these accuracies (lesson 02: what scaling buys; lesson 05: what to expect on held-out digits);
each test here measures one again and fails when it has drifted from the quoted figure.
"""

from __future__ import annotations

import keras
import pytest
from support.lesson_text import quoted_percent

from autograder import reference
from autograder.spec import SPEC

pytestmark = pytest.mark.slow

# A lesson quotes a whole percent ("about 91%"); the measurement must round to within this many points of it.
QUOTE_TOLERANCE = 1.0
SYNTHETIC_QUOTE = r"synthetic practice\ndigits \(`MNIST_PATH=synthetic`\), about \*\*(\d+)%\*\*"
REAL_QUOTE = r"held-out accuracy is about \*\*(\d+)%\*\*"
SCALING_QUOTE = r"scaling moved held-out accuracy from (\d+)% to \d+%"
SCALED_QUOTE = r"scaling moved held-out accuracy from \d+% to (\d+)%"


def assert_as_quoted(measured: float, lesson: str, pattern: str) -> None:
    """The measured accuracy is within QUOTE_TOLERANCE points of the percentage the lesson quotes."""
    quoted = quoted_percent(lesson, pattern)
    assert abs(100 * measured - quoted) <= QUOTE_TOLERANCE, (
        f"{lesson} quotes {quoted:.0f}%, measured {measured:.1%}: update the lesson's text"
    )


def held_out_accuracy(train_images, train_labels, test_images, test_labels, *, scale=True) -> float:
    """Trains the reference network on the training digits; returns its accuracy on the held-out ones."""

    def prepare(images):
        flat = reference.flatten(images)
        return flat if scale else flat * SPEC.data.pixel_max

    keras.utils.set_random_seed(SPEC.data.seed)
    model = reference.build_model()
    reference.compile_model(model)
    X, y = reference.take_subset(prepare(train_images), train_labels)
    reference.train(model, X, y)
    return float(model.evaluate(prepare(test_images), test_labels, verbose=0)[1])


def test_held_out_accuracy_on_synthetic_digits_is_what_lesson_05_quotes(synthetic_digits):
    """Does the reference model reach at least 90% on held-out synthetic digits, the figure lesson 05 quotes?"""
    from digits import mnist

    with pytest.warns(UserWarning, match="synthetic"):
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    accuracy = held_out_accuracy(x_train, y_train, x_test, y_test)
    assert accuracy >= 0.90
    assert_as_quoted(accuracy, "05_predict", SYNTHETIC_QUOTE)


@pytest.mark.real_data
def test_held_out_accuracy_on_real_digits_is_what_lessons_02_and_05_quote(real_digits):
    """Trained on the first 3000 official test digits, does it read at least 88% of the other 7000, as quoted?"""
    images, labels = real_digits
    accuracy = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:])
    print(f"held-out accuracy on 7000 real digits: {accuracy:.4f}")
    assert accuracy >= 0.88
    assert_as_quoted(accuracy, "05_predict", REAL_QUOTE)
    assert_as_quoted(accuracy, "02_reshape", SCALED_QUOTE)


@pytest.mark.real_data
def test_scaling_the_pixels_helps_on_real_digits_as_lesson_02_quotes(real_digits):
    """Is held-out accuracy clearly lower when the pixels are left at 0-255, by what lesson 02 quotes?"""
    images, labels = real_digits
    scaled = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:])
    unscaled = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:], scale=False)
    print(f"held-out accuracy: scaled {scaled:.4f}, unscaled {unscaled:.4f}")
    assert scaled > unscaled + 0.02
    assert_as_quoted(unscaled, "02_reshape", SCALING_QUOTE)
