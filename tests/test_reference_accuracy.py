"""Does the course's network, trained the course's way, actually learn to read digits?"""

from __future__ import annotations

import keras
import pytest

from autograder import reference
from autograder.spec import SPEC

pytestmark = pytest.mark.slow


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


def test_reference_reaches_90_percent_on_synthetic_digits(synthetic_digits):
    """Does the reference model reach at least 90% on held-out synthetic digits?"""
    from digits import mnist

    with pytest.warns(UserWarning, match="synthetic"):
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert held_out_accuracy(x_train, y_train, x_test, y_test) >= 0.90


@pytest.mark.real_data
def test_reference_reaches_88_percent_on_real_digits(real_digits):
    """Trained on the first 3000 official test digits, does it read at least 88% of the other 7000?"""
    images, labels = real_digits
    accuracy = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:])
    print(f"held-out accuracy on 7000 real digits: {accuracy:.4f}")
    assert accuracy >= 0.88


@pytest.mark.real_data
def test_scaling_the_pixels_helps_on_real_digits(real_digits):
    """Is held-out accuracy clearly lower when the pixels are left at 0-255?"""
    images, labels = real_digits
    scaled = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:])
    unscaled = held_out_accuracy(images[:3000], labels[:3000], images[3000:], labels[3000:], scale=False)
    print(f"held-out accuracy: scaled {scaled:.4f}, unscaled {unscaled:.4f}")
    assert scaled > unscaled + 0.02
